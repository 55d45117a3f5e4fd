#include "solvers/knights_knaves_logic.h"

#include <bit>
#include <cctype>
#include <stdexcept>

namespace verity::kk {

uint16_t Formula::people() const {
  uint16_t mask = 0;
  for (int i = 0; i < size; ++i) {
    const Node& n = nodes[i];
    if (n.op == Op::Knight || n.op == Op::Knave) mask |= static_cast<uint16_t>(1u << n.person);
    if (n.op == Op::Exactly) mask |= n.group;
  }
  return mask;
}

int Formula::depth() const {
  std::array<int, kMaxNodes> d{};
  for (int i = 0; i < size; ++i) {
    const Node& n = nodes[i];
    if (n.op == Op::Not) d[i] = d[n.left];  // a negation adds no nesting a reader must track
    else if (n.left >= 0) d[i] = 1 + std::max(d[n.left], d[n.right]);
    else d[i] = 0;
  }
  return size ? d[size - 1] : 0;
}

namespace {

int knights_counted(const Node& n) { return n.counts_knaves ? std::popcount(n.group) - n.count : n.count; }

// The evaluators read a node's operands from one array of values: a child at its node index, a
// leaf's person at kPersonSlot + person, a missing operand at kZeroSlot (always 0). With each
// operator's truth table below, a node costs a lookup whatever its operator: no branch on it, which
// the generator's many small evaluations would mispredict.
constexpr int kPersonSlot = kMaxNodes, kZeroSlot = kMaxNodes + kMaxPeople, kSlots = kZeroSlot + 1;
int left_slot(const Node& n) { return n.left >= 0 ? n.left : n.op == Op::Exactly ? kZeroSlot : kPersonSlot + n.person; }
int right_slot(const Node& n) { return n.right >= 0 ? n.right : kZeroSlot; }

// Each operator's truth table on (left, right): bit 2 * left + right. A leaf's left operand is its
// person (Knight: that value, Knave: its negation); Exactly is evaluated apart (0 here).
constexpr uint8_t kOpTruth[] = {0xC /*Knight*/, 0x3 /*Knave*/, 0x3 /*Not*/, 0x8 /*And*/, 0xE /*Or*/,
                                0xB /*Implies*/, 0x9 /*Iff*/, 0x0 /*Exactly*/};
static_assert(static_cast<int>(Op::Exactly) == 7, "kOpTruth follows the order of Op");

uint8_t op_truth(const Node& n) { return kOpTruth[static_cast<int>(n.op)]; }

}  // namespace

bool evaluate(const Formula& f, uint32_t assignment) {
  if (f.size == 0) return false;
  std::array<uint8_t, kSlots> v;
  for (int q = 0; q < kMaxPeople; ++q) v[kPersonSlot + q] = (assignment >> q) & 1u;
  v[kZeroSlot] = 0;
  for (int i = 0; i < f.size; ++i) {
    const Node& n = f.nodes[i];
    v[i] = n.op == Op::Exactly ? std::popcount(assignment & n.group) == knights_counted(n)
                               : (op_truth(n) >> (2 * v[left_slot(n)] + v[right_slot(n)])) & 1u;
  }
  return v[f.root()];
}

bool consistent(const Puzzle& p, uint32_t assignment) {
  for (const Statement& s : p.statements)
    if (evaluate(s.formula, assignment) != is_knight(assignment, s.speaker)) return false;
  return true;
}

// ---- truth tables: bit a of the table = truth under assignment a ----

namespace {

constexpr int kMaxWords = (1 << kMaxTablePeople) / 64;
using Table = std::array<uint64_t, kMaxWords>;

constexpr uint64_t kLowProjections[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                         0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};

int words_for(int people) { return people <= 6 ? 1 : 1 << (people - 6); }
uint64_t valid_mask(int people) { return people >= 6 ? ~0ull : (1ull << (1u << people)) - 1; }

uint64_t knight_word(int person, int word) {
  if (person < 6) return kLowProjections[person];
  return ((word >> (person - 6)) & 1) ? ~0ull : 0ull;
}

// Bit-sliced counting: slice[b] holds bit b of "knights in the group" for 64 assignments at once,
// so a word of the table costs a few word operations per member instead of a popcount per assignment.
uint64_t exactly_word(const Node& n, int w) {
  const int want = knights_counted(n);
  uint64_t slice[5] = {0, 0, 0, 0, 0};  // counts up to 31 >= kMaxPeople
  for (int q = 0; q < kMaxPeople; ++q) {
    if (!((n.group >> q) & 1u)) continue;
    uint64_t carry = knight_word(q, w);
    for (uint64_t& bit : slice) {
      const uint64_t sum = bit ^ carry;
      carry &= bit;
      bit = sum;
    }
  }
  uint64_t equal = ~0ull;
  for (int b = 0; b < 5; ++b) equal &= ((want >> b) & 1) ? slice[b] : ~slice[b];
  return equal;
}

// Each operator's truth table (kOpTruth) in algebraic normal form, as word masks: f(l, r) =
// c[0] ^ (c[1] & l) ^ (c[2] & r) ^ (c[3] & l & r), so a node costs a few word operations.
struct Anf {
  uint64_t c[4];
};
constexpr Anf anf(uint8_t truth) {
  const auto f = [truth](int l, int r) { return (truth >> (2 * l + r)) & 1u; };
  const auto mask = [](unsigned bit) { return bit ? ~uint64_t{0} : uint64_t{0}; };
  return {{mask(f(0, 0)), mask(f(1, 0) ^ f(0, 0)), mask(f(0, 1) ^ f(0, 0)), mask(f(0, 0) ^ f(0, 1) ^ f(1, 0) ^ f(1, 1))}};
}
constexpr Anf kOpAnf[] = {anf(kOpTruth[0]), anf(kOpTruth[1]), anf(kOpTruth[2]), anf(kOpTruth[3]),
                          anf(kOpTruth[4]), anf(kOpTruth[5]), anf(kOpTruth[6]), anf(kOpTruth[7])};

// An operator's truth table applied to 64 assignments at once.
uint64_t apply(Op op, uint64_t l, uint64_t r) {
  const Anf& a = kOpAnf[static_cast<int>(op)];
  return a.c[0] ^ (a.c[1] & l) ^ (a.c[2] & r) ^ (a.c[3] & l & r);
}

// The formula's truth table, 64 assignments (one word) at a time, node by node in post-order.
void formula_table(const Formula& f, int words, uint64_t* out) {
  std::array<uint64_t, kSlots> v;
  v[kZeroSlot] = 0;
  for (int q = 0; q < 6; ++q) v[kPersonSlot + q] = kLowProjections[q];  // the same in every word
  for (int q = 6; q < kMaxPeople; ++q) v[kPersonSlot + q] = 0;          // word 0: all knaves
  for (int w = 0; w < words; ++w) {
    if (w > 0)
      for (int q = 6; q < kMaxPeople; ++q) v[kPersonSlot + q] = knight_word(q, w);
    for (int i = 0; i < f.size; ++i) {
      const Node& n = f.nodes[i];
      v[i] = n.op == Op::Exactly ? exactly_word(n, w) : apply(n.op, v[left_slot(n)], v[right_slot(n)]);
    }
    out[w] = f.size > 0 ? v[f.root()] : 0;
  }
}

}  // namespace

int table_words(int people) { return words_for(people); }

void consistency_table(const Statement& s, int people, uint64_t* out) {
  const int words = words_for(people);
  formula_table(s.formula, words, out);
  // Consistent = the speaker is a knight exactly when the statement is true.
  for (int w = 0; w < words; ++w) out[w] = ~(knight_word(s.speaker, w) ^ out[w]);
  out[0] &= valid_mask(people);
}

int count_in_tables(const uint64_t* const* tables, int count, int people, int limit, uint32_t* first) {
  const int words = words_for(people);
  int found = 0;
  for (int w = 0; w < words && found < limit; ++w) {
    uint64_t all = valid_mask(people);
    for (int i = 0; i < count; ++i) all &= tables[i][w];
    if (all && found == 0 && first) *first = static_cast<uint32_t>(w * 64 + std::countr_zero(all));
    found += std::popcount(all);
  }
  return std::min(found, limit);
}

int count_by_tables(const Puzzle& p, int limit, uint32_t* first) {
  if (p.people > kMaxTablePeople)
    throw std::invalid_argument("knights_knaves: truth tables hold at most " + std::to_string(kMaxTablePeople) +
                                " people");
  const int words = words_for(p.people);
  Table total, one;
  for (int w = 0; w < words; ++w) total[w] = ~0ull;
  for (const Statement& s : p.statements) {
    consistency_table(s, p.people, one.data());
    for (int w = 0; w < words; ++w) total[w] &= one[w];
  }
  const uint64_t* rows[] = {total.data()};
  return count_in_tables(rows, 1, p.people, limit, first);
}

int count_solutions(const Puzzle& p, int limit, uint32_t* first) {
  if (p.people <= kMaxTablePeople) return count_by_tables(p, limit, first);
  const SolveResult r = solve(p, limit, false);
  if (first && !r.found.empty()) *first = r.found.front();
  return r.solutions;
}

// ---- three-valued evaluation and the backtracking solver ----

namespace {

Truth eval3(const Formula& f, uint32_t known, uint32_t knights) {
  std::array<Truth, kMaxNodes> v;
  for (int i = 0; i < f.size; ++i) {
    const Node& n = f.nodes[i];
    const Truth l = n.left >= 0 ? v[n.left] : Unknown, r = n.right >= 0 ? v[n.right] : Unknown;
    switch (n.op) {
      case Op::Knight:
      case Op::Knave:
        if (!((known >> n.person) & 1u)) v[i] = Unknown;
        else v[i] = (is_knight(knights, n.person) == (n.op == Op::Knight)) ? True : False;
        break;
      case Op::Not: v[i] = l == Unknown ? Unknown : l == True ? False : True; break;
      case Op::And: v[i] = (l == False || r == False) ? False : (l == True && r == True) ? True : Unknown; break;
      case Op::Or: v[i] = (l == True || r == True) ? True : (l == False && r == False) ? False : Unknown; break;
      case Op::Implies: v[i] = (l == False || r == True) ? True : (l == True && r == False) ? False : Unknown; break;
      case Op::Iff: v[i] = (l == Unknown || r == Unknown) ? Unknown : (l == r) ? True : False; break;
      case Op::Exactly: {
        const int want = knights_counted(n);
        const int sure = std::popcount(knights & known & n.group);
        const int open = std::popcount(~known & n.group & 0xFFFFu);
        v[i] = (sure > want || sure + open < want) ? False : open == 0 ? True : Unknown;
        break;
      }
    }
  }
  return f.size ? v[f.root()] : Unknown;
}

// The solver's working vectors, kept per thread: a search then allocates nothing once they have grown.
struct Scratch {
  std::vector<uint32_t> mentions, seen;
  std::vector<uint64_t> tables;
  std::vector<const uint64_t*> rows;
};

class Search {
 public:
  Search(const Puzzle& p, int limit, bool record, SolveResult& out, const uint64_t* const* tables, Scratch& scratch)
      : p_(p), limit_(limit), record_(record), out_(out), all_((1u << p.people) - 1), mentions_(scratch.mentions),
        seen_(scratch.seen), rows_(scratch.rows) {
    const size_t n = p.statements.size();
    mentions_.clear();
    for (const Statement& s : p.statements) mentions_.push_back(s.formula.people() | (1u << s.speaker));
    seen_.resize(n);
    rows_.clear();
    if (p.people <= kMaxTablePeople) {
      words_ = words_for(p.people);
      if (tables) {
        rows_.assign(tables, tables + n);
      } else {
        scratch.tables.resize(n * static_cast<size_t>(words_));
        for (size_t i = 0; i < n; ++i) {
          consistency_table(p.statements[i], p.people, &scratch.tables[i * words_]);
          rows_.push_back(&scratch.tables[i * words_]);
        }
      }
    }
  }
  void run() { dfs(0, 0, Branch{}); }

