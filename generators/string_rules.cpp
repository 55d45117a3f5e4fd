// string_rules (InductionBench's ISL / L-OSL / R-OSL string functions): a hidden function copies its
// input and changes letters by at most R rules (context of k-1 letters, letter, replacement); from
// input/output examples, transform a query string. The examples form a characteristic sample: every
// rule fires in some example, so (solvers/string_rules.h, derive()) the fewest rules reproducing them
// are exactly the hidden ones, and with "at most R rules" stated no other function fits: every
// consistent hypothesis gives the query the same output. The generator proves this for every task
// (derive() must return the hidden rule set, R of them); the tests re-prove it by Z3 and brute force.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "generators/canonical_form.h"
#include "generators/generators.h"
#include "solvers/string_rules.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

using strrules::Example;
using strrules::Function;
using strrules::Kind;
using strrules::Rule;

class StringRulesGenerator final : public Generator {
 public:
  std::string name() const override { return "string_rules"; }
  std::string summary() const override {
    return "InductionBench string functions (ISL, L-OSL, R-OSL): from input/output examples of a function that "
           "changes letters by local rules, transform a query string";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "the output string, e.g. \"abca\""; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::string question_key(const pb::Task& task) const override;
};

struct Shape {
  std::string kind;  // isl | l-osl | r-osl | mixed
  int window = 2, vocabulary = 3, rules = 1, examples = 5, length = 6;
  bool natural = true;
};

std::string random_string(Rng& rng, const std::string& letters, int size) {
  std::string s(size, ' ');
  for (char& c : s) c = letters[rng.index(letters.size())];
  return s;
}

std::vector<Rule> draw_rules(Rng& rng, const Shape& s, const std::string& letters) {
  std::vector<Rule> rules;
  while (static_cast<int>(rules.size()) < s.rules) {
    Rule r{random_string(rng, letters, s.window - 1), letters[rng.index(letters.size())], 0};
    do r.to = letters[rng.index(letters.size())];
    while (r.to == r.from);
    if (std::none_of(rules.begin(), rules.end(), [&](const Rule& o) { return o.context == r.context && o.from == r.from; }))
      rules.push_back(r);
  }
  std::sort(rules.begin(), rules.end());
  return rules;
}

int draw_length(Rng& rng, const Shape& s) {
  return static_cast<int>(rng.uniform(std::max(s.window + 1, s.length / 2 + 1), std::max(s.window + 1, s.length)));
}

// An input with the rule's context and letter side by side (letter after the context, before it for
// R-OSL), at a random place. Whether it fires depends on the output for OSL: the caller checks.
std::string planted(Rng& rng, const Shape& s, const std::string& letters, Kind kind, const Rule& r) {
  std::string in = random_string(rng, letters, draw_length(rng, s));
  const std::string segment = kind == Kind::RightOsl ? std::string(1, r.from) + r.context : r.context + r.from;
  const size_t at = rng.index(in.size() - segment.size() + 1);
  in.replace(at, segment.size(), segment);
  return in;
}

// A characteristic sample: `examples` distinct inputs in which every rule fires at least once. Empty
// when the draws did not manage it (the caller draws another function).
std::vector<Example> draw_examples(Rng& rng, const Shape& s, const std::string& letters, const Function& f) {
  std::vector<Example> examples;
  std::vector<bool> covered(f.rules.size(), false);
  std::vector<int> fired;
  for (int guard = 0; static_cast<int>(examples.size()) < s.examples && guard < 40 * s.examples; ++guard) {
    const auto missing = std::find(covered.begin(), covered.end(), false);
    const std::string in = missing == covered.end() ? random_string(rng, letters, draw_length(rng, s))
                                                    : planted(rng, s, letters, f.kind, f.rules[missing - covered.begin()]);
    if (std::any_of(examples.begin(), examples.end(), [&](const Example& e) { return e.first == in; })) continue;
    std::string out = strrules::apply(f, in, &fired);
    const bool adds = std::any_of(fired.begin(), fired.end(), [&](int r) { return r >= 0 && !covered[r]; });
    if (missing != covered.end() && !adds) continue;  // the planted rule did not fire: try again
    for (int r : fired)
      if (r >= 0) covered[r] = true;
    examples.emplace_back(in, std::move(out));
  }
  const bool all = std::all_of(covered.begin(), covered.end(), [](bool c) { return c; });
  if (!all || static_cast<int>(examples.size()) < s.examples) return {};
  rng.shuffle(examples);
  return examples;
}

struct Instance {
  std::string letters;
  Function f;
  std::vector<Example> examples;
  std::string query, answer;
  strrules::Derivation derivation;
};

// The proof: what the examples determine has exactly the hidden rules as its non-identity part, so
// those R rules are the fewest that fit and, with at most R allowed, the only function that fits.
void prove_unique(const Instance& inst, const Knobs& knobs) {
  if (!inst.derivation.consistent || inst.derivation.minimal != inst.f.rules)
    throw std::logic_error("string_rules: the examples do not single out the hidden rules for knobs " +
                           knobs.canonical());
}

bool pick_query(Rng& rng, const Shape& s, Instance& inst) {
  std::vector<int> fired;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::string q = random_string(rng, inst.letters, draw_length(rng, s));
    if (std::any_of(inst.examples.begin(), inst.examples.end(), [&](const Example& e) { return e.first == q; })) continue;
    const std::string out = strrules::apply(inst.f, q, &fired);
    if (std::all_of(fired.begin(), fired.end(), [](int r) { return r < 0; })) continue;  // copying would be right
    inst.query = q;
    inst.answer = out;
    return true;
  }
  return false;
}

