// A canonical form of a question up to renaming of its symbols (people, propositions, predicates ...)
// and reordering of its statements: the generators' question_key (tasks/generator.h), so a dataset
// never holds the same question twice under other names or in another order.
//
// A question is a multiset of statements. Each statement is text in which every renamable symbol is
// written as a placeholder: the byte kSymbol, a sort byte (symbols are renamed only within their
// sort, e.g. predicates apart from constants) and the symbol's number as one byte. A statement whose
// role matters (the conclusion, the query) carries it as a text prefix ("C|"). Two questions get the
// same key when one becomes the other by renaming symbols within sorts and reordering statements.
// Keys are 128-bit hashes of the canonical rendering (hashing keeps the key cheap beside generation):
// distinct questions differ but for hash collisions, and for highly symmetric questions with more
// than kMaxOrderings tie-breaking orders, whose key is then an invariant fingerprint that may merge
// two of them (a harmless false repeat).
//
// key() is on `verity generate`'s hot path (one call per candidate task), so a question can also be
// built in place with a Question (no statement strings): the same key as key() of the strings it
// spells, without a heap allocation once its buffers have grown.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace verity::canonical {

constexpr char kSymbol = '\x01';
constexpr long kMaxOrderings = 5040;

// Appends the placeholder of symbol `number` (0..255) of sort `sort` (any byte) to `out`.
inline void append_symbol(std::string& out, int number, char sort = 'a') {
  out += kSymbol;
  out += sort;
  out += static_cast<char>(static_cast<unsigned char>(number));
}
inline std::string symbol(int number, char sort = 'a') {
  std::string out;
  append_symbol(out, number, sort);
  return out;
}

// `text` with every identifier (a maximal run of letters, digits and '_') that equals names[i] written
// as symbol i of `sort`; other text is kept. Appends to `out`.
void append_symbolized(std::string_view text, const std::vector<std::string>& names, char sort, std::string& out);
inline std::string symbolized(std::string_view text, const std::vector<std::string>& names, char sort = 'a') {
  std::string out;
  append_symbolized(text, names, sort, out);
  return out;
}

// A question spelled piece by piece: statement() starts a statement, text() and symbol() append to it
// what append_symbol and a string's += would. Reuse one (clear()) to keep its buffers.
class Question {
 public:
  void clear();
  void statement();
  void text(std::string_view piece);
  void text(char c) { text(std::string_view(&c, 1)); }
  // Symbol `number` (any int here, not only 0..255) of sort `sort`.
  void symbol(int number, char sort = 'a');
  // An invariant of symbol `number` of `sort` that the caller computed (a hash of what the question
  // says about it, the same under every renaming): it starts the colour refinement below, which then
  // needs fewer rounds (a chain of definitions needs one per link otherwise). Optional.
  void hint(int number, char sort, uint64_t invariant);
  // text() of `text` with names[i] as symbol i of `sort` (append_symbolized). `names` is anything
  // iterable whose elements compare with a std::string_view (a proto's repeated string field too).
  template <class Names>
  void symbolized(std::string_view text, const Names& names, char sort = 'a');
  // A statement as append_symbol's placeholders spell it (what key() reads).
  void placeholder_text(std::string_view text);
  // The canonical key (see above). Keeps the question.
  std::string key();

 private:
  friend class Canonizer;
  struct Token {
    uint64_t text = 0;  // FNV-1a of a literal piece, when symbol < 0
    int symbol = -1;    // dense symbol id
  };
  void flush();
  void grow();
  int id(int number, char sort);  // the dense id of a symbol, made when new
  std::vector<Token> tokens_;
  std::vector<uint32_t> starts_;                          // each statement's first token
  std::vector<char> sorts_;                               // the sort of each dense symbol id
  std::vector<uint64_t> hints_;                           // and its hint (0: none)
  std::vector<std::pair<uint64_t, int>> lookup_;          // open addressing: (sort, number) + 1 -> dense id
  uint64_t pending_ = 0;                                   // FNV-1a state of the literal piece being read
  bool has_pending_ = false;
};

// Names to numbers (a question's people, quantities, words ...), for building a Question: an open-
// addressing table over views of the names (they must outlive it), reused from question to question.
class NameIndex {
 public:
  // Forgets every name; then add() each one.
  void clear(size_t expected);
  // Records `name` as number `number` (any int but -1 and kEmpty) unless it is already there (the
  // first number wins).
  void add(std::string_view name, int number);
  // The number of `name`, or -1.
  int find(std::string_view name) const;

 private:
  static constexpr int kEmpty = std::numeric_limits<int>::min();  // a free slot
  size_t home(std::string_view name) const;
  std::vector<std::pair<std::string_view, int>> table_;
};

// The canonical key of a multiset of statements (see above).
std::string key(const std::vector<std::string>& statements);

inline bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

template <class Names>
void Question::symbolized(std::string_view text, const Names& names, char sort) {
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && !identifier_char(text[j])) ++j;
    if (j > i) this->text(text.substr(i, j - i));
    i = j;
    while (j < text.size() && identifier_char(text[j])) ++j;
    if (j == i) continue;
    const std::string_view word = text.substr(i, j - i);
    int number = 0, found = -1;
    for (const auto& name : names) {
      if (std::string_view(name) == word) {
        found = number;
        break;
      }
      ++number;
    }
    if (found < 0) this->text(word);
    else symbol(found, sort);
    i = j;
  }
}

}  // namespace verity::canonical