 private:
  struct Branch {
    int depth = 0;
    uint32_t path = 0;
  };
  void step(SolveStep::Kind kind, int statement, int person, bool knight, Branch at, uint32_t known = 0,
            uint32_t knights = 0) {
    if (record_) out_.steps.push_back({kind, statement, person, knight, at.depth, at.path, known, knights});
  }

  // Is statement i consistent with an assignment that decides everyone it mentions (its speaker
  // included)? Three-valued evaluation is two-valued there, so its consistency table answers when
  // there is one: a bit lookup instead of a walk of the formula (this is most of the solver's calls).
  bool fits(int i, uint32_t known, uint32_t knights) const {
    if (words_ > 0) return (rows_[i][knights >> 6] >> (knights & 63)) & 1u;
    const Truth t = eval3(p_.statements[i].formula, known, knights);
    return t != Unknown && (t == True) == is_knight(knights, p_.statements[i].speaker);
  }

  // Statement i's three-valued truth. Where tables hold the statements, one whose truth still varies
  // among the completions of the decided people is Unknown without evaluating: three-valued
  // evaluation is sound, so it could only say Unknown there too. The completions are the words whose
  // index agrees with the decided people from the seventh on, and within them the bits that agree
  // with the first six.
  Truth truth(int i, uint32_t known, uint32_t knights) const {
    if (words_ > 0) {
      const uint32_t decided = mentions_[i] & known;
      uint64_t low = valid_mask(p_.people);
      for (uint32_t rest = decided & 0x3Fu; rest; rest &= rest - 1) {
        const int q = std::countr_zero(rest);
        low &= is_knight(knights, q) ? kLowProjections[q] : ~kLowProjections[q];
      }
      const uint32_t high_decided = decided >> 6, high_knights = (knights >> 6) & high_decided;
      const int speaker = p_.statements[i].speaker;
      uint64_t seen_true = 0, seen_false = 0;
      for (int w = 0; w < words_; ++w) {
        if ((static_cast<uint32_t>(w) & high_decided) != high_knights) continue;
        // consistency = (speaker is a knight) == (statement true), so truth = speaker's column xnor it
        const uint64_t true_at = ~(knight_word(speaker, w) ^ rows_[i][w]);
        seen_true |= true_at & low;
        seen_false |= ~true_at & low;
        if (seen_true != 0 && seen_false != 0) return Unknown;
      }
    }
    return eval3(p_.statements[i].formula, known, knights);
  }

