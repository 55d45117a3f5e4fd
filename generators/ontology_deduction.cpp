// ontology_deduction (PrOntoQA / ProofWriter style): one entity, facts about it and rules over a
// fictional (or real, or deliberately false) ontology of concepts and properties; the question is
// "True or false: <entity> is <property>". The gold derivation takes `hops` rule applications and
// mixes modus ponens, and-rules, proof by cases (a disjunction whose every case leads on) and proof
// by contradiction (a disjunct refuted by modus tollens). Distractors add derivable but irrelevant
// branches, decoy rules from underivable concepts and irrelevant facts. With the `unanswerable` knob a
// premise on the derivation path is replaced by a statement of the same shape that derives nothing, and
// the gold answer is Unknown ("cannot be determined").
// The label is computed from the stored instance by forward chaining (ontology_forward_label); tests
// cross-check it with Z3.
#include "generators/generators.h"

#include "generators/canonical_form.h"

#include "solvers/ontology_chaining.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

class OntologyDeductionGenerator final : public Generator {
 public:
  std::string name() const override { return "ontology_deduction"; }
  std::string summary() const override {
    return "PrOntoQA-style ontology: facts and rules about one entity; is the statement true, false or unknown?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "True, False, or Unknown"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Generation.
// ---------------------------------------------------------------------------------------------
namespace {

const std::vector<std::string> kEntities = {"Max", "Fae", "Rex", "Sally", "Polly", "Sam", "Wren", "Alex",
                                            "Stella", "Leo", "Nora", "Otto"};
const std::vector<std::string> kAdjectives = {
    "red", "blue", "green", "small", "large", "bright", "dull", "wooden", "metallic", "hot", "cold", "sweet",
    "sour", "fast", "slow", "shy", "loud", "quiet", "happy", "sad", "kind", "mean", "floral", "fruity", "spicy",
    "transparent", "opaque", "liquid", "bitter", "soft", "hard", "heavy", "light", "round", "square", "striped",
    "spotted", "shiny", "muddy", "windy", "brave", "timid", "amenable", "aggressive", "feisty", "nervous", "dark",
    "earthy", "vivid", "rough"};
const std::vector<std::string> kOnsets = {"w", "y", "z", "d", "r", "n", "t", "v", "j", "g", "sh", "l", "st",
                                          "gr", "br", "k", "f", "h", "m", "p", "b", "sl", "pl", "qu", "dr"};
const std::vector<std::string> kRimes = {"umpus", "impus", "orpus", "empus"};
// Real taxonomies, most specific first: every word is a kind of each later word.
const std::vector<std::vector<std::string>> kTaxonomies = {
    {"siamese", "cat", "feline", "carnivore", "mammal", "vertebrate", "chordate", "animal", "eukaryote", "organism",
     "living thing"},
    {"salmon", "salmonid", "bony fish", "fish", "vertebrate", "chordate", "animal", "eukaryote", "organism",
     "living thing"},
    {"sparrow", "songbird", "passerine", "bird", "vertebrate", "chordate", "animal", "eukaryote", "organism",
     "living thing"}};

struct Rule {
  std::vector<int> if_all, then_any;
};

// A premise of a derivation step that the unanswerable variant may remove.
struct Premise {
  bool is_fact = false;
  int index = 0;
};

struct Step {
  std::string text;
  std::string rule;
  std::vector<Premise> uses;  // statements cited (facts / rules)
  bool cites_previous = false;
};

struct Build {
  std::vector<std::string> names;
  std::vector<bool> is_concept;
  std::vector<int> facts;    // literal ids
  std::vector<Rule> rules;
  std::vector<Step> steps;   // gold derivation
  std::vector<std::string> fictional, adjectives;  // unused word pools
  std::string entity;
  int query = -1;
  int hops = 0;
};

int add_predicate(Build& b, const std::string& name, bool noun) {
  b.names.push_back(name);
  b.is_concept.push_back(noun);
  return 2 * (static_cast<int>(b.names.size()) - 1);
}
int fresh_concept(Build& b) {
  if (b.fictional.empty()) throw std::logic_error("ontology_deduction: fictional word pool exhausted");
  std::string w = b.fictional.back();
  b.fictional.pop_back();
  return add_predicate(b, w, true);
}
int fresh_property(Build& b) {
  if (b.adjectives.empty()) throw std::logic_error("ontology_deduction: adjective pool exhausted");
  std::string w = b.adjectives.back();
  b.adjectives.pop_back();
  return add_predicate(b, w, false);
}

// ---- English ----

std::string article(const std::string& noun) {
  const bool vowel = std::string("aeiou").find(noun[0]) != std::string::npos && noun.rfind("eu", 0) != 0;
  return vowel ? "an " + noun : "a " + noun;
}
std::string lit_text(const Build& b, int lit) {
  const std::string& n = b.names[lit / 2];
  const std::string body = b.is_concept[lit / 2] ? article(n) : n;
  return (lit & 1) ? "not " + body : body;
}
std::string symbol(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}
std::string lit_symbolic(const Build& b, int lit, const std::string& arg) {
  return std::string((lit & 1) ? "~" : "") + symbol(b.names[lit / 2]) + "(" + arg + ")";
}
std::string disjunction(const Build& b, const std::vector<int>& lits) {
  std::string out;
  for (size_t i = 0; i < lits.size(); ++i) out += (i ? " or " : "") + lit_text(b, lits[i]);
  return out;
}
bool positive_concept(const Build& b, int lit) { return !(lit & 1) && b.is_concept[lit / 2]; }

std::string rule_text(const Build& b, const Rule& r, size_t variant) {
  const std::string then = (r.then_any.size() > 1 && variant % 2 ? "either " : "") + disjunction(b, r.then_any);
  const int first = r.if_all[0];
  if (positive_concept(b, first)) {
    const std::string head = (variant % 3 == 0 ? "Every " : variant % 3 == 1 ? "Each " : "Any ") + b.names[first / 2];
    if (r.if_all.size() == 1) return head + " is " + then + ".";
    if (r.if_all.size() == 2) return head + " that is " + lit_text(b, r.if_all[1]) + " is " + then + ".";
  }
  std::string cond;
  for (size_t i = 0; i < r.if_all.size(); ++i) cond += (i ? " and " : "") + lit_text(b, r.if_all[i]);
  return "Everything that is " + cond + " is " + then + ".";
}
std::string rule_symbolic(const Build& b, const Rule& r) {
  std::string s = "forall x: ";
  for (size_t i = 0; i < r.if_all.size(); ++i) s += (i ? " & " : "") + lit_symbolic(b, r.if_all[i], "x");
  s += " -> ";
  for (size_t i = 0; i < r.then_any.size(); ++i) s += (i ? " | " : "") + lit_symbolic(b, r.then_any[i], "x");
  return s;
}
std::string is(const Build& b, int lit) { return b.entity + " is " + lit_text(b, lit); }
// Rule text inside a sentence: lower-cased first letter, no final period.
std::string inline_rule(const Build& b, int rule) {
  std::string s = rule_text(b, b.rules[rule], 0);
  s[0] = static_cast<char>(s[0] - 'A' + 'a');
  s.pop_back();
  return s;
}

// Formal forms stored in the instance: "~red", "wumpus & red -> yumpus | zumpus".
std::string literal_name(const Build& b, int lit) { return std::string((lit & 1) ? "~" : "") + b.names[lit / 2]; }
std::string formal_rule(const Build& b, const Rule& r) {
  std::string s;
  for (size_t i = 0; i < r.if_all.size(); ++i) s += (i ? " & " : "") + literal_name(b, r.if_all[i]);
  s += " -> ";
  for (size_t i = 0; i < r.then_any.size(); ++i) s += (i ? " | " : "") + literal_name(b, r.then_any[i]);
  return s;
}

// ---- the derivation, one hop at a time ----

int add_rule(Build& b, std::vector<int> if_all, std::vector<int> then_any) {
  b.rules.push_back({std::move(if_all), std::move(then_any)});
  return static_cast<int>(b.rules.size()) - 1;
}
int add_fact(Build& b, int lit) {
  b.facts.push_back(lit);
  return static_cast<int>(b.facts.size()) - 1;
}
void add_step(Build& b, std::string text, std::string rule, std::vector<Premise> uses) {
  b.steps.push_back({std::move(text), std::move(rule), std::move(uses), !b.steps.empty()});
}

void hop_modus_ponens(Build& b, int cur, int next) {
  const int r = add_rule(b, {cur}, {next});
  add_step(b, "Since " + inline_rule(b, r) + ", " + is(b, next) + ".", "modus_ponens", {{false, r}});
}

void hop_and(Rng& rng, Build& b, int cur, int next) {
  const int q = fresh_property(b) + (rng.chance(0.3) ? 1 : 0);
  const int f = add_fact(b, q);
  const int r = add_rule(b, {cur, q}, {next});
  add_step(b, is(b, cur) + " and " + lit_text(b, q) + ", and " + inline_rule(b, r) + ", so " + is(b, next) + ".",
           "and_modus_ponens", {{true, f}, {false, r}});
}

void hop_cases(Build& b, int cur, int next) {
  const int a = fresh_concept(b), c = fresh_concept(b);
  const int split = add_rule(b, {cur}, {a, c});
  const int ra = add_rule(b, {a}, {next});
  const int rc = add_rule(b, {c}, {next});
  add_step(b, "Since " + inline_rule(b, split) + ", " + b.entity + " is " + disjunction(b, {a, c}) + ".",
           "or_elimination_split", {{false, split}});
  add_step(b, "If " + is(b, a) + ", then " + is(b, next) + " because " + inline_rule(b, ra) + "; if " + is(b, c) +
                  ", then " + is(b, next) + " because " + inline_rule(b, rc) + "; so in either case " + is(b, next) +
                  ".",
           "proof_by_cases", {{false, ra}, {false, rc}});
}

void hop_contradiction(Rng& rng, Build& b, int cur, int next) {
  const int d = fresh_concept(b);
  const int e = fresh_property(b) + (rng.chance(0.5) ? 1 : 0);
  // The disjuncts in random order, so the position of the chain concept gives nothing away.
  const std::vector<int> cases = rng.chance(0.5) ? std::vector<int>{next, d} : std::vector<int>{d, next};
  const int split = add_rule(b, {cur}, cases);
  const int rd = add_rule(b, {d}, {e});
  const int f = add_fact(b, e ^ 1);
  add_step(b, "Since " + inline_rule(b, split) + ", " + b.entity + " is " + disjunction(b, cases) + ".",
           "or_elimination_split", {{false, split}});
  add_step(b, "Suppose " + is(b, d) + "; since " + inline_rule(b, rd) + ", " + b.entity + " would be " +
                  lit_text(b, e) + ", but " + is(b, e ^ 1) + ", a contradiction; so " + is(b, d ^ 1) + ".",
           "proof_by_contradiction", {{false, rd}, {true, f}});
  add_step(b, b.entity + " is " + disjunction(b, cases) + " and " + lit_text(b, d ^ 1) + ", so " + is(b, next) +
                  ".",
           "disjunctive_syllogism", {});
}

// The chain concepts C0..C(h-1): fictional words, or a real taxonomy in order (true) or shuffled (false).
std::vector<int> chain_concepts(Rng& rng, Build& b, int hops, const std::string& ontology) {
  std::vector<int> chain;
  if (ontology == "fictional") {
    for (int i = 0; i < hops; ++i) chain.push_back(fresh_concept(b));
    return chain;
  }
  std::vector<std::string> words = rng.pick(kTaxonomies);
  while (static_cast<int>(words.size()) > hops) words.erase(words.begin() + static_cast<long>(rng.index(words.size())));
  if (ontology == "false" && hops > 1) {
    const auto sorted = words;
    while (words == sorted) rng.shuffle(words);  // at least one rule goes against the real taxonomy
  }
  for (const auto& w : words) chain.push_back(add_predicate(b, w, true));
  return chain;
}

// Builds the gold derivation: fact "entity is C0", then one hop per rule application ending in the
// query property P (with a random polarity).
std::vector<int> build_derivation(Rng& rng, Build& b, const Knobs& knobs) {
  const int hops = static_cast<int>(knobs.get_int("hops"));
  const double p_and = knobs.get_real("and_prob"), p_cases = knobs.get_real("cases_prob"),
               p_contra = knobs.get_real("contradiction_prob");
  std::vector<int> chain = chain_concepts(rng, b, hops, knobs.get("ontology"));
  const int property = fresh_property(b) + (rng.chance(0.5) ? 1 : 0);
  const int start = add_fact(b, chain[0]);
  add_step(b, is(b, chain[0]) + ".", "fact", {{true, start}});
  for (int i = 0; i < hops; ++i) {
    const int cur = chain[i];
    const int next = i + 1 < hops ? chain[i + 1] : property;
    const double u = rng.unit();
    if (u < p_and) hop_and(rng, b, cur, next);
    else if (u < p_and + p_cases) hop_cases(b, cur, next);
    else if (u < p_and + p_cases + p_contra) hop_contradiction(rng, b, cur, next);
    else hop_modus_ponens(b, cur, next);
  }
  b.query = property;  // flipped later for a False question
  b.hops = hops;
  return chain;
}

// Every rule concluding the derived property (the last hop's) gets a mirror concluding its negation, of
// the same shape but starting from a fresh concept nothing concludes (so it never fires). Without
// mirrors, "some rule concludes exactly the asked literal" answered True / False with accuracy 0.89 at
// level 1 and 0.96 at levels 5-10, no chaining needed.
void mirror_conclusions(Build& b, int property) {
  const size_t gold_rules = b.rules.size();
  for (size_t r = 0; r < gold_rules; ++r) {
    const auto& then_any = b.rules[r].then_any;
    if (std::find(then_any.begin(), then_any.end(), property) == then_any.end()) continue;
    Rule mirror = b.rules[r];
    mirror.if_all[0] = fresh_concept(b);
    std::replace(mirror.then_any.begin(), mirror.then_any.end(), property, property ^ 1);
    b.rules.push_back(std::move(mirror));
  }
}

// Distractors never change what follows about the query, and a cut derivation stays cut: every
// distractor rule either starts from a fresh concept nothing concludes (a decoy: a model of the rest
// extends with the decoy false) or concludes only fresh predicates defined by that one rule (a side
// branch: a model extends by following the rule). What they mention otherwise is any predicate already
// there, in either polarity, so their shapes (and the questions) vary widely even at one hop.
int existing_literal(Rng& rng, const Build& b) {
  return 2 * static_cast<int>(rng.index(b.names.size())) + (rng.chance(0.5) ? 1 : 0);
}
int fresh_literal(Rng& rng, Build& b) {
  return rng.chance(0.5) ? fresh_concept(b) : fresh_property(b) + (rng.chance(0.5) ? 1 : 0);
}

void add_side_branch(Rng& rng, Build& b) {  // A -> X (-> Y): A any literal, X and Y fresh
  int from = existing_literal(rng, b);
  for (int link = rng.chance(0.5) ? 2 : 1; link > 0; --link) {
    const int to = link > 1 ? fresh_concept(b) : fresh_literal(rng, b);
    add_rule(b, {from}, {to});
    from = to;
  }
}

void add_decoy(Rng& rng, Build& b) {  // D -> L (or L | M, or D and L -> M): D fresh, L, M any literals
  const int l = existing_literal(rng, b);
  const int d = fresh_concept(b);
  const double u = rng.unit();
  if (u < 0.6) {
    add_rule(b, {d}, {l});
    return;
  }
  int m = existing_literal(rng, b);
  while (m / 2 == l / 2 || m / 2 == d / 2) m = existing_literal(rng, b);
  if (u < 0.8) add_rule(b, {d}, {l, m});
  else add_rule(b, {d, l}, {m});
}

void add_distractors(Rng& rng, Build& b, int count) {
  for (int i = 0; i < count; ++i) {
    switch (rng.index(3)) {
      case 0: add_side_branch(rng, b); break;
      case 1: add_decoy(rng, b); break;
      default: add_fact(b, fresh_literal(rng, b));  // an irrelevant fact
    }
  }
}

// Unanswerable: one premise some derivation step uses is taken out; the steps before it stay valid.
// In its place stands a statement of the same shape that derives nothing (a fact about a fresh
// predicate of the same kind and polarity; the rule with its first condition a fresh concept), so the
// number of statements, their kinds and what the rules conclude do not tell Unknown tasks apart.
size_t cut_derivation(Rng& rng, Build& b, Premise& cut, std::string& removed) {
  std::vector<std::pair<size_t, Premise>> options;
  for (size_t s = 0; s < b.steps.size(); ++s)
    for (const auto& p : b.steps[s].uses) options.push_back({s, p});
  const auto [step, premise] = rng.pick(options);
  cut = premise;
  if (premise.is_fact) {
    int& fact = b.facts[premise.index];
    removed = literal_name(b, fact);
    const int kind = b.is_concept[fact / 2] ? fresh_concept(b) : fresh_property(b);
    fact = kind + (fact & 1);
  } else {
    Rule& rule = b.rules[premise.index];
    removed = formal_rule(b, rule);
    rule.if_all[0] = fresh_concept(b);
  }
  return step;
}

struct Statement {
  bool is_fact;
  int index;
};

std::string render_prompt(Rng& rng, const Build& b, const std::vector<Statement>& order, bool natural) {
  static const std::vector<std::string> kIntros = {
      "Here are some facts and rules.", "Consider the following statements.",
      "Assume everything below is true, and nothing else is known."};
  static const std::vector<std::string> kQuestions = {"True or false: ", "Is the following statement true or false? ",
                                                      "Based only on the statements above, true or false: "};
  std::string p = natural ? rng.pick(kIntros) + "\n"
                          : "Facts and rules (first-order logic; x ranges over individuals):\n";
  for (const auto& s : order) {
    if (s.is_fact)
      p += natural ? is(b, b.facts[s.index]) + ".\n" : lit_symbolic(b, b.facts[s.index], b.entity) + "\n";
    else
      p += natural ? rule_text(b, b.rules[s.index], rng.index(6)) + "\n" : rule_symbolic(b, b.rules[s.index]) + "\n";
  }
  // "A or B" is inclusive, as in the symbolic "|" (a rule's disjunction never needs the other reading,
  // but the prompt leaves none open).
  const bool any_or = std::any_of(order.begin(), order.end(),
                                  [&](const Statement& s) { return !s.is_fact && b.rules[s.index].then_any.size() > 1; });
  if (natural && any_or) p += std::string(kInclusiveOr) + "\n";
  p += natural ? rng.pick(kQuestions) + is(b, b.query) + ".\n"
               : "Query: is " + lit_symbolic(b, b.query, b.entity) + " true or false?\n";
  p += "If the statements do not determine the answer, answer Unknown.\n";
  p += answer_instruction("True, False, or Unknown", "True");
  return p;
}

void fill_instance(const Build& b, const std::vector<Statement>& order, const Knobs& knobs, bool answerable,
                   const std::string& removed, pb::OntologyInstance& inst) {
  auto text = [&](int lit) { return literal_name(b, lit); };
  inst.set_entity(b.entity);
  for (size_t i = 0; i < b.names.size(); ++i) (b.is_concept[i] ? inst.add_concepts(b.names[i]) : inst.add_properties(b.names[i]));
  // Facts and rules are stored in prompt order; statement_order interleaves them as the prompt does.
  for (const auto& s : order) {
    if (s.is_fact) {
      inst.add_statement_order(concat("f", std::to_string(inst.facts_size())));
      inst.add_facts(text(b.facts[s.index]));
      continue;
    }
    inst.add_statement_order(concat("r", std::to_string(inst.rules_size())));
    auto* out = inst.add_rules();
    for (int l : b.rules[s.index].if_all) out->add_if_all(text(l));
    for (int l : b.rules[s.index].then_any) out->add_then_any(text(l));
  }
  inst.set_query(text(b.query));
  inst.set_hops(b.hops);
  inst.set_answerable(answerable);
  inst.set_removed(removed);
  inst.set_ontology(knobs.get("ontology"));
}

// Gold chain of thought, one sentence per step, citing statements by prompt position (p1, p2, ...).
void write_trace(const Build& b, const std::vector<Statement>& order, size_t steps_kept, const std::string& label,
                 pb::Task& task) {
  auto cite = [&](const Premise& p) {
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i].is_fact == p.is_fact && order[i].index == p.index) return concat("p", std::to_string(i + 1));
    return std::string("?");
  };
  for (size_t s = 0; s < steps_kept; ++s) {
    auto* step = task.add_trace();
    step->set_text(b.steps[s].text);
    step->set_rule(b.steps[s].rule);
    for (const auto& p : b.steps[s].uses) step->add_cites(cite(p));
    if (b.steps[s].cites_previous) step->add_cites("s" + std::to_string(s));
  }
  auto* last = task.add_trace();
  const std::string claim = is(b, b.query);
  if (label == kOntologyUnknown) {
    last->set_text("Nothing stated settles whether " + claim + ", so the answer cannot be determined.");
    last->set_rule("unknown");
  } else {
    last->set_text("So the statement \"" + claim + "\" is " + (label == kOntologyTrue ? "true." : "false."));
    last->set_rule("conclusion");
    last->add_cites("s" + std::to_string(steps_kept));
  }
}

}  // namespace

