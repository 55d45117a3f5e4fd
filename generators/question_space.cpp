#include "generators/question_space.h"

#include <algorithm>
#include <array>
#include <cmath>
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
  if (slot < space.weights.size() && !space.weights[slot].empty())
    return {slot, cached_weighted_order(list, space.weights[slot], mix_seed({key, slot}))[round % m]};
  return {slot, list[permute(round % m, m, mix_seed({key, slot}))]};
}

std::vector<uint64_t> weighted_order(const std::vector<uint64_t>& questions, const std::vector<double>& weights,
                                     uint64_t key) {
  if (weights.size() != questions.size()) throw std::logic_error("question_space::weighted_order: one weight a question");
  std::vector<std::pair<double, uint64_t>> ranked(questions.size());
  for (size_t i = 0; i < questions.size(); ++i) {
    const double u = (static_cast<double>(mix_seed({key, i}) >> 11) + 0.5) * 0x1.0p-53;
    ranked[i] = {std::log(u) / weights[i], questions[i]};  // log of u^(1 / weight)
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<uint64_t> order;
  order.reserve(ranked.size());
  for (const auto& [rank, question] : ranked) order.push_back(question);
  return order;
}

const std::vector<uint64_t>& cached_weighted_order(const std::vector<uint64_t>& questions,
                                                   const std::vector<double>& weights, uint64_t key) {
  using Order = std::shared_ptr<const std::vector<uint64_t>>;
  const uint64_t id = mix_seed({key, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&questions))});
  // This thread's last few orders (a stream alternates between its labels' orders): no lock for most calls.
  constexpr size_t kLocal = 8;
  thread_local std::array<std::pair<uint64_t, Order>, kLocal> local;
  thread_local size_t next_local = 0;
  for (const auto& [local_id, order] : local)
    if (order && local_id == id) return *order;
  constexpr size_t kKept = 16;
  static std::mutex mutex;
  static std::vector<std::pair<uint64_t, Order>> recent;  // most recent last
  Order found;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [kept_id, order] : recent)
      if (kept_id == id) found = order;
  }
  if (!found) {  // two threads may both build it: the same order, one kept
    found = std::make_shared<const std::vector<uint64_t>>(weighted_order(questions, weights, key));
    const std::lock_guard<std::mutex> lock(mutex);
    recent.emplace_back(id, found);
    if (recent.size() > kKept) recent.erase(recent.begin());
  }
  local[next_local] = {id, found};
  next_local = (next_local + 1) % kLocal;
  return *found;
}

uint64_t knobs_hash(const Knobs& knobs) { return knobs.hash(); }

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
