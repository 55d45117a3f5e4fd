// Scores a list_functions completion from the task record alone.
//   answer=output: the answer is the query's output, a list ("[4, 1, 3]", "4, 1, 3", "[]") or a number;
//     anything else in the answer (words, a second value, "not ...") is a format error.
//   answer=rule: the answer is a program of the DSL (solvers/list_dsl.h), run on every example, on the
//     query and on the held-out probes (inputs where every program of the DSL that fits the examples
//     agrees). Outcome: it reproduces every example and the query's output. Process score (with
//     --process-weight): the share of probes it gets right, so a rule that fits the examples by
//     accident but not the function earns less; the rule is the one step (valid when it reproduces
//     the examples), the probes are the required results.
// Parsing is linear and bounded (answers are at most 16 KiB, rules 4 KiB and 32 stages, every list at
// most 64 elements, arithmetic checked for overflow).
#include "verifiers/verifiers.h"

#include <cctype>
#include <string>

#include "solvers/list_dsl.h"
#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"
#include "verifiers/trace_report.h"

namespace verity {
namespace {

using listdsl::Value;

Value stored(const pb::ListFunctionValue& v, bool number) {
  if (number) return v.values_size() == 1 ? Value::number(v.values(0)) : Value::undefined();
  return Value::list({v.values().begin(), v.values().end()});
}

// Reads a list or a number. Returns false (with `why`) when the text is neither.
bool parse_value(std::string_view text, bool want_number, Value& out, std::string& why) {
  std::string s = normalize_answer(text);
  if (s == "empty" || s == "empty list" || s == "the empty list" || s == "an empty list") s = "[]";
  bool bracketed = false;
  if (!s.empty() && (s.front() == '[' || s.front() == '(')) {
    const char close = s.front() == '[' ? ']' : ')';
    if (s.size() < 2 || s.back() != close) return why = "unbalanced brackets", false;
    s = s.substr(1, s.size() - 2);
    bracketed = true;
  }
  std::vector<int32_t> items;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ' || s[i] == ';')) ++i;
    if (i >= s.size()) break;
    const bool negative = s[i] == '-';
    if (negative || s[i] == '+') ++i;
    int64_t v = 0;
    size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (++digits <= 10) v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (digits == 0 || (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != ';'))
      return why = "the answer is not a list of integers", false;
    if (digits > 10 || v > 2147483648LL || (!negative && v > 2147483647LL)) return why = "a number out of range", false;
    items.push_back(static_cast<int32_t>(negative ? -v : v));
  }
  if (want_number) {
    if (bracketed || items.size() != 1) return out = Value::list(std::move(items)), true;  // a list: wrong type
    return out = Value::number(items[0]), true;
  }
  if (items.empty() && !bracketed) return why = "no list in the answer", false;
  out = Value::list(std::move(items));
  return true;
}

void score_output(const pb::ListFunctionsInstance& inst, const std::string& answer, pb::Score& score) {
  const Value gold = stored(inst.query_output(), inst.returns_number());
  Value said;
  std::string why;
  if (!parse_value(answer, inst.returns_number(), said, why)) {
    score.set_reason(why + ": expected " + std::string(inst.returns_number() ? "a number" : "a list such as [4, 1, 3]"));
    return;
  }
  score.set_format_ok(true);
  if (said == gold) {
    score.set_reward(1.0);
    score.set_correct(true);
    score.set_reason("correct");
  } else if (inst.returns_number() && said.type != Value::Type::Number) {
    score.set_reason("the rule gives a number here, not a list");
  } else {
    score.set_reason("wrong output: got " + listdsl::to_text(said));
  }
}

void score_rule(const pb::ListFunctionsInstance& inst, const std::string& answer, pb::Score& score) {
  const listdsl::ParsedProgram parsed = listdsl::parse_program(normalize_answer(answer));
  if (!parsed.error.empty()) {
    score.set_reason("not a program of the DSL: " + parsed.error);
    return;
  }
  score.set_format_ok(true);
  const listdsl::Program& program = parsed.program;
  const bool number = inst.returns_number();
  auto input = [](const pb::ListFunctionValue& v) { return std::vector<int32_t>(v.values().begin(), v.values().end()); };
  TraceReport trace;  // the rule is one step; the probes are the required results
  trace.steps_checked = 1;
  trace.required = inst.probe_inputs_size();
  for (int p = 0; p < inst.probe_inputs_size(); ++p)
    trace.covered += listdsl::run(program, input(inst.probe_inputs(p))) == stored(inst.probe_outputs(p), number);
  std::string verdict;
  for (int i = 0; i < inst.example_inputs_size() && verdict.empty(); ++i) {
    const Value got = listdsl::run(program, input(inst.example_inputs(i)));
    if (got != stored(inst.example_outputs(i), number))
      verdict = "does not reproduce example " + std::to_string(i + 1) + ": it gives " + listdsl::to_text(got);
  }
  if (verdict.empty()) {
    trace.steps_valid = 1;
    const Value got = listdsl::run(program, input(inst.query_input()));
    if (got != stored(inst.query_output(), number))
      verdict = "reproduces the examples but not the rule: on a held-out list it gives " + listdsl::to_text(got);
  } else {
    trace.first_invalid = 1;
    trace.first_problem = "the rule does not reproduce the examples";
  }
  const std::string probes =
      "; held-out probes " + std::to_string(trace.covered) + "/" + std::to_string(trace.required) + " right";
  if (!verdict.empty()) {
    score.set_reason(verdict + probes);
  } else {
    score.set_reward(1.0);
    score.set_correct(true);
    score.set_reason("correct: reproduces every example and the held-out query" + probes);
  }
  record_trace(trace, "", score);
}

class ListFunctionsVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override {
    pb::Score score = score_for(task);
    if (!task.has_list_functions()) {
      score.set_reason("the task record has no list_functions instance");
      return score;
    }
    const std::optional<std::string> answer = read_answer(task, completion, score);
    if (!answer) return score;
    const auto& inst = task.list_functions();
    if (inst.answer_mode() == "rule") score_rule(inst, *answer, score);
    else score_output(inst, *answer, score);
    return score;
  }
};

}  // namespace

namespace verifiers {
const Verifier& list_functions() {
  static const ListFunctionsVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
