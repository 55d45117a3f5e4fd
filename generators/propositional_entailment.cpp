// propositional_entailment: premises over n propositions; does a conclusion follow?
// Labels entailed / contradicted / neither, decided exactly by truth tables (solvers/entailment.h; Z3 beyond
// 16 variables and in the tests), balanced by drawing the target label first.
#include "generators/generators.h"

#include "generators/canonical_form.h"

#include <algorithm>
#include <stdexcept>

#include "solvers/logic.h"
#include "solvers/entailment.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

class PropositionalEntailmentGenerator final : public Generator {
 public:
  std::string name() const override { return "propositional_entailment"; }
  std::string summary() const override {
    return "Premises in propositional logic; is the conclusion entailed, contradicted, or neither?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "one word: entailed, contradicted or neither"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  // The premises as a set and the conclusion, up to renaming the propositions: their order, names
  // and English wording do not count.
  std::string question_key(const pb::Task& task) const override {
    const auto& p = task.propositional();
    const std::vector<std::string> vars(p.variables().begin(), p.variables().end());
    std::vector<std::string> statements;
    for (const auto& premise : p.premises()) statements.push_back("P|" + canonical::symbolized(premise, vars));
    statements.push_back("C|" + canonical::symbolized(p.conclusion(), vars));
    return task.family() + "|" + canonical::key(statements);
  }
};

using logic::Formula;
using logic::FormulaPtr;
using logic::Op;
using z3bridge::Entailment;

// Atomic clauses for the English rendering, with their negations (so "~A" reads naturally);
// symbolic names are the letters A..Z.
const std::vector<std::pair<std::string, std::string>> kPhrases = {
    {"the lamp is on", "the lamp is not on"},
    {"the door is open", "the door is not open"},
    {"it is raining", "it is not raining"},
    {"the alarm rings", "the alarm does not ring"},
    {"the cat is asleep", "the cat is not asleep"},
    {"the road is wet", "the road is not wet"},
    {"the shop is closed", "the shop is not closed"},
    {"the train is late", "the train is not late"},
    {"the oven is hot", "the oven is not hot"},
    {"the window is open", "the window is not open"},
    {"the dog barks", "the dog does not bark"},
    {"the phone is charged", "the phone is not charged"},
    {"the light is green", "the light is not green"},
    {"the river is frozen", "the river is not frozen"},
    {"the bell rings", "the bell does not ring"},
    {"the garden is watered", "the garden is not watered"},
    {"the printer is jammed", "the printer is not jammed"},
    {"the kettle is boiling", "the kettle is not boiling"},
    {"the bridge is closed", "the bridge is not closed"},
    {"the fan is running", "the fan is not running"},
    {"the baby is asleep", "the baby is not asleep"},
    {"the mail has arrived", "the mail has not arrived"},
    {"the battery is low", "the battery is not low"},
    {"the music is loud", "the music is not loud"},
    {"the snow is melting", "the snow is not melting"},
    {"the game is over", "the game is not over"},
    {"the car is parked", "the car is not parked"},
    {"the gate is locked", "the gate is not locked"},
    {"the tea is cold", "the tea is not cold"},
    {"the clock is fast", "the clock is not fast"},
    {"the plant is growing", "the plant is not growing"},
    {"the fire is lit", "the fire is not lit"}};

constexpr int kMaxSymbols = 26;

FormulaPtr random_literal(Rng& rng, int first_var, int var_count) {
  FormulaPtr v = Formula::variable(first_var + static_cast<int>(rng.index(var_count)));
  return rng.chance(0.35) ? Formula::negate(v) : v;
}

int literal_var(const FormulaPtr& f) {
  if (f->op == Op::Var) return f->var;
  if (f->op == Op::Not && f->left->op == Op::Var) return f->left->var;
  return -1;
}

FormulaPtr random_formula(Rng& rng, int depth, int first_var, int var_count) {
  if (depth <= 0 || var_count < 2) return random_literal(rng, first_var, var_count);
  static const Op kOps[] = {Op::And, Op::Or, Op::Implies, Op::Implies, Op::Or, Op::Iff};
  const Op op = kOps[rng.index(6)];
  // Children are shallower, sometimes much shallower, so shapes vary within a level.
  const int left_depth = rng.chance(0.5) ? depth - 1 : static_cast<int>(rng.uniform(0, depth - 1));
  const int right_depth = rng.chance(0.5) ? depth - 1 : static_cast<int>(rng.uniform(0, depth - 1));
  FormulaPtr left = random_formula(rng, left_depth, first_var, var_count);
  FormulaPtr right = random_formula(rng, right_depth, first_var, var_count);
  // "A op A" and "A op ~A" are degenerate (a tautology or a restatement): redraw the right literal.
  for (int guard = 0; guard < 8 && literal_var(left) >= 0 && literal_var(left) == literal_var(right); ++guard)
    right = random_literal(rng, first_var, var_count);
  FormulaPtr f = Formula::binary(op, left, right);
  return rng.chance(0.1) ? Formula::negate(f) : f;
}

// A premise worth stating: mentions at least two variables (when there are two).
FormulaPtr random_premise(Rng& rng, int depth, int first_var, int var_count) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    FormulaPtr f = random_formula(rng, std::max(1, depth), first_var, var_count);
    if (var_count < 2 || logic::variables_of(*f).size() >= 2) return f;
  }
  return random_formula(rng, std::max(1, depth), first_var, var_count);
}

