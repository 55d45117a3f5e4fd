// knights_knaves: n islanders, each a knight (always truthful) or a knave (always lying), each makes one
// statement about the others built from and / or / not / if-then / iff / "exactly k of". Who is what?
// Uniqueness is proved at generation by truth tables over all 2^n assignments (Z3 beyond 12 people);
// the gold trace is the case analysis of a backtracking solver. An `unanswerable` knob mixes in puzzles
// with no or several consistent assignments, whose gold answer is "no unique solution".
#include "generators/generators.h"

#include "generators/canonical_form.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "solvers/knights_knaves_logic.h"
#include "solvers/knights_knaves_z3.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

using namespace std::string_view_literals;  // appending a literal then needs no strlen

class KnightsKnavesGenerator final : public Generator {
 public:
  std::string name() const override { return "knights_knaves"; }
  std::string summary() const override {
    return "Knights always tell the truth, knaves always lie: from each islander's statement, who is which?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override {
    return "every person's role, e.g. \"Ann: knight, Ben: knave\" (or \"no unique solution\")";
  }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

using kk::Formula;
using kk::Node;
using kk::Op;
using kk::Puzzle;

// One-word names (none is a word the answer parser treats as filler or a role, none starts with
// "exactly"), so answers can be read back name by name.
constexpr std::array<std::string_view, 100> kNames = {
    "Alice", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Kira", "Lorenzo", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wendell", "Xenia", "Yusuf", "Zora", "Arjun", "Bianca", "Cyrus", "Dalia",
    "Emil", "Fiona", "Gideon", "Hana", "Ivo", "Jada", "Kofi", "Lena", "Marek", "Nadia",
    "Oscar", "Petra", "Rafael", "Selma", "Tobias", "Ursula", "Viktor", "Wanda", "Yara", "Zeno",
    "Amara", "Boris", "Celine", "Dario", "Esme", "Felix", "Gwen", "Henrik", "Isla", "Jasper",
    "Kenji", "Leila", "Milo", "Noor", "Orla", "Priya", "Rupert", "Sofia", "Tariq", "Uma",
    "Vince", "Willa", "Xavier", "Yvonne", "Zane", "Anouk", "Basil", "Cosima", "Dante", "Edith",
    "Florian", "Gemma", "Hector", "Ilse", "Joaquin", "Katya", "Lucian", "Mira", "Nestor", "Odette",
    "Piet", "Renata", "Stellan", "Thea", "Ulrich", "Valeria", "Wolfgang", "Yasmin", "Zelda", "Ada"};

// ---- drawing statements ----

struct Shape {
  int people = 2;
  int depth = 1;
  int operators = 1;  // 1 and, 2 + or/not, 3 + if-then/iff, 4 + "exactly k of"
};

// A statement being drawn, with each node's truth under one assignment worked out as the node is added
// (in post-order its operands' truths are known by then): checking a drawn statement against the hidden
// roles then costs no evaluation (as kk::evaluate; the tests hold drawn statements to it).
struct Draft {
  Formula& f;
  uint32_t assignment = 0;
  std::array<uint8_t, kk::kMaxNodes> truth;