std::vector<KnobSpec> OntologyDeductionGenerator::knob_specs() const {
  return {KnobSpec::integer("hops", "rule applications on the gold derivation", 1, 10, 3),
          KnobSpec::integer("distractors", "distractor branches, decoy rules and irrelevant facts", 0, 20, 2),
          KnobSpec::real("and_prob", "per hop: an and-rule needing an extra fact", 0, 1, 0),
          KnobSpec::real("cases_prob", "per hop: proof by cases over a disjunction", 0, 1, 0),
          KnobSpec::real("contradiction_prob", "per hop: a disjunct refuted by contradiction", 0, 1, 0),
          KnobSpec::real("unanswerable", "fraction of tasks with a derivation premise removed (answer Unknown)", 0,
                         1, 0),
          KnobSpec::choice("ontology", "concept words: fictional, a real taxonomy, or a deliberately false one",
                           {"fictional", "true", "false"}, "fictional"),
          KnobSpec::choice("format", "rendering of the statements", {"natural", "symbolic"}, "natural")};
}

KnobMap OntologyDeductionGenerator::level_knobs(int level) const {
  struct Row { int hops, distractors; const char *p_and, *p_cases, *p_contra, *unanswerable; };
  // Distractors from level 1 on: with one hop and none, only 4 questions exist up to renaming.
  static const Row kLadder[] = {{1, 3, "0", "0", "0", "0"},           {2, 3, "0", "0", "0", "0"},
                                {3, 4, "0", "0", "0", "0.3333"},      {4, 4, "0.2", "0", "0", "0.3333"},
                                {5, 4, "0.2", "0.15", "0", "0.3333"}, {6, 5, "0.2", "0.15", "0.15", "0.3333"},
                                {7, 6, "0.2", "0.2", "0.2", "0.3333"}, {8, 8, "0.2", "0.2", "0.2", "0.3333"},
                                {9, 10, "0.25", "0.25", "0.25", "0.3333"},
                                {10, 12, "0.25", "0.25", "0.25", "0.3333"}};
  const Row& r = kLadder[level - 1];
  return {{"hops", std::to_string(r.hops)}, {"distractors", std::to_string(r.distractors)},
          {"and_prob", r.p_and},            {"cases_prob", r.p_cases},
          {"contradiction_prob", r.p_contra}, {"unanswerable", r.unanswerable}};
}

void OntologyDeductionGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  if (knobs.get_real("and_prob") + knobs.get_real("cases_prob") + knobs.get_real("contradiction_prob") > 1.0)
    throw KnobError("and_prob + cases_prob + contradiction_prob is above 1: lower them so they sum to at most 1");
  Build b;
  b.entity = rng.pick(kEntities);
  for (const auto& on : kOnsets)
    for (const auto& rime : kRimes) b.fictional.push_back(on + rime);
  b.adjectives = kAdjectives;
  rng.shuffle(b.fictional);
  rng.shuffle(b.adjectives);

  // The label is drawn first so the mix stays balanced: Unknown with probability `unanswerable`,
  // else True / False with equal odds (a False question asks the negation of what follows).
  const bool unanswerable = rng.chance(knobs.get_real("unanswerable"));
  const bool ask_true = rng.chance(0.5);
  build_derivation(rng, b, knobs);
  mirror_conclusions(b, b.query);
  if (!ask_true) b.query ^= 1;
  add_distractors(rng, b, static_cast<int>(knobs.get_int("distractors")));

  std::string removed;
  Premise cut{true, -1};
  size_t steps_kept = b.steps.size();
  if (unanswerable) steps_kept = cut_derivation(rng, b, cut, removed);

  // Prompt order: every statement (the cut one replaced), shuffled.
  std::vector<Statement> order;
  for (size_t i = 0; i < b.facts.size(); ++i) order.push_back({true, static_cast<int>(i)});
  for (size_t i = 0; i < b.rules.size(); ++i) order.push_back({false, static_cast<int>(i)});
  rng.shuffle(order);

  auto* inst = task.mutable_ontology_deduction();
  fill_instance(b, order, knobs, !unanswerable, removed, *inst);
  // The label of record comes from forward chaining over the stored instance; it must agree with
  // the construction (a disagreement is a generator bug, never shipped).
  const std::string label = ontology_forward_label(*inst);
  const std::string built = unanswerable ? kOntologyUnknown : ask_true ? kOntologyTrue : kOntologyFalse;
  if (label != built)
    throw std::logic_error("ontology_deduction: forward chaining says " + label + " for a task built as " + built);
  task.set_prompt(render_prompt(rng, b, order, knobs.get("format") == "natural"));
  task.set_label(label);
  task.set_answer(label);
  write_trace(b, order, steps_kept, label, task);
  (*task.mutable_meta())["hops"] = std::to_string(b.hops);
}

