// Task records: make_task (task i of a family, knobs and seed) and Task files (JSONL / binary protobuf,
// read with line-numbered errors, written atomically).
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/generator.h"

namespace verity {

inline constexpr const char* kVersion = "0.1.0";

enum class FileFormat { Jsonl, Binary };
// ".binpb" / ".pb" -> Binary, anything else -> Jsonl.
FileFormat format_for_path(const std::string& path);

// Task `index` of (family, knobs, seed): a pure function of those values.
pb::Task make_task(const Generator& generator, const Knobs& knobs, int level, uint64_t seed, uint64_t index);

// make_task for many indices of one (family, knobs, level, seed): the family and knob hashes that seed
// every task are computed once, and the Task is filled in place, so a caller that reuses one Task
// keeps its allocations (no heap churn per task in `verity generate`). The same tasks as make_task.
class TaskMaker {
 public:
  TaskMaker(const Generator& generator, const Knobs& knobs, int level, uint64_t seed);
  // Clears `task` and makes task `index` in it.
  void make(uint64_t index, pb::Task& task) const;

 private:
  const Generator& generator_;
  const Knobs& knobs_;
  int level_;
  uint64_t seed_;
  std::string name_;
  uint64_t name_hash_, knobs_hash_, seed_knobs_hash_;  // knobs_hash_ names the task, seed_knobs_hash_ seeds it
};
std::string task_id(const std::string& family, const Knobs& knobs, uint64_t seed, uint64_t index);

// JSON of one task on one line (protobuf JSON mapping, field names as in the .proto).
std::string to_json_line(const google::protobuf::Message& message);

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads every task of a JSONL or binary file ("-": JSONL on standard input); throws FileError naming
// file and line.
std::vector<pb::Task> read_tasks(const std::string& path);

// "-" as an output path means standard output (`verity generate ... -o - | ...`), as an input path
// standard input (`... | verity score --tasks - ...`), named kStandardInput in errors.
inline bool is_standard_output(const std::string& path) { return path == "-"; }
inline bool is_standard_input(const std::string& path) { return path == "-"; }
inline const std::string kStandardInput = "standard input";

// Streams into path through a temporary file (<path>.tmp.<pid>) renamed at the end, so readers never
// see a half file; on any exception the temporary file is removed and the exception goes on. Before
// writing, it removes <path>.tmp.<pid> files left by processes that no longer run (killed mid-write).
// Path "-" streams to standard output as written (a pipe has no name to rename); a failed write
// (closed pipe, full disk) throws FileError.
void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);
// Installs SIGTERM / SIGINT / SIGHUP handlers that remove the temporary files being written, then let
// the signal end the process as it would have. For programs (the CLI), not libraries; a signal that
// is ignored when this is called (SIGINT of a background job) stays ignored.
void remove_temporary_files_on_signals();
// Removes <path>.tmp.<pid> files whose process is gone; returns how many. Never throws.
size_t remove_stale_temporary_files(const std::string& path);
// Writes `content` to path atomically (temporary file + rename).
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace verity
