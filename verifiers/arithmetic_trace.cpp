#include "verifiers/arithmetic_trace.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace verity {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Lower case, single spaces, no markdown emphasis or quotes, no leading "the": how names are compared.
std::string normalize_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '`' || c == '"') continue;
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += lower(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.rfind("the ", 0) == 0) out.erase(0, 4);
  return out;
}

std::optional<long long> parse_integer(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  long long v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// ---- expressions: "A + B - C", "(3 + 4) mod 5", "20 / 4" ----

struct Expression {
  std::vector<std::string> operands;  // lower-cased words or numbers
  std::vector<char> ops;              // '+', '-', 'x', '/' between operands
  long long modulus = 0;              // 0 = no "mod m"
};

// Splits into words, numbers and operator characters; UTF-8 × ÷ − map to x / -.
std::vector<std::string> tokenize(std::string_view s) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (is_space(s[i])) { ++i; continue; }
    if (s.substr(i, 2) == "\xC3\x97") { tokens.push_back("x"); i += 2; continue; }
    if (s.substr(i, 2) == "\xC3\xB7") { tokens.push_back("/"); i += 2; continue; }
    if (s.substr(i, 3) == "\xE2\x88\x92") { tokens.push_back("-"); i += 3; continue; }
    if (std::isalnum(c) || c == '_') {
      size_t end = i;
      while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
      std::string word(s.substr(i, end - i));
      std::transform(word.begin(), word.end(), word.begin(), lower);
      tokens.push_back(std::move(word));
      i = end;
      continue;
    }
    tokens.push_back(std::string(1, s[i]));
    ++i;
  }
  return tokens;
}

std::optional<char> as_operator(const std::string& t) {
  if (t == "+" || t == "-" || t == "/") return t[0];
  if (t == "x" || t == "*") return 'x';
  return std::nullopt;
}

std::optional<Expression> parse_expression(std::string_view text, std::string& problem) {
  std::vector<std::string> t = tokenize(text);
  Expression e;
  if (t.size() >= 2 && t[t.size() - 2] == "mod") {
    const auto m = parse_integer(t.back());
    if (!m || *m <= 0) return problem = "bad modulus in '" + std::string(text.substr(0, 80)) + "'", std::nullopt;
    e.modulus = *m;
    t.resize(t.size() - 2);
  }
  if (t.size() >= 2 && t.front() == "(" && t.back() == ")") t = std::vector<std::string>(t.begin() + 1, t.end() - 1);
  // A leading minus belongs to a number: "-3 + 5".
  std::vector<std::string> merged;
  for (size_t i = 0; i < t.size(); ++i) {
    const bool operand_slot = merged.empty() || as_operator(merged.back());
    if (t[i] == "-" && operand_slot && i + 1 < t.size() && parse_integer(t[i + 1])) {
      merged.push_back("-" + t[++i]);
      continue;
    }
    merged.push_back(t[i]);
  }
  if (merged.empty() || merged.size() % 2 == 0 || static_cast<int>(merged.size()) > 2 * kMaxExpressionTerms)
    return problem = "cannot read the expression '" + std::string(text.substr(0, 80)) + "'", std::nullopt;
  for (size_t i = 0; i < merged.size(); ++i) {
    if (i % 2 == 1) {
      const auto op = as_operator(merged[i]);
      if (!op) return problem = "expected an operator, found '" + merged[i].substr(0, 40) + "'", std::nullopt;
      e.ops.push_back(*op);
    } else {
      if (as_operator(merged[i]) && merged[i] != "x") return problem = "two operators in a row", std::nullopt;
      const char c0 = merged[i][0];
      if (!(std::isalnum(static_cast<unsigned char>(c0)) || c0 == '_' || c0 == '-'))
        return problem = "unexpected '" + merged[i].substr(0, 40) + "' in the expression", std::nullopt;
      e.operands.push_back(merged[i]);
    }
  }
  return e;
}

bool all_numbers(const Expression& e) {
  return std::all_of(e.operands.begin(), e.operands.end(), [](const std::string& s) { return parse_integer(s).has_value(); });
}

