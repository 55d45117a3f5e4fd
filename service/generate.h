// `verity generate`: writes a family's tasks (one shard of them) to a file with a manifest beside it.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

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
// The item range [begin, end) of a shard; the shards tile [0, count) in order.
std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count);

}  // namespace verity
