#include "service/records.h"

#include <oneapi/tbb/parallel_for.h>

#include <stdexcept>

#include "tasks/json_reader.h"
#include "tasks/registry/registry.h"
#include "verifiers/label_verifier.h"

namespace verity {

std::string task_record_problem(const pb::Task& task) {
  if (task.family().empty()) return "the task record has no 'family'";
  const Family* family = nullptr;
  try {
    family = &find_family(task.family());
  } catch (const std::invalid_argument& e) {
    return std::string("the task record names an ") + e.what();
  }
  if (task.answer().empty()) return "the task record of family '" + task.family() + "' has no 'answer'";
  if (task.instance_case() == pb::Task::INSTANCE_NOT_SET && !dynamic_cast<const LabelVerifier*>(&family->verifier))
    return "the task record of family '" + task.family() +
           "' has no formal instance (this family is scored from the record's instance, not from the answer "
           "alone): pass the whole record as written by `verity generate` / `verity export`";
  return {};
}

std::string parse_task_record(std::string_view json, pb::Task& task) {
  if (const std::string problem = parse_json_message(json, task, /*ignore_unknown_fields=*/true); !problem.empty())
    return "not a Task record: " + problem;
  return task_record_problem(task);
}

ParsedRecords parse_task_records(const std::vector<std::string>& texts) {
  ParsedRecords out;
  out.tasks.resize(texts.size());
  out.errors.resize(texts.size());
  tbb::parallel_for(size_t{0}, texts.size(), [&](size_t k) { out.errors[k] = parse_task_record(texts[k], out.tasks[k]); });
  return out;
}

TaskRecordCache::Entry TaskRecordCache::get(const std::string& json, std::string& error) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = tasks_.find(json); it != tasks_.end()) return it->second;
  }
  auto task = std::make_shared<pb::Task>();
  error = parse_task_record(json, *task);
  if (!error.empty()) return nullptr;
  std::lock_guard lock(mutex_);
  if (tasks_.size() >= kMaxEntries || bytes_ + json.size() > kMaxBytes) {
    tasks_.clear();
    bytes_ = 0;
  }
  if (tasks_.emplace(json, task).second) bytes_ += json.size();
  return task;
}

}  // namespace verity