// Exact evaluation over the given values; nullopt on overflow, a mix of operator kinds or an inexact division.
std::optional<long long> evaluate(const std::vector<long long>& values, const std::vector<char>& ops, long long modulus) {
  const bool additive = std::all_of(ops.begin(), ops.end(), [](char c) { return c == '+' || c == '-'; });
  const bool product = std::all_of(ops.begin(), ops.end(), [](char c) { return c == 'x'; });
  const bool quotient = ops.size() == 1 && ops[0] == '/';
  if (!additive && !product && !quotient) return std::nullopt;
  long long acc = values[0];
  for (size_t k = 0; k < ops.size(); ++k) {
    const long long v = values[k + 1];
    bool overflow = false;
    if (ops[k] == '+') overflow = __builtin_add_overflow(acc, v, &acc);
    if (ops[k] == '-') overflow = __builtin_sub_overflow(acc, v, &acc);
    if (ops[k] == 'x') overflow = __builtin_mul_overflow(acc, v, &acc);
    if (ops[k] == '/') {
      if (v == 0 || acc % v != 0) return std::nullopt;
      acc /= v;
    }
    if (overflow) return std::nullopt;
  }
  if (modulus > 0) acc = ((acc % modulus) + modulus) % modulus;
  return acc;
}

// ---- relations the facts license ----

// A relation "q = expression" in canonical form: kind + operand multisets (sorted quantity indices).
struct Relation {
  char kind;                  // '+' (additive), 'x' (product), '/' (quotient)
  std::vector<int> plus, minus;
  bool operator==(const Relation&) const = default;
};

std::optional<Relation> canonical(const std::vector<int>& q, const std::vector<char>& ops) {
  Relation r{'+', {q[0]}, {}};
  const bool additive = std::all_of(ops.begin(), ops.end(), [](char c) { return c == '+' || c == '-'; });
  if (additive) {
    for (size_t k = 0; k < ops.size(); ++k) (ops[k] == '+' ? r.plus : r.minus).push_back(q[k + 1]);
  } else if (std::all_of(ops.begin(), ops.end(), [](char c) { return c == 'x'; })) {
    r = {'x', q, {}};
  } else if (ops.size() == 1 && ops[0] == '/') {
    r = {'/', {q[0]}, {q[1]}};
  } else {
    return std::nullopt;
  }
  std::sort(r.plus.begin(), r.plus.end());
  std::sort(r.minus.begin(), r.minus.end());
  return r;
}

class Facts {
 public:
  explicit Facts(const pb::ArithmeticGraphInstance& inst) : inst_(inst) {
    for (int i = 0; i < inst.quantities_size(); ++i) {
      exact_.emplace(inst.quantities(i).name(), i);
      index_.emplace(normalize_name(inst.quantities(i).name()), i);
    }
    licensed_.resize(inst.quantities_size());
    for (int n = 0; n < inst.quantities_size(); ++n) add_relations_of(n);
    for (auto& list : licensed_)
      for (auto& r : list) {
        std::sort(r.plus.begin(), r.plus.end());
        std::sort(r.minus.begin(), r.minus.end());
      }
  }
  std::optional<int> find(std::string_view name) const {
    const auto it = index_.find(normalize_name(name));
    return it == index_.end() ? std::nullopt : std::optional<int>(it->second);
  }
  const pb::ArithmeticQuantity& at(int i) const { return inst_.quantities(i); }
  bool licensed(int q, const Relation& r) const {
    return std::find(licensed_[q].begin(), licensed_[q].end(), r) != licensed_[q].end();
  }

 private:
  // A stated definition n = f(a, b, ...) licenses n's own relation and each operand solved for.
  void add_relations_of(int n) {
    const auto& d = inst_.quantities(n);
    if (!d.definition_stated() || d.op().empty()) return;
    std::vector<int> o;
    for (const auto& name : d.operands()) {  // the instance's own names: exact lookup
      const auto it = exact_.find(name);
      if (it == exact_.end()) return;
      o.push_back(it->second);
    }
    if (d.op() == "add" || d.op() == "sum") {
      licensed_[n].push_back({'+', o, {}});
      for (size_t k = 0; k < o.size(); ++k) {
        Relation r{'+', {n}, {}};
        for (size_t j = 0; j < o.size(); ++j)
          if (j != k) r.minus.push_back(o[j]);
        licensed_[o[k]].push_back(r);
      }
    } else if (d.op() == "sub" && o.size() == 2) {
      licensed_[n].push_back({'+', {o[0]}, {o[1]}});
      licensed_[o[0]].push_back({'+', {n, o[1]}, {}});
      licensed_[o[1]].push_back({'+', {o[0]}, {n}});
    } else if (d.op() == "mul" && o.size() == 2) {
      licensed_[n].push_back({'x', o, {}});
      if (inst_.modulus() == 0) {  // division undoes a product only over plain integers
        licensed_[o[0]].push_back({'/', {n}, {o[1]}});
        licensed_[o[1]].push_back({'/', {n}, {o[0]}});
      }
    }
  }

