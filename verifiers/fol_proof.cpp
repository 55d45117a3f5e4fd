#include "verifiers/fol_proof.h"

#include <map>
#include <memory>
#include <unordered_map>
#include <optional>
#include <set>
#include <vector>

#include "solvers/fol_logic.h"
#include "solvers/fol_z3.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

using fol::FormulaPtr;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

// Strips bullets, numbering ("3.", "3)", "Step 3:"), markdown emphasis and code marks.
std::string_view strip_segment(std::string_view s) {
  s = trim(s);
  for (int guard = 0; guard < 8 && !s.empty(); ++guard) {
    const size_t before = s.size();
    while (!s.empty() && (s.front() == '-' || s.front() == '*' || s.front() == '#' || s.front() == '>' ||
                          s.front() == '`' || s.front() == '_'))
      s.remove_prefix(1);
    if (starts_with_ci(s, "step ")) s.remove_prefix(5);
    size_t digits = 0;
    while (digits < s.size() && is_digit(s[digits])) ++digits;
    if (digits > 0 && digits < s.size() && (s[digits] == '.' || s[digits] == ')' || s[digits] == ':'))
      s.remove_prefix(digits + 1);
    s = trim(s);
    if (s.size() == before) break;
  }
  while (!s.empty() && (s.back() == '.' || s.back() == '*' || s.back() == '`' || is_space(s.back()))) s.remove_suffix(1);
  return s;
}

struct Ref {
  bool fact = false;
  int number = 0;
};

// "fact12" / "int3" at the start of s (consumed); nullopt otherwise. Numbers above 9999 are refused.
std::optional<Ref> take_ref(std::string_view& s) {
  Ref r;
  size_t at = 0;
  if (starts_with_ci(s, "fact")) r.fact = true, at = 4;
  else if (starts_with_ci(s, "int")) at = 3;
  else return std::nullopt;
  size_t end = at;
  while (end < s.size() && is_digit(s[end]) && end - at < 5) r.number = r.number * 10 + (s[end++] - '0');
  if (end == at || end - at > 4 || (end < s.size() && is_digit(s[end]))) return std::nullopt;
  s.remove_prefix(end);
  return r;
}

bool is_step(std::string_view s) {
  return (starts_with_ci(s, "fact") && s.size() > 4 && is_digit(s[4])) ||
         (starts_with_ci(s, "int") && s.size() > 3 && is_digit(s[3]));
}

enum class Target { Int, Hypothesis, Negation };

struct Step {
  std::vector<Ref> premises;
  Target target = Target::Int;
  int number = 0;            // Target::Int
  std::string_view statement;
};

bool take(std::string_view& s, std::string_view token) {
  s = trim(s);
  if (!starts_with_ci(s, token)) return false;
  s.remove_prefix(token.size());
  return true;
}

std::optional<Step> parse_step(std::string_view s, std::string& problem) {
  Step step;
  for (;;) {
    s = trim(s);
    const auto r = take_ref(s);
    if (!r) return problem = "expected a premise such as fact3 or int1", std::nullopt;
    step.premises.push_back(*r);
    if (step.premises.size() > 32) return problem = "more than 32 premises", std::nullopt;
    if (take(s, "&") || take(s, "\xE2\x88\xA7") || take(s, ",") || take(s, "and ")) continue;
    break;
  }
  if (!take(s, "->") && !take(s, "\xE2\x86\x92") && !take(s, "=>"))
    return problem = "expected '->' after the premises", std::nullopt;
  s = trim(s);
  if (take(s, "hypothesis")) {
    step.target = Target::Hypothesis;
  } else if (take(s, "\xC2\xAC") || take(s, "~") || take(s, "!") || take(s, "not ")) {
    if (!take(s, "hypothesis")) return problem = "expected 'hypothesis' after the negation", std::nullopt;
    step.target = Target::Negation;
  } else {
    const auto r = take_ref(s);
    if (!r || r->fact) return problem = "the conclusion must be intK: <statement>, hypothesis or ¬hypothesis", std::nullopt;
    if (!take(s, ":")) return problem = "expected ':' after int" + std::to_string(r->number), std::nullopt;
    step.number = r->number;
    step.statement = trim(s);
    return step;
  }
  s = trim(s);
  if (!s.empty() && s.front() != ':') return problem = "unexpected text after the hypothesis", std::nullopt;
  return step;
}