  int add(const Node& n) {
    const int i = f.add(n);
    if (i >= 0) truth[i] = value(n);
    return i;
  }
  uint8_t value(const Node& n) const {
    switch (n.op) {
      case Op::Knight: return (assignment >> n.person) & 1u;
      case Op::Knave: return !((assignment >> n.person) & 1u);
      case Op::Not: return !truth[n.left];
      case Op::And: return truth[n.left] & truth[n.right];
      case Op::Or: return truth[n.left] | truth[n.right];
      case Op::Implies: return (!truth[n.left]) | truth[n.right];
      case Op::Iff: return truth[n.left] == truth[n.right];
      case Op::Exactly: {
        const int knights = n.counts_knaves ? std::popcount(n.group) - n.count : n.count;
        return std::popcount(assignment & n.group) == knights;
      }
    }
    return 0;
  }
};

int add_atom(Rng& rng, Draft& d, int people) {
  Node n;
  n.op = rng.chance(0.5) ? Op::Knight : Op::Knave;
  n.person = static_cast<uint8_t>(rng.index(people));
  return d.add(n);
}

// "Exactly k of <2..4 people> are knights (or knaves)", 0 < k < group size: all / none read oddly.
int add_exactly(Rng& rng, Draft& d, int people) {
  const int size = static_cast<int>(rng.uniform(2, std::min(4, people)));
  Node n;
  n.op = Op::Exactly;
  while (std::popcount(n.group) < size) n.group |= static_cast<uint16_t>(1u << rng.index(people));
  n.count = static_cast<uint8_t>(rng.uniform(1, size - 1));
  n.counts_knaves = rng.chance(0.5);
  return d.add(n);
}

int add_leaf(Rng& rng, Draft& d, const Shape& s) {
  if (s.operators >= 4 && s.people >= 3 && rng.chance(0.3)) return add_exactly(rng, d, s.people);
  return add_atom(rng, d, s.people);
}

int atom_person(const Formula& f, int i) {
  const Node& n = f.nodes[i];
  return (n.op == Op::Knight || n.op == Op::Knave) ? n.person : -1;
}

// A formula of exactly `depth` levels of connectives (one operand as deep, the other maybe shallower).
int add_formula(Rng& rng, Draft& d, const Shape& s, int depth) {
  if (depth <= 0) return add_leaf(rng, d, s);
  static const Op kOps[] = {Op::And, Op::Or, Op::Implies, Op::Iff};
  const Op op = kOps[rng.index(s.operators >= 3 ? 4 : s.operators)];
  const int other_depth = rng.chance(0.5) ? depth - 1 : static_cast<int>(rng.uniform(0, depth - 1));
  const bool deep_left = rng.chance(0.5);
  const int left = add_formula(rng, d, s, deep_left ? depth - 1 : other_depth);
  int right = add_formula(rng, d, s, deep_left ? other_depth : depth - 1);
  // "X is a knight and X is a knave" and the like say nothing about two people: redraw.
  Formula& f = d.f;
  for (int guard = 0; guard < 8 && atom_person(f, left) >= 0 && atom_person(f, left) == atom_person(f, right);
       ++guard) {
    f.size = right;  // the right operand is a leaf: drop it and draw another
    right = add_atom(rng, d, s.people);
  }
  Node n;
  n.op = op;
  n.left = static_cast<int8_t>(left);
  n.right = static_cast<int8_t>(right);
  int root = d.add(n);
  if (s.operators >= 2 && rng.chance(0.1)) {
    Node neg;
    neg.op = Op::Not;
    neg.left = static_cast<int8_t>(root);
    root = d.add(neg);
  }
  return root;
}

// Negates a formula the way a person would say it: flips an atom's role, drops a leading "not",
// otherwise wraps it in "it is not the case that".
void negate(Formula& f) {
  Node& root = f.nodes[f.root()];
  if (root.op == Op::Knight || root.op == Op::Knave) {
    root.op = root.op == Op::Knight ? Op::Knave : Op::Knight;
  } else if (root.op == Op::Not) {
    --f.size;  // the operand is the node before it in post-order
  } else {
    Node neg;
    neg.op = Op::Not;
    neg.left = static_cast<int8_t>(f.root());
    f.add(neg);
  }
}

// Draws a statement for `speaker` into `f` (in place: a Formula is half a kilobyte, and the search
// draws dozens per task); when `hidden` is given it is true exactly when the speaker is a knight
// there, so the hidden assignment stays consistent.
void draw_statement(Rng& rng, const Shape& s, int speaker, std::optional<uint32_t> hidden, Formula& f) {
  Draft d{f, hidden.value_or(0u), {}};
  for (int attempt = 0; attempt < 32; ++attempt) {
    f.size = 0;
    add_formula(rng, d, s, s.depth);
    if (!hidden || (f.size > 0 && d.truth[f.root()] == kk::is_knight(*hidden, speaker))) return;
  }
  // Rare: negate, where "not" is among the operators. (Otherwise the statement is kept as drawn: the
  // solution count, not the hidden assignment, decides whether the puzzle is kept.)
  if (s.operators >= 2) negate(f);
}

// Copies the nodes in use (a whole Formula is kMaxNodes of them).
void copy_formula(const Formula& from, Formula& to) {
  std::copy_n(from.nodes.begin(), from.size, to.nodes.begin());
  to.size = from.size;
}

// ---- building a puzzle with the wanted number of solutions ----

enum class Target { Unique, None, Several };

bool reached(Target t, int count) {
  return t == Target::Unique ? count == 1 : t == Target::None ? count == 0 : count >= 2;
}

// Counts consistent assignments while the search redraws one statement at a time: with truth tables
// (exact counts guide the search) each statement's table is kept and only a redrawn one recomputed;
// beyond kMaxTablePeople the backtracking solver answers 0 / 1 / 2+.
class Counter {
 public:
  void reset(const Puzzle& p) {
    p_ = &p;
    tables_ = p.people <= kk::kMaxTablePeople;
    if (!tables_) return;
    for (int i = 0; i < p.people; ++i) {
      refresh(i);
      rows_[i] = cache_[i].data();
    }
  }
  void refresh(int i) {
    if (tables_) kk::consistency_table(p_->statements[i], p_->people, cache_[i].data());
  }
  // Keeps statement i's table aside, and puts it back when its redraw is undone (no recomputing).
  void save(int i) {
    if (tables_) std::copy_n(cache_[i].begin(), kk::table_words(p_->people), saved_.begin());
  }
  void restore(int i) {
    if (tables_) std::copy_n(saved_.begin(), kk::table_words(p_->people), cache_[i].begin());
  }
  // kk::consistent(puzzle, assignment), read off the tables where there are tables.
  bool consistent(uint32_t assignment) const {
    if (!tables_) return kk::consistent(*p_, assignment);
    for (int i = 0; i < p_->people; ++i)
      if (!((rows_[i][assignment >> 6] >> (assignment & 63)) & 1u)) return false;
    return true;
  }
  // The statements' consistency tables, as kk::solve takes them (null beyond kMaxTablePeople). They are
  // those of the puzzle build_puzzle returned last on this thread: try_puzzle leaves them matching it.
  const uint64_t* const* tables() const { return tables_ ? rows_.data() : nullptr; }
  int count() const {
    if (!tables_) return kk::count_solutions(*p_, 2);
    return kk::count_in_tables(rows_.data(), p_->people, p_->people, 1 << p_->people);
  }

