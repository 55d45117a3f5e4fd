// Canonical keys up to renaming and reordering: colour refinement (each symbol's colour is the
// multiset of the statements it occurs in, seen from it, iterated) orders the symbols; symbols it
// cannot tell apart are tried in every order and the smallest rendering wins. Every buffer is the
// calling thread's and is reused: key() allocates nothing but its result once warm.
#include "generators/canonical_form.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "tasks/concat.h"
#include "tasks/rng.h"

namespace verity::canonical {

void append_symbolized(std::string_view text, const std::vector<std::string>& names, char sort, std::string& out) {
  for (size_t i = 0; i < text.size();) {
    if (!identifier_char(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && identifier_char(text[j])) ++j;
    const std::string_view word = text.substr(i, j - i);
    const auto at = std::find(names.begin(), names.end(), word);
    if (at == names.end()) out += word;
    else append_symbol(out, static_cast<int>(at - names.begin()), sort);
    i = j;
  }
}

namespace {
size_t slot(uint64_t name) {
  uint64_t state = name;
  return static_cast<size_t>(splitmix64(state));
}
}  // namespace

void Question::clear() {
  tokens_.clear();
  starts_.clear();
  sorts_.clear();
  hints_.clear();
  lookup_.assign(lookup_.empty() ? 64 : lookup_.size(), {0, 0});
  has_pending_ = false;
}

void Question::flush() {
  if (has_pending_) tokens_.push_back({pending_, -1});
  has_pending_ = false;
}

void Question::statement() {
  flush();
  starts_.push_back(static_cast<uint32_t>(tokens_.size()));
}

void Question::text(std::string_view piece) {
  if (piece.empty()) return;
  pending_ = fnv1a64(piece, has_pending_ ? pending_ : kFnvOffset);
  has_pending_ = true;
}

int Question::id(int number, char sort) {
  if (lookup_.size() < 64 || 2 * (sorts_.size() + 1) > lookup_.size()) grow();
  const uint64_t name = (static_cast<uint64_t>(static_cast<unsigned char>(sort)) << 32 | static_cast<uint32_t>(number)) + 1;
  const size_t mask = lookup_.size() - 1;
  size_t at = slot(name) & mask;
  while (lookup_[at].first != 0 && lookup_[at].first != name) at = (at + 1) & mask;
  if (lookup_[at].first == 0) {
    lookup_[at] = {name, static_cast<int>(sorts_.size())};
    sorts_.push_back(sort);
    hints_.push_back(0);
  }
  return lookup_[at].second;
}

void Question::symbol(int number, char sort) {
  flush();
  tokens_.push_back({0, id(number, sort)});
}

void Question::hint(int number, char sort, uint64_t invariant) { hints_[static_cast<size_t>(id(number, sort))] = invariant; }

void Question::grow() {
  std::vector<std::pair<uint64_t, int>> old(std::max<size_t>(64, lookup_.size() * 2), {0, 0});
  old.swap(lookup_);
  const size_t mask = lookup_.size() - 1;
  for (const auto& entry : old) {
    if (entry.first == 0) continue;
    size_t at = slot(entry.first) & mask;
    while (lookup_[at].first != 0) at = (at + 1) & mask;
    lookup_[at] = entry;
  }
}

void Question::placeholder_text(std::string_view text) {
  size_t literal = 0;  // start of the pending literal piece
  for (size_t i = 0; i < text.size();) {
    if (text[i] != kSymbol || i + 2 >= text.size()) {
      ++i;
      continue;
    }
    this->text(text.substr(literal, i - literal));
    symbol(static_cast<unsigned char>(text[i + 2]), text[i + 1]);
    i += 3;
    literal = i;
  }
  this->text(text.substr(literal));
}

// Eight bytes a step (names can be long: "the number of apples at Hilltop Store").
size_t NameIndex::home(std::string_view name) const {
  uint64_t h = name.size() * 0x9e3779b97f4a7c15ULL;
  size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, name.data() + i, 8);
    h = (h ^ word) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  for (; i < name.size(); ++i) h = (h ^ static_cast<unsigned char>(name[i])) * 0x100000001b3ULL;
  h ^= h >> 29;
  return static_cast<size_t>(h * 0xc4ceb9fe1a85ec53ULL >> 20) & (table_.size() - 1);
}

void NameIndex::clear(size_t expected) {
  size_t size = 16;
  while (size < 2 * expected) size *= 2;
  table_.assign(size, {std::string_view(), kEmpty});
}

void NameIndex::add(std::string_view name, int number) {
  size_t at = home(name);
  while (table_[at].second != kEmpty) {
    if (table_[at].first == name) return;
    at = (at + 1) & (table_.size() - 1);
  }
  table_[at] = {name, number};
}

int NameIndex::find(std::string_view name) const {
  for (size_t at = home(name); table_[at].second != kEmpty; at = (at + 1) & (table_.size() - 1))
    if (table_[at].first == name) return table_[at].second;
  return -1;
}

namespace {

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL + (v >> 29); }
uint64_t finish(uint64_t h) { return mix_seed({h}); }

std::string hex(const std::vector<uint64_t>& hashes) {
  uint64_t a = kFnvOffset, b = 0x9e3779b97f4a7c15ULL;
  for (uint64_t h : hashes) {
    a = finish(mix(a, h));
    b = mix_seed({b, h});
  }
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = "0123456789abcdef"[(a >> (4 * i)) & 15];
    out[31 - i] = "0123456789abcdef"[(b >> (4 * i)) & 15];
  }
  return out;
}

}  // namespace