class Checker {
 public:
  explicit Checker(const pb::FolDeductionInstance& inst) : parsed_(parse_fol_instance(inst)) {}

  // "" when the step is valid, else why not. Records the int the step defines, even when invalid.
  std::string check(std::string_view text, Target& target) {
    last_conclusion_ = nullptr;
    last_inputs_valid_ = true;
    std::string problem;
    const auto step = parse_step(text, problem);
    if (!step) return problem;
    target = step->target;
    last_int_ = step->target == Target::Int ? step->number : 0;
    FormulaPtr conclusion;
    std::string defined_problem;
    if (step->target == Target::Int) {
      const auto parsed = fol::parse(step->statement, parsed_.vocabulary);
      if (ints_.count(step->number)) defined_problem = "int" + std::to_string(step->number) + " is defined twice";
      else ints_[step->number] = parsed.formula;  // null when unreadable: citing it later is invalid
      if (!parsed.formula) return "cannot read the statement of int" + std::to_string(step->number) + ": " + parsed.error;
      conclusion = parsed.formula;
    } else {
      if (!parsed_.hypothesis) return "the task's hypothesis is unreadable";
      conclusion = step->target == Target::Hypothesis ? parsed_.hypothesis : fol::negate(parsed_.hypothesis);
    }
    std::vector<FormulaPtr> premises;
    for (const Ref& r : step->premises) {
      const std::string name = (r.fact ? "fact" : "int") + std::to_string(r.number);
      FormulaPtr f;
      if (r.fact) {
        if (r.number < 1 || r.number > static_cast<int>(parsed_.facts.size())) return "there is no " + name;
        f = parsed_.facts[r.number - 1];
      } else {
        const auto it = ints_.find(r.number);
        if (it == ints_.end() || (step->target == Target::Int && r.number == step->number && defined_problem.empty()))
          return name + " is cited before a step derives it";
        f = it->second;
        if (!valid_ints_.count(r.number)) last_inputs_valid_ = false;
      }
      if (!f) return name + " has no readable statement";
      premises.push_back(f);
    }
    if (!defined_problem.empty()) return defined_problem;
    // A restated fact derives nothing: "fact3 -> int1: <fact3 again>" is not a step of a proof.
    if (step->target == Target::Int)
      for (size_t k = 0; k < premises.size(); ++k)
        if (step->premises[k].fact && fol::equal(*premises[k], *conclusion))
          return "the conclusion restates fact" + std::to_string(step->premises[k].number) + ": it derives nothing";
    const auto entailed = fol::step_entails(static_cast<int>(parsed_.vocabulary.predicates.size()),
                                            static_cast<int>(parsed_.vocabulary.constants.size()), premises, conclusion);
    if (!entailed) return "the step is too large to check";
    if (!*entailed) return "the cited premises do not imply the conclusion";
    last_conclusion_ = conclusion;
    if (last_int_ > 0) valid_ints_.insert(last_int_);
    return "";
  }
  // What the last valid step concluded (null after an invalid one), and whether every int it cites
  // was itself derived by a valid step.
  const FormulaPtr& last_conclusion() const { return last_conclusion_; }
  bool last_inputs_valid() const { return last_inputs_valid_; }
  const FolParsed& parsed() const { return parsed_; }

 private:
  FolParsed parsed_;
  std::map<int, FormulaPtr> ints_;
  std::set<int> valid_ints_;
  FormulaPtr last_conclusion_;
  bool last_inputs_valid_ = true;
  int last_int_ = 0;
};

}  // namespace

std::vector<std::string> fol_required(const pb::Task& task) {
  std::vector<std::string> out;
  for (const auto& step : task.trace()) {
    const std::string_view text = step.text();
    const size_t arrow = text.find("->");
    if (arrow == std::string_view::npos || !is_step(strip_segment(text))) continue;
    out.emplace_back(trim(text.substr(arrow + 2)));
  }
  return out;
}

