#include "verifiers/ontology_trace.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "solvers/logic.h"
#include "solvers/z3_bridge.h"

namespace verity {
namespace {

using logic::Formula;
using logic::FormulaPtr;
using logic::Op;

constexpr size_t kMaxDisjuncts = 16;              // a longer "is a or b or ..." claim is invalid
constexpr size_t kMaxNameWords = 3;               // "living thing" ...

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// s[..end) ends with `token`; a word token ("not", "or") must also start a word there.
bool ends_with_at(const std::string& s, size_t end, std::string_view token) {
  if (end < token.size() || s.compare(end - token.size(), token.size(), token) != 0) return false;
  const size_t at = end - token.size();
  return !is_word_char(token[0]) || at == 0 || !is_word_char(s[at - 1]);
}
size_t skip_spaces_back(const std::string& s, size_t end) {
  while (end > 0 && s[end - 1] == ' ') --end;
  return end;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Sentences of the reasoning: split at line ends and at . ! ? followed by a space or the end.
std::vector<std::string_view> sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string_view s = text.substr(start, end - start);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (!s.empty()) out.push_back(s);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool end_mark = (c == '.' || c == '!' || c == '?') &&
                          (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])));
    if (c == '\n' || end_mark) {
      flush(c == '\n' ? i : i + 1);
      start = i + 1;
    }
  }
  flush(text.size());
  return out;
}

// The instance as propositional logic: one variable per concept / property of the entity.
class Theory {
 public:
  explicit Theory(const pb::OntologyInstance& inst) {
    for (const auto& c : inst.concepts()) add_name(c);
    for (const auto& p : inst.properties()) add_name(p);
    for (const auto& f : inst.facts())
      if (auto l = literal_of(f)) {
        facts_.push_back(*l);
        premises_.push_back(formula_of(*l));
      }
    for (const auto& r : inst.rules()) {
      std::vector<int> lhs, rhs;
      for (const auto& l : r.if_all())
        if (auto f = literal_of(l)) lhs.push_back(*f);
      for (const auto& l : r.then_any())
        if (auto f = literal_of(l)) rhs.push_back(*f);
      if (lhs.empty() || rhs.empty()) continue;
      FormulaPtr rule = Formula::binary(Op::Implies, fold(Op::And, lhs), fold(Op::Or, rhs));
      premises_.push_back(rule);
      rule_premises_.push_back(rule);
      std::sort(lhs.begin(), lhs.end());
      std::sort(rhs.begin(), rhs.end());
      rule_keys_.push_back(rule_key(lhs, rhs));
    }
    std::sort(rule_keys_.begin(), rule_keys_.end());
    query_ = literal_of(inst.query());
  }

  // Index of a name given as lower-case words starting at words[at]: the longest that matches.
  std::optional<std::pair<int, size_t>> match_name(const std::vector<std::string>& words, size_t at) const {
    for (size_t n = std::min(kMaxNameWords, words.size() - at); n >= 1; --n) {
      std::string joined = words[at];
      for (size_t k = 1; k < n; ++k) joined += " " + words[at + k];
      if (auto it = index_.find(joined); it != index_.end()) return std::make_pair(it->second, n);
    }
    return std::nullopt;
  }

  // Index of a whole name ("living thing"), if it is one.
  std::optional<int> index_of(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? std::nullopt : std::optional<int>(it->second);
  }

  // unsat(premises & ~claim), bounded; nullopt when Z3 gave up. rules_only: the rules without the
  // facts (what holds of anything, the check of a quoted rule).
  std::optional<bool> entails(const FormulaPtr& claim, bool rules_only = false) const {
    std::vector<FormulaPtr> all = rules_only ? rule_premises_ : premises_;
    all.push_back(Formula::negate(claim));
    switch (z3bridge::check_conjunction(all, static_cast<int>(index_.size()), z3bridge::kUntrustedRlimit)) {
      case z3::unsat: return true;
      case z3::sat: return false;
      default: return std::nullopt;
    }
  }
  bool is_fact(int lit) const { return std::find(facts_.begin(), facts_.end(), lit) != facts_.end(); }
  bool is_stated_rule(const std::string& key) const { return std::binary_search(rule_keys_.begin(), rule_keys_.end(), key); }
  const std::optional<int>& query() const { return query_; }

