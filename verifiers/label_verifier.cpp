#include "verifiers/label_verifier.h"

#include <algorithm>

#include "tasks/answer_extraction.h"

namespace verity {

size_t completion_cap(const pb::Task& task, size_t completion_size) {
  if (completion_size <= kMaxCompletionBytes) return kMaxCompletionBytes;  // fits any cap: no need to measure
  size_t gold = task.answer().size() + 32;
  for (const auto& step : task.trace()) gold += step.text().size() + 1;
  return std::clamp<size_t>(4 * gold, kMaxCompletionBytes, kMaxAdaptiveCompletionBytes);
}

std::optional<std::string> read_answer(const pb::Task& task, std::string_view completion, pb::Score& score) {
  Extraction extraction = extract_answer(completion, completion_cap(task, completion.size()));
  if (!extraction.found) {
    score.set_reason(extraction.reason);
    return std::nullopt;
  }
  score.set_extracted_answer(extraction.answer.substr(0, 256));
  return std::move(extraction.answer);
}

pb::Score score_for(const pb::Task& task) {
  pb::Score score;
  score.set_task_id(task.id());
  score.set_family(task.family());
  score.set_level(task.level());
  return score;
}

pb::Score verify_label(const pb::Task& task, std::string_view completion,
                       const std::vector<LabelSpelling>& labels) {
  pb::Score score = score_for(task);
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (!answer) return score;
  const std::string said = normalize_answer(*answer);
  for (const auto& label : labels) {
    for (const auto& spelling : label.accepted) {
      if (said != spelling) continue;
      score.set_format_ok(true);
      const bool correct = label.canonical == task.answer();
      score.set_correct(correct);
      score.set_reward(correct ? 1.0 : 0.0);
      score.set_reason(correct ? "correct" : "answered " + label.canonical + ", expected " + task.answer());
      return score;
    }
  }
  std::string options;
  for (const auto& label : labels) options += (options.empty() ? "" : ", ") + label.canonical;
  score.set_reason("answer is not one of: " + options);
  return score;
}

}  // namespace verity
