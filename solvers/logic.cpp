#include "solvers/logic.h"

#include <algorithm>
#include <cctype>

namespace verity::logic {

FormulaPtr Formula::variable(int index) {
  auto f = std::make_shared<Formula>();
  f->op = Op::Var;
  f->var = index;
  return f;
}

FormulaPtr Formula::negate(FormulaPtr inner) {
  auto f = std::make_shared<Formula>();
  f->op = Op::Not;
  f->left = std::move(inner);
  return f;
}

FormulaPtr Formula::binary(Op op, FormulaPtr l, FormulaPtr r) {
  auto f = std::make_shared<Formula>();
  f->op = op;
  f->left = std::move(l);
  f->right = std::move(r);
  return f;
}

bool evaluate(const Formula& f, uint64_t a) {
  switch (f.op) {
    case Op::Var: return (a >> f.var) & 1u;
    case Op::Not: return !evaluate(*f.left, a);
    case Op::And: return evaluate(*f.left, a) && evaluate(*f.right, a);
    case Op::Or: return evaluate(*f.left, a) || evaluate(*f.right, a);
    case Op::Implies: return !evaluate(*f.left, a) || evaluate(*f.right, a);
    case Op::Iff: return evaluate(*f.left, a) == evaluate(*f.right, a);
  }
  return false;
}

int depth(const Formula& f) {
  if (f.op == Op::Var) return 0;
  if (f.op == Op::Not) return 1 + depth(*f.left);
  return 1 + std::max(depth(*f.left), depth(*f.right));
}

int size(const Formula& f) {
  if (f.op == Op::Var) return 1;
  if (f.op == Op::Not) return 1 + size(*f.left);
  return 1 + size(*f.left) + size(*f.right);
}

namespace {

void collect(const Formula& f, std::vector<int>& out) {
  if (f.op == Op::Var) out.push_back(f.var);
  if (f.left) collect(*f.left, out);
  if (f.right) collect(*f.right, out);
}

const char* symbol(Op op) {
  switch (op) {
    case Op::And: return " & ";
    case Op::Or: return " | ";
    case Op::Implies: return " -> ";
    case Op::Iff: return " <-> ";
    default: return "";
  }
}

void print_symbolic(const Formula& f, const std::vector<std::string>& names, std::string& out) {
  if (f.op == Op::Var) {
    out += names.at(f.var);
    return;
  }
  auto child = [&](const Formula& c, bool wrap) {
    if (wrap) out += '(';
    print_symbolic(c, names, out);
    if (wrap) out += ')';
  };
  if (f.op == Op::Not) {
    out += '~';
    child(*f.left, f.left->op != Op::Var && f.left->op != Op::Not);
    return;
  }
  // Parenthesise any binary child: unambiguous for readers, not only for the parser.
  child(*f.left, f.left->op != Op::Var && f.left->op != Op::Not);
  out += symbol(f.op);
  child(*f.right, f.right->op != Op::Var && f.right->op != Op::Not);
}

std::string english(const Formula& f, const Phrases& p, bool nested) {
  auto wrap = [&](std::string s) { return nested ? "(" + s + ")" : s; };
  switch (f.op) {
    case Op::Var: return p.positive.at(f.var);
    case Op::Not:
      if (f.left->op == Op::Var) return p.negative.at(f.left->var);
      // In parentheses when it is part of a larger statement: "either it is not the case that (A) or (B)"
      // and "it is not the case that (A) if and only if (B)" also read as the negation of the rest.
      return wrap("it is not the case that " + english(*f.left, p, true));
    case Op::And: return wrap("both " + english(*f.left, p, true) + " and " + english(*f.right, p, true));
    case Op::Or: return wrap("either " + english(*f.left, p, true) + " or " + english(*f.right, p, true));
    case Op::Implies: return wrap("if " + english(*f.left, p, true) + ", then " + english(*f.right, p, true));
    case Op::Iff:
      return wrap(english(*f.left, p, true) + " if and only if " + english(*f.right, p, true));
  }
  return "";
}

class Parser {
 public:
  Parser(std::string_view text, const std::vector<std::string>& names) : text_(text), names_(names) {}

  ParseResult run() {
    ParseResult result;
    if (text_.size() > kMaxBytes) {
      result.error = "formula longer than 4096 bytes";
      return result;
    }
    FormulaPtr f = iff();
    skip_space();
    if (f && pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    // Bound the tree, not only the recursion: `A & A & ... & A` parses in a loop but prints with one
    // parenthesis level per connective, and whatever we accept must print and parse back.
    if (f && error_.empty() && depth(*f) > kMaxDepth) fail("formula nested too deeply (over 64 levels)");
    // Likewise printing adds parentheses: accept only what prints within the input limit.
    if (f && error_.empty() && to_symbolic(*f, names_).size() > kMaxBytes) fail("formula longer than 4096 bytes");
    if (!error_.empty()) {
      result.error = error_ + " at offset " + std::to_string(pos_);
      return result;
    }
    result.formula = f;
    return result;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) == token) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  FormulaPtr fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return nullptr;
  }
  static constexpr int kMaxDepth = 64;
  static constexpr size_t kMaxBytes = 4096;
  // Each tree level costs at most two guarded calls (implies + unary) when printed with parentheses.
  bool too_deep() { return ++nesting_ > 2 * kMaxDepth + 8; }