// The formula with the variables in `mask` read the other way round (v and ~v exchanged): a renaming
// of what the propositions mean, so labels stay; drawn at random, it spreads negations evenly over the
// labels (literal conclusions that a label needs in one polarity made "not" a shortcut at levels 1-2).
FormulaPtr flip_polarity(const FormulaPtr& f, uint64_t mask) {
  if (f->op == Op::Var) return ((mask >> f->var) & 1u) ? Formula::negate(f) : f;
  if (f->op == Op::Not && f->left->op == Op::Var && ((mask >> f->left->var) & 1u)) return f->left;
  if (f->op == Op::Not) return Formula::negate(flip_polarity(f->left, mask));
  return Formula::binary(f->op, flip_polarity(f->left, mask), flip_polarity(f->right, mask));
}

// Label of a conclusion over the core variables by truth table: the cheap search filter.
// The label a task carries is decided once over all premises (solvers/entailment.h).
Entailment table_label(const logic::TruthTable& premises, const logic::TruthTable& conclusion) {
  if (!premises.intersects(~conclusion)) return Entailment::Entailed;
  if (!premises.intersects(conclusion)) return Entailment::Contradicted;
  return Entailment::Neither;
}

struct Draft {
  std::vector<FormulaPtr> premises;
  FormulaPtr conclusion;
  z3bridge::EntailmentResult decision;
  int distractors = 0;
};

// Tries to build premises + conclusion with the target label; false if this attempt failed.
bool try_draft(Rng& rng, const Knobs& knobs, Entailment target, int core_vars, int distractor_vars,
               Draft& draft) {
  const int depth = static_cast<int>(knobs.get_int("depth"));
  const int premise_count = static_cast<int>(knobs.get_int("premises"));
  const int total_vars = core_vars + distractor_vars;
  draft.premises.clear();
  logic::TruthTable models = logic::all_true(core_vars);
  for (int i = 0; i < premise_count; ++i) {
    draft.premises.push_back(random_premise(rng, depth, 0, core_vars));
    models &= logic::truth_table(*draft.premises.back(), core_vars);
  }
  if (models.none()) return false;

  draft.conclusion = nullptr;
  for (int candidate = 0; candidate < 24; ++candidate) {
    // Short conclusions are entailed or contradicted more often; mix in deeper ones.
    const int conclusion_depth = static_cast<int>(rng.uniform(0, std::max(0, depth - 1)));
    FormulaPtr conclusion = random_formula(rng, conclusion_depth, 0, core_vars);
    const logic::TruthTable table = logic::truth_table(*conclusion, core_vars);
    // Tautologies and contradictions make the question about nothing.
    if (table.none() || table.all() || table_label(models, table) != target) continue;
    draft.conclusion = conclusion;
    break;
  }
  if (!draft.conclusion) return false;

  // Distractors mention only fresh variables, so they can never change the label; it is decided again anyway.
  draft.distractors = static_cast<int>(knobs.get_int("distractors"));
  for (int i = 0; i < draft.distractors; ++i)
    draft.premises.push_back(random_premise(rng, std::max(1, depth - 1), core_vars, distractor_vars));
  const uint64_t flips = rng.next() & ((uint64_t{1} << total_vars) - 1);
  for (auto& premise : draft.premises) premise = flip_polarity(premise, flips);
  draft.conclusion = flip_polarity(draft.conclusion, flips);
  draft.decision = entailment::decide(draft.premises, draft.conclusion, total_vars);
  return draft.decision.label == target;
}