Instance build_instance(Rng& rng, const Shape& s, const Knobs& knobs) {
  Instance inst;
  std::string all = "abcdefghijklmnopqrstuvwxyz";
  for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng.index(i)]);
  inst.letters = all.substr(0, s.vocabulary);
  std::sort(inst.letters.begin(), inst.letters.end());
  static const Kind kKinds[] = {Kind::Isl, Kind::LeftOsl, Kind::RightOsl};
  if (s.kind == "mixed") inst.f.kind = kKinds[rng.index(3)];
  else strrules::parse_kind(s.kind, inst.f.kind);
  inst.f.window = s.window;
  for (int attempt = 0; attempt < 500; ++attempt) {
    inst.f.rules = draw_rules(rng, s, inst.letters);
    inst.examples = draw_examples(rng, s, inst.letters, inst.f);
    if (inst.examples.empty() || !pick_query(rng, s, inst)) continue;
    inst.derivation = strrules::derive(inst.f.kind, s.window, inst.examples);
    prove_unique(inst, knobs);
    return inst;
  }
  throw std::runtime_error("string_rules: no characteristic sample found for knobs " + knobs.canonical() +
                           "; raise examples or length");
}

// ---- counting hypotheses ----

double log2_choose(double n, double k) {
  return (std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1)) / std::log(2.0);
}

// log2 of the number of functions with at most `rules` rules over `contexts` (context, letter) pairs.
double log2_rule_sets(double contexts, int rules, int vocabulary) {
  double total = 0;
  for (int j = 0; j <= rules && j <= contexts; ++j) total += std::exp2(log2_choose(contexts, j) + j * std::log2(vocabulary - 1.0));
  return std::log2(total);
}

