// `verity generate`: writes a family's tasks (one shard of them) to a file with a manifest beside it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/dataset.h"
#include "tasks/knobs.h"

namespace verity {

struct GenerateRequest {
  std::string family;
  int level = 0;              // 0 = knobs only
  KnobMap knobs;              // overrides on top of the level ladder
  uint64_t seed = 0;
  uint64_t count = 0;         // tasks in the whole dataset
  uint64_t shard_index = 0;   // 0-based
  uint64_t shard_count = 1;
  int threads = 0;            // 0 = all cores
  std::string output;         // file path; "-" = standard output (JSONL, no manifest)
  std::string recipe;         // name recorded in the manifest
  bool progress = false;      // progress bar on stderr
};

// Writes the shard's tasks to request.output (via a temporary file renamed at the end) and a
// manifest beside it (output + ".manifest.json"; none for "-", standard output). Returns the manifest.
pb::DatasetManifest generate_dataset(const GenerateRequest& request);

// Where the kept records go, in dataset order: runs of consecutive whole records, serialised (a JSON
// line each, or length-delimited binary). Called by one task at a time.
using RecordSink = std::function<void(std::string_view records)>;
// The keep/drop step of generate_dataset without the file: positions [begin, end) of the dataset of
// request.count tasks (request.family, level, knobs, seed; output, shard_* and progress unused) handed to
// `sink` in `format`. Returns their manifest (label_counts, content_hash, ...; no output). Throws
// std::invalid_argument, with generate_dataset's message, when the knobs hold fewer distinct balanced
// questions than `end`.
pb::DatasetManifest stream_dataset(const GenerateRequest& request, uint64_t begin, uint64_t end, FileFormat format,
                                   const RecordSink& sink);
// Positions [begin, end) of the dataset as JSON lines (no newline): exactly the lines `verity generate`
// writes there (for the Python module, which holds a dataset in memory).
std::vector<std::string> dataset_json_lines(const GenerateRequest& request, uint64_t begin, uint64_t end);
// The item range [begin, end) of a shard; the shards tile [0, count) in order.
std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count);

}  // namespace verity
