// Scoring for families whose answer is one label from a fixed set (Yes/No, entailed/...).
#pragma once
#include <optional>
#include <string_view>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/verifier.h"

namespace verity {

struct LabelSpelling {
  std::string canonical;              // as stored in Task.answer
  std::vector<std::string> accepted;  // normalised spellings that mean it (canonical included)
};

// Extracts the answer, maps it to a label and compares with task.answer().
// An answer naming no label is a format error (reward 0, format_ok false).
pb::Score verify_label(const pb::Task& task, std::string_view completion,
                       const std::vector<LabelSpelling>& labels);

// The Verifier of a family whose answer is one label, given the spellings it accepts.
class LabelVerifier final : public Verifier {
 public:
  explicit LabelVerifier(std::vector<LabelSpelling> labels) : labels_(std::move(labels)) {}
  pb::Score verify(const pb::Task& task, std::string_view completion) const override {
    return verify_label(task, completion, labels_);
  }

 private:
  std::vector<LabelSpelling> labels_;
};

// The longest completion scored for a task: max(64 KiB, 4 x its gold solution (trace + answer)),
// at most 4 MiB (kMaxAdaptiveCompletionBytes), so a completion as long as the gold trace always fits.
// Given the completion's size, one within 64 KiB gets 64 KiB at once (the gold is not measured).
size_t completion_cap(const pb::Task& task, size_t completion_size = SIZE_MAX);

// A Score with the task's identity filled in.
pb::Score score_for(const pb::Task& task);

// The completion's final answer (answer tags, boxed or an answer line; at most completion_cap(task)
// bytes read), its first 256 bytes recorded as score.extracted_answer; nullopt, with score.reason
// saying why, when there is none.
std::optional<std::string> read_answer(const pb::Task& task, std::string_view completion, pb::Score& score);

}  // namespace verity