std::string describe_assignment(uint64_t bits, const std::vector<std::string>& names, int count) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out += (i ? ", " : "") + names[i] + "=" + (((bits >> i) & 1u) ? "true" : "false");
  return out;
}

std::string cite_list(const std::vector<int>& core) {
  std::string out;
  for (size_t i = 0; i < core.size(); ++i) out += (i ? ", " : "") + std::string("p") + std::to_string(core[i] + 1);
  return out;
}

void add_step(pb::Task& task, const std::string& text, const std::vector<int>& cites, const std::string& rule) {
  auto* step = task.add_trace();
  step->set_text(text);
  for (int c : cites) step->add_cites("p" + std::to_string(c + 1));
  step->set_rule(rule);
}

void write_trace(const Draft& d, const std::vector<std::string>& symbols, int total_vars, pb::Task& task) {
  const auto& r = d.decision;
  if (r.label == Entailment::Entailed) {
    add_step(task, "Assume the conclusion is false. Together with premises " + cite_list(r.core) +
                       " this is contradictory, so the conclusion must be true.", r.core, "refutation");
  } else if (r.label == Entailment::Contradicted) {
    add_step(task, "Assume the conclusion is true. Together with premises " + cite_list(r.core) +
                       " this is contradictory, so the conclusion must be false.", r.core, "refutation");
  } else {
    add_step(task, "All premises and the conclusion hold when " +
                       describe_assignment(*r.model_with, symbols, total_vars) + ".", {}, "model");
    add_step(task, "All premises hold and the conclusion fails when " +
                       describe_assignment(*r.model_without, symbols, total_vars) + ".", {}, "countermodel");
  }
}

std::string render_prompt(Rng& rng, const Draft& d, const std::vector<std::string>& symbols,
                          const logic::Phrases& phrases, bool natural) {
  static const std::vector<std::string> kIntros = {
      "Consider the following statements.", "Assume all of the following are true.",
      "Here are some facts.", "Suppose we know the following."};
  static const std::vector<std::string> kQuestions = {
      "Does it follow that", "Can we conclude that", "Given only these statements, must it be that"};
  std::string prompt = natural ? rng.pick(kIntros) + "\n" + kInclusiveOr : "Premises (~ not, & and, | or, -> implies, <-> iff):";
  prompt += "\n";
  for (size_t i = 0; i < d.premises.size(); ++i) {
    std::string text = natural ? logic::to_english(*d.premises[i], phrases) : logic::to_symbolic(*d.premises[i], symbols);
    if (natural) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    prompt += std::to_string(i + 1) + ". " + text + (natural ? "." : "") + "\n";
  }
  if (natural) {
    prompt += rng.pick(kQuestions) + " " + logic::to_english(*d.conclusion, phrases) + "?\n";
  } else {
    prompt += "Conclusion: " + logic::to_symbolic(*d.conclusion, symbols) + "\n";
  }
  prompt += "Say \"entailed\" if the conclusion must be true, \"contradicted\" if it must be false, and "
            "\"neither\" if the premises do not settle it. ";
  prompt += answer_instruction("one word: entailed, contradicted or neither", "neither");
  return prompt;
}

}  // namespace