  const pb::ArithmeticGraphInstance& inst_;
  std::unordered_map<std::string, int> exact_, index_;  // by name as stored / as normalised
  std::vector<std::vector<Relation>> licensed_;
};

// ---- one step ----

struct StepParts {
  std::string name, variable;
  std::vector<std::string> segments;  // after "so": "C", "A + B", "3 + 1", "4"
};

// Strips bullets, numbering ("3.", "3)", "Step 3:") and markdown from the start of a line.
std::string_view strip_line_prefix(std::string_view line) {
  line = trim(line);
  for (int guard = 0; guard < 8 && !line.empty(); ++guard) {
    const size_t before = line.size();
    while (!line.empty() && (line.front() == '-' || line.front() == '*' || line.front() == '#' || line.front() == '>'))
      line.remove_prefix(1);
    if (line.size() >= 5 && std::equal(line.begin(), line.begin() + 5, "step ", [](char a, char b) { return lower(a) == b; }))
      line.remove_prefix(5);
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits > 0 && digits < line.size() && (line[digits] == '.' || line[digits] == ')' || line[digits] == ':'))
      line.remove_prefix(digits + 1);
    line = trim(line);
    if (line.size() == before) break;
  }
  return line;
}

bool starts_with_define(std::string_view line) {
  static const std::string kDefine = "define ";
  if (line.size() < kDefine.size()) return false;
  for (size_t i = 0; i < kDefine.size(); ++i)
    if (lower(line[i]) != kDefine[i]) return false;
  return true;
}

std::optional<StepParts> split_step(std::string_view line, std::string& problem) {
  std::string lowered(line);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);
  size_t semi = lowered.find(';');
  size_t after = semi == std::string::npos ? std::string::npos : semi + 1;
  if (semi == std::string::npos) {  // tolerate ", so" for ";"
    semi = lowered.find(", so ");
    after = semi == std::string::npos ? semi : semi + 1;
  }
  if (semi == std::string::npos) return problem = "no ';' between the definition and the computation", std::nullopt;
  const size_t as = lowered.rfind(" as ", semi);
  if (as == std::string::npos || as < 7) return problem = "no 'as <variable>' in the definition", std::nullopt;
  StepParts parts;
  parts.name = std::string(trim(line.substr(7, as - 7)));
  parts.variable = normalize_name(line.substr(as + 4, semi - as - 4));
  std::string_view rest = trim(line.substr(after));
  if (rest.size() >= 3 && lower(rest[0]) == 's' && lower(rest[1]) == 'o' && (is_space(rest[2]) || rest[2] == ','))
    rest = trim(rest.substr(3));
  while (!rest.empty() && (rest.back() == '.' || rest.back() == '*')) rest.remove_suffix(1);
  for (size_t start = 0;;) {
    const size_t eq = rest.find('=', start);
    parts.segments.push_back(std::string(trim(rest.substr(start, eq == std::string_view::npos ? eq : eq - start))));
    if (eq == std::string_view::npos) break;
    start = eq + 1;
  }
  return parts;
}

class StepChecker {
 public:
  explicit StepChecker(const pb::ArithmeticGraphInstance& inst) : facts_(inst), modulus_(inst.modulus()) {}

