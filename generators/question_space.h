// Drawing without replacement from a small, enumerated question space. Where a family's knobs admit
// only a few thousand distinct questions (question_key: up to renaming and statement order), random
// drafts repeat each other long before the space is used up, and `verity generate` throws most of them
// away (coupon collection). A family that can list its distinct questions, grouped by label, instead
// lets candidate i of a dataset be question pick(space, key, i): consecutive candidates are distinct
// until a label's list is used up, and candidate i depends on (key, i) alone, so generation stays
// parallel and deterministic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace verity::question_space {

// The distinct questions of some knobs, per label slot (the family's label order), each encoded as
// the family likes in 64 bits.
struct Space {
  std::vector<std::string> labels;
  std::vector<std::vector<uint64_t>> questions;  // questions[slot]: that label's questions
  uint64_t size() const;
  // label -> number of distinct questions (Generator::question_counts).
  std::map<std::string, uint64_t> counts() const;
};

// A bijection of [0, m) chosen by `key`: a 4-round Feistel network on the smallest power of four
// >= m, cycle-walked (an image >= m is permuted again until it lands below m). O(1) per index.
uint64_t permute(uint64_t index, uint64_t m, uint64_t key);

struct Pick {
  size_t slot;        // the label slot
  uint64_t question;  // one of questions[slot]
};
constexpr size_t kMaxLabels = 16;
// Candidate `index` of the stream keyed by `key` (seed and knobs): labels in equal shares, each run
// of labels.size() consecutive candidates holding every label once (in a seeded order); round r gives
// a label its r-th question in a seeded permutation of its list, wrapping around past its end (a
// repeat, which the stream skips). A label without questions lends its turn to the next one.
Pick pick(const Space& space, uint64_t key, uint64_t index);

// The space of `id` (a family's code for its knobs), built by `build` once per process; thread-safe
// (concurrent callers wait for the first to finish building). Never freed.
const Space& cached(uint64_t id, const std::function<Space()>& build);

}  // namespace verity::question_space
