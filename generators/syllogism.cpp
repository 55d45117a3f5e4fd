// syllogism: categorical syllogisms (moods A/E/I/O, all four figures) and, at higher levels, chained
// sorites, negated terms ("non-X"), distractor premises and belief-bias conflicts with real category
// names. Question: does the conclusion follow? Yes/No, balanced. Validity is decided exactly by Venn-region
// enumeration (solvers/syllogism_logic.h; existential import = every named category is non-empty),
// cross-checked in the tests by Z3 over a monadic first-order encoding.
// Three terms with fictional names, no negated terms and at most 2 distractors (levels 1 and 2) hold few
// questions up to renaming: level 1 23,616 (Yes 11,808, No 11,808), level 2 17,712 (Yes 7,380, No 10,332;
// a balanced dataset at most 14,909). They are enumerated once per process (about 10 ms) and drawn
// without replacement (generators/question_space.h), each label in a shuffle weighted by the random
// path's odds; every other knob setting stays drawn at random.
#include "generators/generators.h"
#include "generators/syllogism.h"

#include "generators/canonical_form.h"
#include "generators/question_space.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

#include "solvers/syllogism_logic.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

using namespace std::string_view_literals;

class SyllogismGenerator final : public Generator {
 public:
  std::string name() const override { return "syllogism"; }
  std::string summary() const override {
    return "Categorical syllogisms and sorites (All/No/Some/Some-not); does the conclusion follow?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "Yes or No"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::map<std::string, uint64_t> question_counts(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

// ---------------------------------------------------------------------------------------------
// Abstract statements: categories are indices 0..n-1, a term is a category or its complement.

constexpr std::string_view kQuantNames[] = {"all", "no", "some", "some_not"};
constexpr char kMoodLetters[] = {'A', 'E', 'I', 'O'};

// ---------------------------------------------------------------------------------------------
// The label: solvers/syllogism_logic.h decides entailment exactly (Venn regions; Z3 in the tests).

using syllogism::complement;
using syllogism::entails;
using syllogism::Quant;
using syllogism::Stmt;
using syllogism::Term;

// Deletion-minimal set of premises (indices) that still entail the conclusion.
// Written into `kept`.
void minimal_core(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n, std::vector<int>& kept) {
  kept.resize(premises.size());
  for (size_t i = 0; i < premises.size(); ++i) kept[i] = static_cast<int>(i);
  if (n >= 1 && n <= 6 && premises.size() + 1 + static_cast<size_t>(n) <= 64) {
    // One word of regions: each statement's pair decided once, then entails(kept minus k) as in
    // syllogism::entails: refuted iff no region is left, or some existential (or, with import, some
    // category) has none of those left.
    std::array<uint64_t, 64> pair;
    uint64_t universals = 0;  // bit i: premise i is universal
    auto regions = [](const Stmt& st, bool negated, bool& universal) {
      universal = (st.q == Quant::All || st.q == Quant::No) != negated;
      const bool with_p = st.q == Quant::No || st.q == Quant::Some;
      return syllogism::term_regions(st.s, 0) & syllogism::term_regions(with_p ? st.p : complement(st.p), 0);
    };
    for (size_t i = 0; i < premises.size(); ++i) {
      bool universal = false;
      pair[i] = regions(premises[i], false, universal);
      if (universal) universals |= uint64_t{1} << i;
    }
    bool conclusion_universal = false;
    const uint64_t negated_conclusion = regions(conclusion, true, conclusion_universal);
    auto entailed_without = [&](size_t k) {
      uint64_t allowed = syllogism::region_valid_mask(n);
      if (conclusion_universal) allowed &= ~negated_conclusion;
      for (size_t j = 0; j < kept.size(); ++j)
        if (j != k && ((universals >> kept[j]) & 1u)) allowed &= ~pair[kept[j]];
      if (allowed == 0) return true;
      if (!conclusion_universal && (negated_conclusion & allowed) == 0) return true;
      for (size_t j = 0; j < kept.size(); ++j)
        if (j != k && !((universals >> kept[j]) & 1u) && (pair[kept[j]] & allowed) == 0) return true;
      for (int c = 0; import && c < n; ++c)
        if ((syllogism::term_regions({c, false}, 0) & allowed) == 0) return true;
      return false;
    };
    for (size_t k = 0; k < kept.size();) {
      if (entailed_without(k)) kept.erase(kept.begin() + static_cast<long>(k));
      else ++k;
    }
    return;
  }
  thread_local std::vector<Stmt> rest;  // reused: one vector per thread, not one per premise dropped
  for (size_t k = 0; k < kept.size();) {
    rest.clear();
    for (size_t j = 0; j < kept.size(); ++j)
      if (j != k) rest.push_back(premises[kept[j]]);
    if (entails(rest, conclusion, import, n)) {
      kept.erase(kept.begin() + static_cast<long>(k));
    } else {
      ++k;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Venn regions: region r (bit c = inside category c) is occupied or empty. Used only for the
// countermodel shown in the trace of a No task.

// A small canonical countermodel: every region not ruled out by a universal statement, then pruned
// greedily (in region order) while every existential statement keeps a witness. nullopt = none exists.
// Region sets are words of 64 regions (syllogism::term_regions): only the regions that witness some
// existential are visited one by one (any other is dropped by the pruning without changing a count).
// Written into `kept` (cleared); false when none exists.
bool countermodel(const std::vector<Stmt>& premises, const Stmt& conclusion, bool import, int n,
                  std::vector<uint32_t>& kept) {
  kept.clear();
  if (n <= 6 && premises.size() + 1 + static_cast<size_t>(n) <= 64) {
    // One word of regions: the same pruning over fixed arrays (the witnessed pairs' order does not
    // change which regions are kept: a region is kept iff some pair it witnesses has no other left).
    uint64_t occupied = syllogism::region_valid_mask(n);
    std::array<uint64_t, 64> in_pair;  // per existential: its pair's regions, then only the occupied ones
    std::array<int, 64> witnesses;
    size_t pairs = 0;
    auto add = [&](const Stmt& st, bool negated) {
      const bool universal = (st.q == Quant::All || st.q == Quant::No) != negated;
      const bool with_p = (st.q == Quant::No || st.q == Quant::Some);
      const uint64_t both = syllogism::term_regions(st.s, 0) & syllogism::term_regions(with_p ? st.p : complement(st.p), 0);
      if (universal) occupied &= ~both;
      else in_pair[pairs++] = both;
    };
    for (const auto& st : premises) add(st, false);
    add(conclusion, true);
    if (import)
      for (int c = 0; c < n; ++c) in_pair[pairs++] = syllogism::term_regions({c, false}, 0);
    uint64_t candidates = 0, needed = 0;  // needed: the regions of pairs with one witness left
    for (size_t k = 0; k < pairs; ++k) {
      in_pair[k] &= occupied;
      witnesses[k] = std::popcount(in_pair[k]);
      if (witnesses[k] == 0) return false;
      if (witnesses[k] == 1) needed |= in_pair[k];
      candidates |= in_pair[k];
    }
    for (uint64_t rest = candidates; rest; rest &= rest - 1) {
      const int bit = std::countr_zero(rest);
      if ((needed >> bit) & 1u) {
        kept.push_back(static_cast<uint32_t>(bit));
        continue;
      }
      // Dropped: every pair holding it has another witness left (so none reaches 0).
      for (size_t k = 0; k < pairs; ++k)
        if (((in_pair[k] >> bit) & 1u) && --witnesses[k] == 1) needed |= in_pair[k];
    }
    return true;
  }
  // Scratch reused per thread (one call per No task): no allocation once grown.
  thread_local std::vector<std::pair<Term, Term>> empty, witnessed;  // "no region in a and b" / "some region in a and b"
  empty.clear(), witnessed.clear();
  auto add = [&](const Stmt& st, bool negated) {
    const bool universal = (st.q == Quant::All || st.q == Quant::No) != negated;
    const bool with_p = (st.q == Quant::No || st.q == Quant::Some);  // the pair is (s, p) vs (s, ~p)
    (universal ? empty : witnessed).push_back({st.s, with_p ? st.p : complement(st.p)});
  };
  for (const auto& st : premises) add(st, false);
  add(conclusion, true);
  if (import)
    for (int c = 0; c < n; ++c) witnessed.push_back({{c, false}, {c, false}});

  using syllogism::term_regions;
  const int words = syllogism::region_words(n);
  thread_local std::vector<uint64_t> witness_regions, candidates;
  thread_local std::vector<int> witnesses;
  witness_regions.assign(witnessed.size() * words, 0);  // existential k's occupied regions at k * words
  witnesses.assign(witnessed.size(), 0);
  candidates.assign(words, 0);  // occupied regions in some existential's pair
  for (int w = 0; w < words; ++w) {
    uint64_t occupied = w == 0 ? syllogism::region_valid_mask(n) : ~uint64_t{0};
    for (const auto& [a, b] : empty) occupied &= ~(term_regions(a, w) & term_regions(b, w));
    for (size_t k = 0; k < witnessed.size(); ++k) {
      const uint64_t in_pair = occupied & term_regions(witnessed[k].first, w) & term_regions(witnessed[k].second, w);
      witness_regions[k * words + w] = in_pair;
      witnesses[k] += std::popcount(in_pair);
      candidates[w] |= in_pair;
    }
  }
  for (int count : witnesses)
    if (count == 0) return false;
  for (int w = 0; w < words; ++w) {
    for (uint64_t rest = candidates[w]; rest; rest &= rest - 1) {
      const int bit = std::countr_zero(rest);
      const auto in_pair = [&](size_t k) { return (witness_regions[k * words + w] >> bit) & 1u; };
      bool needed = false;
      for (size_t k = 0; k < witnessed.size() && !needed; ++k) needed = in_pair(k) && witnesses[k] == 1;
      if (needed) {
        kept.push_back(static_cast<uint32_t>(64 * w + bit));
        continue;
      }
      for (size_t k = 0; k < witnessed.size(); ++k) witnesses[k] -= static_cast<int>(in_pair(k));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Two-premise syllogisms: 4 figures x 4^3 moods = 256 forms over S=0, M=1, P=2.

constexpr int kS = 0, kM = 1, kP = 2;

struct Form {
  int figure = 1;
  Quant major = Quant::All, minor = Quant::All, conclusion = Quant::All;
  std::string code() const {
    return std::to_string(figure) + "-" + kMoodLetters[static_cast<int>(major)] + kMoodLetters[static_cast<int>(minor)] +
           kMoodLetters[static_cast<int>(conclusion)];
  }
};

Form form_of(int index) {
  return {index / 64 + 1, static_cast<Quant>((index / 16) % 4), static_cast<Quant>((index / 4) % 4),
          static_cast<Quant>(index % 4)};
}

// form_of(index).code() ("1-AAA" ...) without building a string.
std::string_view form_code(int index) {
  static constexpr auto kCodes = [] {
    std::array<std::array<char, 5>, 256> out{};
    for (int i = 0; i < 256; ++i)
      out[i] = {static_cast<char>('1' + i / 64), '-', kMoodLetters[(i / 16) % 4], kMoodLetters[(i / 4) % 4], kMoodLetters[i % 4]};
    return out;
  }();
  return {kCodes[index].data(), 5};
}

// Major premise relates M and P, minor relates S and M; the figure fixes which term is the subject.
void build_form(const Form& f, std::vector<Stmt>& premises, Stmt& conclusion) {
  const bool middle_first_in_major = f.figure == 1 || f.figure == 3;
  const bool middle_first_in_minor = f.figure == 3 || f.figure == 4;
  premises = {{f.major, {middle_first_in_major ? kM : kP}, {middle_first_in_major ? kP : kM}},
              {f.minor, {middle_first_in_minor ? kM : kS}, {middle_first_in_minor ? kS : kM}}};
  conclusion = {f.conclusion, {kS}, {kP}};
}

// Validity of each of the 256 forms under one import setting, decided once per thread.
const std::array<bool, 256>& form_validity(bool import) {
  thread_local std::array<std::optional<std::array<bool, 256>>, 2> tables;
  auto& table = tables[import];
  if (!table) {
    table.emplace();
    for (int i = 0; i < 256; ++i) {
      std::vector<Stmt> premises;
      Stmt conclusion;
      build_form(form_of(i), premises, conclusion);
      (*table)[i] = entails(premises, conclusion, import, 3);
    }
  }
  return *table;
}

// The traditional names of the 24 valid forms (the 9 marked weakened need existential import).
std::string_view classical_name(std::string_view code) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kNames = {{
      {"1-AAA", "Barbara"},   {"1-EAE", "Celarent"},  {"1-AII", "Darii"},     {"1-EIO", "Ferio"},
      {"1-AAI", "Barbari"},   {"1-EAO", "Celaront"},  {"2-EAE", "Cesare"},    {"2-AEE", "Camestres"},
      {"2-EIO", "Festino"},   {"2-AOO", "Baroco"},    {"2-EAO", "Cesaro"},    {"2-AEO", "Camestros"},
      {"3-AAI", "Darapti"},   {"3-IAI", "Disamis"},   {"3-AII", "Datisi"},    {"3-EAO", "Felapton"},
      {"3-OAO", "Bocardo"},   {"3-EIO", "Ferison"},   {"4-AAI", "Bramantip"}, {"4-AEE", "Camenes"},
      {"4-IAI", "Dimaris"},   {"4-EAO", "Fesapo"},    {"4-EIO", "Fresison"},  {"4-AEO", "Camenos"}}};
  for (const auto& [c, name] : kNames)
    if (c == code) return name;
  return "";
}

// A form of the target validity whose moods say nothing about it: a valid form drawn uniformly, and
// for an invalid target an invalid form with the same conclusion and the same two premise moods (in
// either order, so only the figure and which premise says what decide). Drawing invalid forms
// uniformly instead let the conclusion's mood alone (universal: mostly invalid) or the number of
// negative statements guess the answer.
struct FormChoices {
  std::vector<int> valid;
  std::array<std::vector<int>, 256> invalid_alike;  // per valid form
};

const FormChoices& form_choices(bool import) {
  thread_local std::array<std::unique_ptr<FormChoices>, 2> tables;
  auto& table = tables[import];
  if (table) return *table;
  table = std::make_unique<FormChoices>();
  const auto& validity = form_validity(import);
  for (int v = 0; v < 256; ++v) {
    if (!validity[v]) continue;
    table->valid.push_back(v);
    const Form model = form_of(v);
    for (int i = 0; i < 256; ++i) {
      const Form f = form_of(i);
      const bool same_moods = (f.major == model.major && f.minor == model.minor) ||
                              (f.major == model.minor && f.minor == model.major);
      if (!validity[i] && f.conclusion == model.conclusion && same_moods) table->invalid_alike[v].push_back(i);
    }
    if (table->invalid_alike[v].empty()) throw std::logic_error("syllogism: a valid mood with no invalid arrangement");
  }
  return *table;
}

int draw_form(Rng& rng, bool target, bool import) {
  const FormChoices& choices = form_choices(import);
  const int drawn = rng.pick(choices.valid);
  return target ? drawn : rng.pick(choices.invalid_alike[drawn]);
}

// ---------------------------------------------------------------------------------------------
// Sorites: a chain T0 - T1 - ... - Tk with a conclusion about T0 and Tk.

Stmt maybe_convert(Rng& rng, Stmt st) {
  // No and Some are symmetric ("No A are B" = "No B are A"): state them either way round.
  if ((st.q == Quant::No || st.q == Quant::Some) && rng.chance(0.5)) std::swap(st.s, st.p);
  return st;
}

// A valid chain: All links, optionally Some at the start and No at the end; the conclusion is the
// strongest that follows (weakened to Some / Some-not now and then when import makes that valid).
void valid_chain(Rng& rng, int links, bool import, std::vector<Stmt>& premises, Stmt& conclusion) {
  const bool some_first = rng.chance(0.4), no_last = rng.chance(0.4);
  premises.clear();
  for (int i = 0; i < links; ++i) {
    Quant q = Quant::All;
    if (i == 0 && some_first) q = Quant::Some;
    if (i == links - 1 && no_last) q = Quant::No;
    premises.push_back({q, {i}, {i + 1}});
  }
  Quant q = some_first ? (no_last ? Quant::SomeNot : Quant::Some) : (no_last ? Quant::No : Quant::All);
  if (import && rng.chance(0.25)) q = q == Quant::All ? Quant::Some : q == Quant::No ? Quant::SomeNot : q;
  conclusion = {q, {0}, {links}};
}

// One plausible-looking mistake applied to a valid chain: an illicit conversion of a premise ("All A
// are B" as "All B are A", an undistributed middle), the converse conclusion, or two premises' quantifiers
// exchanged. None changes which quantifiers the premises and the conclusion use, so those say nothing
// about validity (mistakes that did, such as a premise weakened to "Some" or a flipped quality, let the
// number of particular premises guess the answer with accuracy 0.54). The decider confirms the result
// is invalid; the caller redraws when it is not.
void break_chain(Rng& rng, std::vector<Stmt>& premises, Stmt& conclusion) {
  Stmt& target = premises[rng.index(premises.size())];
  switch (rng.index(3)) {
    case 0: std::swap(target.s, target.p); break;
    case 1: std::swap(conclusion.s, conclusion.p); break;
    default: std::swap(target.q, premises[rng.index(premises.size())].q); break;
  }
}

// An equivalent statement with a complemented term (obversion, contraposition).
Stmt with_negated_term(Rng& rng, const Stmt& st) {
  switch (st.q) {
    case Quant::All:
      return rng.chance(0.5) ? Stmt{Quant::No, st.s, complement(st.p)} : Stmt{Quant::All, complement(st.p), complement(st.s)};
    case Quant::No: return {Quant::All, st.s, complement(st.p)};
    case Quant::Some: return {Quant::SomeNot, st.s, complement(st.p)};
    case Quant::SomeNot: return {Quant::Some, st.s, complement(st.p)};
  }
  return st;
}

// ---------------------------------------------------------------------------------------------
// Names. Real categories form a tree in which categories that are not nested are disjoint, so the
// real-world truth of any statement is decided on one individual per leaf plus one outside them all.

const std::vector<std::string> kFictional = {
    "wumpuses", "zorbs",   "blickets", "daxes",    "feps",     "glorps",   "tumpuses", "yumpuses",
    "vumpuses", "numpuses", "rompuses", "jompuses", "impuses",  "dumpuses", "lorpuses", "grimpuses",
    "sterpuses", "gorpuses", "shumpuses", "brimpuses", "lempuses", "zumpuses", "frobs",    "quibbles",
    "snarks",   "mimsies",  "borogoves", "toves",    "wugs",     "teebos",   "kebbles",  "plinths"};

struct RealCategory {
  const char* name;
  int parent;  // index into kReal, -1 for a root
};
const std::vector<RealCategory> kReal = {
    {"animals", -1},  {"mammals", 0},   {"birds", 0},    {"fish", 0},      {"insects", 0},   {"reptiles", 0},
    {"dogs", 1},      {"cats", 1},      {"whales", 1},   {"horses", 1},    {"poodles", 6},   {"beagles", 6},
    {"eagles", 2},    {"penguins", 2},  {"sparrows", 2}, {"sharks", 3},    {"salmon", 3},    {"ants", 4},
    {"bees", 4},      {"snakes", 5},    {"lizards", 5},  {"plants", -1},   {"trees", 21},    {"flowers", 21},
    {"oaks", 22},     {"pines", 22},    {"roses", 23},   {"tulips", 23},   {"vehicles", -1}, {"cars", 28},
    {"bicycles", 28}, {"boats", 28},    {"furniture", -1}, {"chairs", 32}, {"tables", 32}};

bool real_member(int leaf, int cat) {
  for (int c = leaf; c >= 0; c = kReal[c].parent)
    if (c == cat) return true;
  return false;
}

// Real-world truth of a statement whose categories are named by kReal indices.
bool real_truth(const Stmt& st, const std::vector<int>& real_of) {
  auto in = [&](int leaf, Term t) { return (leaf >= 0 && real_member(leaf, real_of[t.cat])) != t.neg; };
  bool any_sp = false, any_s_not_p = false;
  std::vector<int> individuals = {-1};  // -1: something outside every category
  for (int i = 0; i < static_cast<int>(kReal.size()); ++i) {
    bool leaf = true;
    for (const auto& c : kReal) leaf = leaf && c.parent != i;
    if (leaf) individuals.push_back(i);
  }
  for (int ind : individuals) {
    if (!in(ind, st.s)) continue;
    (in(ind, st.p) ? any_sp : any_s_not_p) = true;
  }
  switch (st.q) {
    case Quant::All: return !any_s_not_p;
    case Quant::No: return !any_sp;
    case Quant::Some: return any_sp;
    case Quant::SomeNot: return any_s_not_p;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

struct Draft {
  std::vector<Stmt> premises;  // prompt order
  Stmt conclusion;
  int categories = 0;
  int distractors = 0;
  std::string_view form = "sorites";  // form_code() or "sorites"
  int form_index = -1;  // two-premise forms: index into form_validity()
  bool valid = false;
  void reset() {  // a fresh draft, premises' capacity kept
    premises.clear();
    conclusion = {};
    categories = distractors = 0;
    form = "sorites";
    form_index = -1;
    valid = false;
  }
};

// Core premises + conclusion with the target validity.
bool draft_core(Rng& rng, int terms, bool target, bool import, Draft& d) {
  d.premises.clear();
  if (terms == 3) {
    d.form_index = draw_form(rng, target, import);
    const Form f = form_of(d.form_index);
    build_form(f, d.premises, d.conclusion);
    d.form = form_code(d.form_index);
  } else {
    valid_chain(rng, terms - 1, import, d.premises, d.conclusion);
    // Mistakes are tried on this chain until one breaks it: redrawing the chain instead would favour
    // chains that break easily (their conclusions' quantifiers would then hint at invalidity).
    thread_local std::vector<Stmt> chain;  // reused: no allocation per draft once grown
    chain = d.premises;
    const Stmt valid_conclusion = d.conclusion;
    for (int mistake = 0; !target && mistake < 16; ++mistake) {
      d.premises = chain;
      d.conclusion = valid_conclusion;
      break_chain(rng, d.premises, d.conclusion);
      if (!entails(d.premises, d.conclusion, import, terms)) break;
    }
    for (auto& st : d.premises) st = maybe_convert(rng, st);
    d.conclusion = maybe_convert(rng, d.conclusion);
    d.form = "sorites";
    d.form_index = -1;
  }
  d.categories = terms;
  d.valid = entails(d.premises, d.conclusion, import, terms);
  return d.valid == target;
}

// Distractor premises each bring a fresh category linked to an earlier one; a set that changes
// the label (e.g. "Some X are S" supplying the existence an argument lacked) is redrawn.
bool add_distractors(Rng& rng, int count, bool import, Draft& d) {
  const int base = d.categories;
  thread_local std::vector<Stmt> all;  // the premises then the distractors; reused per draft
  all = d.premises;
  for (int i = 0; i < count; ++i) {
    const int fresh = base + i;
    Stmt st{static_cast<Quant>(rng.index(4)), {fresh}, {static_cast<int>(rng.index(base + i))}};
    if (rng.chance(0.5)) std::swap(st.s, st.p);
    all.push_back(st);
  }
  if (entails(all, d.conclusion, import, base + count) != d.valid) return false;
  d.premises.swap(all);
  d.categories = base + count;
  d.distractors = count;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The enumerated question space: three terms, fictional names, no negated terms, at most two
// distractors (levels 1 and 2). Such knobs hold few questions (up to renaming and premise order), so
// random drafts repeat each other long before a dataset is complete; instead every distinct question
// is listed once per process, with both labels, and drawn without replacement (generators/
// question_space.h) in a shuffle weighted by its odds under the random path (so a dataset of any size
// has the random path's mix of forms and distractors).

constexpr int kMaxEnumeratedDistractors = 2;

// Distractor i (category 3 + i) as add_distractors draws it: `choice` in [0, 8 (3 + i)) is the
// quantifier, the earlier category and whether the fresh one is the predicate.
Stmt distractor_of(int i, int choice) {
  const int earlier_categories = 3 + i;
  Stmt st{static_cast<Quant>(choice % 4), {3 + i}, {(choice / 4) % earlier_categories}};
  if (choice / (4 * earlier_categories)) std::swap(st.s, st.p);
  return st;
}
int distractor_choices(int i) { return 8 * (3 + i); }

// A question of the space: the form's index (8 bits), then each distractor's choice (5 bits).
uint64_t question_code(int form, const std::array<int, kMaxEnumeratedDistractors>& choice, int distractors) {
  uint64_t code = static_cast<uint64_t>(form);
  for (int i = 0; i < distractors; ++i) code |= static_cast<uint64_t>(choice[i]) << (8 + 5 * i);
  return code;
}

void decode_question(uint64_t code, int distractors, std::vector<Stmt>& premises, Stmt& conclusion) {
  build_form(form_of(static_cast<int>(code & 0xff)), premises, conclusion);
  for (int i = 0; i < distractors; ++i) premises.push_back(distractor_of(i, static_cast<int>((code >> (8 + 5 * i)) & 31)));
}

// The question (premises as a multiset, conclusion) up to renaming its categories, as one number (what
// question_key tells apart at these knobs): the conclusion's subject and predicate are named 0 and 1,
// the other categories (at most 3) 2, 3, 4 in the order of an invariant of the statements they occur
// in, and the least code over the orders that the invariant cannot tell apart wins. A statement is 8
// bits (quantifier, subject, predicate) + 1; premises sorted, after the conclusion's quantifier.
// At most 4 premises over at most 5 categories.
constexpr std::array<uint64_t, 8> kOccurrenceSpread = [] {  // an occurrence (quantifier, place) spread over 64 bits
  std::array<uint64_t, 8> out{};
  for (uint64_t occurrence = 0; occurrence < 8; ++occurrence) {
    const uint64_t h = (occurrence + 1) * 0x9e3779b97f4a7c15ULL;
    out[occurrence] = h ^ (h >> 29);
  }
  return out;
}();

// Count and N are int, or std::integral_constant where the caller knows them (the enumeration: loops
// unrolled).
template <typename Count, typename N>
uint64_t canonical_code_of(const Stmt* premises, Count count, const Stmt& conclusion, N n) {
  std::array<uint64_t, 5> invariant{};
  for (int i = 0; i < count; ++i) {
    const int q = static_cast<int>(premises[i].q) * 2;
    invariant[premises[i].s.cat] += kOccurrenceSpread[q];
    invariant[premises[i].p.cat] += kOccurrenceSpread[q + 1];
  }
  std::array<int, 5> others{};
  int k = 0;
  for (int c = 0; c < n; ++c)
    if (c != conclusion.s.cat && c != conclusion.p.cat) others[k++] = c;
  std::array<int, 5> name{};
  name[conclusion.s.cat] = 0, name[conclusion.p.cat] = 1;
  const uint64_t head = static_cast<uint64_t>(conclusion.q);
  auto code_of_names = [&] {
    std::array<uint64_t, 4> codes;
    for (int i = 0; i < count; ++i)
      codes[i] = (static_cast<uint64_t>(premises[i].q) << 6 | static_cast<uint64_t>(name[premises[i].s.cat]) << 3 |
                  static_cast<uint64_t>(name[premises[i].p.cat])) + 1;
    for (int i = 1; i < count; ++i)
      for (int j = i; j > 0 && codes[j] < codes[j - 1]; --j) std::swap(codes[j], codes[j - 1]);
    uint64_t code = head;
    for (int i = 0; i < count; ++i) code = code << 9 | codes[i];
    return code;
  };
  // The others in invariant order (ties by id): when no two invariants tie, that is the only order
  // the invariant allows.
  std::array<int, 5> sorted = others;
  bool tie = false;
  for (int i = 1; i < k; ++i)
    for (int j = i; j > 0 && invariant[sorted[j]] < invariant[sorted[j - 1]]; --j) std::swap(sorted[j], sorted[j - 1]);
  for (int i = 1; i < k && !tie; ++i) tie = invariant[sorted[i - 1]] == invariant[sorted[i]];
  if (!tie) {
    for (int i = 0; i < k; ++i) name[sorted[i]] = 2 + i;
    return code_of_names();
  }
  uint64_t best = ~uint64_t{0};
  do {  // every order of the others (ascending ids first), those out of invariant order skipped
    bool ordered = true;
    for (int i = 1; i < k && ordered; ++i) ordered = invariant[others[i - 1]] <= invariant[others[i]];
    if (!ordered) continue;
    for (int i = 0; i < k; ++i) name[others[i]] = 2 + i;
    best = std::min(best, code_of_names());
  } while (std::next_permutation(others.begin(), others.begin() + k));
  return best;
}

uint64_t canonical_code(const Stmt* premises, int count, const Stmt& conclusion, int n) {
  return canonical_code_of(premises, count, conclusion, n);
}

// Every distinct question with `distractors` distractors, both labels, each with its odds under the
// random path: a Yes form uniform over the valid forms; a No form a valid one, then one of its
// invalid_alike forms; each distractor uniform over its choices; a draft whose distractors change the
// label is redrawn whole, so an accepted (form, distractors) has odds proportional to the product
// (per label). A question reached several ways sums them; the first way found represents it.
question_space::Space enumerate_questions(int distractors, bool import) {
  if (distractors < 0 || distractors > kMaxEnumeratedDistractors)
    throw std::logic_error("syllogism: at most 2 distractors are enumerated");
  const FormChoices& choices = form_choices(import);
  const auto& validity = form_validity(import);
  std::array<double, 256> form_odds{};
  const double per_valid = 1.0 / static_cast<double>(choices.valid.size());
  for (int v : choices.valid) {
    form_odds[v] += per_valid;
    for (int f : choices.invalid_alike[v])
      form_odds[f] += per_valid / static_cast<double>(choices.invalid_alike[v].size());
  }
  int combos = 1;
  for (int i = 0; i < distractors; ++i) combos *= distractor_choices(i);
  const double per_combo = 1.0 / combos;
  const int n = 3 + distractors;

  // The Venn decision (as syllogism::entails) split into the form's part and the distractors' part,
  // each decided once: the regions universals empty, and the regions each existential needs one of.
  struct Part {
    uint64_t cleared = 0;
    std::array<uint64_t, 3> existential{};
    int existentials = 0;
    void add(const Stmt& st, bool negated) {
      const bool universal = (st.q == Quant::All || st.q == Quant::No) != negated;
      const bool with_p = st.q == Quant::No || st.q == Quant::Some;
      const uint64_t pair = syllogism::term_regions(st.s, 0) & syllogism::term_regions(with_p ? st.p : complement(st.p), 0);
      if (universal) cleared |= pair;
      else existential[existentials++] = pair;
    }
  };
  struct Combo {
    Part part;
    std::array<Stmt, kMaxEnumeratedDistractors> premises;
    std::array<int, kMaxEnumeratedDistractors> choice{};
  };
  std::vector<Combo> combo_of(static_cast<size_t>(combos));
  for (int combo = 0; combo < combos; ++combo) {
    Combo& c = combo_of[combo];
    for (int i = 0, rest = combo; i < distractors; ++i) {
      c.choice[i] = rest % distractor_choices(i);
      rest /= distractor_choices(i);
      c.premises[i] = distractor_of(i, c.choice[i]);
      c.part.add(c.premises[i], false);
    }
  }
  std::array<uint64_t, 5> category_regions{};
  for (int c = 0; c < n; ++c) category_regions[c] = syllogism::term_regions({c, false}, 0);
  const uint64_t valid_regions = syllogism::region_valid_mask(n);

  // Each form's questions are worked out in parallel (canonical codes are most of the listing, which
  // runs before any task and so bounded the thread speed-up of a whole run), inside the caller's arena
  // (`verity generate --threads`), then merged in form order: the odds are summed in the same order,
  // and the same list comes out, for any thread count.
  struct Visit {
    uint64_t canonical;
    uint32_t code;
  };
  std::vector<std::vector<Visit>> visits(256);
  // Isolated: while it waits for its chunks, this thread must not take up other tasks of the caller's
  // loop, one of which could ask for this very list and wait on the once-flag this thread holds.
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(0, 256, [&](int form) {
      if (form_odds[form] == 0) return;
      std::array<Stmt, 2 + kMaxEnumeratedDistractors> premises;
      Stmt conclusion;
      std::vector<Stmt> form_premises;
      build_form(form_of(form), form_premises, conclusion);
      premises[0] = form_premises[0], premises[1] = form_premises[1];
      Part form_part;
      form_part.add(premises[0], false), form_part.add(premises[1], false), form_part.add(conclusion, true);
      const bool valid = validity[form];
      visits[form].reserve(static_cast<size_t>(combos));
      for (int combo = 0; combo < combos; ++combo) {
        const Combo& c = combo_of[combo];
        for (int i = 0; i < distractors; ++i) premises[2 + i] = c.premises[i];
        if (distractors > 0) {  // entails(premises, conclusion) != valid: the draft is redrawn
          const uint64_t allowed = valid_regions & ~form_part.cleared & ~c.part.cleared;
          bool satisfiable = allowed != 0;
          for (int k = 0; k < form_part.existentials && satisfiable; ++k) satisfiable = (form_part.existential[k] & allowed) != 0;
          for (int k = 0; k < c.part.existentials && satisfiable; ++k) satisfiable = (c.part.existential[k] & allowed) != 0;
          for (int k = 0; import && k < n && satisfiable; ++k) satisfiable = (category_regions[k] & allowed) != 0;
          if (satisfiable == valid) continue;
        }
        uint64_t canonical;  // canonical_code, its loops unrolled for each count
        switch (distractors) {
          case 0: canonical = canonical_code_of(premises.data(), std::integral_constant<int, 2>{}, conclusion, std::integral_constant<int, 3>{}); break;
          case 1: canonical = canonical_code_of(premises.data(), std::integral_constant<int, 3>{}, conclusion, std::integral_constant<int, 4>{}); break;
          default: canonical = canonical_code_of(premises.data(), std::integral_constant<int, 4>{}, conclusion, std::integral_constant<int, 5>{}); break;
        }
        visits[form].push_back({canonical, static_cast<uint32_t>(question_code(form, c.choice, distractors))});
      }
    });
  });
  // Merged by canonical code: a stable radix sort, 13 bits a pass (three passes for 38 bits), that
  // reads the forms' lists in form order, so a question's visits stay in the order they were found.
  // (A hash table by code, sized for every combination, touched three times the memory: its fresh
  // pages cost more than the sort.)
  size_t total = 0;
  uint64_t largest = 0;
  for (const auto& list : visits) {
    total += list.size();
    for (const Visit& v : list) largest = std::max(largest, v.canonical);
  }
  constexpr int kRadixBits = 13;
  constexpr uint64_t kDigitMask = (uint64_t{1} << kRadixBits) - 1;
  std::vector<Visit> sorted(total), scratch(total);
  std::vector<uint32_t> starts(size_t{1} << kRadixBits);
  for (int shift = 0; shift < std::max(1, static_cast<int>(std::bit_width(largest))); shift += kRadixBits) {
    const auto digit = [&](const Visit& v) { return static_cast<size_t>((v.canonical >> shift) & kDigitMask); };
    std::fill(starts.begin(), starts.end(), 0u);
    const auto scatter = [&](const std::vector<Visit>& from) {
      for (const Visit& v : from) scratch[starts[digit(v)]++] = v;
    };
    if (shift == 0) {
      for (const auto& list : visits)
        for (const Visit& v : list) ++starts[digit(v)];
    } else {
      for (const Visit& v : sorted) ++starts[digit(v)];
    }
    uint32_t sum = 0;
    for (auto& start : starts) sum += std::exchange(start, sum);
    if (shift == 0) {
      for (const auto& list : visits) scatter(list);
    } else {
      scatter(sorted);
    }
    sorted.swap(scratch);
  }
  // A question reached several ways: the first way represents it, its odds summed in form order.
  question_space::Space space;
  space.labels = {"Yes", "No"};
  space.questions.resize(2);
  space.weights.resize(2);
  for (size_t i = 0; i < sorted.size();) {
    const Visit& first = sorted[i];
    const bool valid = validity[first.code & 0xff];
    double odds = 0;
    for (; i < sorted.size() && sorted[i].canonical == first.canonical; ++i) {
      if (validity[sorted[i].code & 0xff] != valid) throw std::logic_error("syllogism: one question enumerated with both labels");
      odds += form_odds[sorted[i].code & 0xff] * per_combo;
    }
    const size_t slot = valid ? 0 : 1;
    space.questions[slot].push_back(first.code);
    space.weights[slot].push_back(odds);
  }
  return space;
}

// The draft of enumerated question `code`, filed under label `target` (finish_task decides it again
// with syllogism::entails and throws if that disagrees).
void enumerated_draft(uint64_t code, int distractors, bool target, Draft& d) {
  decode_question(code, distractors, d.premises, d.conclusion);
  d.form_index = static_cast<int>(code & 0xff);
  d.form = form_code(d.form_index);
  d.categories = 3 + distractors;
  d.distractors = distractors;
  d.valid = target;
}


// The prompt and the trace are written straight into the task's strings (kept from task to task by
// the caller's scratch Task): no temporary strings per sentence.

void append_term(std::string& out, Term t, const std::vector<std::string>& names) {
  if (t.neg) out.append("non-", 4);
  out += names[t.cat];
}

// The English sentence of `st` in template `variant` (0..2), its first letter lower-cased if asked.
void append_sentence(std::string& out, const Stmt& st, const std::vector<std::string>& names, int variant,
                     bool lower_first = false) {
  struct Template {
    std::string_view before_s, before_p;  // "%s" and "%p" in that order; nothing after "%p"
  };
  static constexpr std::array<std::array<Template, 3>, 4> kTemplates = {{
      {{{"All ", " are "}, {"Every one of the ", " is one of the "}, {"Without exception, ", " are "}}},
      {{{"No ", " are "}, {"None of the ", " are "}, {"Not a single one of the ", " is one of the "}}},
      {{{"Some ", " are "}, {"There are ", " that are "}, {"At least one of the ", " is one of the "}}},
      {{{"Some ", " are not "}, {"Not all ", " are "}, {"There are ", " that are not "}}}}};
  const Template& t = kTemplates[static_cast<int>(st.q)][variant % 3];
  const size_t first = out.size();
  out += t.before_s;
  append_term(out, st.s, names);
  out += t.before_p;
  append_term(out, st.p, names);
  if (lower_first) out[first] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[first])));
}

void append_symbolic(std::string& out, const Stmt& st, const std::vector<std::string>& names) {
  auto atom = [&](Term t) {
    if (t.neg) out.push_back('~');
    out += names[t.cat];
    out.append("(x)", 3);
  };
  const bool universal = st.q == Quant::All || st.q == Quant::No;
  out += universal ? std::string_view("forall x: ") : std::string_view("exists x: ");
  atom(st.s);
  out += universal ? std::string_view(" -> ") : std::string_view(" & ");
  if (st.q == Quant::No || st.q == Quant::SomeNot) out.push_back('~');
  atom(st.p);
}

void append_number(std::string& out, size_t n) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  out.append(buf, end);
}

void render_prompt(Rng& rng, const Draft& d, const std::vector<std::string>& names, bool natural, bool import,
                   bool real_names, std::string& prompt) {
  static const std::vector<std::string> kIntros = {"Consider the following statements.",
                                                   "Assume all of the following are true.",
                                                   "Here are some premises.", "Suppose we are told:"};
  static const std::vector<std::string> kQuestions = {"Does it follow that", "Can we validly conclude that",
                                                      "Given only these premises, must it be true that"};
  static const std::string kInstruction = answer_instruction("Yes or No", "Yes");
  prompt.clear();
  if (natural) prompt.append(rng.pick(kIntros)).push_back('\n');
  else prompt.append("Premises (first-order logic; x ranges over all individuals):\n"sv);
  for (size_t i = 0; i < d.premises.size(); ++i) {
    append_number(prompt, i + 1);
    prompt.append(". ", 2);
    if (natural) {
      append_sentence(prompt, d.premises[i], names, static_cast<int>(rng.index(3)));
      prompt.push_back('.');
    } else {
      append_symbolic(prompt, d.premises[i], names);
    }
    prompt.push_back('\n');
  }
  if (natural) {
    prompt.append(import ? "Assume that each kind of thing mentioned exists: there is at least one of each.\n"sv
                         : "Do not assume that any kind of thing mentioned actually has members.\n"sv);
    if (real_names)
      prompt.append("Judge only whether the conclusion follows logically, even where a statement is false in the real world.\n"sv);
    prompt.append(rng.pick(kQuestions)).push_back(' ');
    append_sentence(prompt, d.conclusion, names, 0, true);
    prompt.append("?\n", 2);
  } else {
    prompt.append(import ? "Existential import: every predicate above holds of at least one individual.\n"sv
                         : "No existential import: a predicate may hold of no individual.\n"sv);
    prompt.append("Conclusion: "sv);
    append_symbolic(prompt, d.conclusion, names);
    prompt.append("\nDoes the conclusion follow from the premises?\n"sv);
  }
  prompt += kInstruction;
}

// Region r (bit c: inside category c) in words.
void append_region(std::string& out, uint32_t region, const std::vector<std::string>& names) {
  auto list = [&](bool inside) {
    bool first = true;
    for (size_t c = 0; c < names.size(); ++c) {
      if (((region >> c) & 1u) != inside) continue;
      if (!first) out.append(", ", 2);
      out += names[c];
      first = false;
    }
  };
  const uint32_t all = names.size() >= 32 ? ~uint32_t{0} : (uint32_t{1} << names.size()) - 1;
  if ((region & all) == 0) {
    out.append("something that is none of the "sv);
    list(false);
    return;
  }
  out.append("something that is among the "sv);
  list(true);
  if ((region & all) != all) {
    out.append(" and not among the "sv);
    list(false);
  }
}

// A step whose text the caller then writes into the returned string (cleared).
std::string& add_step(pb::Task& task, const std::vector<int>& cites, std::string_view rule) {
  static const std::array<std::string, 16> kCites = [] {
    std::array<std::string, 16> out;
    for (size_t i = 0; i < out.size(); ++i) out[i] = "p" + std::to_string(i + 1);
    return out;
  }();
  auto* step = task.add_trace();
  for (int c : cites) {
    if (static_cast<size_t>(c) < kCites.size()) step->add_cites(kCites[c]);
    else step->add_cites("p" + std::to_string(c + 1));
  }
  step->mutable_rule()->assign(rule.data(), rule.size());
  std::string& text = *step->mutable_text();
  text.clear();
  return text;
}

void write_trace(const Draft& d, bool import, const std::vector<std::string>& names, pb::Task& task) {
  if (d.form_index >= 0) {  // a two-premise form (else "sorites")
    static const std::array<std::string_view, 256> kClassicalNames = [] {
      std::array<std::string_view, 256> out;
      for (int i = 0; i < 256; ++i) out[i] = classical_name(form_code(i));
      return out;
    }();
    const std::string_view name = kClassicalNames[d.form_index];
    std::string& text = add_step(task, {}, "form");
    text.append("The underlying argument has figure "sv).append(d.form, 0, 1).append(" and mood "sv).append(d.form, 2);
    if (d.valid) {
      text.append(" ("sv).append(name).append("), a valid form"sv);
      if (!form_validity(false)[d.form_index]) text.append(" given existential import"sv);
    } else if (name.empty()) {
      text.append(", which is not a valid form"sv);
    } else {
      text.append(" ("sv).append(name).append("), valid only with existential import, which is not assumed here"sv);
    }
    text.push_back('.');
  }
  if (d.valid) {
    thread_local std::vector<int> core;  // reused: no allocation per task once grown
    minimal_core(d.premises, d.conclusion, import, d.categories, core);
    std::string& text = add_step(task, core, "refutation");
    text.append("Suppose the conclusion were false. Together with premises "sv);
    for (size_t i = 0; i < core.size(); ++i) {
      text.append(i ? ", p" : "p", i ? 3 : 1);
      append_number(text, static_cast<size_t>(core[i]) + 1);
    }
    if (import) text.append(" and the existence of each kind"sv);
    text.append(" that is impossible, so the conclusion follows."sv);
    return;
  }
  thread_local std::vector<uint32_t> model;  // reused: no allocation per task once grown
  if (!countermodel(d.premises, d.conclusion, import, d.categories, model)) throw std::logic_error("syllogism: decided invalid but no Venn countermodel exists");
  std::string& text = add_step(task, {}, "countermodel");
  text.append("Counterexample: suppose the only things there are are "sv);
  for (size_t i = 0; i < model.size(); ++i) {
    if (i) text.append("; ", 2);
    append_region(text, model[i], names);
  }
  text.append(". Every premise holds, but the conclusion fails, so it does not follow."sv);
  auto* regions = task.mutable_syllogism()->mutable_countermodel();
  regions->Reserve(static_cast<int>(model.size()));
  for (uint32_t r : model) regions->AddAlreadyReserved(r);
}

// Real category names for the categories; with belief bias, chosen so that the conclusion is
// (un)believable as asked. Returns the conclusion's real-world truth.
bool choose_real_names(Rng& rng, const Draft& d, bool want_believable, std::vector<std::string>& names) {
  std::vector<int> pool(kReal.size());
  for (size_t i = 0; i < pool.size(); ++i) pool[i] = static_cast<int>(i);
  std::vector<int> real_of;
  for (int attempt = 0; attempt < 200; ++attempt) {
    rng.shuffle(pool);
    real_of.assign(pool.begin(), pool.begin() + d.categories);
    if (real_truth(d.conclusion, real_of) == want_believable) break;
  }
  names.clear();
  for (int r : real_of) names.push_back(kReal[r].name);
  return real_truth(d.conclusion, real_of);
}

void fill_statement(const Stmt& st, pb::CategoricalStatement* out) {
  out->mutable_quantifier()->assign(kQuantNames[static_cast<int>(st.q)]);
  out->set_subject(st.s.cat);
  out->set_subject_negated(st.s.neg);
  out->set_predicate(st.p.cat);
  out->set_predicate_negated(st.p.neg);
}

}  // namespace

std::vector<KnobSpec> SyllogismGenerator::knob_specs() const {
  return {KnobSpec::integer("terms", "categories in the argument: 3 = one syllogism, more = a sorites chain", 3, 7, 3),
          KnobSpec::integer("distractors", "extra premises about other categories that cannot change the answer", 0, 4, 0),
          KnobSpec::choice("existential_import", "assume every named category has members", {"on", "off"}, "on"),
          KnobSpec::choice("names", "category names", {"fictional", "real"}, "fictional"),
          KnobSpec::real("belief_conflict", "names=real: share of tasks whose conclusion's real-world truth disagrees "
                         "with its validity (belief bias)", 0, 1, 0.5),
          KnobSpec::real("negation", "chance that a statement is restated with a negated term (non-X)", 0, 1, 0),
          KnobSpec::choice("format", "rendering of the statements", {"natural", "symbolic"}, "natural")};
}

KnobMap SyllogismGenerator::level_knobs(int level) const {
  struct Row { int terms, distractors; const char *import, *names, *conflict, *negation; };
  // Three terms hold only 4 figures x 64 moods = 256 arguments up to renaming, so the syllogism levels
  // carry two distractor premises (each a fresh category linked to an earlier one): more than 10,000
  // distinct questions per level, and every later level at least as many categories and premises.
  // Real names conflict with validity in half the tasks: at a share of 1 (which levels 4, 6, 7, 9, 10
  // had) "the conclusion is true in the real world" meant "No" every time, a shortcut for any model that
  // knows poodles are dogs (the knob still allows 1 for a belief-bias evaluation).
  static const Row kLadder[] = {
      {3, 2, "on", "fictional", "0.5", "0"},   {3, 2, "off", "fictional", "0.5", "0"},
      {3, 2, "on", "real", "0.5", "0"},        {3, 3, "off", "real", "0.5", "0"},
      {4, 2, "on", "fictional", "0.5", "0.3"}, {4, 3, "off", "real", "0.5", "0.3"},
      {5, 3, "on", "real", "0.5", "0.4"},      {5, 3, "off", "fictional", "0.5", "0.5"},
      {6, 3, "off", "real", "0.5", "0.5"},     {7, 4, "off", "real", "0.5", "0.6"}};
  const Row& r = kLadder[level - 1];
  return {{"terms", std::to_string(r.terms)}, {"distractors", std::to_string(r.distractors)},
          {"existential_import", r.import},     {"names", r.names},
          {"belief_conflict", r.conflict},      {"negation", r.negation}};
}

namespace {

// The knobs generate() reads, parsed once per distinct Knobs and thread (not looked up by name per task).
struct Settings {
  bool import = false, real_names = false, natural = true;
  double negation = 0, belief_conflict = 0;
  int terms = 3, distractors = 0;
  const question_space::Space* space = nullptr;  // enumerated_space(knobs)
  uint64_t knobs_hash = 0;                       // question_space::knobs_hash(knobs), when space
};

const Settings& settings_of(const Knobs& knobs) {
  return read_once_per_knobs<Settings>(knobs, [](const Knobs& knobs) {
    Settings s;
    s.import = knobs.get("existential_import") == "on";
    s.distractors = static_cast<int>(knobs.get_int("distractors"));
    s.terms = static_cast<int>(knobs.get_int("terms"));
    s.space = syllogism::enumerated_space(knobs);
    if (s.space) s.knobs_hash = question_space::knobs_hash(knobs);
    s.negation = knobs.get_real("negation");
    s.real_names = knobs.get("names") == "real";
    if (s.real_names) s.belief_conflict = knobs.get_real("belief_conflict");
    s.natural = knobs.get("format") == "natural";
    return s;
  });
}

// The random path: the label drawn first, then drafts until one has it.
bool random_draft(Rng& rng, const Knobs& knobs, const Settings& settings, Draft& d) {
  const bool target = rng.chance(0.5);
  const int distractors = settings.distractors;
  const bool import = settings.import;
  bool done = false;
  for (int attempt = 0; attempt < 200 && !done; ++attempt)
    done = draft_core(rng, settings.terms, target, import, d) && (distractors == 0 || add_distractors(rng, distractors, import, d));
  if (!done) throw std::runtime_error("syllogism: no instance found for knobs " + knobs.canonical());
  return target;
}

void finish_task(Rng& rng, const Settings& settings, bool target, Draft& d, pb::Task& task);

}  // namespace

void SyllogismGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  const Settings& settings = settings_of(knobs);
  thread_local Draft d;  // reused: its premises keep their capacity from task to task
  d.reset();
  if (settings.space) {
    // The label from question_space's turns, the question from that label's weighted order.
    const auto pick = question_space::pick(*settings.space, mix_seed({task.seed(), settings.knobs_hash}), task.index());
    const bool target = pick.slot == 0;
    enumerated_draft(pick.question, settings.distractors, target, d);
    return finish_task(rng, settings, target, d, task);
  }
  const bool target = random_draft(rng, knobs, settings, d);
  finish_task(rng, settings, target, d, task);
}

namespace {

// Everything after the draft: negated terms, premise order, names, prompt, trace.
void finish_task(Rng& rng, const Settings& settings, bool target, Draft& d, pb::Task& task) {
  const bool import = settings.import;
  // Restating with negated terms keeps the meaning exactly; the final text is decided again anyway.
  const double negation = settings.negation;
  for (auto& st : d.premises)
    if (rng.chance(negation)) st = with_negated_term(rng, st);
  if (rng.chance(negation / 2)) d.conclusion = with_negated_term(rng, d.conclusion);
  rng.shuffle(d.premises);
  if (entails(d.premises, d.conclusion, import, d.categories) != target)  // the label decided again
    throw std::logic_error("syllogism: the question does not decide as its label " + std::string(target ? "Yes" : "No") +
                           " (an enumerated question misfiled, or a restatement that changed it)");

  const bool real_names = settings.real_names;
  thread_local std::vector<std::string> names;  // reused: no allocation per task once grown
  names.clear();
  bool believable = false;
  if (real_names) {
    const bool conflict = rng.chance(settings.belief_conflict);
    believable = choose_real_names(rng, d, target != conflict, names);
    (*task.mutable_meta())["belief"] = believable == target ? "congruent" : "conflict";
  } else {
    // The shuffle of kFictional that Rng::shuffle would make, done on indices (no copies of the names).
    std::array<uint8_t, 32> pool;
    const size_t size = kFictional.size();
    if (size > pool.size()) throw std::logic_error("syllogism: more fictional names than the shuffle holds");
    for (size_t i = 0; i < size; ++i) pool[i] = static_cast<uint8_t>(i);
    for (size_t i = size; i > 1; --i) std::swap(pool[i - 1], pool[rng.index(i)]);
    for (int i = 0; i < d.categories; ++i) names.push_back(kFictional[pool[i]]);
  }

  auto* inst = task.mutable_syllogism();
  for (const auto& n : names) inst->add_terms(n);
  for (const auto& st : d.premises) fill_statement(st, inst->add_premises());
  fill_statement(d.conclusion, inst->mutable_conclusion());
  inst->set_existential_import(import);
  inst->mutable_form()->assign(d.form);
  inst->set_distractor_premises(d.distractors);
  inst->set_real_names(real_names);
  inst->set_believable(believable);

  render_prompt(rng, d, names, settings.natural, import, real_names, *task.mutable_prompt());
  task.set_label(target ? "Yes" : "No");
  task.set_answer(task.label());
  write_trace(d, import, names, task);
}

}  // namespace

std::map<std::string, uint64_t> SyllogismGenerator::question_counts(const Knobs& knobs) const {
  const auto* space = syllogism::enumerated_space(knobs);
  return space ? space->counts() : std::map<std::string, uint64_t>{};
}

// The premises as a set and the conclusion, up to renaming the categories. Real category names stay
// as they are: renaming them would change what the argument's belief bias is.
std::string SyllogismGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.syllogism();
  // Fictional names, no negated subject, at most 5 categories and 4 premises (levels 1 and 2): the
  // enumeration's canonical_code (a negated predicate obverted first, as below), exact for these
  // questions and about ten times cheaper than the general form below. Whether a question takes this
  // way depends on the question alone (up to renaming, order and obversion), and the two ways' keys
  // differ in their prefix, so neither merges questions the other tells apart.
  if (!inst.real_names() && inst.terms_size() <= 5 && inst.premises_size() <= 4) {
    std::array<Stmt, 4> premises;
    Stmt conclusion;
    auto read = [&](const pb::CategoricalStatement& st, Stmt& out) {
      const std::string& q = st.quantifier();
      if (st.subject_negated() || st.subject() < 0 || st.predicate() < 0 || st.subject() >= inst.terms_size() ||
          st.predicate() >= inst.terms_size())
        return false;
      Quant quant;
      switch (q.size()) {  // the quantifier by its length, then checked whole
        case 3: quant = Quant::All; break;
        case 2: quant = Quant::No; break;
        case 4: quant = Quant::Some; break;
        case 8: quant = Quant::SomeNot; break;
        default: return false;
      }
      if (std::string_view(q) != kQuantNames[static_cast<int>(quant)]) return false;
      if (st.predicate_negated())  // obverse: All <-> No, Some <-> Some-not
        quant = static_cast<Quant>(static_cast<int>(quant) ^ 1);
      out = {quant, {st.subject()}, {st.predicate()}};
      return true;
    };
    bool plain = read(inst.conclusion(), conclusion) && conclusion.s.cat != conclusion.p.cat;
    for (int i = 0; plain && i < inst.premises_size(); ++i) plain = read(inst.premises(i), premises[i]);
    if (plain) {
      const uint64_t code = canonical_code(premises.data(), inst.premises_size(), conclusion, inst.terms_size());
      std::string key;
      key.reserve(task.family().size() + 32);
      key.append(task.family());
      key.append(inst.existential_import() ? std::string_view("#import#") : std::string_view("##"));
      append_number(key, static_cast<size_t>(inst.premises_size()));
      key.push_back('#');
      append_number(key, code);
      return key;
    }
  }
  thread_local canonical::Question q;  // reused: no allocation per key
  q.clear();
  auto term = [&](int index, bool negated) {
    if (negated) q.text("non-");
    if (inst.real_names()) q.text(inst.terms(index));
    else q.symbol(index);
  };
  // Obverted to a positive predicate: "All S are non-P" is "No S are P" (the symbolic format writes both
  // as one formula), "Some S are non-P" is "Some S are not P", and back.
  auto statement = [&](const char* role, const pb::CategoricalStatement& st) {
    const std::string& quantifier = st.quantifier();
    const std::string_view obverse = quantifier == "all"    ? "no"
                                     : quantifier == "no"   ? "all"
                                     : quantifier == "some" ? "some_not"
                                                            : "some";
    q.statement();
    q.text(role);
    q.text(st.predicate_negated() ? obverse : std::string_view(quantifier));
    q.text(' ');
    term(st.subject(), st.subject_negated());
    q.text(' ');
    term(st.predicate(), false);
  };
  for (const auto& premise : inst.premises()) statement("P|", premise);
  statement("C|", inst.conclusion());
  return task.family() + "|" + (inst.existential_import() ? "import|" : "|") + q.key();
}

// generate() draws the answer first: Yes or No with equal odds (enumerated knobs: in turns, one of each
// per two candidates).
std::map<std::string, double> SyllogismGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"Yes", 0.5}, {"No", 0.5}};
}

namespace syllogism {

const question_space::Space* enumerated_space(const Knobs& knobs) {
  const int64_t distractors = knobs.get_int("distractors");
  if (knobs.get_int("terms") != 3 || knobs.get("names") != "fictional" || knobs.get_real("negation") != 0 ||
      distractors > kMaxEnumeratedDistractors)
    return nullptr;
  const bool import = knobs.get("existential_import") == "on";
  return &question_space::cached(
      mix_seed({fnv1a64("syllogism"), static_cast<uint64_t>(distractors), static_cast<uint64_t>(import)}),
      [&] { return enumerate_questions(static_cast<int>(distractors), import); });
}

void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task) {
  const Settings& settings = settings_of(knobs);
  Draft d;
  const bool target = random_draft(rng, knobs, settings, d);
  finish_task(rng, settings, target, d, task);
}

}  // namespace syllogism

namespace generators {
const Generator& syllogism() {
  static const SyllogismGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