  static FormulaPtr formula_of(int lit) {
    const FormulaPtr v = Formula::variable(lit / 2);
    return lit % 2 ? Formula::negate(v) : v;
  }
  static FormulaPtr fold(Op op, const std::vector<int>& lits) {
    FormulaPtr out = formula_of(lits[0]);
    for (size_t i = 1; i < lits.size(); ++i) out = Formula::binary(op, out, formula_of(lits[i]));
    return out;
  }
  static std::string lits_key(std::vector<int> lits) {
    std::sort(lits.begin(), lits.end());
    lits.erase(std::unique(lits.begin(), lits.end()), lits.end());
    std::string key;
    for (int l : lits) key += (key.empty() ? "" : ",") + std::to_string(l);
    return key;
  }
  static std::string rule_key(const std::vector<int>& lhs, const std::vector<int>& rhs) {
    return lits_key(lhs) + "->" + lits_key(rhs);
  }

 private:
  void add_name(const std::string& name) { index_.emplace(lower(name), static_cast<int>(index_.size())); }
  std::optional<int> literal_of(const std::string& text) const {
    const bool negated = !text.empty() && text[0] == '~';
    const auto it = index_.find(lower(negated ? text.substr(1) : text));
    if (it == index_.end()) return std::nullopt;
    return 2 * it->second + (negated ? 1 : 0);
  }
  std::unordered_map<std::string, int> index_;
  std::vector<int> facts_;
  std::vector<FormulaPtr> premises_, rule_premises_;
  std::vector<std::string> rule_keys_;
  std::optional<int> query_;
};

// One claim a sentence makes. Literals are 2 x variable + (1 when negated).
enum class ClaimKind { None, Holds, Rule, Undetermined };
struct Claim {
  ClaimKind kind = ClaimKind::None;
  std::vector<int> lits;      // Holds: their disjunction; Rule: the consequent's disjunction
  std::vector<int> given;     // Holds under a hypothesis / Rule: the antecedent's conjunction
  std::string problem;        // None: why no claim could be read
  std::string key() const {
    switch (kind) {
      case ClaimKind::Holds:
        return given.empty() ? "is:" + Theory::lits_key(lits) : "if:" + Theory::rule_key(given, lits);
      case ClaimKind::Rule: return "rule:" + Theory::rule_key(given, lits);
      case ClaimKind::Undetermined: return "undetermined";
      default: return "";
    }
  }
  bool top_level() const { return kind == ClaimKind::Undetermined || (kind == ClaimKind::Holds && given.empty()); }
};

// "[not] [a|an] name ((or|and) [not] [a|an] name)*" from words[at]; `joiner` receives "or" / "and"
// (one kind per list). Words after the literals end the list. problem set: an unknown word.
std::vector<int> parse_literal_list(const Theory& theory, const std::vector<std::string>& words, size_t& at,
                                    std::string& joiner, std::string& problem, bool allow_and = true) {
  std::vector<int> lits;
  if (at < words.size() && words[at] == "either") ++at;
  while (at < words.size()) {
    bool negated = false;
    if (words[at] == "not") negated = true, ++at;
    if (at < words.size() && (words[at] == "a" || words[at] == "an")) ++at;
    if (at >= words.size()) break;
    const auto name = theory.match_name(words, at);
    if (!name) {
      if (lits.empty()) problem = "unknown word '" + words[at] + "'";
      else at -= negated ? 1 : 0;  // "... and every X": the list has ended
      break;
    }
    lits.push_back(2 * name->first + (negated ? 1 : 0));
    at += name->second;
    if (at + 1 < words.size() && (words[at] == "or" || (allow_and && words[at] == "and")) &&
        (joiner.empty() || joiner == words[at])) {
      if (lits.size() == kMaxDisjuncts) return problem = "more than 16 alternatives", std::vector<int>{};
      // only when a literal follows ("and every ..." ends the list)
      size_t look = at + 1;
      if (words[look] == "not") ++look;
      if (look < words.size() && (words[look] == "a" || words[look] == "an")) ++look;
      if (look >= words.size() || !theory.match_name(words, look)) break;
      joiner = words[at];
      ++at;
      continue;
    }
    break;
  }
  if (lits.empty() && problem.empty()) problem = "no concept or property after 'is'";
  return lits;
}

