#include "verifiers/ontology_trace.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "solvers/logic.h"
#include "solvers/z3_bridge.h"

namespace verity {
namespace {

using logic::Formula;
using logic::FormulaPtr;
using logic::Op;

constexpr size_t kMaxDisjuncts = 16;              // a longer "is a or b or ..." claim is invalid
constexpr size_t kMaxNameWords = 3;               // "living thing" ...

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Sentences of the reasoning: split at line ends and at . ! ? followed by a space or the end.
std::vector<std::string_view> sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string_view s = text.substr(start, end - start);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (!s.empty()) out.push_back(s);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool end_mark = (c == '.' || c == '!' || c == '?') &&
                          (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])));
    if (c == '\n' || end_mark) {
      flush(c == '\n' ? i : i + 1);
      start = i + 1;
    }
  }
  flush(text.size());
  return out;
}

// The instance as propositional logic: one variable per concept / property of the entity.
class Theory {
 public:
  explicit Theory(const pb::OntologyInstance& inst) {
    for (const auto& c : inst.concepts()) add_name(c);
    for (const auto& p : inst.properties()) add_name(p);
    for (const auto& f : inst.facts())
      if (auto l = formal_literal(f)) premises_.push_back(*l);
    for (const auto& r : inst.rules()) {
      std::vector<FormulaPtr> lhs, rhs;
      for (const auto& l : r.if_all())
        if (auto f = formal_literal(l)) lhs.push_back(*f);
      for (const auto& l : r.then_any())
        if (auto f = formal_literal(l)) rhs.push_back(*f);
      if (!lhs.empty() && !rhs.empty()) premises_.push_back(Formula::binary(Op::Implies, fold(Op::And, lhs), fold(Op::Or, rhs)));
    }
    query_ = formal_literal(inst.query()).value_or(nullptr);
  }

  // Index of a name given as lower-case words starting at words[at]: the longest that matches.
  std::optional<std::pair<int, size_t>> match_name(const std::vector<std::string>& words, size_t at) const {
    for (size_t n = std::min(kMaxNameWords, words.size() - at); n >= 1; --n) {
      std::string joined = words[at];
      for (size_t k = 1; k < n; ++k) joined += " " + words[at + k];
      if (auto it = index_.find(joined); it != index_.end()) return std::make_pair(it->second, n);
    }
    return std::nullopt;
  }

  // Index of a whole name ("living thing"), if it is one.
  std::optional<int> index_of(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? std::nullopt : std::optional<int>(it->second);
  }

  // unsat(premises & ~claim), bounded; nullopt when Z3 gave up.
  std::optional<bool> entails(const FormulaPtr& claim) const {
    std::vector<FormulaPtr> all = premises_;
    all.push_back(Formula::negate(claim));
    switch (z3bridge::check_conjunction(all, static_cast<int>(index_.size()), z3bridge::kUntrustedRlimit)) {
      case z3::unsat: return true;
      case z3::sat: return false;
      default: return std::nullopt;
    }
  }
  const FormulaPtr& query() const { return query_; }

 private:
  void add_name(const std::string& name) { index_.emplace(lower(name), static_cast<int>(index_.size())); }
  std::optional<FormulaPtr> formal_literal(const std::string& text) const {
    const bool negated = !text.empty() && text[0] == '~';
    const auto it = index_.find(lower(negated ? text.substr(1) : text));
    if (it == index_.end()) return std::nullopt;
    const FormulaPtr v = Formula::variable(it->second);
    return negated ? Formula::negate(v) : v;
  }
  static FormulaPtr fold(Op op, const std::vector<FormulaPtr>& parts) {
    FormulaPtr out = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) out = Formula::binary(op, out, parts[i]);
    return out;
  }
  std::unordered_map<std::string, int> index_;
  std::vector<FormulaPtr> premises_;
  FormulaPtr query_;
};

enum class ClaimKind { None, Holds, Undetermined };
struct Claim {
  ClaimKind kind = ClaimKind::None;
  FormulaPtr formula;   // Holds: what must follow
  std::string problem;  // None: why no claim could be read
  std::string key;      // equal keys, equal claims (repeated claims are checked once)
};