// The algorithm over one Question, with the calling thread's reused buffers.
class Canonizer {
 public:
  std::string key(const Question& q) {
    q_ = &q;
    ends_.clear();  // each statement's end: the next one's start, the last one's the tokens' end
    if (!q.starts_.empty()) {
      ends_.assign(q.starts_.begin() + 1, q.starts_.end());
      ends_.push_back(static_cast<uint32_t>(q.tokens_.size()));
    }
    const size_t n = q.sorts_.size();
    colour_.resize(n);
    for (size_t s = 0; s < n; ++s) colour_[s] = finish(static_cast<unsigned char>(q.sorts_[s]) ^ q.hints_[s]);
    for (size_t round = 0, count = classes(colour_); round <= n; ++round) {
      refine();
      const size_t next_count = classes(next_);
      colour_.swap(next_);
      if (next_count == count || next_count == n) break;  // stable (rounds only split), or every symbol told apart
      count = next_count;
    }
    // Symbols in colour order; runs of equal colour are the ties to try in every order.
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(), [&](int a, int b) { return colour_[a] < colour_[b]; });
    ties_.clear();  // [begin, end) in order_
    long orderings = 1;
    for (size_t i = 0; i < n;) {
      size_t j = i + 1;
      while (j < n && colour_[order_[j]] == colour_[order_[i]]) ++j;
      for (size_t k = 2; k <= j - i && orderings <= kMaxOrderings; ++k) orderings *= static_cast<long>(k);
      if (j - i > 1) ties_.emplace_back(i, j);
      i = j;
    }
    if (orderings > kMaxOrderings) {  // too symmetric to try every order: the colours themselves
      render(colour_, best_);
      return concat("~", hex(best_));
    }
    for (auto& t : ties_) std::sort(order_.begin() + t.first, order_.begin() + t.second);
    name_.resize(n);
    if (orderings > 2) drop_symmetric_ties();
    // Every combination of permutations of the tie runs (an odometer over std::next_permutation).
    for (bool first = true;; first = false) {
      for (size_t rank = 0; rank < n; ++rank)
        name_[order_[rank]] = (rank + 1) << 8 | static_cast<unsigned char>(q.sorts_[order_[rank]]);
      render(name_, now_);
      if (first || now_ < best_) best_.swap(now_);
      size_t t = 0;
      while (t < ties_.size() && !std::next_permutation(order_.begin() + ties_[t].first, order_.begin() + ties_[t].second)) ++t;
      if (t == ties_.size()) break;
    }
    return hex(best_);
  }

 private:
  // One refinement round into next_: a symbol's new colour hashes its old one with the multiset of its
  // occurrences, each the hash of its statement (symbols written by colour) and its place in it. The
  // multiset is hashed as two sums of independent hashes of its members: order-free, so no sorting.
  void refine() {
    const auto& tokens = q_->tokens_;
    sum_.assign(colour_.size(), {0, 0});
    for (size_t st = 0, begin = 0; st < ends_.size(); begin = ends_[st++]) {
      uint64_t h = kFnvOffset;
      for (size_t k = begin; k < ends_[st]; ++k)
        h = mix(h, tokens[k].symbol < 0 ? tokens[k].text : colour_[tokens[k].symbol]);
      h = finish(h);
      for (size_t k = begin; k < ends_[st]; ++k) {
        if (tokens[k].symbol < 0) continue;
        const uint64_t occurrence = mix(h, k - begin);
        auto& [a, b] = sum_[static_cast<size_t>(tokens[k].symbol)];
        a += finish(occurrence);
        b += finish(occurrence ^ 0x6a09e667f3bcc909ULL);
      }
    }
    next_.resize(colour_.size());
    for (size_t s = 0; s < colour_.size(); ++s) next_[s] = finish(mix(mix(colour_[s], sum_[s].first), sum_[s].second));
  }

  // Drops from ties_ each run whose every order renders the same: when swapping its first symbol with
  // each other one leaves the statements as they were (those swaps generate every permutation of the
  // run, all of them automorphisms), one order of it stands for all. Interchangeable symbols (two given
  // quantities of equal value in one sum) would otherwise cost k! renderings for the same result.
  void drop_symmetric_ties() {
    for (size_t rank = 0; rank < order_.size(); ++rank) name_[order_[rank]] = rank + 1;
    render(name_, best_);
    size_t kept = 0;
    for (const auto& t : ties_) {
      bool symmetric = true;
      for (size_t i = t.first + 1; i < t.second && symmetric; ++i) {
        std::swap(name_[order_[t.first]], name_[order_[i]]);
        render(name_, now_);
        symmetric = now_ == best_;
        std::swap(name_[order_[t.first]], name_[order_[i]]);
      }
      if (!symmetric) ties_[kept++] = t;
    }
    ties_.resize(kept);
  }

  // How many distinct colours: an open-addressing count (no sort; this runs once per round).
  size_t classes(const std::vector<uint64_t>& colour) {
    size_t size = 16;
    while (size < 2 * colour.size()) size *= 2;
    sorted_.assign(size, 0);
    size_t count = 0;
    bool zero = false;
    for (uint64_t c : colour) {
      if (c == 0) {
        count += !zero;
        zero = true;
        continue;
      }
      size_t at = static_cast<size_t>(c * 0x9e3779b97f4a7c15ULL >> 40) & (size - 1);
      while (sorted_[at] != 0 && sorted_[at] != c) at = (at + 1) & (size - 1);
      if (sorted_[at] == 0) sorted_[at] = c, ++count;
    }
    return count;
  }

  // The statements' hashes with symbol s written as its sort and name[s], sorted.
  void render(const std::vector<uint64_t>& name, std::vector<uint64_t>& out) const {
    const auto& tokens = q_->tokens_;
    out.clear();
    for (size_t st = 0, begin = 0; st < ends_.size(); begin = ends_[st++]) {
      uint64_t h = kFnvOffset;
      for (size_t k = begin; k < ends_[st]; ++k)
        h = tokens[k].symbol < 0 ? mix(h, tokens[k].text) : mix(mix(h, 0xb0b0), name[tokens[k].symbol]);
      out.push_back(finish(h));
    }
    std::sort(out.begin(), out.end());
  }

  const Question* q_ = nullptr;
  std::vector<uint32_t> ends_;
  std::vector<uint64_t> colour_, next_, sorted_, name_, best_, now_;  // sorted_: classes()' table
  std::vector<std::pair<uint64_t, uint64_t>> sum_;
  std::vector<int> order_;
  std::vector<std::pair<size_t, size_t>> ties_;
};

std::string Question::key() {
  flush();
  thread_local Canonizer canonizer;
  return canonizer.key(*this);
}

std::string key(const std::vector<std::string>& statements) {
  thread_local Question q;
  q.clear();
  for (const auto& text : statements) {
    q.statement();
    q.placeholder_text(text);
  }
  return q.key();
}

}  // namespace verity::canonical
