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

#include "tasks/knobs.h"

namespace verity::question_space {

// The distinct questions of some knobs, per label slot (the family's label order), each encoded as
// the family likes in 64 bits.
struct Space {
  std::vector<std::string> labels;
  std::vector<std::vector<uint64_t>> questions;  // questions[slot]: that label's questions
  // Optional, per slot: each question's odds under the family's random path (any positive scale). A
  // slot with weights is taken in weighted_order (its commonest questions early, as the random path
  // would draw them) instead of a uniform permutation; a slot without takes the Feistel permutation.
  std::vector<std::vector<double>> weights;
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
// repeat, which the stream skips): the permutation is weighted_order (key mix_seed({key, slot})) when
// the slot has weights, else permute. A label without questions lends its turn to the next one.
Pick pick(const Space& space, uint64_t key, uint64_t index);

// A weighted shuffle of `questions` keyed by `key` (Efraimidis-Spirakis: question i comes before j when
// u_i^(1 / weights[i]) > u_j^(1 / weights[j]), u_i uniform from mix_seed({key, i})): a prefix short
// beside the list follows the weights' mix, as draws with replacement would, yet every question comes
// once (so as a prefix nears the whole list, its mix nears the list's own). O(m log m): a few ms for
// 100,000 questions.
std::vector<uint64_t> weighted_order(const std::vector<uint64_t>& questions, const std::vector<double>& weights,
                                     uint64_t key);
// weighted_order, built once per (list, key) and kept for the last few keys only (a long-lived process,
// e.g. the HTTP service, sees many seeds). `questions` must outlive the process (a cached Space's list):
// its address names it. Thread-safe; the reference holds until this thread has asked for 8 other orders.
const std::vector<uint64_t>& cached_weighted_order(const std::vector<uint64_t>& questions,
                                                   const std::vector<double>& weights, uint64_t key);

// The space of `id` (a family's code for its knobs), built by `build` once per process; thread-safe
// (concurrent callers wait for the first to finish building). Never freed.
const Space& cached(uint64_t id, const std::function<Space()>& build);

// fnv1a64(knobs.canonical()) (Knobs::hash, worked out once per Knobs): with the seed, the `key` of a
// family's stream.
uint64_t knobs_hash(const Knobs& knobs);

}  // namespace verity::question_space