// "[not] [a|an] name (or [not] [a|an] name)*" at the start of `phrase` (lower case, no punctuation
// past its end). Words after the literals ("and ...") end the claim.
Claim parse_literals(const Theory& theory, std::string_view phrase) {
  const auto words = split_words(phrase);
  std::vector<FormulaPtr> disjuncts;
  size_t at = 0;
  while (at < words.size()) {
    bool negated = false;
    if (words[at] == "not") negated = true, ++at;
    if (at < words.size() && (words[at] == "a" || words[at] == "an")) ++at;
    if (at >= words.size()) break;
    const auto name = theory.match_name(words, at);
    if (!name) return {ClaimKind::None, nullptr, "unknown word '" + words[at] + "'", ""};
    const FormulaPtr v = Formula::variable(name->first);
    disjuncts.push_back(negated ? Formula::negate(v) : v);
    at += name->second;
    if (at < words.size() && words[at] == "or") {
      if (disjuncts.size() == kMaxDisjuncts) return {ClaimKind::None, nullptr, "more than 16 alternatives", ""};
      ++at;
      continue;
    }
    break;
  }
  if (disjuncts.empty()) return {ClaimKind::None, nullptr, "no concept or property after 'is'", ""};
  FormulaPtr f = disjuncts[0];
  for (size_t i = 1; i < disjuncts.size(); ++i) f = Formula::binary(Op::Or, f, disjuncts[i]);
  return {ClaimKind::Holds, f, "", ""};
}

// The text after the last "<entity> is " in `s`, up to the next , ; : or quote.
std::optional<std::string> last_predication(const std::string& s, const std::string& entity_is) {
  size_t at = s.rfind(entity_is);
  while (at != std::string::npos && at > 0 && is_word_char(s[at - 1]))
    at = at == 0 ? std::string::npos : s.rfind(entity_is, at - 1);
  if (at == std::string::npos) return std::nullopt;
  std::string rest = s.substr(at + entity_is.size());
  const size_t stop = rest.find_first_of(",;:\".!?()");
  return stop == std::string::npos ? rest : rest.substr(0, stop);
}

// s[..end) ends with `token`; a word token ("not", "or") must also start a word there.
bool ends_with_at(const std::string& s, size_t end, std::string_view token) {
  if (end < token.size() || s.compare(end - token.size(), token.size(), token) != 0) return false;
  const size_t at = end - token.size();
  return !is_word_char(token[0]) || at == 0 || !is_word_char(s[at - 1]);
}
size_t skip_spaces_back(const std::string& s, size_t end) {
  while (end > 0 && s[end - 1] == ' ') --end;
  return end;
}

// The claim of a sentence written in the prompt's symbolic syntax: the last "[~|¬|not ]name(entity)",
// with the literals joined to it by | ∨ or "or" before it ("~a(max) | b(max)"). nullopt: no "(entity)".
std::optional<Claim> read_formal_claim(const Theory& theory, const std::string& sentence, const std::string& entity) {
  const std::string needle = "(" + entity + ")";
  size_t end = sentence.rfind(needle);
  if (end == std::string::npos) return std::nullopt;
  const size_t claim_end = end + needle.size();
  std::vector<FormulaPtr> disjuncts;
  while (true) {
    size_t start = end;
    while (start > 0 && is_word_char(sentence[start - 1])) --start;
    std::string name = sentence.substr(start, end - start);
    std::replace(name.begin(), name.end(), '_', ' ');
    const auto index = theory.index_of(name);
    if (!index) return Claim{ClaimKind::None, nullptr, "unknown word '" + name + "'", ""};
    size_t before = skip_spaces_back(sentence, start);
    bool negated = false;
    for (std::string_view neg : {"~", "!", "\xc2\xac", "not"})
      if (ends_with_at(sentence, before, neg)) negated = true, before = skip_spaces_back(sentence, before - neg.size());
    const FormulaPtr v = Formula::variable(*index);
    disjuncts.push_back(negated ? Formula::negate(v) : v);
    if (disjuncts.size() > kMaxDisjuncts) return Claim{ClaimKind::None, nullptr, "more than 16 alternatives", ""};
    size_t joined = before;
    for (std::string_view op : {"|", "\xe2\x88\xa8", "or"})
      if (ends_with_at(sentence, before, op)) joined = skip_spaces_back(sentence, before - op.size());
    if (joined == before || !ends_with_at(sentence, joined, needle)) {
      FormulaPtr f = disjuncts[0];
      for (size_t i = 1; i < disjuncts.size(); ++i) f = Formula::binary(Op::Or, f, disjuncts[i]);
      return Claim{ClaimKind::Holds, f, "", "formal: " + sentence.substr(before, claim_end - before)};
    }
    end = joined - needle.size();
  }
}

