// Scores a zebra completion from the instance alone. Grid answers are read leniently and word by
// word (value words are unique across the puzzle): an entry starts at a house number (the first
// number of a line / ';'-separated part, or any number after the word "house"), and every value word
// after it is claimed for that house. So "House 1: red, Brit, dog; House 2: ...", one line per house,
// "1. Dog, RED, brit", or a Markdown table with a house-number column all read the same. Two
// different values claimed for one cell make that cell wrong (no credit for hedging). A negated answer
// (not / no / never / "it is not the case that ...") scores 0. Reward is the fraction of cells right;
// correct only when all are. Linear in the answer's length; never throws.
#include "verifiers/verifiers.h"

#include <array>
#include <cctype>
#include <unordered_map>

#include "solvers/zebra_solver.h"
#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class ZebraVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace
namespace {

constexpr int kUnset = -1;
constexpr int kConflict = -2;

struct Vocabulary {
  std::unordered_map<std::string, std::pair<int, int>> words;  // lower-case word -> (attribute, value)
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Vocabulary vocabulary(const pb::ZebraInstance& inst) {
  Vocabulary vocab;
  for (int a = 0; a < inst.attributes_size(); ++a)
    for (int v = 0; v < inst.attributes(a).values_size(); ++v) vocab.words[lower(inst.attributes(a).values(v))] = {a, v};
  return vocab;
}

struct Token {
  enum Kind { Word, Number, Break } kind;
  std::string text;
};

// Letters runs, digit runs, and breaks at newlines and semicolons; everything else separates.
template <class F>
void tokenize(std::string_view text, F&& emit) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == ';') {
      emit(Token{Token::Break, ""});
      ++i;
    } else if (std::isalpha(c)) {
      size_t j = i;
      while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
      emit(Token{Token::Word, lower(text.substr(i, j - i))});
      i = j;
    } else if (std::isdigit(c)) {
      size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      emit(Token{Token::Number, std::string(text.substr(i, j - i))});
      i = j;
    } else {
      ++i;
    }
  }
}

// claims[house-1][attribute] = value index, kUnset, or kConflict.
using Claims = std::vector<std::vector<int>>;

Claims read_grid(std::string_view answer, const pb::ZebraInstance& inst, const Vocabulary& vocab) {
  const int houses = inst.houses();
  Claims claims(houses, std::vector<int>(inst.attributes_size(), kUnset));
  int house = -1;          // current entry's house (1-based), -1 before the first number of a part
  bool after_house = false;
  tokenize(answer, [&](const Token& t) {
    if (t.kind == Token::Break) {
      house = -1;
      after_house = false;
      return;
    }
    if (t.kind == Token::Number) {
      const int n = t.text.size() <= 3 ? std::stoi(t.text) : 0;
      if (n >= 1 && n <= houses && (house < 0 || after_house)) house = n;
      after_house = false;
      return;
    }
    after_house = t.text == "house";
    const auto it = vocab.words.find(t.text);
    if (house < 0 || it == vocab.words.end()) return;
    int& cell = claims[house - 1][it->second.first];
    if (cell == kUnset) cell = it->second.second;
    else if (cell != it->second.second) cell = kConflict;
  });
  return claims;
}

int expected_value(const pb::ZebraInstance& inst, int attribute, int house) {
  const auto& attr = inst.attributes(attribute);
  for (int v = 0; v < attr.solution_size(); ++v)
    if (attr.solution(v) == house) return v;
  return kUnset;
}

void score_grid(const pb::ZebraInstance& inst, const Vocabulary& vocab, const std::string& answer, pb::Score& score) {
  const Claims claims = read_grid(answer, inst, vocab);
  const int cells = inst.houses() * inst.attributes_size();
  int right = 0, claimed = 0;
  std::string first_wrong;
  for (int h = 1; h <= inst.houses(); ++h) {
    for (int a = 0; a < inst.attributes_size(); ++a) {
      const int said = claims[h - 1][a];
      const int want = expected_value(inst, a, h);
      claimed += said != kUnset;
      if (said == want) {
        ++right;
        continue;
      }
      if (!first_wrong.empty()) continue;
      const auto& attr = inst.attributes(a);
      first_wrong = "house " + std::to_string(h) + " " + attr.name() + ": " +
                    (said == kUnset      ? std::string("missing")
                     : said == kConflict ? std::string("two different values")
                                         : "said " + attr.values(said)) +
                    ", expected " + (want >= 0 ? attr.values(want) : std::string("?"));
    }
  }
  if (claimed == 0) {
    score.set_reason("no grid found: expected entries like \"House 1: v1, v2, ...\" naming the puzzle's values");
    return;
  }
  score.set_format_ok(true);
  score.set_correct(right == cells);
  score.set_reward(cells > 0 ? static_cast<double>(right) / cells : 0.0);
  score.set_reason(std::to_string(right) + "/" + std::to_string(cells) + " cells correct" +
                   (first_wrong.empty() ? "" : "; first wrong: " + first_wrong));
}