// The facts and rules as a set and the query, up to renaming the entity and, in a fictional
// ontology, its concepts and properties (real ones stay: renaming them changes what is true).
std::string OntologyDeductionGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.ontology_deduction();
  const bool fictional = inst.ontology() == "fictional";
  const auto& concepts = inst.concepts();
  const auto& properties = inst.properties();
  thread_local canonical::Question q;  // reused: no allocation per key
  q.clear();
  // Each predicate name's symbol: concept i is i, property i is -2 - i (a concept where a name is both).
  thread_local canonical::NameIndex symbols;
  symbols.clear(static_cast<size_t>(concepts.size() + properties.size()));
  for (int i = 0; i < concepts.size(); ++i) symbols.add(concepts[i], i);
  for (int i = 0; i < properties.size(); ++i) symbols.add(properties[i], -2 - i);
  // A literal is a predicate name, "~" prefixed when negated.
  auto literal = [&](const std::string& text) {
    std::string_view name = text;
    if (!name.empty() && name[0] == '~') {
      q.text('~');
      name.remove_prefix(1);
    }
    if (!fictional) {
      q.text(name);
      q.text(' ');
      return;
    }
    const int symbol = symbols.find(name);
    if (symbol == -1) q.text(name);
    else if (symbol >= 0) q.symbol(symbol, 'n');
    else q.symbol(-2 - symbol, 'p');
    q.text(' ');
  };
  for (const auto& fact : inst.facts()) {
    q.statement();
    q.text("F|");
    literal(fact);
  }
  for (const auto& rule : inst.rules()) {
    q.statement();
    q.text("R|");
    for (const auto& l : rule.if_all()) literal(l);
    q.text("->");
    for (const auto& l : rule.then_any()) literal(l);
  }
  q.statement();
  q.text("Q|");
  literal(inst.query());
  return task.family() + "|" + inst.ontology() + "|" + q.key();
}

// The label is drawn first (see generate()): Unknown with probability `unanswerable`, else True / False
// with equal odds.
std::map<std::string, double> OntologyDeductionGenerator::label_shares(const Knobs& knobs) const {
  const double u = knobs.get_real("unanswerable");
  return {{kOntologyTrue, (1 - u) / 2}, {kOntologyFalse, (1 - u) / 2}, {kOntologyUnknown, u}};
}

namespace generators {
const Generator& ontology_deduction() {
  static const OntologyDeductionGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
