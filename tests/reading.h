// Round-trip reading for the logic families' tests: an all-readings chart parser written for the tests,
// independent of the renderers. A grammar is a list of sentence templates ("both {} and {}") and a
// leaf reader (a clause, an atom); `Grammar::read` returns EVERY reading of a token span, so a test
// can require exactly one reading per sentence and compare it with the stored instance. Readings are
// strings in a prefix syntax the tests choose (e.g. "and(v0,not(v1))"); an empty string from a
// template's builder means "no reading" (say, mismatched subjects).
#pragma once
#include <algorithm>
#include <cctype>
#include <functional>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace verity::testing::reading {

using Tokens = std::vector<std::string>;
using Readings = std::set<std::string>;

// Lower-cased words; each of ( ) , ; : . ? and the operators ~ & | -> <-> = != < + - is its own token.
inline Tokens tokenize(const std::string& text) {
  static const std::vector<std::string> kOperators = {"<->", "->", "!=", "~", "&", "|", "(", ")", ",", ";",
                                                      ":",   ".",  "?",  "=", "<", "+", "-"};
  Tokens out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    if (std::isalnum(c) || c == '_' || c == '\'') {
      size_t j = i;
      std::string word;
      // A hyphen inside a word ("left-handed") stays in it.
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' || text[j] == '\'' ||
                                 (text[j] == '-' && j > i && j + 1 < text.size() &&
                                  std::isalpha(static_cast<unsigned char>(text[j + 1])))))
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(text[j++])));
      out.push_back(word);
      i = j;
      continue;
    }
    bool matched = false;
    for (const auto& op : kOperators)
      if (text.compare(i, op.size(), op) == 0) {
        out.push_back(op);
        i += op.size();
        matched = true;
        break;
      }
    if (!matched) out.push_back(std::string(1, text[i++]));  // anything else: a token no template accepts
  }
  return out;
}

inline std::string join(const Tokens& t, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) out += (i > begin ? " " : "") + t[i];
  return out;
}

// A leaf reader that looks the span's text (tokens joined by spaces) up in `table`.
inline std::function<Readings(const Tokens&, size_t, size_t)> leaf_table(std::map<std::string, std::string> table) {
  return [table = std::move(table)](const Tokens& t, size_t b, size_t e) -> Readings {
    const auto it = table.find(join(t, b, e));
    if (it == table.end()) return {};
    return {it->second};
  };
}

struct Template {
  std::vector<Tokens> pieces;  // literal token runs; a hole between each two (pieces.size() - 1 holes)
  std::function<std::string(const std::vector<std::string>&)> build;
  bool tight = false;          // holes read only primaries: a leaf, a parenthesised group or a tight template
};

// "both {} and {}" -> pieces {"both"}, {"and"}, {}.
inline Template pattern(const std::string& spec, std::function<std::string(const std::vector<std::string>&)> build,
                        bool tight = false) {
  Template t;
  size_t from = 0;
  for (size_t at; (at = spec.find("{}", from)) != std::string::npos; from = at + 2)
    t.pieces.push_back(tokenize(spec.substr(from, at - from)));
  t.pieces.push_back(tokenize(spec.substr(from)));
  t.build = std::move(build);
  t.tight = tight;
  return t;
}

class Grammar {
 public:
  std::vector<Template> templates;
  // Readings of a span as one leaf (a clause, an atom); empty when it is none.
  std::function<Readings(const Tokens&, size_t, size_t)> leaf;
  size_t max_readings = 8;  // enough to see ambiguity; bounds the work on pathological text

  size_t max_leaf_tokens = 12;  // longer spans are never a leaf

