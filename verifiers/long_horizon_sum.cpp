// Scores a long_horizon_sum completion step by step: steps_checked = turns, steps_valid = turns whose
// running total is right, the reason names the first wrong turn. Reward 1 only when every total is
// right and nothing extra is given; with the knob partial_credit=prefix, the fraction of turns before
// the first wrong one.
#include "verifiers/verifiers.h"

#include <charconv>

#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"

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

}  // namespace

pb::Score LongHorizonSumVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  const auto& gold = task.long_horizon_sum().running_sums();
  const int steps = gold.size();
  score.set_steps_checked(steps);
  const Extraction extraction = extract_answer(completion);
  if (!extraction.found) {
    score.set_reason(extraction.reason);
    return score;
  }
  score.set_extracted_answer(extraction.answer.substr(0, 256));
  const ParsedList said = parse_list(extraction.answer);
  if (said.values.empty() || said.bad_tokens == static_cast<int>(said.values.size())) {
    score.set_reason("the answer holds no integers: expected " + std::to_string(steps) +
                     " running totals separated by commas");
    return score;
  }
  score.set_format_ok(true);
  int valid = 0, first_wrong = -1;
  for (int t = 0; t < steps; ++t) {
    const bool right = t < static_cast<int>(said.values.size()) && said.ok[t] && said.values[t] == gold[t];
    valid += right;
    if (!right && first_wrong < 0) first_wrong = t;
  }
  score.set_steps_valid(valid);
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
  return score;
}

namespace verifiers {
const Verifier& long_horizon_sum() {
  static const LongHorizonSumVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
