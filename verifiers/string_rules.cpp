// Scores a string_rules completion: the answer is the query's output string. Spaces between letters
// and letter case are ignored ("a b c" = "ABC" = "abc"); anything else that is not one of the task's
// letters, or an answer longer than the query allows, is a format error. Linear in the answer.
#include "verifiers/verifiers.h"

#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"

namespace verity {
namespace {

class StringRulesVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

pb::Score StringRulesVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (!answer) return score;
  const std::string& letters = task.string_rules().letters();
  std::string said;
  for (char c : normalize_answer(*answer)) {
    if (c == ' ' || c == '\t' || c == '\n') continue;
    if (letters.find(c) == std::string::npos) {
      score.set_reason("the answer has a character that is not one of the letters " + letters);
      return score;
    }
    said.push_back(c);
    if (said.size() > 4 * task.answer().size() + 16) {
      score.set_reason("the answer is far longer than the query");
      return score;
    }
  }
  if (said.empty()) {
    score.set_reason("empty answer");
    return score;
  }
  score.set_format_ok(true);
  const bool correct = said == task.answer();
  score.set_correct(correct);
  score.set_reward(correct ? 1.0 : 0.0);
  if (correct) {
    score.set_reason("correct");
  } else if (said.size() != task.answer().size()) {
    score.set_reason("the output has " + std::to_string(said.size()) + " letters, the query " +
                     std::to_string(task.answer().size()));
  } else {
    size_t i = 0;
    while (said[i] == task.answer()[i]) ++i;
    score.set_reason("wrong letter at position " + std::to_string(i + 1));
  }
  return score;
}

}  // namespace

namespace verifiers {
const Verifier& string_rules() {
  static const StringRulesVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
