#include "trainer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace verity::trainer {
namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool has_digit(std::string_view w) {
  return std::any_of(w.begin(), w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
const std::vector<std::string> kLiterals = {"<answer>", "</answer>"};

// The whole words of the paper's tokenizer (it matches them case-insensitively and keeps the case, so
// both spellings are tokens), and its markers for the start and end of the causal statements.
const std::vector<std::string> kCharSchemeWords = {"causes", "cause", "does", "Does", "yes", "Yes", "no", "No",
                                                   "are", "Are", "and", "d-separated", "[SOC]", "[EOC]"};

// A literal that begins (ends) with a letter or digit matches only where a word begins (ends), so a
// whole word is never cut out of a longer name ("Nob" is N, o, b; not "No", b).
bool at_word_boundaries(std::string_view text, size_t at, const std::string& lit) {
  const bool starts_word = is_word_char(lit.front()), ends_word = is_word_char(lit.back());
  if (starts_word && at > 0 && is_word_char(text[at - 1])) return false;
  const size_t end = at + lit.size();
  return !(ends_word && end < text.size() && is_word_char(text[end]));
}

}  // namespace

Tokenizer::Tokenizer() {
  pieces_ = kLiterals;
  index();
}

void Tokenizer::index() {
  id_of_.clear();
  literals_.clear();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    id_of_[pieces_[i]] = kFirstPiece + static_cast<int>(i);
    const std::string& p = pieces_[i];
    const bool plain = !p.empty() && std::all_of(p.begin() + (p[0] == ' ' ? 1 : 0), p.end(), is_word_char) &&
                       p.size() > (p[0] == ' ' ? 1u : 0u);
    if (!plain) literals_.push_back(p);
  }
  std::stable_sort(literals_.begin(), literals_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

Tokenizer Tokenizer::build(const std::vector<std::string>& documents, double min_doc_frac, int min_docs) {
  std::map<std::string, int> df;
  for (const std::string& doc : documents) {
    std::set<std::string> seen;
    for (size_t i = 0; i < doc.size();) {
      if (!is_word_char(doc[i])) { ++i; continue; }
      size_t j = i;
      while (j < doc.size() && is_word_char(doc[j])) ++j;
      std::string w = doc.substr(i, j - i);
      if (w.size() >= 2 && !has_digit(w)) {
        seen.insert(w);
        if (i > 0 && doc[i - 1] == ' ') seen.insert(" " + w);
      }
      i = j;
    }
    for (const auto& w : seen) ++df[w];
  }
  const double need = std::max<double>(min_docs, min_doc_frac * static_cast<double>(documents.size()));
  Tokenizer t;
  std::vector<std::string> words;
  for (const auto& [w, n] : df)
    if (n >= need) words.push_back(w);  // std::map order: deterministic ids
  t.pieces_.insert(t.pieces_.end(), words.begin(), words.end());
  t.index();
  return t;
}

std::string gold_completion(const std::string& answer, const std::vector<std::string>& trace, bool with_trace,
                            bool space_before_word) {
  std::string out;
  if (with_trace)
    for (const auto& s : trace) out += s + "\n";
  const bool space = space_before_word && !answer.empty() && std::isalpha(static_cast<unsigned char>(answer[0]));
  out += (space ? "<answer> " : "<answer>") + answer + "</answer>";
  return out;
}

bool answer_copies_the_prompt(const pb::Task& task) { return task.answer() != task.label(); }

std::string Tokenizer::completion(const pb::Task& task, bool with_trace) const {
  std::vector<std::string> trace;
  for (const auto& s : task.trace()) trace.push_back(s.text());
  return gold_completion(task.answer(), trace, with_trace, scheme_ == "word" && answer_copies_the_prompt(task));
}

Tokenizer Tokenizer::build_for_families(const std::vector<std::string>& families, int per_level, uint64_t seed) {
  std::vector<std::string> docs;
  for (const auto& name : families) {
    const Generator& f = find_family(name).generator;
    // every rendering a family offers (a "format" knob: natural / symbolic ...), except the causal
    // families' axiomatic one: its words are all in the natural one, and leaving it out keeps the word
    // vocabulary (and so every measured run) exactly as before it existed
    std::vector<KnobMap> variants{{}};
    for (const auto& spec : f.knob_specs())
      if (spec.name == "format" && spec.kind == KnobSpec::Kind::Choice) {
        variants.clear();
        for (const auto& choice : spec.choices)
          if (choice != "axiomatic") variants.push_back({{"format", choice}});
      }
    for (int level = 1; level <= f.max_level(); ++level)
    for (const auto& variant : variants) {
      const Knobs knobs = resolve_knobs(f, level, variant);
      const int n = level <= 3 ? per_level : std::max(4, per_level / 4);  // high levels are long
      for (int i = 0; i < n; ++i) {
        const pb::Task task = make_task(f, knobs, level, seed, static_cast<uint64_t>(i));
        std::vector<std::string> trace;
        for (const auto& s : task.trace()) trace.push_back(s.text());
        docs.push_back(task.prompt());
        docs.push_back(gold_completion(task.answer(), trace, true, answer_copies_the_prompt(task)));
      }
    }
  }
  return build(docs);
}

Tokenizer Tokenizer::characters() {
  Tokenizer t;
  t.scheme_ = "char";
  for (const std::string& w : kCharSchemeWords)
    for (const std::string& piece : {w, " " + w, w + " ", " " + w + " "}) t.pieces_.push_back(piece);
  t.pieces_.push_back(". ");
  t.pieces_.push_back("? ");
  t.index();
  return t;
}

Tokenizer Tokenizer::for_scheme(const std::string& scheme, const std::vector<std::string>& families) {
  if (scheme == "word") return build_for_families(families);
  if (scheme == "char") return characters();
  throw std::invalid_argument("tokenizer must be word | char, got \"" + scheme + "\"");
}

std::vector<int> Tokenizer::encode(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size());
  auto bytes = [&](std::string_view s) {
    for (unsigned char c : s) out.push_back(kFirstByte + c);
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    bool matched = false;
    for (const auto& lit : literals_) {
      if (text.compare(i, lit.size(), lit) == 0 && at_word_boundaries(text, i, lit)) {
        out.push_back(id_of_.at(lit));
        i += lit.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const char c = text[i];
    if (c == ' ' && i + 1 < n && is_word_char(text[i + 1])) {
      size_t j = i + 1;
      while (j < n && is_word_char(text[j])) ++j;
      auto it = id_of_.find(std::string(text.substr(i, j - i)));
      if (it != id_of_.end()) {
        out.push_back(it->second);
        i = j;
        continue;
      }
      bytes(text.substr(i, 1));
      ++i;
      continue;
    }
    if (is_word_char(c)) {
      size_t j = i;
      while (j < n && is_word_char(text[j])) ++j;
      auto it = id_of_.find(std::string(text.substr(i, j - i)));
      if (it != id_of_.end()) out.push_back(it->second);
      else bytes(text.substr(i, j - i));
      i = j;
      continue;
    }
    bytes(text.substr(i, 1));
    ++i;
  }
  return out;
}

std::string Tokenizer::token_text(int id) const {
  if (id == kPad) return "<pad>";
  if (id == kBos) return "<bos>";
  if (id == kEos) return "<eos>";
  if (id == kSep) return "<sep>";
  if (id >= kFirstByte && id < kFirstPiece) return std::string(1, static_cast<char>(id - kFirstByte));
  if (id >= kFirstPiece && id < vocab_size()) return pieces_[id - kFirstPiece];
  return "<?>";
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    if (id >= kFirstByte && id < kFirstPiece) out.push_back(static_cast<char>(id - kFirstByte));
    else if (id >= kFirstPiece && id < vocab_size()) out += pieces_[id - kFirstPiece];
  }
  return out;
}

nlohmann::json Tokenizer::to_json() const {
  return {{"kind", "verity-word-byte"}, {"version", 1}, {"scheme", scheme_},
          {"specials", {"<pad>", "<bos>", "<eos>", "<sep>"}}, {"first_piece", kFirstPiece}, {"pieces", pieces_}};
}

Tokenizer Tokenizer::from_json(const nlohmann::json& j) {
  if (j.value("kind", "") != "verity-word-byte" || j.value("first_piece", 0) != kFirstPiece)
    throw std::invalid_argument("tokenizer JSON: not a verity-word-byte tokenizer of this version");
  Tokenizer t;
  t.scheme_ = j.value("scheme", "word");  // checkpoints from before the char scheme are word
  t.pieces_ = j.at("pieces").get<std::vector<std::string>>();
  t.index();
  return t;
}

}  // namespace verity::trainer