std::string fixed1(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

// ---- rendering ----

std::string rule_text(const Rule& r, Kind kind, bool natural) {
  if (!natural) return kind == Kind::RightOsl ? std::string(1, r.from) + " " + r.context + " -> " + r.to
                                              : r.context + " " + r.from + " -> " + r.to;
  return std::string(kind == Kind::RightOsl ? "before " : "after ") + r.context + ", " + r.from + " becomes " + r.to;
}

std::string letters_list(const std::string& letters) {
  std::string out;
  for (size_t i = 0; i < letters.size(); ++i) out += std::string(i ? (i + 1 == letters.size() ? " and " : ", ") : "") + letters[i];
  return out;
}

std::string natural_rules_text(Kind kind, int window, int rules) {
  const bool one = window == 2;
  const std::string k = std::to_string(window - 1);
  // "the letter just before it ... is" / "the 2 letters just before it ... are"
  const std::string the_context = one ? "the letter" : "the " + k + " letters";
  const std::string is = one ? " is" : " are";
  std::string p = "A rule has a context of " + k + (one ? " letter" : " letters") + ", a letter and a replacement "
                  "letter. ";
  if (kind == Kind::Isl)
    p += "A rule applies at a position when the input letter there is the rule's letter and " + the_context +
         " just before it in the input" + is + " the context (always read in the original input, so one change "
         "never affects another); the output has the replacement there.";
  else if (kind == Kind::LeftOsl)
    p += "The output is written from left to right. A rule applies at a position when the input letter there is the "
         "rule's letter and " + (one ? std::string("the last letter") : "the last " + k + " letters") +
         " already written to the output (just before it)" + is + " the context; the replacement is written "
         "instead of the letter.";
  else
    p += "The output is written from right to left. A rule applies at a position when the input letter there is the "
         "rule's letter and " + the_context + " already written to the output just after it" + is +
         " the context; the replacement is written instead of the letter.";
  const std::string edge = kind == Kind::RightOsl ? "last" : "first";
  p += one ? " The " + edge + " letter of a string is always copied." : " The " + edge + " " + k + " letters of a string are always copied.";
  return p + " No two rules have the same context and letter. The function has at most " + std::to_string(rules) +
         (rules == 1 ? " rule." : " rules.");
}

std::string symbolic_class_text(Kind kind, int window) {
  const int w = window - 1;
  std::string u;
  for (int j = w; j >= 1; --j) u.append(kind == Kind::Isl ? "x" : "y").append("[i-").append(std::to_string(j)).append("]");
  if (kind == Kind::RightOsl) {
    u.clear();
    for (int j = 1; j <= w; ++j) u += "y[i+" + std::to_string(j) + "]";
  }
  const std::string name = kind == Kind::Isl ? "ISL" : kind == Kind::LeftOsl ? "L-OSL (left to right)" : "R-OSL (right to left)";
  const std::string edge = kind == Kind::RightOsl ? "the last " : "the first ";
  return "Class " + name + ", k = " + std::to_string(window) + ": y[i] = f(" + u + ", x[i]); " + edge +
         (w == 1 ? std::string("position is copied.") : std::to_string(w) + " positions are copied.");
}

std::string render_prompt(Rng& rng, const Instance& inst, const Shape& s) {
  std::string p;
  if (s.natural) {
    static const std::vector<std::string> kIntros = {"A hidden function rewrites strings.",
                                                     "A secret string function is at work.",
                                                     "Someone applies a fixed rewriting function to strings."};
    p = rng.pick(kIntros) + " Its strings use the letters " + letters_list(inst.letters) +
        ". It turns each string into one of the same length by copying it letter by letter, except where one of its "
        "rules applies. " + natural_rules_text(inst.f.kind, s.window, s.rules) + "\nExamples (input -> output):\n";
  } else {
    p = "f: strings over {" + std::string(inst.letters.begin(), inst.letters.end()) + "} -> strings of the same length. " +
        symbolic_class_text(inst.f.kind, s.window) + " f(u, c) = c except for at most " + std::to_string(s.rules) +
        " rules (u, c) -> d.\n";
  }
  for (const auto& [in, out] : inst.examples) p += in + " -> " + out + "\n";
  p += s.natural ? "Exactly one function of this kind fits all the examples. What does it output for " + inst.query + "?\n"
                 : inst.query + " -> ?\n";
  return p + answer_instruction("the output string", inst.examples.front().second);
}

// ---- gold trace ----

std::string where_context(Kind kind) { return kind == Kind::Isl ? " in the input" : " in the output"; }

// For each rule, the first example where it fires, then the rule count, then the query.
void write_trace(const Instance& inst, const Shape& s, pb::Task& task) {
  std::vector<int> fired;
  std::vector<std::string> cites;
  for (size_t r = 0; r < inst.f.rules.size(); ++r) {
    for (size_t e = 0; e < inst.examples.size(); ++e) {
      strrules::apply(inst.f, inst.examples[e].first, &fired);
      const auto at = std::find(fired.begin(), fired.end(), static_cast<int>(r));
      if (at == fired.end()) continue;
      const Rule& rule = inst.f.rules[r];
      auto* step = task.add_trace();
      step->set_text("Example " + std::to_string(e + 1) + " (" + inst.examples[e].first + " -> " + inst.examples[e].second +
                     "): at position " + std::to_string(at - fired.begin() + 1) + ", " + rule.from +
                     (inst.f.kind == Kind::RightOsl ? " is followed by " : " follows ") + rule.context +
                     where_context(inst.f.kind) + " and becomes " + rule.to + ": rule " + rule_text(rule, inst.f.kind, s.natural) + ".");
      step->set_rule("rule");
      step->add_cites("e" + std::to_string(e + 1));
      cites.push_back("s" + std::to_string(task.trace_size()));
      break;
    }
  }
  auto* bound = task.add_trace();
  bound->set_text(std::to_string(inst.f.rules.size()) + (inst.f.rules.size() == 1 ? " rule" : " rules") +
                  " found, the most the function has, so every other letter is copied; they reproduce every example.");
  bound->set_rule("bound");
  for (const auto& c : cites) bound->add_cites(c);
  strrules::apply(inst.f, inst.query, &fired);
  std::string applied;
  for (size_t i = 0; i < fired.size(); ++i)
    if (fired[i] >= 0) applied += (applied.empty() ? "" : "; ") + std::string("position ") + std::to_string(i + 1) + ": " +
                                  rule_text(inst.f.rules[fired[i]], inst.f.kind, s.natural);
  auto* last = task.add_trace();
  last->set_text("In " + inst.query + ", " + applied + ". So the output is " + inst.answer + ".");
  last->set_rule("conclusion");
  last->add_cites("s" + std::to_string(task.trace_size() - 1));
}

void fill_instance(const Instance& inst, const Shape& s, pb::StringRulesInstance& out) {
  out.set_letters(inst.letters);
  out.set_kind(strrules::kind_name(inst.f.kind));
  out.set_window(s.window);
  out.set_max_rules(s.rules);
  for (const auto& [in, o] : inst.examples) {
    out.add_example_inputs(in);
    out.add_example_outputs(o);
  }
  out.set_query(inst.query);
  for (const Rule& r : inst.f.rules) {
    auto* rule = out.add_rules();
    rule->set_context(r.context);
    rule->set_from(std::string(1, r.from));
    rule->set_to(std::string(1, r.to));
  }
  out.set_format(s.natural ? "natural" : "symbolic");
}

}  // namespace

