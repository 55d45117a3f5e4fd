// Pulls the final answer out of untrusted model text. Formats, in order of preference:
//   <answer>...</answer>   (complete pairs)
//   \boxed{...}            (braces balanced)
//   a last line "Answer: ..."
// One reading: every answer the text states (each tag, each box outside a tag, each "Answer:" line
// outside a tag) must say the same after normalize_answer (a \boxed{} / \text{} wrapper aside);
// otherwise nothing is extracted and the reason starts "conflicting answers". Linear time, bounded
// memory; never throws.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace verity {

// Said in every English prompt that uses "or": read exclusively, "either A or B" changes answers.
inline constexpr const char* kInclusiveOr = "(\"Either A or B\" and \"A or B\" mean at least one of the two, possibly both.)";

// The gold answer of a task whose premises do not determine it (arithmetic_graph's unanswerable tasks).
inline constexpr const char* kCannotBeDetermined = "cannot be determined";

constexpr size_t kMaxCompletionBytes = 64 * 1024;
constexpr size_t kMaxAnswerBytes = 16 * 1024;

struct Extraction {
  bool found = false;
  std::string answer;   // trimmed text of the answer
  std::string method;   // "answer_tag", "boxed", "answer_line"
  std::string reason;   // why nothing was found
};

inline constexpr size_t kMaxAdaptiveCompletionBytes = 4 * 1024 * 1024;

// (verifiers/label_verifier.h: completion_cap(task), the per-task limit between the two.)

// Completions that are over `cap` bytes, contain NUL or are not valid UTF-8 yield no answer.
Extraction extract_answer(std::string_view completion, size_t cap = kMaxCompletionBytes);
// Byte offset of the first byte that is not part of well-formed UTF-8 (overlong forms, surrogates and
// code points past U+10FFFF included), or npos.
size_t invalid_utf8_at(std::string_view text);
bool is_valid_utf8(std::string_view text);

// Lower-cases ASCII, trims whitespace, surrounding quotes / asterisks / a final period,
// and collapses inner whitespace: "  **Yes.** " -> "yes".
std::string normalize_answer(std::string_view text);

// The instruction every prompt ends with, so the model knows the format the verifier reads.
std::string answer_instruction(const std::string& what, const std::string& example);

}  // namespace verity