ProofReport check_fol_proof(const pb::FolDeductionInstance& instance, std::string_view text,
                            const std::vector<std::string>& required) {
  ProofReport report;
  try {
    if (text.size() > kMaxAdaptiveCompletionBytes) {
      report.truncated = true;
      return report;
    }
    Checker checker(instance);
    // The required results as formulas ("int3: <statement>" -> the statement; "hypothesis" and its
    // negation as themselves); a result is established once, by a valid step concluding it (its cited
    // ints were defined by earlier steps, so the order respects the dependencies).
    // (parsed on the first valid step - a completion without one covers nothing - once per instance
    // and required list, per thread)
    struct Needed {
      FormulaPtr formula;
      bool established = false;
    };
    std::vector<Needed> needed;
    bool resolved = false;
    auto resolve = [&]() {
      if (resolved) return;
      resolved = true;
      uint64_t key = kFingerprintSeed;
      for (const auto& p : instance.predicates()) key = fingerprint(key, p);
      key = fingerprint(key, "|");
      for (const auto& c : instance.constants()) key = fingerprint(key, c);
      key = fingerprint(fingerprint(key, "|"), instance.hypothesis());
      for (const auto& r : required) key = fingerprint(key, r);
      thread_local std::unordered_map<uint64_t, std::shared_ptr<const std::vector<FormulaPtr>>> cache;
      std::shared_ptr<const std::vector<FormulaPtr>> formulas;
      if (auto it = cache.find(key); it != cache.end()) {
        formulas = it->second;
      } else {
        auto fresh = std::make_shared<std::vector<FormulaPtr>>();
        for (std::string_view r : required) {
          r = trim(r);
          FormulaPtr f;
          if (starts_with_ci(r, "hypothesis")) f = checker.parsed().hypothesis;
          else if (r.rfind("\xC2\xAChypothesis", 0) == 0 || starts_with_ci(r, "~hypothesis"))
            f = checker.parsed().hypothesis ? fol::negate(checker.parsed().hypothesis) : nullptr;
          else if (const size_t colon = r.find(':'); colon != std::string_view::npos)
            f = fol::parse(trim(r.substr(colon + 1)), checker.parsed().vocabulary).formula;
          if (f) fresh->push_back(f);
        }
        if (cache.size() >= kDerivationCacheEntries) cache.clear();
        cache.emplace(key, fresh);
        formulas = std::move(fresh);
      }
      for (const auto& f : *formulas) needed.push_back({f});
    };
    report.required = static_cast<int>(required.size());
    Target last = Target::Int;
    bool last_valid = false;
    size_t segments = 0;
    for (size_t start = 0; start <= text.size();) {
      size_t end = text.find_first_of("\n;", start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view segment = strip_segment(text.substr(start, end - start));
      start = end + 1;
      if (++segments > kMaxProofSegments) {
        report.truncated = true;
        break;
      }
      if (!is_step(segment)) continue;
      if (report.steps_checked == kMaxProofSteps) {
        report.truncated = true;
        break;
      }
      ++report.steps_checked;
      last = Target::Int;
      const std::string problem = checker.check(segment, last);
      last_valid = problem.empty();
      if (last_valid) {
        ++report.steps_valid;
        if (checker.last_conclusion()) resolve();
        if (checker.last_conclusion())
          for (auto& n : needed)
            if (!n.established && fol::equal(*n.formula, *checker.last_conclusion())) {
              n.established = true;
              ++report.covered;
              break;
            }
      } else if (report.first_invalid == 0) {
        report.first_invalid = report.steps_checked;
        report.first_problem = problem;
      }
    }
    if (last_valid && last != Target::Int) report.concludes = last == Target::Hypothesis ? 1 : -1;
  } catch (const std::exception& e) {  // never expected; a checker bug must not take the scorer down
    report.first_problem = std::string("proof not checked: ") + e.what();
  }
  return report;
}

}  // namespace verity