 private:
  using Table = std::array<uint64_t, (1 << kk::kMaxTablePeople) / 64>;
  const Puzzle* p_ = nullptr;
  bool tables_ = false;
  std::array<Table, kk::kMaxTablePeople> cache_;
  Table saved_;
  std::array<const uint64_t*, kk::kMaxTablePeople> rows_{};
};

Counter& thread_counter() {
  static thread_local Counter counter;  // 48 KiB of tables: kept per thread, not on the stack
  return counter;
}

// Redraws one statement at a time, keeping a change unless it moves away from the target count.
// A hidden assignment of roles; for a puzzle meant to have one solution, a mix of knights and knaves,
// so no puzzle is solved by "everyone is alike" (at two people that guess was right half the time).
// (`mixed` is false only for the knob corners where no mixed puzzle exists, e.g. two people with "and"
// alone: the search then falls back to any assignment.)
uint32_t draw_hidden(Rng& rng, int people, bool mixed) {
  const uint32_t all = (1u << people) - 1;
  uint32_t hidden = static_cast<uint32_t>(rng.next()) & all;
  while (mixed && (hidden == 0 || hidden == all)) hidden = static_cast<uint32_t>(rng.next()) & all;
  return hidden;
}

bool try_puzzle(Rng& rng, const Shape& s, Target target, bool mixed, Puzzle& p) {
  const bool consistent_draws = target != Target::None;
  const uint32_t hidden = draw_hidden(rng, s.people, mixed);
  auto hint = [&]() { return consistent_draws ? std::optional<uint32_t>(hidden) : std::nullopt; };
  p.people = s.people;
  p.statements.resize(s.people);
  for (int i = 0; i < s.people; ++i) {
    p.statements[i].speaker = i;
    draw_statement(rng, s, i, hint(), p.statements[i].formula);
  }
  Counter& counter = thread_counter();
  counter.reset(p);
  int count = counter.count();
  Formula old;
  for (int round = 0; round < 12 * s.people && !reached(target, count); ++round) {
    const int who = static_cast<int>(rng.index(s.people));
    copy_formula(p.statements[who].formula, old);
    counter.save(who);
    draw_statement(rng, s, who, hint(), p.statements[who].formula);
    counter.refresh(who);
    const int now = counter.count();
    const bool better = target == Target::Several ? now >= count : now <= count;
    if (better) {
      count = now;
    } else {
      copy_formula(old, p.statements[who].formula);
      counter.restore(who);
    }
  }
  // A unique puzzle's solution is the hidden (mixed) assignment, unless a statement had to be kept
  // inconsistent with it: then it is redrawn.
  return reached(target, count) && (!mixed || counter.consistent(hidden));
}

Puzzle build_puzzle(Rng& rng, const Shape& s, Target target, const Knobs& knobs) {
  Puzzle p;
  constexpr int kMixedAttempts = 200;  // then any assignment (see draw_hidden)
  for (int attempt = 0; attempt < kMixedAttempts + 200; ++attempt)
    if (try_puzzle(rng, s, target, target == Target::Unique && attempt < kMixedAttempts, p)) return p;
  throw std::runtime_error("knights_knaves: no puzzle with the wanted number of solutions for knobs " +
                           knobs.canonical() + "; raise depth or operators");
}

// ---- unanswerable puzzles that look like answerable ones ----

// Counts a shallow classifier could read off a puzzle: the "~" of its formulas (knave claims and
// negations) and the statements that mention their own speaker.
struct Surface {
  int negations = 0, self_mentions = 0;
};

Surface surface_of(const Puzzle& p) {
  Surface s;
  for (const auto& st : p.statements) {
    bool mentions = false;
    for (int i = 0; i < st.formula.size; ++i) {
      const Node& n = st.formula.nodes[i];
      s.negations += n.op == Op::Knave || n.op == Op::Not;
      mentions = mentions || ((n.op == Op::Knight || n.op == Op::Knave) && n.person == st.speaker) ||
                 (n.op == Op::Exactly && ((n.group >> st.speaker) & 1u));
    }
    s.self_mentions += mentions;
  }
  return s;
}

// A puzzle with no or several solutions whose surface counts are those of an answerable puzzle drawn
// for the purpose (and discarded): drawn freely, such puzzles had other counts (with three people the
// number of "~" told them apart with accuracy 0.55, the self-mentions 0.57), so a classifier could
// abstain without solving anything. Rejection sampling makes the counts' distribution the same for
// both answers: exactly up to four people; beyond, where the counts spread wide and an exact match
// would take hundreds of draws, within a window of people / 5 either way (symmetric, so the two
// distributions still agree up to that smoothing). After kMatchAttempts misses the last draw is kept.
Puzzle build_unanswerable(Rng& rng, const Shape& s, Target target, const Knobs& knobs) {
  constexpr int kMatchAttempts = 200;
  const int window = s.people / 5;
  const Surface wanted = surface_of(build_puzzle(rng, s, Target::Unique, knobs));
  Puzzle p;
  for (int attempt = 0; attempt < kMatchAttempts; ++attempt) {
    p = build_puzzle(rng, s, target, knobs);
    const Surface got = surface_of(p);
    if (std::abs(got.negations - wanted.negations) <= window &&
        std::abs(got.self_mentions - wanted.self_mentions) <= window)
      break;
  }
  return p;
}

// ---- names ----

// The first two names are an injective function of the task index (for index < 100 x 99), so names
// vary from task to task. (That alone does not make puzzles distinct: at level 1 a few hundred exist up
// to names, and question_key is what keeps a dataset free of repeats.)
// `knobs_hash` is fnv1a64(knobs.canonical()).
void pick_names(Rng& rng, int count, const pb::Task& task, uint64_t knobs_hash, std::vector<std::string>& names) {
  const uint64_t m = kNames.size(), pairs = m * (m - 1);
  const uint64_t offset = mix_seed({task.seed(), knobs_hash}) % pairs;
  const uint64_t t = (7919 * (task.index() % pairs) + offset) % pairs;  // 7919 is prime to 9900
  std::array<uint8_t, kNames.size()> order;
  for (uint64_t i = 0; i < m; ++i) order[i] = static_cast<uint8_t>(i);
  const int first = static_cast<int>(t / (m - 1));
  int second = static_cast<int>(t % (m - 1));
  if (second >= first) ++second;
  std::swap(order[0], order[first]);
  const auto at = std::find(order.begin() + 1, order.end(), second);
  std::iter_swap(order.begin() + 1, at);
  for (int i = 2; i < count; ++i) std::swap(order[i], order[i + rng.index(m - i)]);
  names.clear();
  for (int i = 0; i < count; ++i) names.emplace_back(kNames[order[i]]);
}

// ---- writing text ----

// Text is written through a cursor into a buffer sized for the worst case (see each buffer), then
// appended to its string in one piece: literal pieces become constant-size moves and a name one
// 16-byte move, with no capacity check per piece (the text is most of what generation writes).
constexpr bool names_fit() {
  for (std::string_view n : kNames)
    if (n.size() > 15) return false;
  return true;
}
static_assert(names_fit(), "a name must fit a Name's 16 bytes");

struct Name {
  char text[16] = {};  // zero-padded
  size_t size = 0;
};

// The task's names, padded for the cursor.
struct NameTable {
  std::array<Name, kk::kMaxPeople> at;
  void set(const std::vector<std::string>& names) {
    for (size_t q = 0; q < names.size(); ++q) {
      at[q] = Name{};
      std::memcpy(at[q].text, names[q].data(), names[q].size());
      at[q].size = names[q].size();
    }
  }
};

class Cursor {
 public:
  explicit Cursor(char* at) : p_(at) {}
  template <size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void put(char c) { *p_++ = c; }
  void text(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void name(const Name& n) {
    std::memcpy(p_, n.text, sizeof n.text);
    p_ += n.size;
  }
  char* at() const { return p_; }

 private:
  char* p_;
};

// The longest piece one node of a statement adds to its English or to a trace step is well under this
// (an "exactly" of four people: 8 + 4 + 4 + 4 names and 3 separators + 12 < 100 bytes), plus the
// 16-byte move of a name.
constexpr size_t kNodeText = 128;

// ---- English ----

std::string_view number_word(int k) {
  static constexpr std::string_view kWords[] = {"zero", "one", "two", "three", "four"};
  return k >= 0 && k <= 4 ? kWords[k] : "many";
}

void list_people(uint16_t group, int speaker, int people, const NameTable& names, Cursor& out) {
  const bool me = (group >> speaker) & 1u;
  const int items = std::popcount(group);
  int i = 0;
  for (int q = 0; q < people; ++q) {
    if (!((group >> q) & 1u) || q == speaker) continue;
    if (i > 0) i + 1 == items ? out.lit(" and ") : out.lit(", ");
    out.name(names.at[q]);
    ++i;
  }
  if (me) {
    if (i > 0) out.lit(" and ");
    out.put('I');
  }
}

// Writes the statement in English (compound operands in parentheses).
void english(const Formula& f, int i, int speaker, int people, const NameTable& names, Cursor& out) {
  const Node& n = f.nodes[i];
  // Compound operands go in parentheses. So does a negation with more of the sentence after it:
  // "it is not the case that (A) and (B)" would also read as not-(A and B).
  auto operand = [&](int child, bool followed = false) {
    const Op op = f.nodes[child].op;
    const bool wrap = op == Op::And || op == Op::Or || op == Op::Implies || op == Op::Iff || (op == Op::Not && followed);
    if (wrap) out.put('(');
    english(f, child, speaker, people, names, out);
    if (wrap) out.put(')');
  };
  switch (n.op) {
    case Op::Knight:
    case Op::Knave:
      if (n.person == speaker) {
        out.lit("I am a ");
      } else {
        out.name(names.at[n.person]);
        out.lit(" is a ");
      }
      n.op == Op::Knight ? out.lit("knight") : out.lit("knave");
      return;
    case Op::Not: out.lit("it is not the case that "); operand(n.left); return;
    case Op::And: operand(n.left, true); out.lit(" and "); operand(n.right); return;
    case Op::Or: operand(n.left, true); out.lit(" or "); operand(n.right); return;
    case Op::Implies: out.lit("if "); operand(n.left); out.lit(", then "); operand(n.right); return;
    case Op::Iff: operand(n.left, true); out.lit(" if and only if "); operand(n.right); return;
    case Op::Exactly: {
      out.lit("exactly ");
      out.text(number_word(n.count));
      out.lit(" of ");
      list_people(n.group, speaker, people, names, out);
      n.count == 1 ? out.lit(" is a ") : out.lit(" are ");
      n.counts_knaves ? out.lit("knave") : out.lit("knight");
      if (n.count != 1) out.put('s');
      return;
    }
  }
}

// kk::append_symbolic through a cursor: the same text (the tests read every stored formula back).
void symbolic(const Formula& f, int i, const NameTable& names, Cursor& out) {
  const Node& n = f.nodes[i];
  auto operand = [&](int child) {
    const Op op = f.nodes[child].op;
    const bool wrap = op == Op::And || op == Op::Or || op == Op::Implies || op == Op::Iff;
    if (wrap) out.put('(');
    symbolic(f, child, names, out);
    if (wrap) out.put(')');
  };
  switch (n.op) {
    case Op::Knight: out.name(names.at[n.person]); return;
    case Op::Knave: out.put('~'); out.name(names.at[n.person]); return;
    case Op::Not: out.put('~'); operand(n.left); return;
    case Op::Exactly: {
      out.lit("exactly");
      const int k = n.counts_knaves ? std::popcount(n.group) - n.count : n.count;
      if (k >= 10) out.put(static_cast<char>('0' + k / 10));
      out.put(static_cast<char>('0' + k % 10));
      out.put('(');
      bool first = true;
      for (int q = 0; q < kk::kMaxPeople; ++q)
        if ((n.group >> q) & 1u) {
          if (!first) out.lit(", ");
          out.name(names.at[q]);
          first = false;
        }
      out.put(')');
      return;
    }
    case Op::And: operand(n.left); out.lit(" & "); operand(n.right); return;
    case Op::Or: operand(n.left); out.lit(" | "); operand(n.right); return;
    case Op::Implies: operand(n.left); out.lit(" -> "); operand(n.right); return;
    case Op::Iff: operand(n.left); out.lit(" <-> "); operand(n.right); return;
  }
}

// Appends the formula in symbolic syntax to `out`.
void append_symbolic(const Formula& f, const NameTable& names, std::string& out) {
  if (f.size == 0) return;
  char buffer[kk::kMaxNodes * kNodeText];  // at most kMaxNodes nodes of at most kNodeText bytes
  Cursor c(buffer);
  symbolic(f, f.root(), names, c);
  out.append(buffer, static_cast<size_t>(c.at() - buffer));
}

void append_names(const std::vector<std::string>& names, std::string& out) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and "sv : ", "sv;
    out += names[i];
  }
}