// "every|each|any <concept> [that is <lits>] is <lits>", "everything|anything that is <lits> is <lits>"
// (words after the lead); nullopt when the clause is not a rule of that shape.
std::optional<Claim> parse_rule(const Theory& theory, const std::vector<std::string>& w) {
  if (w.empty()) return std::nullopt;
  size_t at = 1;
  Claim c;
  c.kind = ClaimKind::Rule;
  std::string joiner, problem;
  if (w[0] == "every" || w[0] == "each" || w[0] == "any" || w[0] == "all") {
    if (at >= w.size()) return std::nullopt;
    const auto name = theory.match_name(w, at);
    if (!name) return std::nullopt;
    c.given.push_back(2 * name->first);
    at += name->second;
    if (at + 1 < w.size() && w[at] == "that" && w[at + 1] == "is") {
      at += 2;
      std::string j;
      const auto more = parse_literal_list(theory, w, at, j, problem);
      if (more.empty() || j == "or") return std::nullopt;
      c.given.insert(c.given.end(), more.begin(), more.end());
    }
  } else if (w[0] == "everything" || w[0] == "anything" || w[0] == "whatever") {
    if (at + 1 < w.size() && w[at] == "that" && w[at + 1] == "is") at += 2;
    else if (at < w.size() && w[at] == "is" && w[0] == "whatever") at += 1;
    else return std::nullopt;
    std::string j;
    c.given = parse_literal_list(theory, w, at, j, problem);
    if (c.given.empty() || j == "or") return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (at >= w.size() || (w[at] != "is" && w[at] != "are")) return std::nullopt;
  ++at;
  std::string j;
  c.lits = parse_literal_list(theory, w, at, j, problem, /*allow_and=*/false);
  if (c.lits.empty()) return std::nullopt;
  return c;
}

// The claims of a sentence written in the prompt's symbolic syntax: the last "[~|¬|not ]name(entity)",
// with the literals joined to it by | ∨ or "or" before it ("~a(max) | b(max)"). nullopt: no "(entity)".
std::optional<Claim> read_formal_claim(const Theory& theory, const std::string& sentence, const std::string& entity) {
  const std::string needle = "(" + entity + ")";
  size_t end = sentence.rfind(needle);
  if (end == std::string::npos) return std::nullopt;
  Claim c;
  c.kind = ClaimKind::Holds;
  while (true) {
    size_t start = end;
    while (start > 0 && is_word_char(sentence[start - 1])) --start;
    std::string name = sentence.substr(start, end - start);
    std::replace(name.begin(), name.end(), '_', ' ');
    const auto index = theory.index_of(name);
    if (!index) return Claim{ClaimKind::None, {}, {}, "unknown word '" + name + "'"};
    size_t before = skip_spaces_back(sentence, start);
    bool negated = false;
    for (std::string_view neg : {"~", "!", "\xc2\xac", "not"})
      if (ends_with_at(sentence, before, neg)) negated = true, before = skip_spaces_back(sentence, before - neg.size());
    c.lits.push_back(2 * *index + (negated ? 1 : 0));
    if (c.lits.size() > kMaxDisjuncts) return Claim{ClaimKind::None, {}, {}, "more than 16 alternatives"};
    size_t joined = before;
    for (std::string_view op : {"|", "\xe2\x88\xa8", "or"})
      if (ends_with_at(sentence, before, op)) joined = skip_spaces_back(sentence, before - op.size());
    if (joined == before || !ends_with_at(sentence, joined, needle)) return c;
    end = joined - needle.size();
  }
}

bool says_undetermined(const std::string& s) {
  for (const char* marker : {"cannot be determined", "can't be determined", "cannot determine", "undetermined",
                             "not enough information", "not determined"})
    if (s.find(marker) != std::string::npos) return true;
  return false;
}

// Common paraphrases mapped to the one form the reader parses ("isn't" -> "is not", "must be" -> "is").
std::string canonical_wording(std::string s) {
  static const std::vector<std::pair<std::string, std::string>> kRewrites = {
      {"\xe2\x80\x99", "'"},         {" isn't ", " is not "},      {" is n't ", " is not "},
      {" must also be ", " is "},     {" must be ", " is "},        {" would be ", " is "},
      {" would also be ", " is "},    {" is also ", " is "},         {" also is ", " is "},
      {" is therefore ", " is "},     {" is thus ", " is "},         {" is hence ", " is "},
      {" is indeed ", " is "},        {" is certainly ", " is "},    {" is definitely ", " is "},
      {" has to be ", " is "},        {" is then ", " is "},         {" is clearly ", " is "}};
  s = " " + s + " ";
  for (const auto& [from, to] : kRewrites)
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s.substr(1, s.size() - 2);
}

// What one sentence claims: every claim in it (premise clauses, hypotheses' consequences and quoted
// rules included), and the names it mentions (dependencies of the gold derivation).
struct Reading {
  std::vector<Claim> claims;
  std::vector<int> mentioned;  // variables
  bool about_entity = false;
};

bool starts_with_word(const std::string& s, std::string_view w) {
  return s.size() >= w.size() && s.compare(0, w.size(), w) == 0 && (s.size() == w.size() || !is_word_char(s[w.size()]));
}

Reading read_sentence(const Theory& theory, const std::string& raw, const std::string& entity,
                      std::vector<int>& hypothesis) {
  Reading r;
  const std::string sentence = canonical_wording(raw);
  const std::string entity_is = entity + " is ";
  auto mention = [&](const std::vector<int>& lits) {
    for (int l : lits) r.mentioned.push_back(l / 2);
  };
  // a verdict on the question: the statement "<entity> is <literal>" is true | false
  if (const size_t q = sentence.find("statement \""); q != std::string::npos) {
    const size_t open = q + 10, close = sentence.find('"', open + 1);
    if (close != std::string::npos) {
      const std::string inner = sentence.substr(open + 1, close - open - 1), after = sentence.substr(close + 1);
      const bool is_true = after.find("is true") != std::string::npos, is_false = after.find("is false") != std::string::npos;
      const size_t at = inner.rfind(entity_is);
      if (at != std::string::npos && is_true != is_false) {
        r.about_entity = true;
        const auto words = split_words(inner.substr(at + entity_is.size()));
        size_t i = 0;
        std::string joiner, problem;
        Claim c;
        c.lits = parse_literal_list(theory, words, i, joiner, problem, false);
        c.kind = c.lits.empty() ? ClaimKind::None : ClaimKind::Holds;
        c.problem = problem;
        if (is_false && c.lits.size() == 1) c.lits[0] ^= 1;
        else if (is_false && c.lits.size() > 1) c = Claim{ClaimKind::None, {}, {}, "a false disjunction is not one claim"};
        mention(c.lits);
        r.claims.push_back(c);
        return r;
      }
    }
  }
  if (says_undetermined(sentence)) {
    r.about_entity = true;
    r.claims.push_back({ClaimKind::Undetermined, {}, {}, ""});
    return r;
  }
  // Clauses: split at punctuation and before connectives; each clause is a hypothesis, a quoted rule,
  // or claims about the entity (every "<entity> is ..." in it).
  std::string marked;
  for (char c : sentence)
    marked += (c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '"' || c == '.' || c == '!' || c == '?')
                  ? '|' : c;
  for (const char* w : {" so ", " because ", " then ", " but ", " since ", " therefore ", " thus ", " hence ",
                        " and every ", " and each ", " and any ", " and everything ", " and all ", " as ",
                        " given that ", " and so "}) {
    const std::string from = w;
    for (size_t at = marked.find(from); at != std::string::npos; at = marked.find(from, at + from.size() + 2))
      marked.insert(at, " |");
  }
  size_t start = 0;
  bool questioned = false;
  const bool any_entity = sentence.find(entity_is) != std::string::npos;
  while (start <= marked.size()) {
    size_t bar = marked.find('|', start);
    if (bar == std::string::npos) bar = marked.size();
    std::string clause(trim_view(std::string_view(marked).substr(start, bar - start)));
    start = bar + 1;
    // leading connectives: conclusions end a hypothesis, the others are glue
    for (bool again = true; again && !clause.empty();) {
      again = false;
      for (const char* lead : {"so", "therefore", "thus", "hence", "in either case", "in both cases", "either way",
                               "consequently", "it follows that"})
        if (starts_with_word(clause, lead)) {
          hypothesis.clear();
          clause = std::string(trim_view(std::string_view(clause).substr(std::string_view(lead).size())));
          again = true;
        }
      for (const char* lead : {"and", "since", "because", "then", "but", "as", "given that", "we know that",
                               "also", "now", "clearly", "recall that", "note that"})
        if (starts_with_word(clause, lead)) {
          clause = std::string(trim_view(std::string_view(clause).substr(std::string_view(lead).size())));
          again = true;
        }
    }
    if (clause.empty()) continue;
    for (const char* lead : {"if", "suppose", "assume", "assuming"}) {
      if (!starts_with_word(clause, lead)) continue;
      const size_t at = clause.find(entity_is);
      hypothesis.clear();
      if (at != std::string::npos) {
        const auto words = split_words(clause.substr(at + entity_is.size()));
        size_t i = 0;
        std::string joiner, problem;
        hypothesis = parse_literal_list(theory, words, i, joiner, problem);
        if (joiner == "or") hypothesis.clear();
        mention(hypothesis);
        r.about_entity = true;
      }
      clause.clear();
      break;
    }
    if (clause.empty()) continue;
    if (auto rule = parse_rule(theory, split_words(clause))) {
      mention(rule->given);
      mention(rule->lits);
      r.claims.push_back(*rule);
      continue;
    }
    if (!any_entity) continue;
    for (size_t at = clause.find(entity_is); at != std::string::npos; at = clause.find(entity_is, at + 1)) {
      if (at > 0 && is_word_char(clause[at - 1])) continue;
      // a question or a reported question asserts nothing: "whether Fae is red", "true or false"
      const std::string before = marked.substr(0, std::min(bar, marked.size()));
      if (before.find("whether") != std::string::npos || before.find("true or false") != std::string::npos ||
          before.find("question") != std::string::npos || before.find("asked") != std::string::npos ||
          before.find("is it true") != std::string::npos) {
        questioned = true;
        continue;
      }
      r.about_entity = true;
      const auto words = split_words(clause.substr(at + entity_is.size()));
      size_t i = 0;
      std::string joiner, problem;
      const auto lits = parse_literal_list(theory, words, i, joiner, problem);
      mention(lits);
      if (lits.empty()) {
        r.claims.push_back({ClaimKind::None, {}, {}, problem});
      } else if (joiner == "and") {
        for (int l : lits) r.claims.push_back({ClaimKind::Holds, {l}, hypothesis, ""});
      } else {
        r.claims.push_back({ClaimKind::Holds, lits, hypothesis, ""});
      }
    }
  }
  if (!any_entity && r.claims.empty() && sentence.find("(" + entity + ")") != std::string::npos) {
    if (auto formal = read_formal_claim(theory, sentence, entity)) {
      r.about_entity = true;
      mention(formal->lits);
      r.claims.push_back(*formal);
    }
  }
  if (!r.about_entity && !questioned && r.claims.empty() && sentence.find(entity) != std::string::npos) {
    r.about_entity = true;
    r.claims.push_back({ClaimKind::None, {}, {},
                        "no claim of the form '" + entity_is + "...' or '<name>(" + entity + ")' could be read"});
  }
  return r;
}

bool has_rule_or_hypothesis_word(const std::string& s) {
  for (const char* w : {"every", "each", "any", "all ", "whatever", "if ", "suppose", "assum"})
    if (s.find(w) != std::string::npos) return true;
  return false;
}

struct Verdict {
  bool decided = false, valid = false;
  std::string problem;
};

Verdict check_claim(const Theory& theory, const Claim& claim) {
  if (claim.kind == ClaimKind::None) return {true, false, claim.problem};
  if (claim.kind == ClaimKind::Rule) {
    std::vector<int> g = claim.given, l = claim.lits;
    std::sort(g.begin(), g.end());
    std::sort(l.begin(), l.end());
    if (theory.is_stated_rule(Theory::rule_key(g, l))) return {true, true, ""};
    const auto ok = theory.entails(Formula::binary(Op::Implies, Theory::fold(Op::And, claim.given),
                                                   Theory::fold(Op::Or, claim.lits)), /*rules_only=*/true);
    if (!ok) return {false, false, "too hard to check within the solver's resource limit"};
    return {true, *ok, *ok ? "" : "no stated rule says so"};
  }
  if (claim.kind == ClaimKind::Holds) {
    if (claim.given.empty() && claim.lits.size() == 1 && theory.is_fact(claim.lits[0])) return {true, true, ""};
    const FormulaPtr f = claim.given.empty() ? Theory::fold(Op::Or, claim.lits)
                                             : Formula::binary(Op::Implies, Theory::fold(Op::And, claim.given),
                                                               Theory::fold(Op::Or, claim.lits));
    const auto ok = theory.entails(f);
    if (!ok) return {false, false, "too hard to check within the solver's resource limit"};
    return {true, *ok, *ok ? "" : "does not follow from the facts and rules"};
  }
  if (!theory.query()) return {true, false, "the task's query is not readable"};
  const FormulaPtr q = Theory::formula_of(*theory.query());
  const auto yes = theory.entails(q);
  const auto no = theory.entails(Formula::negate(q));
  if (!yes || !no) return {false, false, "too hard to check within the solver's resource limit"};
  const bool open = !*yes && !*no;
  return {true, open, open ? "" : "the facts and rules do determine the answer"};
}

// The required derivation, read from the gold reasoning: each result it establishes outright (not a
// stated fact) in order, with the earlier results it depends on (those whose names its sentence
// mentions).
struct Required {
  std::string key;
  std::vector<int> depends_on;  // indices of earlier results
  std::vector<int> vars;        // its variables, sorted (a claim about them is an attempt at it)
};

std::vector<Required> required_derivation(const Theory& theory, const std::vector<std::string>& gold,
                                          const std::string& entity, std::map<std::string, bool>& known_valid) {
  std::vector<Required> out;
  std::vector<std::vector<int>> vars;  // per result
  std::vector<int> hypothesis;
  for (const auto& step : gold) {
    const std::string lowered = lower(step);
    for (std::string_view view : sentences(lowered)) {
      const Reading r = read_sentence(theory, std::string(view), entity, hypothesis);
      std::vector<int> mentioned = r.mentioned;
      std::sort(mentioned.begin(), mentioned.end());
      for (const Claim& c : r.claims) {
        if (c.kind == ClaimKind::None) continue;
        const std::string key = c.key();
        known_valid.emplace(key, true);  // the gold reasoning is valid (tests check every task's)
        if (!c.top_level()) continue;
        if (c.kind == ClaimKind::Holds && c.lits.size() == 1 && theory.is_fact(c.lits[0])) continue;
        if (std::any_of(out.begin(), out.end(), [&](const Required& q) { return q.key == key; })) continue;
        Required q{key, {}, {}};
        for (size_t j = 0; j < out.size(); ++j)
          if (!vars[j].empty() && std::all_of(vars[j].begin(), vars[j].end(), [&](int v) {
                return std::binary_search(mentioned.begin(), mentioned.end(), v);
              }))
            q.depends_on.push_back(static_cast<int>(j));
        std::vector<int> own;
        for (int l : c.lits) own.push_back(l / 2);
        std::sort(own.begin(), own.end());
        q.vars = own;
        out.push_back(std::move(q));
        vars.push_back(std::move(own));
      }
    }
  }
  return out;
}

}  // namespace

