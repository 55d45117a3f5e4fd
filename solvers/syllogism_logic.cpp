#include "solvers/syllogism_logic.h"

#include <z3++.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "solvers/z3_bridge.h"
#include "tasks/concat.h"

namespace verity::syllogism {
namespace {

// "no member in both a and b" (universal) or "some member in both" (existential).
struct Pair {
  Term a, b;
};
constexpr size_t kMaxPairs = 64;

// The statements in normal form. False when there are more than kMaxPairs (the caller uses Z3).
struct Normalised {
  std::array<Pair, kMaxPairs> universal, existential;
  size_t universals = 0, existentials = 0;
  bool add(const Stmt& st, bool negated) {
    const bool is_universal = (st.q == Quant::All || st.q == Quant::No) != negated;
    const bool with_p = st.q == Quant::No || st.q == Quant::Some;  // the pair is (s, p), else (s, ~p)
    const Pair pair{st.s, with_p ? st.p : complement(st.p)};
    size_t& count = is_universal ? universals : existentials;
    if (count == kMaxPairs) return false;
    (is_universal ? universal : existential)[count++] = pair;
    return true;
  }
};

bool normalise(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n, Normalised& out) {
  for (const auto& st : premises)
    if (!out.add(st, false)) return false;
  if (!out.add(conclusion, true)) return false;
  if (import)
    for (int c = 0; c < n; ++c)
      if (!out.add({Quant::Some, {c, false}, {c, false}}, false)) return false;
  return true;
}

// Satisfiable in a non-empty domain: make every allowed region occupied; that meets every
// existential that can be met at all and breaks no universal.
bool satisfiable(const Normalised& s, int n) {
  const uint64_t words = static_cast<uint64_t>(region_words(n));
  uint64_t witnessed = 0;  // bit e: existential e has an allowed region
  bool any_allowed = false;
  for (uint64_t w = 0; w < words; ++w) {
    uint64_t allowed = w == 0 ? region_valid_mask(n) : ~0ull;
    for (size_t u = 0; u < s.universals; ++u)
      allowed &= ~(term_regions(s.universal[u].a, w) & term_regions(s.universal[u].b, w));
    if (!allowed) continue;
    any_allowed = true;
    for (size_t e = 0; e < s.existentials; ++e)
      if (allowed & term_regions(s.existential[e].a, w) & term_regions(s.existential[e].b, w)) witnessed |= uint64_t{1} << e;
  }
  const uint64_t all = s.existentials == 64 ? ~0ull : (uint64_t{1} << s.existentials) - 1;
  return any_allowed && witnessed == all;
}

// The vocabulary on a context: the sort of individuals, x, one predicate per category.
struct Vocabulary {
  explicit Vocabulary(z3::context& context) : ctx(context) {}
  z3::context& ctx;
  z3::sort individual = ctx.uninterpreted_sort("Individual");
  z3::expr x = ctx.constant("x", individual);

  z3::expr holds(Term t) {
    z3::expr e = ctx.function(concat("C", std::to_string(t.cat)).c_str(), individual, ctx.bool_sort())(x);
    return t.neg ? !e : e;
  }
};

}  // namespace

bool venn_entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n) {
  Normalised s;
  if (n < 1 || n > kMaxVennCategories || !normalise(premises, conclusion, import, n, s))
    throw std::invalid_argument("venn_entails: more categories or statements than the region sets hold");
  return !satisfiable(s, n);
}

bool entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n) {
  // One word of regions (at most 6 categories): the same decision as satisfiable() below, in two passes
  // over the statements (universals first, then every existential against the regions left) and no copy.
  if (n >= 1 && n <= 6 && premises.size() + 1 + (import ? n : 0) <= kMaxPairs) {
    auto pair = [](const Stmt& st, bool negated, bool& universal) {
      universal = (st.q == Quant::All || st.q == Quant::No) != negated;
      const bool with_p = st.q == Quant::No || st.q == Quant::Some;  // the pair is (s, p), else (s, ~p)
      return term_regions(st.s, 0) & term_regions(with_p ? st.p : complement(st.p), 0);
    };
    bool universal = false;
    uint64_t allowed = region_valid_mask(n);
    for (const auto& st : premises) {
      const uint64_t regions = pair(st, false, universal);
      if (universal) allowed &= ~regions;
    }
    const uint64_t negated_conclusion = pair(conclusion, true, universal);
    const bool conclusion_universal = universal;
    if (conclusion_universal) allowed &= ~negated_conclusion;
    if (allowed == 0) return true;
    if (!conclusion_universal && (negated_conclusion & allowed) == 0) return true;
    for (const auto& st : premises) {
      const uint64_t regions = pair(st, false, universal);
      if (!universal && (regions & allowed) == 0) return true;
    }
    for (int c = 0; import && c < n; ++c)
      if ((term_regions({c, false}, 0) & allowed) == 0) return true;
    return false;
  }
  Normalised s;
  if (n >= 1 && n <= kMaxVennCategories && normalise(premises, conclusion, import, n, s)) return !satisfiable(s, n);
  return z3_entails(premises, conclusion, import, n);
}

// Sort U of individuals, one predicate per category; premises and existential import asserted, the
// conclusion negated: unsat means the conclusion follows. Existential statements are Skolemised into
// named witnesses, and every universal statement is asserted both quantified and instantiated at each
// witness. That is the same first-order problem (the instances follow from the quantified forms), but
// it hands Z3's model-based quantifier instantiation a finite candidate universe at once.
bool z3_entails(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n) {
  const z3bridge::SolverScope scope(z3bridge::kGenerationRlimit);
  z3::solver& solver = scope.solver();
  Vocabulary z(scope.ctx());
  std::vector<z3::expr> universal, existential;  // bodies over z.x
  auto add = [&](const Stmt& st, bool negated) {
    const bool is_universal = (st.q == Quant::All || st.q == Quant::No) != negated;
    const bool with_p = st.q == Quant::No || st.q == Quant::Some;  // the pair is (s, p), else (s, ~p)
    const z3::expr both = z.holds(st.s) && (with_p ? z.holds(st.p) : !z.holds(st.p));
    // Universal: nothing is in the pair; existential: something is.
    if (is_universal) universal.push_back(!both); else existential.push_back(both);
  };
  for (const auto& st : premises) add(st, false);
  add(conclusion, true);
  if (import)
    for (int c = 0; c < n; ++c) existential.push_back(z.holds({c, false}));

  z3::expr_vector from(z.ctx), to(z.ctx);
  from.push_back(z.x);
  std::vector<z3::expr> witnesses;
  for (size_t k = 0; k < existential.size(); ++k) {
    witnesses.push_back(z.ctx.constant(concat("w", std::to_string(k)).c_str(), z.individual));
    to.push_back(witnesses.back());
    solver.add(existential[k].substitute(from, to));
    to.pop_back();
  }
  for (z3::expr& body : universal) {
    solver.add(z3::forall(z.x, body));
    for (const auto& w : witnesses) {
      to.push_back(w);
      solver.add(body.substitute(from, to));
      to.pop_back();
    }
  }
  const z3::check_result r = solver.check();
  if (r == z3::unknown) throw std::runtime_error("syllogism: Z3 gave up on an instance");
  return r == z3::unsat;
}

}  // namespace verity::syllogism