  // "" when the step is valid, else the reason. Binds the step's variable even when the step is wrong,
  // so one mistake does not invalidate every later step that uses the variable.
  std::string check(std::string_view line) {
    last_quantity_ = -1;
    last_computed_ = false;
    if (line.size() > kMaxStepChars) return "step is longer than " + std::to_string(kMaxStepChars) + " characters";
    std::string problem;
    const auto parts = split_step(line, problem);
    if (!parts) return problem;
    const auto q = facts_.find(parts->name);
    if (!q) return "unknown quantity '" + parts->name.substr(0, 80) + "'";
    last_quantity_ = *q;
    last_computed_ = parts->segments.size() >= 3;
    if (parts->variable.empty() || parts->variable.find(' ') != std::string::npos)
      return "bad variable name '" + parts->variable.substr(0, 40) + "'";
    std::string why = check_computation(*q, *parts);
    variables_[parts->variable] = *q;
    return why;
  }
  // The quantity the last checked step defines (-1: none readable), and whether it computed it.
  int last_quantity() const { return last_quantity_; }
  bool last_computed() const { return last_computed_; }
  std::optional<int> find(std::string_view name) const { return facts_.find(name); }

 private:
  std::string check_computation(int q, const StepParts& p) {
    const auto& seg = p.segments;
    if (seg.size() < 2 || seg.size() > 4) return "expected '<var> = <expression> = <numbers> = <result>'";
    if (normalize_name(seg[0]) != p.variable) return "the computation is not of " + p.variable;
    const auto result = parse_integer(seg.back());
    if (!result) return "the result '" + seg.back().substr(0, 40) + "' is not an integer";
    const auto& quantity = facts_.at(q);
    if (seg.size() == 2) {
      if (!quantity.value_stated()) return "the facts do not state the value of " + quantity.name() + "; compute it";
      return *result == quantity.value() ? "" : "the facts say " + std::to_string(quantity.value()) + ", not " + seg[1];
    }
    std::string problem;
    const auto symbolic = parse_expression(seg[1], problem);
    if (!symbolic) return problem;
    if (all_numbers(*symbolic)) return "the step does not say which quantities it uses";
    std::vector<int> used;
    for (const auto& v : symbolic->operands) {
      const auto it = variables_.find(v);
      if (it == variables_.end()) return "uses " + v.substr(0, 40) + " before any step defines it";
      used.push_back(it->second);
    }
    const auto relation = canonical(used, symbolic->ops);
    if (!relation || !facts_.licensed(q, *relation))
      return "'" + seg[1].substr(0, 80) + "' is not a relation the facts give for " + quantity.name();
    std::vector<long long> values;
    for (int u : used) values.push_back(facts_.at(u).value());
    long long modulus = symbolic->modulus;
    if (seg.size() == 4) {
      const auto numeric = parse_expression(seg[2], problem);
      if (!numeric) return problem;
      if (numeric->ops != symbolic->ops || numeric->modulus != symbolic->modulus || !all_numbers(*numeric))
        return "the numbers '" + seg[2].substr(0, 80) + "' do not match the expression";
      for (size_t k = 0; k < values.size(); ++k)
        if (*parse_integer(numeric->operands[k]) != values[k])
          return "uses " + numeric->operands[k].substr(0, 40) + " for " + facts_.at(used[k]).name() + ", which is " +
                 std::to_string(values[k]);
    }
    if (modulus != 0 && modulus != modulus_) return "reduces modulo " + std::to_string(modulus) + ", not the facts' modulus";
    const auto computed = evaluate(values, symbolic->ops, modulus);
    if (!computed) return "the arithmetic cannot be done exactly";
    if (*computed != *result) return "arithmetic error: it comes to " + std::to_string(*computed) + ", not " + seg.back();
    if (*result != quantity.value()) return quantity.name() + " is " + std::to_string(quantity.value()) + ", not " + seg.back();
    return "";
  }

  Facts facts_;
  long long modulus_;
  std::unordered_map<std::string, int> variables_;  // variable -> quantity, as the steps introduce them
  int last_quantity_ = -1;
  bool last_computed_ = false;
};

}  // namespace