// The closing instruction, the same for every task with the same `may_abstain`.
const std::string& closing(bool may_abstain) {
  static const std::array<std::string, 2> kClosing = [] {
    std::array<std::string, 2> out;
    for (int abstain = 0; abstain < 2; ++abstain) {
      std::string& c = out[abstain];
      if (abstain)
        c += "If the statements allow no consistent assignment of roles, or more than one, answer \"" +
             std::string(kNoUniqueSolution) + "\". ";
      std::string what = "every person's role, as \"Name: knight\" or \"Name: knave\" separated by commas";
      if (abstain) what += ", or \"" + std::string(kNoUniqueSolution) + "\"";
      c += answer_instruction(what, "Ann: knight, Ben: knave");
    }
    return out;
  }();
  return kClosing[may_abstain];
}

void render_prompt(Rng& rng, const Puzzle& p, const std::vector<std::string>& names, const NameTable& table,
                   const Shape& s, bool natural, bool may_abstain, std::string& prompt) {
  static const std::vector<std::string> kIntros = {
      "On an island, every inhabitant is either a knight, who always tells the truth, or a knave, who always lies.",
      "Each person on this island is a knight or a knave. Knights only make true statements; knaves only make "
      "false ones.",
      "You are visiting the island of knights and knaves: knights always tell the truth and knaves always lie."};
  static const std::vector<std::string> kSays = {" says: ", " tells you: ", " claims: ", ": "};
  static const std::vector<std::string> kQuestions = {
      "Who is a knight and who is a knave?", "Determine the role of every person.",
      "Which of them are knights and which are knaves?"};
  prompt.clear();
  prompt.reserve(512 + 160 * p.people);
  prompt += rng.pick(kIntros);
  prompt += '\n';
  prompt += "You meet "sv;
  prompt += std::to_string(p.people);
  prompt += " inhabitants: "sv;
  append_names(names, prompt);
  prompt += ".\n"sv;
  if (!natural)
    prompt += "Their statements are written as formulas: a name alone means that person is a knight, ~Name "
              "that they are a knave; & is and, | is or, -> is if-then, <-> is if and only if";
  if (!natural && s.operators >= 4) prompt += ", and exactlyK(...) means exactly K of the listed people are knights"sv;
  if (!natural) prompt += ".\n"sv;
  if (natural && s.operators >= 2) prompt += "(\"Or\" means at least one of the two.)\n"sv;
  for (const auto& st : p.statements) {
    const std::string& speaker = names[st.speaker];
    prompt += speaker;
    if (natural) {
      prompt += rng.pick(kSays);
      // At most kMaxNodes nodes of at most kNodeText bytes each.
      char buffer[kk::kMaxNodes * kNodeText + 8];
      buffer[0] = '"';
      Cursor out(buffer + 1);
      english(st.formula, st.formula.root(), st.speaker, p.people, table, out);
      buffer[1] = static_cast<char>(std::toupper(static_cast<unsigned char>(buffer[1])));
      out.lit(".\"\n");
      prompt.append(buffer, static_cast<size_t>(out.at() - buffer));
    } else {
      prompt += " says: "sv;
      append_symbolic(st.formula, table, prompt);
      prompt += '\n';
    }
  }
  prompt += rng.pick(kQuestions);
  prompt += '\n';
  prompt += closing(may_abstain);
}

