// Categorical statements (All / No / Some / Some-not over categories and their complements) and the
// decision of syllogism's labels: does a set of statements entail another, with or without existential
// import (every named category has members)?
//
// Two exact deciders. Venn regions (the fast path): a monadic model is fixed, for these statements, by
// which of the 2^n regions (region r: inside category c iff bit c of r) have members. A universal
// statement empties the regions of a pair of terms, an existential one needs a member in one of them,
// and the domain is not empty. So the premises with the negated conclusion are satisfiable iff the
// regions left allowed are not all empty and meet every existential: a few bit operations over 2^n
// bits. Z3 over a first-order encoding is the independent cross-check (tests) and the fallback beyond
// kMaxVennCategories.
#pragma once
#include <cstdint>
#include <vector>

namespace verity::syllogism {

enum class Quant { All, No, Some, SomeNot };

struct Term {
  int cat = 0;
  bool neg = false;  // the complement: "non-X"
};
struct Stmt {
  Quant q = Quant::All;
  Term s, p;
};

inline Term complement(Term t) { return {t.cat, !t.neg}; }

constexpr int kMaxVennCategories = 16;  // 65,536 regions, 8 KiB per region set

// Region sets as 64-bit words: bit r of word w is region 64 w + r. The words a set over n categories
// takes, the regions of word 0 that exist (fewer than 64 when n < 6), and the regions inside term t
// within word w.
inline int region_words(int n) { return n <= 6 ? 1 : 1 << (n - 6); }
inline uint64_t region_valid_mask(int n) { return n >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1u << n)) - 1; }
// Category c < 6 is a fixed pattern inside every word; category c >= 6 holds whole words (those whose
// index has bit c - 6 set).
inline uint64_t term_regions(Term t, uint64_t word) {
  constexpr uint64_t kInsideCategory[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                           0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
  const uint64_t inside = t.cat < 6 ? kInsideCategory[t.cat] : (((word >> (t.cat - 6)) & 1u) ? ~0ull : 0ull);
  return t.neg ? ~inside : inside;
}

// True when the premises (with existential import over categories 0..n-1 when `import`) entail the
// conclusion. Venn regions up to kMaxVennCategories categories, Z3 beyond.
bool entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n);
bool venn_entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n);
// Throws std::runtime_error when Z3 gives up (its generation budget is spent).
bool z3_entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n);

}  // namespace verity::syllogism