TraceReport check_ontology_trace(const pb::OntologyInstance& instance, std::string_view text,
                                 const std::vector<std::string>& gold, std::string_view prompt) {
  TraceReport report;
  try {
    const std::string all = lower(text);
    const size_t answer_at = all.find("<answer");
    const std::string reasoning = all.substr(0, answer_at);
    const std::string entity = lower(instance.entity());
    if (entity.empty()) return report;
    std::optional<Theory> theory_storage;  // built on first use: a completion without steps needs none
    auto theory = [&]() -> const Theory& {
      if (!theory_storage) theory_storage.emplace(instance);
      return *theory_storage;
    };
    // The gold's required derivation and claims, cached per thread by a fingerprint of the instance
    // and the gold reasoning (reading the gold costs more than scoring a short completion).
    struct GoldReading {
      std::vector<Required> required;
      std::map<std::string, bool> known;
    };
    uint64_t key = fingerprint(kFingerprintSeed, instance.entity());
    for (const auto& c : instance.concepts()) key = fingerprint(key, c);
    key = fingerprint(key, "|");
    for (const auto& p : instance.properties()) key = fingerprint(key, p);
    key = fingerprint(key, "|");
    for (const auto& f : instance.facts()) key = fingerprint(key, f);
    key = fingerprint(key, "|");
    for (const auto& r : instance.rules()) {
      for (const auto& l : r.if_all()) key = fingerprint(key, l);
      key = fingerprint(key, "->");
      for (const auto& l : r.then_any()) key = fingerprint(key, l);
    }
    key = fingerprint(fingerprint(key, "?"), instance.query());
    for (const auto& g : gold) key = fingerprint(key, g);
    thread_local std::unordered_map<uint64_t, std::shared_ptr<const GoldReading>> cache;
    std::shared_ptr<const GoldReading> reading_of_gold;
    if (auto it = cache.find(key); it != cache.end()) {
      reading_of_gold = it->second;
    } else {
      auto fresh = std::make_shared<GoldReading>();
      fresh->required = required_derivation(theory(), gold, entity, fresh->known);
      if (cache.size() >= kDerivationCacheEntries) cache.clear();
      cache.emplace(key, fresh);
      reading_of_gold = std::move(fresh);
    }
    const std::map<std::string, bool>& gold_known = reading_of_gold->known;  // the gold's claims: valid
    std::map<std::string, bool> known;  // claim key -> valid, as checked here
    const std::vector<Required>& required = reading_of_gold->required;
    report.required = static_cast<int>(required.size());
    std::vector<int> first_at(required.size(), -1);  // step that first establishes each result
    std::vector<int> first_claimed(required.size(), -1);  // step that first claims something about it
    std::map<std::string, std::string> problems;  // claim key -> why invalid
    std::vector<int> hypothesis;
    const std::string premises = lower(prompt);
    for (std::string_view view : sentences(reasoning)) {
      const std::string sentence(view);
      // Prose: no entity, no quoted rule, no hypothesis, no symbolic claim, no verdict of "undetermined".
      if (sentence.find(entity) == std::string::npos && sentence.find('(') == std::string::npos &&
          !says_undetermined(sentence) && !has_rule_or_hypothesis_word(sentence))
        continue;
      // A sentence copied from the prompt (a premise, the question) is checked but establishes nothing.
      std::string_view bare = view;
      while (!bare.empty() && (bare.back() == '.' || bare.back() == '!' || bare.back() == '?')) bare.remove_suffix(1);
      const bool copied = bare.size() >= 4 && premises.find(bare) != std::string::npos;
      const Reading reading = read_sentence(theory(), sentence, entity, hypothesis);
      if (!reading.about_entity && reading.claims.empty()) continue;  // prose
      if (report.steps_checked == kMaxOntologySteps) {
        report.truncated = true;
        break;
      }
      ++report.steps_checked;
      std::string problem;
      for (const Claim& claim : reading.claims) {
        const std::string key = claim.key();
        if (!key.empty() && gold_known.count(key)) continue;  // a claim of the gold reasoning: valid
        auto it = key.empty() ? known.end() : known.find(key);
        if (it == known.end()) {
          const Verdict v = check_claim(theory(), claim);
          if (!v.decided) {
            problem = v.problem;
            break;
          }
          if (!key.empty()) {
            it = known.emplace(key, v.valid).first;
            if (!v.valid) problems.emplace(key, v.problem);
          } else if (!v.valid) {
            problem = v.problem;
            break;
          }
        }
        if (it != known.end() && !it->second) {
          problem = problems.count(key) ? problems[key] : "does not follow";
          break;
        }
      }
      if (reading.claims.empty()) problem = "no claim could be read";
      // Where each required result is first attempted (a claim about its names, right or wrong).
      for (const Claim& claim : reading.claims) {
        if (copied) break;
        if (!claim.top_level() || claim.kind == ClaimKind::None) continue;
        std::vector<int> v;
        for (int l : claim.lits) v.push_back(l / 2);
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        for (size_t j = 0; j < required.size(); ++j)
          if (first_claimed[j] < 0 && (required[j].vars == v || (claim.kind == ClaimKind::Undetermined &&
                                                                  required[j].key == "undetermined")))
            first_claimed[j] = report.steps_checked;
      }
      if (problem.empty()) {
        ++report.steps_valid;
        // Where each required result is first established by a valid step.
        for (const Claim& claim : reading.claims) {
          if (copied) break;
          if (!claim.top_level()) continue;
          const std::string key = claim.key();
          for (size_t j = 0; j < required.size(); ++j)
            if (first_at[j] < 0 && required[j].key == key) first_at[j] = report.steps_checked;
        }
      } else if (report.first_invalid == 0) {
        report.first_invalid = report.steps_checked;
        report.first_problem = problem + ": " + sentence.substr(0, 200);
      }
    }
    // A result counts when each result it depends on was established before it - or, when never
    // established, at least attempted before it (a botched step does not take every later result
    // down with it; a bare conclusion with nothing before it establishes nothing).
    for (size_t j = 0; j < required.size(); ++j)
      if (first_at[j] >= 0 && std::all_of(required[j].depends_on.begin(), required[j].depends_on.end(), [&](int d) {
            return first_at[d] >= 0 ? first_at[d] < first_at[j] : first_claimed[d] >= 0 && first_claimed[d] < first_at[j];
          }))
        ++report.covered;
  } catch (const std::exception& e) {
    report.first_problem = std::string("checker error: ") + e.what();
  }
  return report;
}

}  // namespace verity
