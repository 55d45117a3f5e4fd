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
#pragma once
#include <string>
#include <string_view>
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

// The canonical key of a multiset of statements (see above).
std::string key(const std::vector<std::string>& statements);

}  // namespace verity::canonical