void score_single(const pb::ZebraInstance& inst, const Vocabulary& vocab, const std::string& answer, pb::Score& score) {
  const int target = inst.question_attribute();
  if (target < 0 || target >= inst.attributes_size()) {
    score.set_reason("task has no valid question attribute");
    return;
  }
  const int given_house = inst.attributes(inst.given_attribute()).solution(inst.given_value());
  const int want = expected_value(inst, target, given_house);
  int said = kUnset;
  tokenize(answer, [&](const Token& t) {
    const auto it = vocab.words.find(t.text);
    if (t.kind != Token::Word || it == vocab.words.end() || it->second.first != target) return;
    said = said == kUnset || said == it->second.second ? it->second.second : kConflict;
  });
  const auto& attr = inst.attributes(target);
  if (said == kUnset) {
    score.set_reason("the answer names no " + attr.name() + " of this puzzle");
    return;
  }
  score.set_format_ok(true);
  score.set_correct(said == want);
  score.set_reward(said == want ? 1.0 : 0.0);
  score.set_reason(said == want        ? "correct"
                   : said == kConflict ? "the answer names more than one " + attr.name()
                                       : "answered " + attr.values(said) + ", expected " + attr.values(want));
}

// The first negation word of the answer that is not one of the puzzle's values ("" when none):
// not / no / never / isn't / ... / false / wrong. Scans letter runs without allocating.
std::string negation_word(std::string_view answer, const Vocabulary& vocab) {
  static const std::string_view kNegations[] = {"not", "no", "never", "isn", "aren", "doesn", "don", "nor",
                                                "neither", "cannot", "wasn", "nobody", "nothing", "false", "wrong",
                                                "incorrect", "untrue"};
  auto letter = [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; };
  for (size_t i = 0; i < answer.size();) {
    if (!letter(answer[i])) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < answer.size() && letter(answer[j])) ++j;
    const size_t n = j - i;
    if (n >= 2 && n <= 9) {  // the negations' lengths
      for (std::string_view neg : kNegations) {
        if (neg.size() != n || (answer[i] | 0x20) != neg[0]) continue;
        bool same = true;
        for (size_t k = 1; k < n && same; ++k) same = static_cast<char>(answer[i + k] | 0x20) == neg[k];
        if (same && !vocab.words.count(lower(answer.substr(i, n)))) return std::string(neg);
      }
    }
    i = j;
  }
  return "";
}

// The instance must be internally consistent before we index into it (records are untrusted too).
bool well_formed(const pb::ZebraInstance& inst) {
  if (inst.houses() < 1 || inst.houses() > zebra::kMaxHouses || inst.attributes_size() < 1) return false;
  for (const auto& attr : inst.attributes())
    if (attr.values_size() != inst.houses() || attr.solution_size() != inst.houses()) return false;
  if (inst.question() == "single")
    return inst.given_attribute() >= 0 && inst.given_attribute() < inst.attributes_size() &&
           inst.given_value() >= 0 && inst.given_value() < inst.houses();
  return true;
}

}  // namespace

pb::Score ZebraVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  if (!task.has_zebra() || !well_formed(task.zebra())) {
    score.set_reason("task has no well-formed zebra instance");
    return score;
  }
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (!answer) return score;
  // A negated answer is never a correct one: "definitely not folk", "It is not the case that House 1: ...".
  const Vocabulary vocab = vocabulary(task.zebra());
  const std::string negation = negation_word(*answer, vocab);
  if (!negation.empty()) {
    score.set_reason("the answer is negated ('" + negation + "'): state the values, not what they are not");
    return score;
  }
  if (task.zebra().question() == "single") score_single(task.zebra(), vocab, *answer, score);
  else score_grid(task.zebra(), vocab, *answer, score);
  return score;
}

namespace verifiers {
const Verifier& zebra() {
  static const ZebraVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