// ---- gold trace ----

void write_roles(uint32_t knights, int people, const NameTable& names, Cursor& out) {
  for (int q = 0; q < people; ++q) {
    if (q) out.lit(", ");
    out.name(names.at[q]);
    kk::is_knight(knights, q) ? out.lit(": knight") : out.lit(": knave");
  }
}

// The roles of `people` people take at most this many bytes: a name's 16-byte move plus ", " and ": knight".
constexpr size_t roles_bytes(int people) { return people * (16 + 2 + 8); }

void append_roles(uint32_t knights, int people, const NameTable& names, std::string& out) {
  char buffer[roles_bytes(kk::kMaxPeople)];
  Cursor c(buffer);
  write_roles(knights, people, names, c);
  out.append(buffer, static_cast<size_t>(c.at() - buffer));
}

// Writes "<name> is a <role>".
void write_role(const Name& name, bool knight, Cursor& out) {
  out.name(name);
  knight ? out.lit(" is a knight") : out.lit(" is a knave");
}

// Writes a step's text into `out` (a reused trace step's string: no allocation once it has grown).
void step_text(const kk::SolveStep& st, const Puzzle& p, const NameTable& names, std::string& out) {
  using Kind = kk::SolveStep::Kind;
  // The longest step: a case name of kMaxPeople choices, two role phrases, a consistent assignment's roles.
  char buffer[2 * kk::kMaxPeople + 4 * kNodeText + roles_bytes(kk::kMaxPeople)];
  Cursor c(buffer);
  if (st.depth == 0) {
    c.lit("Before any case split: ");
  } else {
    c.lit("Case ");
    for (int d = 0; d < st.depth; ++d) {  // as kk::append_case_name
      if (d) c.put('.');
      c.put(((st.path >> d) & 1u) ? '2' : '1');
    }
    c.lit(": ");
  }
  if (st.kind == Kind::Assume) {
    c.lit("suppose ");
    write_role(names.at[st.person], st.knight, c);
    c.put('.');
  } else if (st.kind == Kind::Solution) {
    c.lit("everyone is decided and every statement agrees with its speaker's role (");
    write_roles(st.knights, p.people, names, c);
    c.lit("). This assignment is consistent.");
  } else {
    const auto& statement = p.statements[st.statement];
    const Name& speaker = names.at[statement.speaker];
    if (st.kind == Kind::Forced) {
      c.lit("only if ");
      write_role(names.at[st.person], st.knight, c);
      c.lit(" does ");
      c.name(speaker);
      c.lit("'s statement agree with its speaker's role, so ");
      write_role(names.at[st.person], st.knight, c);
      c.put('.');
    } else {
      c.name(speaker);
      if (st.person >= 0) {
        c.lit("'s statement contradicts its speaker's role whether ");
        c.name(names.at[st.person]);
        c.lit(" is a knight or a knave: contradiction.");
      } else {
        const bool truth = kk::evaluate_partial(statement.formula, st.known, st.knights) == kk::True;
        truth ? c.lit("'s statement is true here, but ") : c.lit("'s statement is false here, but ");
        write_role(speaker, kk::is_knight(st.knights, statement.speaker), c);
        c.lit(": contradiction.");
      }
    }
  }
  out.clear();
  out.append(buffer, static_cast<size_t>(c.at() - buffer));
}