  Readings read(const Tokens& tokens) {
    tokens_ = &tokens;
    const size_t n = tokens.size();
    memo_.assign((n + 1) * (n + 1) * 2, std::nullopt);
    // Bracket depth before each token, and where the depth first drops below it: a span can only be
    // read when its brackets balance, which prunes almost every split of a long sentence.
    depth_.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) depth_[i + 1] = depth_[i] + (tokens[i] == "(" ? 1 : tokens[i] == ")" ? -1 : 0);
    drop_.assign(n + 1, n + 1);
    std::vector<size_t> open;  // positions waiting for a lower depth
    for (size_t i = 0; i <= n; ++i) {
      while (!open.empty() && depth_[i] < depth_[open.back()]) {
        drop_[open.back()] = i;
        open.pop_back();
      }
      open.push_back(i);
    }
    return span(0, n, false);
  }

 private:
  const Tokens* tokens_ = nullptr;
  std::vector<std::optional<Readings>> memo_;
  std::vector<int> depth_;
  std::vector<size_t> drop_;

  bool balanced(size_t b, size_t e) const { return depth_[b] == depth_[e] && e < drop_[b]; }

  bool matches(const Tokens& piece, size_t at, size_t end) const {
    if (at + piece.size() > end) return false;
    for (size_t i = 0; i < piece.size(); ++i)
      if ((*tokens_)[at + i] != piece[i]) return false;
    return true;
  }

  void add(Readings& out, const std::string& r) const {
    if (!r.empty() && out.size() < max_readings) out.insert(r);
  }

  // Holes from `pos` on: piece `k` has been matched up to `pos`; hole k-1 started at `hole_start`.
  void fill(const Template& t, size_t k, size_t hole_start, size_t end, std::vector<Readings>& holes,
            Readings& out) {
    const Tokens& piece = t.pieces[k];
    const bool last = k + 1 == t.pieces.size();
    if (last) {
      if (end < piece.size() || end - piece.size() <= hole_start || !matches(piece, end - piece.size(), end)) return;
      holes.push_back(span(hole_start, end - piece.size(), t.tight));
      combine(t, holes, 0, {}, out);
      holes.pop_back();
      return;
    }
    for (size_t at = hole_start + 1; at + piece.size() <= end; ++at) {
      if (!matches(piece, at, end)) continue;
      Readings r = span(hole_start, at, t.tight);
      if (r.empty()) continue;
      holes.push_back(std::move(r));
      fill(t, k + 1, at + piece.size(), end, holes, out);
      holes.pop_back();
    }
  }

  void combine(const Template& t, const std::vector<Readings>& holes, size_t i, std::vector<std::string> args,
               Readings& out) const {
    if (i == holes.size()) {
      add(out, t.build(args));
      return;
    }
    for (const auto& r : holes[i]) {
      args.push_back(r);
      combine(t, holes, i + 1, args, out);
      args.pop_back();
    }
  }

  Readings span(size_t b, size_t e, bool primary_only) {
    if (b >= e || !balanced(b, e)) return {};
    auto& memo = memo_[(b * (tokens_->size() + 1) + e) * 2 + primary_only];
    if (memo) return *memo;
    memo = Readings{};  // a span never contains itself; guards against a template without literals
    const Tokens& t = *tokens_;
    Readings out;
    if (leaf && e - b <= max_leaf_tokens)
      for (const auto& r : leaf(t, b, e)) add(out, r);
    if (t[b] == "(" && t[e - 1] == ")" && e - b > 2 && balanced(b + 1, e - 1))
      for (const auto& r : span(b + 1, e - 1, false)) add(out, r);
    for (const Template& tp : templates) {
      if (primary_only && !tp.tight) continue;
      if (!matches(tp.pieces[0], b, e)) continue;
      std::vector<Readings> holes;
      if (tp.pieces.size() == 1) {
        if (tp.pieces[0].size() == e - b) add(out, tp.build({}));
        continue;
      }
      fill(tp, 1, b + tp.pieces[0].size(), e, holes, out);
    }
    memo_[(b * (tokens_->size() + 1) + e) * 2 + primary_only] = out;
    return out;
  }
};

// The negation of an English clause the way the families' templates write it (written from the
// templates, not taken from the renderers' tables): "is"/"has" take "not"; otherwise the first verb
// ending in -s becomes "does not" + its stem ("the dog barks" -> "the dog does not bark").
inline std::string negated_clause(const std::string& clause) {
  Tokens w;
  size_t from = 0;
  for (size_t at; (at = clause.find(' ', from)) != std::string::npos; from = at + 1) w.push_back(clause.substr(from, at - from));
  w.push_back(clause.substr(from));
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] == "is" || w[i] == "has") {
      w.insert(w.begin() + static_cast<long>(i) + 1, "not");
      return join(w, 0, w.size());
    }
  const size_t verb = w.size() > 2 && w[0] == "the" ? 2 : 0;
  if (w[verb].size() > 1 && w[verb].back() == 's') {
    w[verb].pop_back();
    w.insert(w.begin() + static_cast<long>(verb), {"does", "not"});
  }
  return join(w, 0, w.size());
}

}  // namespace verity::testing::reading

