// Tokenizer for generated tasks: the families' fixed words are whole tokens (with and without a
// leading space, plus literal tags such as "<answer>"); everything else (names, numbers, punctuation)
// is spelled with one token per byte, so every string round-trips exactly. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

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

  std::vector<int> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;   // special tokens are skipped
  std::string token_text(int id) const;
  int vocab_size() const { return kFirstPiece + static_cast<int>(pieces_.size()); }
  const std::vector<std::string>& pieces() const { return pieces_; }

  nlohmann::json to_json() const;
  static Tokenizer from_json(const nlohmann::json& j);

 private:
  void index();
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, int> id_of_;
  std::vector<std::string> literals_;   // pieces with non-alphanumeric characters, longest first
};

// The completion a model is trained to write: optional gold trace lines, then <answer>...</answer>.
std::string gold_completion(const std::string& answer, const std::vector<std::string>& trace, bool with_trace);

}  // namespace verity::trainer