std::vector<KnobSpec> StringRulesGenerator::knob_specs() const {
  return {KnobSpec::choice("class", "function class: isl (input strictly local), l-osl / r-osl (output strictly local, "
                                    "left to right / right to left), mixed (one of the three per task)",
                           {"isl", "l-osl", "r-osl", "mixed"}, "isl"),
          KnobSpec::integer("window", "k: a rule's context is k-1 letters", 2, 4, 2),
          KnobSpec::integer("vocabulary", "letters in the alphabet", 2, 8, 3),
          KnobSpec::integer("rules", "rules of the hidden function (the prompt says 'at most' this many)", 1, 6, 1),
          KnobSpec::integer("examples", "input/output examples (at least one per rule)", 2, 24, 5),
          KnobSpec::integer("length", "longest example / query string", 4, 24, 6),
          KnobSpec::choice("format", "function described in English or as a formula", {"natural", "symbolic"}, "natural")};
}

KnobMap StringRulesGenerator::level_knobs(int level) const {
  struct Row { const char* kind; int window, vocabulary, rules, examples, length; };
  static const Row kLadder[] = {{"isl", 2, 2, 1, 4, 6},   {"isl", 2, 3, 1, 5, 6},   {"mixed", 2, 3, 2, 6, 7},
                                {"mixed", 2, 4, 2, 7, 8}, {"mixed", 3, 3, 2, 8, 8}, {"mixed", 3, 3, 3, 9, 9},
                                {"mixed", 3, 4, 3, 10, 10}, {"mixed", 3, 4, 4, 11, 10}, {"mixed", 4, 4, 4, 12, 12},
                                {"mixed", 4, 5, 5, 14, 12}};
  const Row& r = kLadder[level - 1];
  return {{"class", r.kind}, {"window", std::to_string(r.window)}, {"vocabulary", std::to_string(r.vocabulary)},
          {"rules", std::to_string(r.rules)}, {"examples", std::to_string(r.examples)}, {"length", std::to_string(r.length)}};
}

void StringRulesGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  Shape s;
  s.kind = knobs.get("class");
  s.window = static_cast<int>(knobs.get_int("window"));
  s.vocabulary = static_cast<int>(knobs.get_int("vocabulary"));
  s.rules = static_cast<int>(knobs.get_int("rules"));
  s.examples = static_cast<int>(knobs.get_int("examples"));
  s.length = static_cast<int>(knobs.get_int("length"));
  s.natural = knobs.get("format") == "natural";
  if (s.examples < s.rules || s.length <= s.window)
    throw std::invalid_argument("string_rules: knobs " + knobs.canonical() + " need examples >= rules and length > "
                                "window (one example per rule, room for a context)");
  const Instance inst = build_instance(rng, s, knobs);
  fill_instance(inst, s, *task.mutable_string_rules());
  task.set_prompt(render_prompt(rng, inst, s));
  task.set_answer(inst.answer);
  write_trace(inst, s, task);
  // Hypotheses: functions of the stated class with at most R rules. Of them, those fitting the examples
  // keep the determined (context, letter) pairs and may add rules only on undetermined ones: with R
  // rules already determined, none can be added.
  const double contexts = std::pow(s.vocabulary, s.window);
  const double undetermined = contexts - static_cast<double>(inst.derivation.determined.size());
  const int spare = s.rules - static_cast<int>(inst.derivation.minimal.size());
  (*task.mutable_meta())["hypothesis_space_log2"] = fixed1(log2_rule_sets(contexts, s.rules, s.vocabulary) +
                                                            (s.kind == "mixed" ? std::log2(3.0) : 0.0));
  (*task.mutable_meta())["consistent_hypotheses"] =
      std::to_string(std::llround(std::exp2(log2_rule_sets(undetermined, spare, s.vocabulary))));
  (*task.mutable_meta())["consistent_without_bound_log2"] = fixed1(undetermined * std::log2(s.vocabulary));
  (*task.mutable_meta())["class"] = strrules::kind_name(inst.f.kind);
}

// The examples as a set and the query, up to renaming the letters (a bijection of the alphabet: the
// prompt names its letters, any others would do). Each string is written letter by letter as symbols
// of one sort; the alphabet's size, the class, k and the bound on the rules are the header.
std::string StringRulesGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.string_rules();
  thread_local canonical::Question q;
  q.clear();
  auto letters = [&](const std::string& text) {
    for (char c : text) q.symbol(static_cast<unsigned char>(c), 'l');
  };
  q.statement();
  q.text(inst.kind() + " k=" + std::to_string(inst.window()) + " rules<=" + std::to_string(inst.max_rules()) +
         " letters=" + std::to_string(inst.letters().size()));
  for (int i = 0; i < inst.example_inputs_size(); ++i) {
    q.statement();
    q.text("e");
    letters(inst.example_inputs(i));
    q.text(">");
    letters(inst.example_outputs(i));
  }
  q.statement();
  q.text("?");
  letters(inst.query());
  return task.family() + "|" + q.key();
}

namespace generators {
const Generator& string_rules() {
  static const StringRulesGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