  FormulaPtr iff() {
    FormulaPtr left = implies();
    while (left && accept("<->")) {
      FormulaPtr right = implies();
      if (!right) return nullptr;
      left = Formula::binary(Op::Iff, left, right);
    }
    return left;
  }
  FormulaPtr implies() {
    if (too_deep()) return fail("formula nested too deeply");
    FormulaPtr left = disjunction();
    if (left && accept("->")) {
      FormulaPtr right = implies();  // right-associative
      if (!right) return nullptr;
      left = Formula::binary(Op::Implies, left, right);
    }
    --nesting_;
    return left;
  }
  FormulaPtr disjunction() {
    FormulaPtr left = conjunction();
    while (left && accept("|")) {
      FormulaPtr right = conjunction();
      if (!right) return nullptr;
      left = Formula::binary(Op::Or, left, right);
    }
    return left;
  }
  FormulaPtr conjunction() {
    FormulaPtr left = unary();
    while (left && accept("&")) {
      FormulaPtr right = unary();
      if (!right) return nullptr;
      left = Formula::binary(Op::And, left, right);
    }
    return left;
  }
  FormulaPtr unary() {
    if (too_deep()) return fail("formula nested too deeply");
    FormulaPtr result;
    if (accept("~")) {
      FormulaPtr inner = unary();
      result = inner ? Formula::negate(inner) : nullptr;
    } else if (accept("(")) {
      result = iff();
      if (result && !accept(")")) result = fail("missing ')'");
    } else {
      result = name();
    }
    --nesting_;
    return result;
  }
  FormulaPtr name() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      ++pos_;
    if (start == pos_) return fail(pos_ < text_.size() ? "expected a variable" : "unexpected end of formula");
    const std::string_view id = text_.substr(start, pos_ - start);
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == id) return Formula::variable(static_cast<int>(i));
    return fail("unknown variable '" + std::string(id) + "'");
  }

  std::string_view text_;
  const std::vector<std::string>& names_;
  size_t pos_ = 0;
  int nesting_ = 0;
  std::string error_;
};

}  // namespace

namespace {

uint64_t used_mask(int num_vars) {
  return num_vars >= 6 ? ~uint64_t{0} : ((uint64_t{1} << (uint64_t{1} << num_vars)) - 1);
}

TruthTable empty_table(int num_vars) {
  TruthTable t;
  t.num_vars = num_vars;
  t.words.assign(num_vars >= 6 ? (size_t{1} << (num_vars - 6)) : 1, 0);
  return t;
}

template <class Fn>
TruthTable combine(const TruthTable& a, const TruthTable& b, Fn fn) {
  TruthTable t = empty_table(a.num_vars);
  for (size_t w = 0; w < t.words.size(); ++w) t.words[w] = fn(a.words[w], b.words[w]);
  t.words.back() &= used_mask(a.num_vars);
  return t;
}

}  // namespace

bool TruthTable::none() const {
  for (uint64_t w : words)
    if (w) return false;
  return true;
}

bool TruthTable::all() const { return (~*this).none(); }

TruthTable& TruthTable::operator&=(const TruthTable& o) {
  for (size_t w = 0; w < words.size(); ++w) words[w] &= o.words[w];
  return *this;
}

TruthTable TruthTable::operator~() const {
  TruthTable t = *this;
  for (auto& w : t.words) w = ~w;
  t.words.back() &= used_mask(num_vars);
  return t;
}

bool TruthTable::intersects(const TruthTable& o) const {
  for (size_t w = 0; w < words.size(); ++w)
    if (words[w] & o.words[w]) return true;
  return false;
}

TruthTable all_true(int num_vars) { return ~empty_table(num_vars); }

TruthTable variable_table(int v, int num_vars) {
  // Bit b of kPattern[v] is bit v of b: the variables that vary within one word.
  static constexpr uint64_t kPattern[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                           0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
  TruthTable t = empty_table(num_vars);
  for (size_t w = 0; w < t.words.size(); ++w)
    t.words[w] = v >= 6 ? (((w >> (v - 6)) & 1u) ? ~uint64_t{0} : 0) : kPattern[v];
  t.words.back() &= used_mask(num_vars);
  return t;
}

TruthTable truth_table(const Formula& f, int num_vars) {
  switch (f.op) {
    case Op::Var: return variable_table(f.var, num_vars);
    case Op::Not: return ~truth_table(*f.left, num_vars);
    default: break;
  }
  const TruthTable l = truth_table(*f.left, num_vars), r = truth_table(*f.right, num_vars);
  switch (f.op) {
    case Op::And: return combine(l, r, [](uint64_t a, uint64_t b) { return a & b; });
    case Op::Or: return combine(l, r, [](uint64_t a, uint64_t b) { return a | b; });
    case Op::Implies: return combine(l, r, [](uint64_t a, uint64_t b) { return ~a | b; });
    default: return combine(l, r, [](uint64_t a, uint64_t b) { return ~(a ^ b); });
  }
}

std::vector<int> variables_of(const Formula& f) {
  std::vector<int> out;
  collect(f, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string to_symbolic(const Formula& f, const std::vector<std::string>& names) {
  std::string out;
  print_symbolic(f, names, out);
  return out;
}

std::string to_english(const Formula& f, const Phrases& phrases) {
  return english(f, phrases, false);
}

ParseResult parse(std::string_view text, const std::vector<std::string>& names) {
  return Parser(text, names).run();
}

}  // namespace verity::logic