std::string_view step_rule(kk::SolveStep::Kind kind) {
  switch (kind) {
    case kk::SolveStep::Kind::Assume: return "assume";
    case kk::SolveStep::Kind::Forced: return "forced";
    case kk::SolveStep::Kind::Contradiction: return "contradiction";
    case kk::SolveStep::Kind::Solution: return "consistent";
  }
  return "";
}

const std::array<std::string, kk::kMaxPeople> kCites = [] {
  std::array<std::string, kk::kMaxPeople> cites;
  for (int i = 0; i < kk::kMaxPeople; ++i) cites[i] = "s" + std::to_string(i + 1);
  return cites;
}();

void write_trace(const kk::SolveResult& r, const Puzzle& p, const NameTable& names, pb::Task& task) {
  for (const auto& st : r.steps) {
    auto* step = task.add_trace();
    step_text(st, p, names, *step->mutable_text());
    if (st.statement >= 0) step->add_cites(kCites[st.statement]);
    step->mutable_rule()->assign(step_rule(st.kind));
  }
  auto* last = task.add_trace();
  last->mutable_rule()->assign("conclusion"sv);
  std::string& text = *last->mutable_text();
  text.clear();
  if (r.solutions == 1) {
    text += "Every case has been examined and exactly one assignment is consistent: "sv;
    append_roles(r.found[0], p.people, names, text);
    text += '.';
  } else if (r.solutions == 0) {
    text += "Every case ends in a contradiction: no assignment of roles is consistent, so there is "sv;
    text += kNoUniqueSolution;
    text += '.';
  } else {
    text += "At least two assignments are consistent ("sv;
    append_roles(r.found[0], p.people, names, text);
    text += "; and "sv;
    append_roles(r.found[1], p.people, names, text);
    text += "), so there is "sv;
    text += kNoUniqueSolution;
    text += '.';
  }
}

