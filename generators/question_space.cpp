#include "generators/question_space.h"

#include <array>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>

#include "tasks/rng.h"

namespace verity::question_space {

uint64_t Space::size() const {
  uint64_t n = 0;
  for (const auto& list : questions) n += list.size();
  return n;
}

std::map<std::string, uint64_t> Space::counts() const {
  std::map<std::string, uint64_t> out;
  for (size_t slot = 0; slot < labels.size(); ++slot) out[labels[slot]] += questions[slot].size();
  return out;
}

uint64_t permute(uint64_t index, uint64_t m, uint64_t key) {
  if (m <= 1) return 0;
  int half = 1;  // bits per Feistel half: the domain 4^half is the smallest power of four >= m
  while (half < 32 && (uint64_t{1} << (2 * half)) < m) ++half;
  const uint64_t mask = (uint64_t{1} << half) - 1;
  uint64_t x = index;
  do {
    uint64_t left = x >> half, right = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = mix_seed({key, round, right}) & mask;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << half) | right;
  } while (x >= m);
  return x;
}

Pick pick(const Space& space, uint64_t key, uint64_t index) {
  const size_t labels = space.questions.size();
  if (labels == 0 || labels > kMaxLabels) throw std::logic_error("question_space::pick: 1 to 16 labels");
  const uint64_t round = index / labels;
  // This round's order of the labels: a seeded shuffle (no heap: one call per candidate task).
  std::array<size_t, kMaxLabels> order;
  std::iota(order.begin(), order.begin() + labels, size_t{0});
  Rng rng(mix_seed({key, round, 0x07de5}));
  for (size_t i = labels; i > 1; --i) std::swap(order[i - 1], order[rng.index(i)]);
  size_t slot = order[index % labels];
  for (size_t tries = 0; tries < labels && space.questions[slot].empty(); ++tries) slot = (slot + 1) % labels;
  const auto& list = space.questions[slot];
  if (list.empty()) throw std::logic_error("question_space::pick: an empty space");
  const uint64_t m = list.size();
  return {slot, list[permute(round % m, m, mix_seed({key, slot}))]};
}

namespace {
struct Entry {
  std::once_flag built;
  Space space;
};
}  // namespace

const Space& cached(uint64_t id, const std::function<Space()>& build) {
  // The last space this thread asked for: most calls (one per candidate) take no lock.
  thread_local uint64_t last_id = 0;
  thread_local const Space* last = nullptr;
  if (last && last_id == id) return *last;
  static std::mutex mutex;
  static std::map<uint64_t, std::unique_ptr<Entry>> entries;
  Entry* entry;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    auto& slot = entries[id];
    if (!slot) slot = std::make_unique<Entry>();
    entry = slot.get();
  }
  std::call_once(entry->built, [&] { entry->space = build(); });
  last_id = id;
  last = &entry->space;
  return *last;
}

}  // namespace verity::question_space