namespace verity::testing::reading {

// The truth table of a reading over `variables` variables, one bit per assignment (bit k of the
// assignment = v<k>), built word-wide from the leaves up.
using Table = std::vector<uint64_t>;
inline Table truth_table(const std::string& r, size_t& pos, int variables) {
  const size_t words = ((uint64_t{1} << variables) + 63) / 64;
  if (r[pos] == 'v') {
    size_t end = pos + 1;
    while (end < r.size() && std::isdigit(static_cast<unsigned char>(r[end]))) ++end;
    const int var = std::stoi(r.substr(pos + 1, end - pos - 1));
    pos = end;
    static const uint64_t kLow[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                     0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
    Table t(words);
    for (size_t w = 0; w < words; ++w) t[w] = var < 6 ? kLow[var] : ((w >> (var - 6)) & 1u) ? ~uint64_t{0} : 0;
    return t;
  }
  const size_t open = r.find('(', pos);
  const std::string op = r.substr(pos, open - pos);
  pos = open + 1;
  Table a = truth_table(r, pos, variables);
  ++pos;  // ',' or ')'
  if (op == "not") {
    for (auto& w : a) w = ~w;
    return a;
  }
  const Table b = truth_table(r, pos, variables);
  ++pos;  // ')'
  for (size_t w = 0; w < words; ++w) {
    if (op == "and") a[w] &= b[w];
    else if (op == "or") a[w] |= b[w];
    else if (op == "imp") a[w] = ~a[w] | b[w];
    else if (op == "iff") a[w] = ~(a[w] ^ b[w]);
    else if (op == "nand") a[w] = ~(a[w] & b[w]);
    else throw std::logic_error("reading: unknown operator " + op);
  }
  return a;
}
inline Table truth_table(const std::string& r, int variables) {
  size_t pos = 0;
  return truth_table(r, pos, variables);
}

// Label by enumeration of every assignment: "entailed" (every model of the premises satisfies the
// conclusion), "contradicted" (none does), "neither", or "inconsistent".
inline std::string entailment_by_enumeration(const std::vector<std::string>& premises, const std::string& conclusion,
                                             int variables) {
  const uint64_t assignments = uint64_t{1} << variables;
  Table models(truth_table(conclusion, variables).size(), ~uint64_t{0});
  if (assignments < 64) models[0] = (uint64_t{1} << assignments) - 1;
  for (const auto& p : premises) {
    const Table t = truth_table(p, variables);
    for (size_t w = 0; w < models.size(); ++w) models[w] &= t[w];
  }
  const Table c = truth_table(conclusion, variables);
  bool can_hold = false, can_fail = false;
  for (size_t w = 0; w < models.size(); ++w) {
    can_hold = can_hold || (models[w] & c[w]);
    can_fail = can_fail || (models[w] & ~c[w]);
  }
  if (!can_hold && !can_fail) return "inconsistent";
  return !can_fail ? "entailed" : !can_hold ? "contradicted" : "neither";
}

// The propositional connectives as templates over readings: English (parenthesised operands, the
// families' wording plus the looser readings a person might take: "A and B", "A or B", "if A then B")
// and symbolic (no precedence assumed: every binary operand must be bracketed or atomic; "~" binds to
// the primary after it).
inline std::vector<Template> english_connectives() {
  auto bin = [](const char* op) {
    return [op](const std::vector<std::string>& a) { return std::string(op) + "(" + a[0] + "," + a[1] + ")"; };
  };
  auto neg = [](const std::vector<std::string>& a) { return "not(" + a[0] + ")"; };
  return {pattern("both {} and {}", bin("and")), pattern("{} and {}", bin("and")),
          pattern("either {} or {}", bin("or")), pattern("{} or {}", bin("or")),
          pattern("if {} , then {}", bin("imp")), pattern("if {} then {}", bin("imp")),
          pattern("{} if and only if {}", bin("iff")), pattern("it is not the case that {}", neg),
          pattern("it is false that {}", neg)};
}
inline std::vector<Template> symbolic_connectives() {
  auto bin = [](const char* op) {
    return [op](const std::vector<std::string>& a) { return std::string(op) + "(" + a[0] + "," + a[1] + ")"; };
  };
  return {pattern("{} & {}", bin("and")), pattern("{} | {}", bin("or")), pattern("{} -> {}", bin("imp")),
          pattern("{} <-> {}", bin("iff")),
          pattern("~ {}", [](const std::vector<std::string>& a) { return "not(" + a[0] + ")"; }, /*tight=*/true)};
}

// The prompt's lines.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; (at = text.find('\n', from)) != std::string::npos; from = at + 1) out.push_back(text.substr(from, at - from));
  if (from < text.size()) out.push_back(text.substr(from));
  return out;
}

// "12. text" -> "text"; "" when the line is not numbered.
inline std::string numbered_item(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || line.compare(i, 2, ". ") != 0) return "";
  return line.substr(i + 2);
}

}  // namespace verity::testing::reading

namespace verity::testing::reading {

// A propositional reading back in the project's symbolic syntax, fully bracketed ("(A & ~B) -> C").
inline std::string to_symbolic(const std::string& r, size_t& pos, const std::vector<std::string>& names) {
  if (r[pos] == 'v') {
    size_t end = pos + 1;
    while (end < r.size() && std::isdigit(static_cast<unsigned char>(r[end]))) ++end;
    const std::string name = names.at(std::stoul(r.substr(pos + 1, end - pos - 1)));
    pos = end;
    return name;
  }
  const size_t open = r.find('(', pos);
  const std::string op = r.substr(pos, open - pos);
  pos = open + 1;
  const std::string a = to_symbolic(r, pos, names);
  if (op == "not") {
    ++pos;
    return "~(" + a + ")";
  }
  ++pos;
  const std::string b = to_symbolic(r, pos, names);
  ++pos;
  if (op == "nand") return "~((" + a + ") & (" + b + "))";
  static const std::map<std::string, std::string> kSymbols = {
      {"and", " & "}, {"or", " | "}, {"imp", " -> "}, {"iff", " <-> "}};
  return "(" + a + ")" + kSymbols.at(op) + "(" + b + ")";
}
inline std::string to_symbolic(const std::string& r, const std::vector<std::string>& names) {
  size_t pos = 0;
  return to_symbolic(r, pos, names);
}

}  // namespace verity::testing::reading
