// Tokenizer for generated tasks. Two schemes, both spelling everything that is not a piece with one
// token per byte, so every string round-trips exactly. Torch-free.
//   word: the families' frequent words are whole tokens (with and without a leading space, plus literal
//         tags such as "<answer>"), built from sample tasks (build_for_families).
//   char: the axiomatic-training paper's tokenizer: every character its own token except a fixed list
//         of whole words (causes, cause, does, yes, no, are, and, d-separated, the statement markers
//         [SOC] / [EOC]) and the answer tags. The paper drops spaces; here a space next to a whole word
//         or after "." / "?" is part of that token, so "A causes B. " is the paper's four tokens
//         (A, " causes ", B, ". ") and text still round-trips.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace verity::pb {
class Task;
}

namespace verity::trainer {

class Tokenizer {
 public:
  static constexpr int kPad = 0, kBos = 1, kEos = 2, kSep = 3;
  static constexpr int kFirstByte = 4;            // ids 4..259 are the bytes 0..255
  static constexpr int kFirstPiece = kFirstByte + 256;

  Tokenizer();
  // Words (alphanumeric runs of 2+ letters, no digits) that occur in at least `min_doc_frac` of the
  // documents (and at least `min_docs` of them) become pieces, as "word" and " word".
  static Tokenizer build(const std::vector<std::string>& documents, double min_doc_frac = 0.01,
                         int min_docs = 3);
  // Samples `per_level` tasks of every level of each family (names from the registry) and builds
  // from their prompts and gold completions (trace and answer).
  static Tokenizer build_for_families(const std::vector<std::string>& families, int per_level = 40,
                                      uint64_t seed = 12345);
  // The char scheme (fixed: it needs no sample tasks).
  static Tokenizer characters();
  // "word" (build_for_families) or "char" (characters); anything else throws naming the choices.
  static Tokenizer for_scheme(const std::string& scheme, const std::vector<std::string>& families);
  const std::string& scheme() const { return scheme_; }
  // The gold completion of `task` in the form this scheme trains on (gold_completion; the word scheme
  // puts a space before a free-form answer that starts with a letter, see answer_copies_the_prompt).
  std::string completion(const pb::Task& task, bool with_trace) const;

  std::vector<int> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;   // special tokens are skipped
  std::string token_text(int id) const;
  int vocab_size() const { return kFirstPiece + static_cast<int>(pieces_.size()); }
  const std::vector<std::string>& pieces() const { return pieces_; }

  nlohmann::json to_json() const;
  static Tokenizer from_json(const nlohmann::json& j);

 private:
  void index();
  std::string scheme_ = "word";
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, int> id_of_;
  std::vector<std::string> literals_;   // pieces with non-alphanumeric characters, longest first
};

// The completion a model is trained to write: optional gold trace lines, then <answer>...</answer>.
// `space_before_word`: an answer that starts with a letter is written "<answer> Word", so its first word
// gets the token it has inside a sentence (" Word"), the one the prompt shows: copying a name is then one
// token to the same token. Written "<answer>Word", a model must learn name by name that "Word" and
// " Word" are one name: 2-person knights & knaves left chance about 1,000 steps later that way (held-out
// accuracy at step 1,000 of 2,000: 0.08 / 0.10 without the space, 0.95 / 0.92 with it, seeds 5 / 3).
std::string gold_completion(const std::string& answer, const std::vector<std::string>& trace, bool with_trace,
                            bool space_before_word = false);

// Whether the word scheme writes `task`'s answer with the space: when the answer is free-form (names,
// houses, lists copied from the prompt), not when it is the task's categorical label (Yes, PROVED,
// True, ...), a fixed word the model learns to emit rather than copy; for those the space measurably
// slowed answer-only SFT on 2-node chains (0.875 / 0.945 / 0.96 against 0.98 / 0.99 / 0.99 at step
// 3,000, seeds 1-3).
bool answer_copies_the_prompt(const pb::Task& task);

}  // namespace verity::trainer