void fill_instance(const Puzzle& p, const std::vector<std::string>& names, const NameTable& table, int solutions,
                   uint32_t answer, long decisions, pb::KnightsKnavesInstance& inst) {
  for (const auto& n : names) inst.add_people(n);
  for (const auto& st : p.statements) {
    auto* s = inst.add_statements();
    s->set_speaker(names[st.speaker]);
    std::string& formula = *s->mutable_formula();
    formula.clear();
    append_symbolic(st.formula, table, formula);
  }
  if (solutions == 1)
    for (int q = 0; q < p.people; ++q) inst.add_roles()->assign(kk::is_knight(answer, q) ? "knight"sv : "knave"sv);
  inst.set_solutions(std::min(solutions, 2));
  inst.set_search_decisions(static_cast<int32_t>(decisions));
}

}  // namespace

std::vector<KnobSpec> KnightsKnavesGenerator::knob_specs() const {
  return {KnobSpec::integer("people", "islanders, each making one statement", 2, kk::kMaxPeople, 3),
          // Depth 0 (bare "X is a knave" claims) is left out on purpose: such claims only ever say two
          // people are alike or unlike, so the roles are never unique (flipping everyone keeps them true).
          KnobSpec::integer("depth", "connectives nested in a statement", 1, 4, 1),
          KnobSpec::integer("operators", "connectives in statements: 1: and; 2: + or, not; 3: + if-then, "
                                         "if and only if; 4: + 'exactly k of'", 1, 4, 2),
          KnobSpec::real("unanswerable", "fraction of puzzles with no or several consistent assignments (gold "
                                         "answer: \"no unique solution\")", 0, 1, 0),
          KnobSpec::choice("format", "statements in English or as formulas", {"natural", "symbolic"}, "natural")};
}

KnobMap KnightsKnavesGenerator::level_knobs(int level) const {
  struct Row { int people, depth, operators; };
  // Three people from level 1 on: two people with one connective hold only 278 puzzles up to names and
  // order, three about 44,000 (each level holds well over the 10,000 a dataset may ask for).
  static const Row kLadder[] = {{3, 1, 2}, {3, 1, 3}, {4, 1, 3}, {5, 1, 3}, {5, 2, 3},
                                {6, 2, 4}, {7, 2, 4}, {8, 3, 4}, {9, 3, 4}, {10, 3, 4}};
  const Row& r = kLadder[level - 1];
  return {{"people", std::to_string(r.people)}, {"depth", std::to_string(r.depth)},
          {"operators", std::to_string(r.operators)}};
}

namespace {

// What generate() reads off its knobs, once per distinct Knobs and thread.
struct KnobReading {
  Shape shape;
  double unanswerable = 0;
  bool natural = true;
  uint64_t hash = 0;  // Knobs::hash
};

const KnobReading& read_knobs(const Knobs& knobs) {
  return read_once_per_knobs<KnobReading>(knobs, [](const Knobs& knobs) {
    KnobReading r;
    r.shape.people = static_cast<int>(knobs.get_int("people"));
    r.shape.depth = static_cast<int>(knobs.get_int("depth"));
    r.shape.operators = static_cast<int>(knobs.get_int("operators"));
    r.unanswerable = knobs.get_real("unanswerable");
    r.natural = knobs.get("format") == "natural";
    r.hash = knobs.hash();
    return r;
  });
}

}  // namespace

void KnightsKnavesGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  const KnobReading& reading = read_knobs(knobs);
  const Shape shape = reading.shape;
  const double unanswerable = reading.unanswerable;
  const Target target = !rng.chance(unanswerable) ? Target::Unique : rng.chance(0.5) ? Target::None : Target::Several;

  const Puzzle puzzle = target == Target::Unique ? build_puzzle(rng, shape, target, knobs)
                                                 : build_unanswerable(rng, shape, target, knobs);
  // The search above counted by truth tables; the backtracking solver must agree (its case analysis is
  // the trace), and beyond the table limit Z3 has the last word.
  // Limit 2: a unique or contradictory puzzle is searched to the end; an ambiguous one stops at the
  // second consistent assignment, which is all its trace needs to show.
  thread_local kk::SolveResult solved;  // reused: its vectors keep their capacity
  kk::solve(puzzle, 2, /*record_steps=*/true, solved, thread_counter().tables());
  if (!reached(target, solved.solutions))
    throw std::logic_error("knights_knaves: the backtracking solver disagrees with the truth tables");
  if (shape.people > kk::kMaxTablePeople && !reached(target, kk::count_with_z3(puzzle, 2)))
    throw std::runtime_error("knights_knaves: Z3 could not confirm the solution count for knobs " + knobs.canonical());

  thread_local std::vector<std::string> names;  // reused: their strings are short, the vector kept
  thread_local NameTable table;
  pick_names(rng, shape.people, task, reading.hash, names);
  table.set(names);
  const uint32_t answer = solved.found.empty() ? 0 : solved.found[0];
  fill_instance(puzzle, names, table, solved.solutions, answer, solved.decisions, *task.mutable_knights_knaves());
  render_prompt(rng, puzzle, names, table, shape, reading.natural, unanswerable > 0,
                *task.mutable_prompt());
  task.mutable_label()->assign(solved.solutions == 1 ? "answerable"sv : "unanswerable"sv);
  std::string& answer_text = *task.mutable_answer();
  answer_text.clear();
  if (solved.solutions == 1) append_roles(answer, puzzle.people, table, answer_text);
  else answer_text += kNoUniqueSolution;
  write_trace(solved, puzzle, table, task);
}

namespace {

const std::array<bool, 256> kIdentifierChar = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = canonical::identifier_char(static_cast<char>(c));
  return table;
}();

// q.symbolized(text, names): the same key, with the literal text between names handed over in one
// piece (a Question hashes its literal text as one string whatever the pieces) and a byte table for
// identifier characters.
struct NameViews {
  std::array<std::string_view, kk::kMaxPeople> at;
  int size = 0;
};

void symbolize(std::string_view text, const NameViews& names, canonical::Question& q) {
  size_t piece = 0;  // the start of the literal text not yet handed over
  for (size_t i = 0; i < text.size();) {
    if (!kIdentifierChar[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && kIdentifierChar[static_cast<unsigned char>(text[j])]) ++j;
    const std::string_view word = text.substr(i, j - i);
    for (int k = 0; k < names.size; ++k) {
      const std::string_view name = names.at[k];
      if (name.size() != word.size() || name[0] != word[0] || name != word) continue;
      if (i > piece) q.text(text.substr(piece, i - piece));
      q.symbol(k);
      piece = j;
      break;
    }
    i = j;
  }
  if (text.size() > piece) q.text(text.substr(piece));
}

}  // namespace

// The puzzle up to the islanders' names and the order they speak in.
std::string KnightsKnavesGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.knights_knaves();
  thread_local canonical::Question q;  // reused: no allocation per key
  q.clear();
  NameViews names;
  // Past kMaxPeople names (no generated task has them) a name is matched as q.symbolized would.
  if (inst.people_size() > kk::kMaxPeople) {
    for (const auto& st : inst.statements()) {
      q.statement();
      q.symbolized(st.speaker(), inst.people());
      q.text(": ");
      q.symbolized(st.formula(), inst.people());
    }
  } else {
    for (const auto& name : inst.people()) names.at[names.size++] = name;
    for (const auto& st : inst.statements()) {
      q.statement();
      symbolize(st.speaker(), names, q);
      q.text(": ");
      symbolize(st.formula(), names, q);
    }
  }
  std::string key = task.family();
  key += '|';
  key += q.key();
  return key;
}

// generate() draws the target first: no unique solution (unanswerable) with probability `unanswerable`.
std::map<std::string, double> KnightsKnavesGenerator::label_shares(const Knobs& knobs) const {
  const double u = knobs.get_real("unanswerable");
  return {{"answerable", 1 - u}, {"unanswerable", u}};
}

namespace generators {
const Generator& knights_knaves() {
  static const KnightsKnavesGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
