// Scoring for families whose answer is one label from a fixed set (Yes/No, entailed/...).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity {

struct LabelSpelling {
  std::string canonical;              // as stored in Task.answer
  std::vector<std::string> accepted;  // normalised spellings that mean it (canonical included)
};

// Extracts the answer, maps it to a label and compares with task.answer().
// An answer naming no label is a format error (reward 0, format_ok false).
pb::Score verify_label(const pb::Task& task, std::string_view completion,
                       const std::vector<LabelSpelling>& labels);

// A Score with the task's identity filled in.
pb::Score score_for(const pb::Task& task);

}  // namespace verity
