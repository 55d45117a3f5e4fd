// Scores an arithmetic_graph completion: the reward is the outcome (the right integer, or abstaining
// exactly when the facts do not determine the answer); the step-by-step solution is checked as well
// and reported in steps_checked / steps_valid and the reason (process reward, see arithmetic_trace.h).
#include "verifiers/verifiers.h"

#include <algorithm>
#include <charconv>

#include "tasks/answer_extraction.h"
#include "verifiers/arithmetic_trace.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class ArithmeticGraphVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace
namespace {

// Normalised spellings that mean "the facts do not determine it".
bool is_abstention(const std::string& said) {
  static const std::vector<std::string> kSpellings = {
      "cannot be determined", "can't be determined", "cannot determine", "can not be determined",
      "it cannot be determined", "undetermined", "not determined", "cannot be determined from the facts",
      "cannot be determined from the information given", "not enough information", "insufficient information",
      "unknown", "unanswerable"};
  return std::find(kSpellings.begin(), kSpellings.end(), said) != kSpellings.end();
}

// "42", "+42", "-7": an integer answer. `fits` is false for digit strings too long for 64 bits
// (still a number, just certainly wrong).
bool is_integer_text(const std::string& s, long long& value, bool& fits) {
  std::string_view v = s;
  if (!v.empty() && (v.front() == '+' || v.front() == '-')) v.remove_prefix(1);
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  fits = ec == std::errc() && ptr == digits.data() + digits.size();
  return true;
}

void add_process_report(const pb::Task& task, std::string_view completion, pb::Score& score) {
  record_trace(check_arithmetic_task(task, completion),
               "only the first " + std::to_string(kMaxTraceLines) + " lines were read", score);
}

}  // namespace

pb::Score ArithmeticGraphVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (answer) {
    const std::string said = normalize_answer(*answer);
    const bool gold_abstains = task.answer() == kCannotBeDetermined;
    long long value = 0;
    bool fits = false;
    if (is_abstention(said)) {
      score.set_format_ok(true);
      score.set_correct(gold_abstains);
      score.set_reason(gold_abstains ? "correct: the facts do not determine it"
                                     : "abstained, but the facts determine the answer " + task.answer());
    } else if (is_integer_text(said, value, fits)) {
      score.set_format_ok(true);
      const bool right = !gold_abstains && fits && std::to_string(value) == task.answer();
      score.set_correct(right);
      score.set_reason(right ? "correct"
                       : gold_abstains ? "answered " + said.substr(0, 40) + ", but the facts do not determine it"
                                       : "answered " + said.substr(0, 40) + ", expected " + task.answer());
    } else {
      score.set_reason("the answer is neither an integer nor \"" + std::string(kCannotBeDetermined) + "\"");
    }
    score.set_reward(score.correct() ? 1.0 : 0.0);
  }
  add_process_report(task, completion, score);
  return score;
}

namespace verifiers {
const Verifier& arithmetic_graph() {
  static const ArithmeticGraphVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
