// Dataset generation (parallel, deterministic, sharded, atomic) and Task file reading/writing.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/family.h"

namespace verity {

inline constexpr const char* kVersion = "0.1.0";

enum class FileFormat { Jsonl, Binary };
// ".binpb" / ".pb" -> Binary, anything else -> Jsonl.
FileFormat format_for_path(const std::string& path);

// Task `index` of (family, knobs, seed): a pure function of those values.
pb::Task make_task(const Family& family, const Knobs& knobs, int level, uint64_t seed, uint64_t index);
std::string task_id(const std::string& family, const Knobs& knobs, uint64_t seed, uint64_t index);

struct GenerateRequest {
  std::string family;
  int level = 0;              // 0 = knobs only
  KnobMap knobs;              // overrides on top of the level ladder
  uint64_t seed = 0;
  uint64_t count = 0;         // tasks in the whole dataset
  uint64_t shard_index = 0;   // 0-based
  uint64_t shard_count = 1;
  int threads = 0;            // 0 = all cores
  std::string output;         // file path
  std::string recipe;         // name recorded in the manifest
  bool progress = false;      // progress bar on stderr
};

// Writes the shard's tasks to request.output (via a temporary file renamed at the end) and a
// manifest beside it (output + ".manifest.json"). Returns the manifest.
pb::DatasetManifest generate_dataset(const GenerateRequest& request);
// The item range [begin, end) of a shard; the shards tile [0, count) in order.
std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count);

// JSON of one task on one line (protobuf JSON mapping, field names as in the .proto).
std::string to_json_line(const google::protobuf::Message& message);

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads every task of a JSONL or binary file; throws FileError naming file and line.
std::vector<pb::Task> read_tasks(const std::string& path);

// Streams into path through a temporary file renamed at the end, so readers never see a half file;
// on any exception the temporary file is removed and the exception goes on.
void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);
// Writes `content` to path atomically (temporary file + rename).
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace verity
