#include "solvers/fol_logic.h"

#include "tasks/concat.h"

#include <algorithm>
#include <cctype>

namespace verity::fol {

FormulaPtr atom(int pred, int arg) {
  auto f = std::make_shared<Formula>();
  f->kind = Kind::Atom;
  f->pred = pred;
  f->arg = arg;
  return f;
}
// One operand: negation and the quantifiers (whose operand is the body over the variable x).
static FormulaPtr unary(Kind kind, FormulaPtr operand) {
  auto f = std::make_shared<Formula>();
  f->kind = kind;
  f->a = std::move(operand);
  return f;
}
FormulaPtr negate(FormulaPtr f) { return unary(Kind::Not, std::move(f)); }
FormulaPtr neg(const FormulaPtr& f) { return f->kind == Kind::Not ? f->a : negate(f); }
FormulaPtr binary(Kind kind, FormulaPtr l, FormulaPtr r) {
  auto f = std::make_shared<Formula>();
  f->kind = kind;
  f->a = std::move(l);
  f->b = std::move(r);
  return f;
}
FormulaPtr forall(FormulaPtr body) { return unary(Kind::Forall, std::move(body)); }
FormulaPtr exists(FormulaPtr body) { return unary(Kind::Exists, std::move(body)); }

bool equal(const Formula& x, const Formula& y) {
  if (x.kind != y.kind) return false;
  if (x.kind == Kind::Atom) return x.pred == y.pred && x.arg == y.arg;
  if (!equal(*x.a, *y.a)) return false;
  return !x.b || equal(*x.b, *y.b);
}

int size(const Formula& f) {
  if (f.kind == Kind::Atom) return 1;
  return 1 + size(*f.a) + (f.b ? size(*f.b) : 0);
}
bool is_literal(const Formula& f) { return f.kind == Kind::Atom || (f.kind == Kind::Not && f.a->kind == Kind::Atom); }
bool is_quantified(const Formula& f) { return f.kind == Kind::Forall || f.kind == Kind::Exists; }

FormulaPtr substitute(const FormulaPtr& f, int from, int to) {
  if (f->kind == Kind::Atom) return f->arg == from ? atom(f->pred, to) : f;
  auto copy = std::make_shared<Formula>(*f);
  copy->a = substitute(f->a, from, to);
  if (f->b) copy->b = substitute(f->b, from, to);
  return copy;
}

namespace {
void collect(const Formula& f, std::vector<int>& consts, std::vector<int>& preds) {
  if (f.kind == Kind::Atom) {
    if (f.arg != kVariable) consts.push_back(f.arg);
    preds.push_back(f.pred);
    return;
  }
  collect(*f.a, consts, preds);
  if (f.b) collect(*f.b, consts, preds);
}
std::vector<int> unique_sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}
}  // namespace

std::vector<int> constants_of(const Formula& f) {
  std::vector<int> c, p;
  collect(f, c, p);
  return unique_sorted(c);
}
std::vector<int> predicates_of(const Formula& f) {
  std::vector<int> c, p;
  collect(f, c, p);
  return unique_sorted(p);
}