std::vector<KnobSpec> PropositionalEntailmentGenerator::knob_specs() const {
  return {KnobSpec::integer("variables", "propositions the premises and conclusion talk about", 2, 16, 3),
          KnobSpec::integer("premises", "premises over those propositions", 1, 16, 2),
          KnobSpec::integer("depth", "maximum connective depth of a premise", 1, 5, 1),
          KnobSpec::integer("distractors", "extra premises over unrelated propositions", 0, 10, 0),
          KnobSpec::choice("format", "rendering of the premises", {"natural", "symbolic"}, "natural")};
}

KnobMap PropositionalEntailmentGenerator::level_knobs(int level) const {
  struct Row { int vars, premises, depth, distractors; };
  // Two propositions hold only ~2,900 distinct questions (up to renaming); levels must hold 10,000.
  static const Row kLadder[] = {{3, 2, 1, 0}, {3, 3, 1, 0}, {4, 3, 2, 0}, {4, 3, 2, 1}, {4, 4, 2, 1},
                                {5, 4, 3, 2}, {6, 5, 3, 2}, {7, 6, 3, 3}, {8, 7, 4, 4}, {10, 8, 4, 5}};
  const Row& r = kLadder[level - 1];
  return {{"variables", std::to_string(r.vars)}, {"premises", std::to_string(r.premises)},
          {"depth", std::to_string(r.depth)}, {"distractors", std::to_string(r.distractors)}};
}

void PropositionalEntailmentGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  static const Entailment kLabels[] = {Entailment::Entailed, Entailment::Contradicted, Entailment::Neither};
  const Entailment target = kLabels[rng.index(3)];
  const int core_vars = static_cast<int>(knobs.get_int("variables"));
  const int distractor_vars =
      knobs.get_int("distractors") == 0 ? 0 : std::min<int>(kMaxSymbols - core_vars, knobs.get_int("distractors") + 1);
  const int total_vars = core_vars + distractor_vars;

  Draft draft;
  bool done = false;
  for (int attempt = 0; attempt < 400 && !done; ++attempt) done = try_draft(rng, knobs, target, core_vars, distractor_vars, draft);
  if (!done) throw std::runtime_error("propositional_entailment: no " + z3bridge::to_string(target) +
                                      " instance found for knobs " + knobs.canonical());

  // Names: letters in order; phrases drawn without replacement.
  auto phrase_pairs = kPhrases;
  rng.shuffle(phrase_pairs);
  std::vector<std::string> symbols, phrases, negated_phrases;
  for (int i = 0; i < total_vars; ++i) {
    phrases.push_back(phrase_pairs[i].first);
    negated_phrases.push_back(phrase_pairs[i].second);
  }
  for (int i = 0; i < total_vars; ++i) symbols.push_back(std::string(1, static_cast<char>('A' + i)));

  auto* instance = task.mutable_propositional();
  for (int i = 0; i < total_vars; ++i) {
    instance->add_variables(symbols[i]);
    instance->add_variable_phrases(phrases[i]);
  }
  for (const auto& p : draft.premises) instance->add_premises(logic::to_symbolic(*p, symbols));
  instance->set_conclusion(logic::to_symbolic(*draft.conclusion, symbols));
  instance->set_distractor_premises(draft.distractors);

  task.set_prompt(render_prompt(rng, draft, symbols, {phrases, negated_phrases}, knobs.get("format") == "natural"));
  task.set_label(z3bridge::to_string(draft.decision.label));
  task.set_answer(task.label());
  write_trace(draft, symbols, total_vars, task);
}

// generate() draws the target label first, each of the three with equal odds.
std::map<std::string, double> PropositionalEntailmentGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"entailed", 1.0 / 3}, {"contradicted", 1.0 / 3}, {"neither", 1.0 / 3}};
}

namespace generators {
const Generator& propositional_entailment() {
  static const PropositionalEntailmentGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