bool says_undetermined(const std::string& s) {
  for (const char* marker : {"cannot be determined", "can't be determined", "cannot determine", "undetermined",
                             "not enough information", "not determined"})
    if (s.find(marker) != std::string::npos) return true;
  return false;
}

Claim read_claim(const Theory& theory, const std::string& sentence, const std::string& entity) {
  const std::string entity_is = entity + " is ";
  // a verdict on the question: the statement "<entity> is <literal>" is true | false
  if (const size_t q = sentence.find("statement \""); q != std::string::npos) {
    const size_t open = q + 10, close = sentence.find('"', open + 1);
    if (close != std::string::npos) {
      const std::string inner = sentence.substr(open + 1, close - open - 1), after = sentence.substr(close + 1);
      const auto predication = last_predication(inner, entity_is);
      const bool is_true = after.find("is true") != std::string::npos, is_false = after.find("is false") != std::string::npos;
      if (predication && is_true != is_false) {
        Claim c = parse_literals(theory, *predication);
        if (c.kind == ClaimKind::Holds && is_false) c.formula = Formula::negate(c.formula);
        c.key = (is_false ? "false: " : "true: ") + *predication;
        return c;
      }
    }
  }
  if (says_undetermined(sentence)) return {ClaimKind::Undetermined, nullptr, "", "undetermined"};
  const auto predication = last_predication(sentence, entity_is);
  if (!predication) {
    if (auto formal = read_formal_claim(theory, sentence, entity)) return *formal;
    return {ClaimKind::None, nullptr, "no claim of the form '" + entity_is + "...' or '<name>(" + entity + ")' could be read", ""};
  }
  Claim c = parse_literals(theory, *predication);
  c.key = "is: " + *predication;
  return c;
}

struct Verdict {
  bool decided = false, valid = false;
  std::string problem;
};

Verdict check_claim(const Theory& theory, const Claim& claim) {
  if (claim.kind == ClaimKind::Holds) {
    const auto ok = theory.entails(claim.formula);
    if (!ok) return {false, false, "too hard to check within the solver's resource limit"};
    return {true, *ok, *ok ? "" : "does not follow from the facts and rules"};
  }
  if (!theory.query()) return {true, false, "the task's query is not readable"};
  const auto yes = theory.entails(theory.query());
  const auto no = theory.entails(Formula::negate(theory.query()));
  if (!yes || !no) return {false, false, "too hard to check within the solver's resource limit"};
  const bool open = !*yes && !*no;
  return {true, open, open ? "" : "the facts and rules do determine the answer"};
}

}  // namespace

TraceReport check_ontology_trace(const pb::OntologyInstance& instance, std::string_view text) {
  TraceReport report;
  try {
    const std::string all = lower(text);
    const size_t answer_at = all.find("<answer");
    const std::string reasoning = all.substr(0, answer_at);
    const std::string entity = lower(instance.entity());
    if (entity.empty()) return report;
    const Theory theory(instance);
    std::map<std::string, Verdict> verdicts;  // claim key -> verdict (a model may repeat itself)
    for (std::string_view view : sentences(reasoning)) {
      const std::string sentence(view);
      const bool about_entity = sentence.find(entity) != std::string::npos;
      if (!about_entity && !says_undetermined(sentence)) continue;  // prose
      if (report.steps_checked == kMaxOntologySteps) {
        report.truncated = true;
        break;
      }
      ++report.steps_checked;
      const Claim claim = read_claim(theory, sentence, entity);
      std::string problem = claim.problem;
      if (claim.kind != ClaimKind::None) {
        auto it = verdicts.find(claim.key);
        if (it == verdicts.end()) {
          const Verdict v = check_claim(theory, claim);
          if (v.decided) it = verdicts.emplace(claim.key, v).first;
          else problem = v.problem;
        }
        if (it != verdicts.end()) {
          if (it->second.valid) {
            ++report.steps_valid;
            continue;
          }
          problem = it->second.problem;
        }
      }
      if (report.first_invalid == 0) {
        report.first_invalid = report.steps_checked;
        report.first_problem = problem + ": " + sentence.substr(0, 200);
      }
    }
  } catch (const std::exception& e) {
    report.first_problem = std::string("checker error: ") + e.what();
  }
  return report;
}

}  // namespace verity
