// Scores a long_horizon_sum completion: the answer's running totals are compared turn by turn (the
// reason names the first wrong turn and counts totals and increments right). Reward 1 only when every
// total is right and nothing extra is given; with the knob partial_credit=prefix, the fraction of
// turns before the first wrong one. Process score: the reasoning's "Turn t: ... = total" lines are the
// steps (steps_checked / steps_valid: lines stating a right total); the required derivation is every
// turn's total, covered by a right line for that turn: process = turns covered / turns x valid lines /
// lines.
#include "verifiers/verifiers.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"
#include "verifiers/trace_report.h"

namespace verity {

namespace {

class LongHorizonSumVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace
namespace {

struct ParsedList {
  std::vector<long> values;
  std::vector<bool> ok;   // false where the token is not an integer (that step counts as wrong)
  int bad_tokens = 0;
};

bool is_separator(char c) { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits on commas / semicolons / whitespace; each token must be an integer (an optional '+' is
// accepted; anything unparseable, including out-of-range numbers, is kept as a wrong step).
ParsedList parse_list(std::string_view text) {
  ParsedList out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_separator(text[i])) ++i;
    if (i >= text.size()) break;
    size_t end = i;
    while (end < text.size() && !is_separator(text[end])) ++end;
    std::string_view token = text.substr(i, end - i);
    i = end;
    if (token.size() > 1 && token.front() == '+') token.remove_prefix(1);
    long v = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    const bool ok = ec == std::errc() && ptr == token.data() + token.size();
    out.values.push_back(ok ? v : 0);
    out.ok.push_back(ok);
    out.bad_tokens += !ok;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Where the first "<answer" tag starts (any case); the text's size when there is none.
size_t find_answer_tag(std::string_view text) {
  static const std::string_view kTag = "<answer";
  for (size_t at = text.find('<'); at != std::string_view::npos; at = text.find('<', at + 1)) {
    if (text.size() - at < kTag.size()) break;
    size_t k = 1;
    while (k < kTag.size() && std::tolower(static_cast<unsigned char>(text[at + k])) == kTag[k]) ++k;
    if (k == kTag.size()) return at;
  }
  return text.size();
}

// The running totals the reasoning states: a line (outside the answer) that starts with "Turn <t>" or
// "After turn <t>" (after bullets / markdown) states the total of turn t as its last integer, as the
// gold steps do ("Turn 3: fabek (4) + lomiv (-2) -> 9 + 2 = 11"). Linear; bounded by the text.
TraceReport check_running_totals(std::string_view text, const google::protobuf::RepeatedField<int32_t>& gold) {
  TraceReport report;
  const int steps = gold.size();
  report.required = steps;
  std::vector<bool> covered(steps, false);
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t' || line.front() == '-' || line.front() == '*' ||
                             line.front() == '#' || line.front() == '>'))
      line.remove_prefix(1);
    auto starts = [&](std::string_view word) {
      if (line.size() < word.size()) return false;
      for (size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != word[i]) return false;
      return true;
    };
    if (starts("after turn ")) line.remove_prefix(11);
    else if (starts("turn ")) line.remove_prefix(5);
    else continue;
    size_t i = 0;
    long turn = 0;
    while (i < line.size() && is_digit(line[i]) && i < 9) turn = turn * 10 + (line[i++] - '0');
    if (i == 0) continue;
    // the last integer of the line
    size_t end = line.size();
    while (end > i && !is_digit(line[end - 1])) --end;
    if (end == i) continue;
    size_t begin = end;
    while (begin > i && is_digit(line[begin - 1])) --begin;
    if (begin > i && line[begin - 1] == '-') --begin;
    ++report.steps_checked;
    long value = 0;
    auto [ptr, ec] = std::from_chars(line.data() + begin, line.data() + end, value);
    const bool right = turn >= 1 && turn <= steps && ec == std::errc() && ptr == line.data() + end &&
                       value == gold[static_cast<int>(turn - 1)];
    if (right) {
      ++report.steps_valid;
      if (!covered[turn - 1]) covered[turn - 1] = true, ++report.covered;
    } else if (report.first_invalid == 0) {
      report.first_invalid = report.steps_checked;
      report.first_problem = turn < 1 || turn > steps ? "there is no turn " + std::to_string(turn)
                                                      : "the running total of turn " + std::to_string(turn) + " is " +
                                                            std::to_string(gold[static_cast<int>(turn - 1)]);
    }
  }
  return report;
}

}  // namespace

pb::Score LongHorizonSumVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  const auto& gold = task.long_horizon_sum().running_sums();
  const int steps = gold.size();
  // Process score: the running totals stated in the reasoning (outside the answer), per turn.
  const std::string_view reasoning = completion.substr(0, std::min(completion.size(), completion_cap(task, completion.size())));
  const TraceReport trace = check_running_totals(reasoning.substr(0, find_answer_tag(reasoning)), gold);
  const std::string steps_note = "only the answer's totals were read";
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (!answer) {
    record_trace(trace, steps_note, score);
    return score;
  }
  const ParsedList said = parse_list(*answer);
  if (said.values.empty() || said.bad_tokens == static_cast<int>(said.values.size())) {
    score.set_reason("the answer holds no integers: expected " + std::to_string(steps) +
                     " running totals separated by commas");
    record_trace(trace, steps_note, score);
    return score;
  }
  score.set_format_ok(true);
  int valid = 0, first_wrong = -1;
  for (int t = 0; t < steps; ++t) {
    const bool right = t < static_cast<int>(said.values.size()) && said.ok[t] && said.values[t] == gold[t];
    valid += right;
    if (!right && first_wrong < 0) first_wrong = t;
  }
  const int extra = std::max(0, static_cast<int>(said.values.size()) - steps);
  const bool all_right = first_wrong < 0 && extra == 0;
  score.set_correct(all_right);
  const bool prefix_credit = task.knobs().count("partial_credit") && task.knobs().at("partial_credit") == "prefix";
  const int prefix = first_wrong < 0 ? steps : first_wrong;
  score.set_reward(all_right ? 1.0 : prefix_credit ? static_cast<double>(prefix) / (steps + extra) : 0.0);

  // Increments right: turns whose change from the previous reported total is right, so one early slip
  // does not hide that every later addition was done correctly.
  int increments = 0;
  for (int t = 0; t < steps && t < static_cast<int>(said.values.size()); ++t) {
    const bool known = said.ok[t] && (t == 0 || said.ok[t - 1]);
    const long before = t == 0 ? 0 : said.values[t - 1];
    increments += known && said.values[t] - before == gold[t] - (t == 0 ? 0 : gold[t - 1]);
  }
  std::string reason = std::to_string(valid) + "/" + std::to_string(steps) + " running totals right, " +
                       std::to_string(increments) + "/" + std::to_string(steps) + " increments right";
  if (first_wrong >= 0) {
    reason = "first wrong step " + std::to_string(first_wrong + 1) + " of " + std::to_string(steps) + " (expected " +
             std::to_string(gold[first_wrong]) + ", got " +
             (first_wrong < static_cast<int>(said.values.size())
                  ? (said.ok[first_wrong] ? std::to_string(said.values[first_wrong]) : std::string("a non-integer"))
                  : std::string("nothing")) +
             "); " + reason;
  } else if (extra > 0) {
    reason = "every step right but " + std::to_string(extra) + " extra value(s) given; " + reason;
  } else {
    reason = "correct; " + reason;
  }
  score.set_reason(reason);
  record_trace(trace, steps_note, score);
  return score;
}

namespace verifiers {
const Verifier& long_horizon_sum() {
  static const LongHorizonSumVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
