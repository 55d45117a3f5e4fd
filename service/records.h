// Task records that arrive as JSON text from clients (HTTP bodies, Python dicts, verl / TRL rows):
// parsed with unknown fields ignored (training frameworks add their own columns beside the record),
// each distinct text once. Used by `verity serve` and the Python module.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity {

// What makes a record unscorable, or "": no family, a family not registered, no gold answer, or no
// formal instance for a family whose verifier reads it (every family but the label-only ones, which
// are scored from the answer alone). Such a record is an error with this reason, never a zero score.
std::string task_record_problem(const pb::Task& task);

// Parses one record; returns "" or what is wrong ("not a Task record: ...", "the task record has no
// 'family'", task_record_problem's reasons), never throws.
std::string parse_task_record(std::string_view json, pb::Task& task);

// Distinct texts parsed once each, in parallel: tasks[k] / errors[k] belong to texts[k].
struct ParsedRecords {
  std::vector<pb::Task> tasks;
  std::vector<std::string> errors;  // "" when the record parsed
};
ParsedRecords parse_task_records(const std::vector<std::string>& texts);

// Parsed tasks by their JSON text. Parsing a record costs far more than scoring a label, and RL
// frameworks score the same task once per sampled completion (a GRPO group, verl's per-sample
// calls), so recently seen records are kept. Bounded: emptied when full. Thread-safe.
class TaskRecordCache {
 public:
  using Entry = std::shared_ptr<const pb::Task>;
  // The task, or null with `error` set.
  Entry get(const std::string& json, std::string& error);

 private:
  static constexpr size_t kMaxEntries = 8192;
  static constexpr size_t kMaxBytes = 16 << 20;  // of JSON text; the parsed records take about as much again
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> tasks_;
  size_t bytes_ = 0;
};

}  // namespace verity