// ---------------------------------------------------------------------------------------------
// Printing.
// ---------------------------------------------------------------------------------------------
namespace {

bool is_binary(const Formula& f) { return f.kind == Kind::And || f.kind == Kind::Or || f.kind == Kind::Implies; }

std::string symbolic(const Formula& f, const Vocabulary& v) {
  auto operand = [&](const Formula& g) { return is_binary(g) ? concat("(", symbolic(g, v), ")") : symbolic(g, v); };
  switch (f.kind) {
    case Kind::Atom: return v.predicates[f.pred] + "(" + (f.arg == kVariable ? "x" : v.constants[f.arg]) + ")";
    case Kind::Not: return concat("~", operand(*f.a));
    case Kind::And: return operand(*f.a) + " & " + operand(*f.b);
    case Kind::Or: return operand(*f.a) + " | " + operand(*f.b);
    case Kind::Implies: return operand(*f.a) + " -> " + operand(*f.b);
    case Kind::Forall: return "forall x: " + symbolic(*f.a, v);
    case Kind::Exists: return "exists x: " + symbolic(*f.a, v);
  }
  return "";
}

std::string subject(int arg, const Vocabulary& v) {
  if (arg == kVariable) return "it";
  std::string name = v.constants[arg];
  if (!name.empty() && name[0] >= 'a' && name[0] <= 'z') name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

std::string natural(const Formula& f, const Vocabulary& v) {
  // A negated compound is bracketed too: "it is not the case that (A or B) and C" also reads as the
  // negation of the whole conjunction.
  auto operand = [&](const Formula& g) {
    const bool compound = is_binary(g) || (g.kind == Kind::Not && g.a->kind != Kind::Atom);
    return compound ? concat("(", natural(g, v), ")") : natural(g, v);
  };
  switch (f.kind) {
    case Kind::Atom: return subject(f.arg, v) + " is " + v.predicates[f.pred];
    case Kind::Not:
      if (f.a->kind == Kind::Atom) return subject(f.a->arg, v) + " is not " + v.predicates[f.a->pred];
      return "it is not the case that (" + natural(*f.a, v) + ")";
    case Kind::And: return operand(*f.a) + " and " + operand(*f.b);
    case Kind::Or: return operand(*f.a) + " or " + operand(*f.b);
    case Kind::Implies: return "if " + operand(*f.a) + " then " + operand(*f.b);
    case Kind::Forall: return "for every thing, " + natural(*f.a, v);
    case Kind::Exists: return "there is something such that " + natural(*f.a, v);
  }
  return "";
}

// "red" / "not red" of a literal about x.
std::string adjective(const Formula& lit, const Vocabulary& v) {
  return lit.kind == Kind::Not ? "not " + v.predicates[lit.a->pred] : v.predicates[lit.pred];
}

}  // namespace

std::string to_symbolic(const Formula& f, const Vocabulary& v) { return symbolic(f, v); }

std::string to_natural(const Formula& f, const Vocabulary& v, size_t variant) {
  std::string s;
  if (f.kind == Kind::Forall && variant % 2 == 1 && f.a->kind == Kind::Implies && f.a->a->kind == Kind::Atom &&
      is_literal(*f.a->b))
    s = "everything that is " + adjective(*f.a->a, v) + " is " + adjective(*f.a->b, v);
  else if (f.kind == Kind::Exists && variant % 2 == 1)
    s = "there exists something such that " + natural(*f.a, v);
  else
    s = natural(f, v);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// ---------------------------------------------------------------------------------------------
// Parsing: one recursive-descent parser for both surface syntaxes (their tokens do not overlap).
// ---------------------------------------------------------------------------------------------
namespace {

constexpr int kMaxDepth = 64;

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Words lower-cased; operators mapped to ASCII ("¬" "!" -> "~", "∧" -> "&", "→" -> "->", "∀" -> "forall").
std::optional<std::vector<std::string>> tokenize(std::string_view s, std::string& error) {
  static const std::vector<std::pair<std::string, std::string>> kSymbols = {
      {"\xC2\xAC", "~"}, {"\xE2\x88\xA7", "&"}, {"\xE2\x88\xA8", "|"}, {"\xE2\x86\x92", "->"},
      {"\xE2\x88\x80", "forall"}, {"\xE2\x88\x83", "exists"}, {"->", "->"}, {"!", "~"}};
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { ++i; continue; }
    if (word_char(c)) {
      size_t end = i;
      std::string w;
      while (end < s.size() && word_char(s[end])) w += static_cast<char>(std::tolower(static_cast<unsigned char>(s[end++])));
      out.push_back(std::move(w));
      i = end;
      continue;
    }
    bool matched = false;
    for (const auto& [from, to] : kSymbols)
      if (s.substr(i, from.size()) == from) {
        out.push_back(to);
        i += from.size();
        matched = true;
        break;
      }
    if (matched) continue;
    if (std::string_view("()~&|,:.").find(c) != std::string_view::npos) {
      out.push_back(std::string(1, c));
      ++i;
      continue;
    }
    error = "unexpected character at offset " + std::to_string(i);
    return std::nullopt;
  }
  while (!out.empty() && out.back() == ".") out.pop_back();  // a sentence's final period
  return out;
}

class Parser {
 public:
  Parser(std::vector<std::string> tokens, const Vocabulary& v) : t_(std::move(tokens)), v_(v) {}

  FormulaPtr sentence() {
    FormulaPtr f = quantified();
    if (!f && error_.empty()) {
      var_ = false;
      f = formula();
    }
    if (f && pos_ != t_.size()) return fail("unexpected '" + t_[pos_].substr(0, 40) + "' after the statement");
    return f;
  }
  const std::string& error() const { return error_; }

 private:
  FormulaPtr fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return nullptr;
  }
  bool peek(std::initializer_list<const char*> words) const {
    size_t k = pos_;
    for (const char* w : words) {
      if (k >= t_.size() || t_[k] != w) return false;
      ++k;
    }
    return true;
  }
  bool accept(std::initializer_list<const char*> words) {
    if (!peek(words)) return false;
    pos_ += words.size();
    return true;
  }

  // A statement with a leading quantifier, or null (and no error) when there is none.
  FormulaPtr quantified() {
    var_ = true;
    if (accept({"forall", "x"}) || accept({"for", "every", "thing"}) || accept({"for", "everything"}) ||
        accept({"for", "all", "x"})) {
      accept({":"}) || accept({","});
      FormulaPtr body = formula();
      return body ? forall(body) : nullptr;
    }
    if (accept({"exists", "x"}) || accept({"there", "is", "something", "such", "that"}) ||
        accept({"there", "exists", "something", "such", "that"})) {
      accept({":"}) || accept({","});
      FormulaPtr body = formula();
      return body ? exists(body) : nullptr;
    }
    if (accept({"everything", "that", "is"})) {  // everything that is [not] P is [not] Q
      FormulaPtr lhs = adjective_literal();
      if (!lhs) return nullptr;
      if (!accept({"is"})) return fail("expected 'is' in 'everything that is ... is ...'");
      FormulaPtr rhs = adjective_literal();
      return rhs ? forall(binary(Kind::Implies, lhs, rhs)) : nullptr;
    }
    return nullptr;
  }

  FormulaPtr formula() {
    if (accept({"if"})) {
      FormulaPtr a = unary();
      if (!a) return nullptr;
      if (!accept({"then"})) return fail("expected 'then' after 'if ...'");
      FormulaPtr b = unary();
      return b ? binary(Kind::Implies, a, b) : nullptr;
    }
    FormulaPtr a = unary();
    if (!a || pos_ >= t_.size()) return a;
    Kind k;
    if (t_[pos_] == "&" || t_[pos_] == "and") k = Kind::And;
    else if (t_[pos_] == "|" || t_[pos_] == "or") k = Kind::Or;
    else if (t_[pos_] == "->") k = Kind::Implies;
    else return a;
    ++pos_;
    FormulaPtr b = unary();
    return b ? binary(k, a, b) : nullptr;
  }

  FormulaPtr unary() {
    if (++depth_ > kMaxDepth) return fail("nested too deeply");
    FormulaPtr f;
    if (accept({"("})) {
      f = formula();
      if (f && !accept({")"})) f = fail("missing ')'");
    } else if (accept({"~"}) || accept({"it", "is", "not", "the", "case", "that"}) || accept({"not"})) {
      FormulaPtr inner = unary();
      f = inner ? negate(inner) : nullptr;
    } else {
      f = literal();
    }
    --depth_;
    return f;
  }

  std::optional<int> lookup(const std::vector<std::string>& names, const std::string& w) const {
    const auto it = std::find(names.begin(), names.end(), w);
    if (it == names.end()) return std::nullopt;
    return static_cast<int>(it - names.begin());
  }

  // x / it (inside a quantifier) or a constant.
  std::optional<int> term(const std::string& w) {
    if (var_ && (w == "x" || w == "it")) return kVariable;
    if (auto c = lookup(v_.constants, w)) return *c;
    fail("unknown individual '" + w.substr(0, 40) + "'");
    return std::nullopt;
  }

  // "[not] P" about x, in "everything that is ... is ...".
  FormulaPtr adjective_literal() {
    const bool negated = accept({"not"});
    if (pos_ >= t_.size()) return fail("expected a predicate");
    const auto p = lookup(v_.predicates, t_[pos_]);
    if (!p) return fail("unknown predicate '" + t_[pos_].substr(0, 40) + "'");
    ++pos_;
    FormulaPtr a = atom(*p, kVariable);
    return negated ? negate(a) : a;
  }

  // P(t) or "t is [not] P".
  FormulaPtr literal() {
    if (pos_ >= t_.size()) return fail("the statement ends too early");
    const std::string w = t_[pos_++];
    if (accept({"("})) {
      const auto p = lookup(v_.predicates, w);
      if (!p) return fail("unknown predicate '" + w.substr(0, 40) + "'");
      if (pos_ >= t_.size()) return fail("the statement ends too early");
      const auto arg = term(t_[pos_++]);
      if (!arg) return nullptr;
      if (!accept({")"})) return fail("missing ')' after the argument");
      return atom(*p, *arg);
    }
    const auto arg = term(w);
    if (!arg) return nullptr;
    if (!accept({"is"})) return fail("expected 'is' after '" + w.substr(0, 40) + "'");
    FormulaPtr a = adjective_literal();
    if (a && a->kind == Kind::Not) return negate(atom(a->a->pred, *arg));
    return a ? atom(a->pred, *arg) : nullptr;
  }

  std::vector<std::string> t_;
  const Vocabulary& v_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool var_ = false;
  std::string error_;
};

}  // namespace

ParseResult parse(std::string_view text, const Vocabulary& v) {
  ParseResult r;
  if (text.size() > kMaxStatementChars) {
    r.error = "statement longer than " + std::to_string(kMaxStatementChars) + " characters";
    return r;
  }
  auto tokens = tokenize(text, r.error);
  if (!tokens) return r;
  if (tokens->empty()) {
    r.error = "empty statement";
    return r;
  }
  Parser p(std::move(*tokens), v);
  r.formula = p.sentence();
  if (!r.formula) r.error = p.error().empty() ? "cannot read the statement" : p.error();
  return r;
}

}  // namespace verity::fol

namespace verity {

FolParsed parse_fol_instance(const pb::FolDeductionInstance& inst) {
  FolParsed p;
  p.vocabulary.predicates.assign(inst.predicates().begin(), inst.predicates().end());
  p.vocabulary.constants.assign(inst.constants().begin(), inst.constants().end());
  for (const auto& f : inst.facts()) p.facts.push_back(fol::parse(f, p.vocabulary).formula);
  p.hypothesis = fol::parse(inst.hypothesis(), p.vocabulary).formula;
  return p;
}

}  // namespace verity