std::shared_ptr<const std::vector<ArithmeticResult>> arithmetic_required(const pb::Task& task) {
  const auto& inst = task.arithmetic_graph();
  uint64_t key = kFingerprintSeed;
  for (const auto& step : task.trace()) key = fingerprint(fingerprint(key, step.rule()), step.text());
  key = fingerprint(key, "|");
  for (const auto& q : inst.quantities()) key = fingerprint(key, q.name());
  thread_local std::unordered_map<uint64_t, std::shared_ptr<const std::vector<ArithmeticResult>>> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < inst.quantities_size(); ++i) index.emplace(normalize_name(inst.quantities(i).name()), i);
  std::vector<ArithmeticResult> computed, given;
  for (const auto& step : task.trace()) {
    if (step.rule() == "cannot_be_determined") continue;
    const std::string_view text = step.text();
    const size_t semi = text.find(';');
    const size_t as = text.rfind(" as ", semi);
    if (!starts_with_define(text) || semi == std::string_view::npos || as == std::string_view::npos || as < 7) continue;
    const auto it = index.find(normalize_name(trim(text.substr(7, as - 7))));
    if (it == index.end()) continue;
    (step.rule() == "given" ? given : computed).push_back({it->second, step.rule() != "given"});
  }
  // A derivation with nothing to compute (the asked quantity is stated, or nothing is computable
  // before the missing fact) requires the givens it reads.
  auto result = std::make_shared<const std::vector<ArithmeticResult>>(computed.empty() ? given : computed);
  if (cache.size() >= kDerivationCacheEntries) cache.clear();
  cache.emplace(key, result);
  return result;
}

namespace {

// Checks every step; `valid` receives (quantity, computed) of each valid step, in order.
TraceReport run_checker(const pb::ArithmeticGraphInstance& instance, std::string_view text,
                        std::vector<std::pair<int, bool>>& valid) {
  TraceReport report;
  try {
    StepChecker checker(instance);
    int lines = 0;
    size_t start = 0;
    while (start <= text.size()) {
      if (++lines > kMaxTraceLines) {
        report.truncated = true;
        break;
      }
      const size_t nl = text.find('\n', start);
      const std::string_view line = strip_line_prefix(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
      if (starts_with_define(line)) {
        ++report.steps_checked;
        const std::string problem = checker.check(line);
        if (problem.empty()) {
          ++report.steps_valid;
          valid.emplace_back(checker.last_quantity(), checker.last_computed());
        } else if (report.first_invalid == 0) {
          report.first_invalid = report.steps_checked;
          report.first_problem = problem;
        }
      }
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  } catch (const std::exception& e) {  // never expected; a checker bug must not take the scorer down
    report.first_problem = std::string("trace not checked: ") + e.what();
  }
  return report;
}

// Coverage: a required result counts when a valid step establishes it (computes it, when the gold
// computes it). A valid step's inputs were defined by earlier steps (or it reads a stated value), so
// the order respects the dependencies.
void cover(const std::vector<ArithmeticResult>& required, const std::vector<std::pair<int, bool>>& valid,
           TraceReport& report) {
  std::unordered_map<int, bool> needed;  // quantity -> must be computed
  for (const auto& r : required) needed.emplace(r.quantity, r.computed);
  report.required = static_cast<int>(needed.size());
  for (const auto& [q, computed] : valid) {
    const auto it = needed.find(q);
    if (it == needed.end() || (it->second && !computed)) continue;
    needed.erase(it);
    ++report.covered;
  }
}

}  // namespace

TraceReport check_arithmetic_trace(const pb::ArithmeticGraphInstance& instance, std::string_view text,
                                   const std::vector<ArithmeticResult>& required) {
  std::vector<std::pair<int, bool>> valid;
  TraceReport report = run_checker(instance, text, valid);
  cover(required, valid, report);
  return report;
}

TraceReport check_arithmetic_task(const pb::Task& task, std::string_view text) {
  std::vector<std::pair<int, bool>> valid;
  TraceReport report = run_checker(task.arithmetic_graph(), text, valid);
  if (!valid.empty()) {
    cover(*arithmetic_required(task), valid, report);
    return report;
  }
  // Nothing valid covers anything: only the size of the required derivation is needed, counted from
  // the gold trace's rules without reading its text (as arithmetic_required counts it).
  int computed = 0, given = 0;
  for (const auto& step : task.trace()) {
    if (step.rule() == "cannot_be_determined") continue;
    if (!starts_with_define(step.text())) continue;
    (step.rule() == "given" ? given : computed) += 1;
  }
  report.required = computed > 0 ? computed : given;
  return report;
}

}  // namespace verity