  // Applies every forced consequence; false (after recording why) on a contradiction.
  bool propagate(uint32_t& known, uint32_t& knights, Branch at) {
    // A statement whose people's decided part has not changed since it was last looked at in this
    // call cannot yield anything new: skip it.
    std::fill(seen_.begin(), seen_.end(), ~0u);
    for (bool changed = true; changed;) {
      changed = false;
      for (int i = 0; i < static_cast<int>(p_.statements.size()); ++i) {
        if ((mentions_[i] & known) == seen_[i]) continue;
        seen_[i] = mentions_[i] & known;
        const uint32_t open = mentions_[i] & ~known;
        if (open == 0) {
          if (fits(i, known, knights)) continue;
          step(SolveStep::Kind::Contradiction, i, -1, false, at, known, knights);
          return false;
        }
        const int speaker = p_.statements[i].speaker;
        const Truth t = truth(i, known, knights);
        if (t != Unknown && ((known >> speaker) & 1u) && (t == True) != is_knight(knights, speaker)) {
          step(SolveStep::Kind::Contradiction, i, -1, false, at, known, knights);
          return false;
        }
        if (t != Unknown && !((known >> speaker) & 1u)) {  // the statement's truth decides its speaker
          known |= 1u << speaker;
          if (t == True) knights |= 1u << speaker;
          step(SolveStep::Kind::Forced, i, speaker, t == True, at, known, knights);
          changed = true;
          continue;
        }
        if (std::popcount(open) != 1) continue;
        const int q = std::countr_zero(open);
        const uint32_t bit = 1u << q;
        const bool as_knight = fits(i, known | bit, knights | bit), as_knave = fits(i, known | bit, knights);
        if (!as_knight && !as_knave) {
          step(SolveStep::Kind::Contradiction, i, q, false, at, known, knights);
          return false;
        }
        if (as_knight && as_knave) continue;
        known |= bit;
        if (as_knight) knights |= bit;
        step(SolveStep::Kind::Forced, i, q, as_knight, at, known, knights);
        changed = true;
      }
    }
    return true;
  }

