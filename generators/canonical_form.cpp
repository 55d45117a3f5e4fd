// Canonical keys up to renaming and reordering: colour refinement (each symbol's colour is the
// multiset of the statements it occurs in, seen from it, iterated) orders the symbols; symbols it
// cannot tell apart are tried in every order and the smallest rendering wins.
#include "generators/canonical_form.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>

#include "tasks/rng.h"

namespace verity::canonical {
namespace {

// A statement: hashes of its literal text pieces and its symbol references, in order.
struct Token {
  uint64_t text = 0;  // hash of a literal piece, when symbol < 0
  int symbol = -1;
};

struct Question {
  std::vector<std::vector<Token>> statements;
  std::vector<std::pair<char, unsigned char>> symbols;  // (sort, number) per dense symbol id
};

Question parse(const std::vector<std::string>& statements) {
  Question q;
  q.statements.reserve(statements.size());
  for (const auto& text : statements) {
    auto& tokens = q.statements.emplace_back();
    size_t literal = 0;  // start of the pending literal piece
    auto flush = [&](size_t end) {
      if (end > literal) tokens.push_back({fnv1a64(std::string_view(text).substr(literal, end - literal)), -1});
    };
    for (size_t i = 0; i < text.size();) {
      if (text[i] != kSymbol || i + 2 >= text.size()) {
        ++i;
        continue;
      }
      flush(i);
      const std::pair<char, unsigned char> name(text[i + 1], static_cast<unsigned char>(text[i + 2]));
      auto at = std::find(q.symbols.begin(), q.symbols.end(), name);
      if (at == q.symbols.end()) at = q.symbols.insert(at, name);
      tokens.push_back({0, static_cast<int>(at - q.symbols.begin())});
      i += 3;
      literal = i;
    }
    flush(text.size());
  }
  return q;
}

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL + (v >> 29); }
uint64_t finish(uint64_t h) { return mix_seed({h}); }

// One refinement round: a symbol's new colour hashes its old one with the sorted list of its
// occurrences, each the hash of its statement (symbols written by colour) and its place in it. (The
// statement's hash is computed once, not once per symbol in it: key() is on generation's hot path.)
std::vector<uint64_t> refine(const Question& q, const std::vector<uint64_t>& colour) {
  std::vector<std::vector<uint64_t>> seen(colour.size());
  for (const auto& st : q.statements) {
    uint64_t h = kFnvOffset;
    for (const auto& t : st) h = mix(h, t.symbol < 0 ? t.text : colour[t.symbol]);
    h = finish(h);
    for (size_t k = 0; k < st.size(); ++k)
      if (st[k].symbol >= 0) seen[st[k].symbol].push_back(finish(mix(h, k)));
  }
  std::vector<uint64_t> next(colour.size());
  for (size_t s = 0; s < colour.size(); ++s) {
    std::sort(seen[s].begin(), seen[s].end());
    uint64_t h = mix(colour[s], seen[s].size());
    for (uint64_t v : seen[s]) h = mix(h, v);
    next[s] = finish(h);
  }
  return next;
}

size_t classes(std::vector<uint64_t> colour) {
  std::sort(colour.begin(), colour.end());
  return static_cast<size_t>(std::unique(colour.begin(), colour.end()) - colour.begin());
}

// The statements' hashes with symbol s written as its sort and name[s], sorted.
void render(const Question& q, const std::vector<uint64_t>& name, std::vector<uint64_t>& out) {
  out.clear();
  for (const auto& st : q.statements) {
    uint64_t h = kFnvOffset;
    for (const auto& t : st) h = t.symbol < 0 ? mix(h, t.text) : mix(mix(h, 0xb0b0), name[t.symbol]);
    out.push_back(finish(h));
  }
  std::sort(out.begin(), out.end());
}

std::string hex(const std::vector<uint64_t>& hashes) {
  uint64_t a = kFnvOffset, b = 0x9e3779b97f4a7c15ULL;
  for (uint64_t h : hashes) {
    a = finish(mix(a, h));
    b = mix_seed({b, h});
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return buf;
}

bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

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

std::string key(const std::vector<std::string>& statements) {
  const Question q = parse(statements);
  const size_t n = q.symbols.size();
  std::vector<uint64_t> colour(n);
  for (size_t s = 0; s < n; ++s) colour[s] = finish(static_cast<unsigned char>(q.symbols[s].first));
  for (size_t round = 0, count = classes(colour); round <= n; ++round) {
    auto next = refine(q, colour);
    const size_t next_count = classes(next);
    colour = std::move(next);
    if ((next_count == count && round > 0) || next_count == n) break;  // stable, or every symbol told apart
    count = next_count;
  }
  // Symbols in colour order; runs of equal colour are the ties to try in every order.
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return colour[a] < colour[b]; });
  std::vector<std::pair<size_t, size_t>> ties;  // [begin, end) in order
  long orderings = 1;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && colour[order[j]] == colour[order[i]]) ++j;
    for (size_t k = 2; k <= j - i && orderings <= kMaxOrderings; ++k) orderings *= static_cast<long>(k);
    if (j - i > 1) ties.emplace_back(i, j);
    i = j;
  }
  std::vector<uint64_t> name(n), best, now;
  if (orderings > kMaxOrderings) {  // too symmetric to try every order: the colours themselves
    render(q, colour, best);
    return "~" + hex(best);
  }
  for (auto& t : ties) std::sort(order.begin() + t.first, order.begin() + t.second);
  // Every combination of permutations of the tie runs (an odometer over std::next_permutation).
  for (bool first = true;; first = false) {
    for (size_t rank = 0; rank < n; ++rank)
      name[order[rank]] = (rank + 1) << 8 | static_cast<unsigned char>(q.symbols[order[rank]].first);
    render(q, name, now);
    if (first || now < best) best.swap(now);
    size_t t = 0;
    while (t < ties.size() && !std::next_permutation(order.begin() + ties[t].first, order.begin() + ties[t].second)) ++t;
    if (t == ties.size()) break;
  }
  return hex(best);
}

}  // namespace verity::canonical