  void dfs(uint32_t known, uint32_t knights, Branch at) {
    if (out_.solutions >= limit_) return;
    if (!propagate(known, knights, at)) return;
    if (known == all_) {
      ++out_.solutions;
      if (out_.found.size() < 2) out_.found.push_back(knights);
      step(SolveStep::Kind::Solution, -1, -1, false, at, known, knights);
      return;
    }
    const int q = std::countr_zero(~known & all_);
    ++out_.decisions;
    for (int branch = 0; branch < 2 && out_.solutions < limit_; ++branch) {
      const bool knight = branch == 0;
      const Branch next{at.depth + 1, at.path | (knight ? 0u : 1u << at.depth)};
      step(SolveStep::Kind::Assume, -1, q, knight, next);
      dfs(known | (1u << q), knight ? knights | (1u << q) : knights, next);
    }
  }

  const Puzzle& p_;
  const int limit_;
  const bool record_;
  SolveResult& out_;
  const uint32_t all_;
  std::vector<uint32_t>& mentions_;
  std::vector<uint32_t>& seen_;
  int words_ = 0;                      // per consistency table, when the people fit in tables
  std::vector<const uint64_t*>& rows_;  // statement i's table; empty beyond kMaxTablePeople
};

}  // namespace

Truth evaluate_partial(const Formula& f, uint32_t known, uint32_t knights) { return eval3(f, known, knights); }

void append_case_name(const SolveStep& step, std::string& out) {
  for (int d = 0; d < step.depth; ++d) {
    if (d) out += '.';
    out += ((step.path >> d) & 1u) ? '2' : '1';
  }
}

SolveResult solve(const Puzzle& p, int limit, bool record_steps) {
  SolveResult result;
  solve(p, limit, record_steps, result);
  return result;
}

void solve(const Puzzle& p, int limit, bool record_steps, SolveResult& out, const uint64_t* const* tables) {
  thread_local Scratch scratch;
  out.solutions = 0;
  out.found.clear();
  out.decisions = 0;
  out.steps.clear();
  if (record_steps) out.steps.reserve(64);
  Search(p, limit, record_steps, out, tables, scratch).run();
}

// ---- symbolic syntax ----

namespace {

bool compound(const Node& n) { return n.op == Op::And || n.op == Op::Or || n.op == Op::Implies || n.op == Op::Iff; }

void print(const Formula& f, int i, const std::vector<std::string>& names, std::string& out) {
  const Node& n = f.nodes[i];
  auto operand = [&](int child) {
    const bool wrap = compound(f.nodes[child]);
    if (wrap) out += '(';
    print(f, child, names, out);
    if (wrap) out += ')';
  };
  switch (n.op) {
    case Op::Knight: out += names[n.person]; return;
    case Op::Knave: out += '~'; out += names[n.person]; return;
    case Op::Not: out += '~'; operand(n.left); return;
    case Op::Exactly: {  // appended piece by piece: printing is per statement of every task
      out += std::string_view("exactly");
      const int k = knights_counted(n);  // at most kMaxPeople
      if (k >= 10) out += static_cast<char>('0' + k / 10);
      out += static_cast<char>('0' + k % 10);
      out += '(';
      bool first = true;
      for (int q = 0; q < kMaxPeople; ++q)
        if ((n.group >> q) & 1u) {
          if (!first) out += std::string_view(", ");
          out += names[q];
          first = false;
        }
      out += ')';
      return;
    }
    default: break;
  }
  static constexpr std::string_view kSymbols[] = {"", "", "", " & ", " | ", " -> ", " <-> "};
  operand(n.left);
  out += kSymbols[static_cast<int>(n.op)];
  operand(n.right);
}

class Parser {
 public:
  Parser(std::string_view text, const std::vector<std::string>& names) : s_(text), names_(names) {}

  std::optional<Formula> run(std::string* error) {
    if (s_.size() > 2048) return fail(error, "formula longer than 2048 bytes");
    const int root = iff(0);
    skip_space();
    if (root >= 0 && pos_ != s_.size()) error_ = "unexpected text at offset " + std::to_string(pos_);
    if (!error_.empty()) return fail(error, error_);
    return f_;
  }

 private:
  static std::optional<Formula> fail(std::string* error, const std::string& why) {
    if (error) *error = why;
    return std::nullopt;
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view token) {
    skip_space();
    if (s_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  int error(const std::string& why) {
    if (error_.empty()) error_ = why + " at offset " + std::to_string(pos_);
    return -1;
  }
  int add(Node n) {
    const int i = f_.add(n);
    return i < 0 ? error("more than " + std::to_string(kMaxNodes) + " nodes") : i;
  }
  int binary(Op op, int l, int r) {
    if (l < 0 || r < 0) return -1;
    Node n;
    n.op = op;
    n.left = static_cast<int8_t>(l);
    n.right = static_cast<int8_t>(r);
    return add(n);
  }
  int iff(int depth) {
    int l = implies(depth);
    while (l >= 0 && eat("<->")) l = binary(Op::Iff, l, implies(depth));
    return l;
  }
  int implies(int depth) {
    const int l = disjunction(depth);
    if (l < 0 || !eat("->")) return l;
    if (depth > 32) return error("nested deeper than 32");
    return binary(Op::Implies, l, implies(depth + 1));
  }
  int disjunction(int depth) {
    int l = conjunction(depth);
    while (l >= 0 && eat("|")) l = binary(Op::Or, l, conjunction(depth));
    return l;
  }
  int conjunction(int depth) {
    int l = unary(depth);
    while (l >= 0 && eat("&")) l = binary(Op::And, l, unary(depth));
    return l;
  }
  std::string_view identifier() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  int person(std::string_view name) {
    for (size_t q = 0; q < names_.size() && q < kMaxPeople; ++q)
      if (names_[q] == name) return static_cast<int>(q);
    return error("unknown name '" + std::string(name.substr(0, 40)) + "'");
  }
  int exactly(std::string_view word) {
    const std::string_view digits = word.substr(7);
    if (digits.empty() || digits.size() > 2) return error("exactly needs a count, e.g. exactly2(...)");
    Node n;
    n.op = Op::Exactly;
    n.count = static_cast<uint8_t>(std::stoi(std::string(digits)));
    if (!eat("(")) return error("expected '('");
    do {
      const int q = person(identifier());
      if (q < 0) return -1;
      n.group |= static_cast<uint16_t>(1u << q);
    } while (eat(","));
    if (!eat(")")) return error("expected ')'");
    if (n.count > std::popcount(n.group)) return error("count larger than the group");
    return add(n);
  }
  int unary(int depth) {
    if (depth > 32) return error("nested deeper than 32");
    if (eat("~")) {
      skip_space();
      const size_t save = pos_;
      const std::string_view word = identifier();
      if (!word.empty() && word.rfind("exactly", 0) != 0) {  // ~name: "is a knave"
        const int q = person(word);
        if (q < 0) return -1;
        Node n;
        n.op = Op::Knave;
        n.person = static_cast<uint8_t>(q);
        return add(n);
      }
      pos_ = save;
      const int inner = unary(depth + 1);
      if (inner < 0) return -1;
      Node n;
      n.op = Op::Not;
      n.left = static_cast<int8_t>(inner);
      return add(n);
    }
    if (eat("(")) {
      const int inner = iff(depth + 1);
      if (inner >= 0 && !eat(")")) return error("expected ')'");
      return inner;
    }
    const std::string_view word = identifier();
    if (word.empty()) return error("expected a name, '~' or '('");
    const bool counting = word.size() > 7 && word.rfind("exactly", 0) == 0 &&
                          std::isdigit(static_cast<unsigned char>(word[7]));
    if (counting) return exactly(word);
    const int q = person(word);
    if (q < 0) return -1;
    Node n;
    n.op = Op::Knight;
    n.person = static_cast<uint8_t>(q);
    return add(n);
  }

  std::string_view s_;
  const std::vector<std::string>& names_;
  size_t pos_ = 0;
  Formula f_;
  std::string error_;
};

}  // namespace

std::string to_symbolic(const Formula& f, const std::vector<std::string>& names) {
  std::string out;
  append_symbolic(f, names, out);
  return out;
}

void append_symbolic(const Formula& f, const std::vector<std::string>& names, std::string& out) {
  if (f.size > 0) print(f, f.root(), names, out);
}

std::optional<Formula> parse_symbolic(std::string_view text, const std::vector<std::string>& names,
                                      std::string* error) {
  return Parser(text, names).run(error);
}

}  // namespace verity::kk
