// propositional_entailment: premises over n propositions; does a conclusion follow?
// Labels entailed / contradicted / neither, decided exactly by truth tables (solvers/entailment.h; Z3 beyond
// 16 variables and in the tests), balanced by drawing the target label first.
// Where the knobs hold few distinct questions (depth 1 without distractors: levels 1 and 2), they are
// enumerated once and drawn without replacement (generators/question_space.h) instead of at random.
#include "generators/generators.h"
#include "generators/propositional_entailment.h"
#include "generators/question_space.h"

#include "generators/canonical_form.h"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string_view>

#include "solvers/logic.h"
#include "solvers/entailment.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

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
  std::map<std::string, uint64_t> question_counts(const Knobs& knobs) const override;
  // The premises as a set and the conclusion, up to renaming the propositions: their order, names
  // and English wording do not count.
  // Spelled in place (canonical::Question): no statement strings per candidate.
  std::string question_key(const pb::Task& task) const override {
    const auto& p = task.propositional();
    thread_local canonical::Question q;
    q.clear();
    for (const auto& premise : p.premises()) {
      q.statement();
      q.text("P|");
      q.symbolized(premise, p.variables());
    }
    q.statement();
    q.text("C|");
    q.symbolized(p.conclusion(), p.variables());
    return task.family() + "|" + q.key();
  }
};

using logic::Formula;
using logic::FormulaPtr;
using logic::Op;
using z3bridge::Entailment;

// Atomic clauses for the English rendering, with their negations (so "~A" reads naturally);
// symbolic names are the letters A..Z.
constexpr std::pair<std::string_view, std::string_view> kPhraseTable[] = {
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

// The labels, in the order the random path draws them and the enumerated space files them.
constexpr Entailment kLabels[] = {Entailment::Entailed, Entailment::Contradicted, Entailment::Neither};

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
  int total_vars = 0;  // core and distractor variables
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
  for (int c : cites) step->add_cites(concat("p", std::to_string(c + 1)));
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

// Written into `prompt` (a reused buffer: one task's prompt is a few hundred bytes).
void render_prompt(Rng& rng, const Draft& d, const std::vector<std::string>& symbols, const logic::Phrases& phrases,
                   bool natural, std::string& prompt) {
  static const std::vector<std::string> kIntros = {
      "Consider the following statements.", "Assume all of the following are true.",
      "Here are some facts.", "Suppose we know the following."};
  static const std::vector<std::string> kQuestions = {
      "Does it follow that", "Can we conclude that", "Given only these statements, must it be that"};
  static const std::string kClosing =
      "Say \"entailed\" if the conclusion must be true, \"contradicted\" if it must be false, and "
      "\"neither\" if the premises do not settle it. " +
      answer_instruction("one word: entailed, contradicted or neither", "neither");
  prompt.clear();
  if (natural) prompt.append(rng.pick(kIntros)).append("\n").append(kInclusiveOr);
  else prompt.append("Premises (~ not, & and, | or, -> implies, <-> iff):");
  prompt += '\n';
  for (size_t i = 0; i < d.premises.size(); ++i) {
    std::string text = natural ? logic::to_english(*d.premises[i], phrases) : logic::to_symbolic(*d.premises[i], symbols);
    if (natural) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    prompt.append(std::to_string(i + 1)).append(". ").append(text).append(natural ? "." : "").append("\n");
  }
  if (natural) {
    prompt.append(rng.pick(kQuestions)).append(" ").append(logic::to_english(*d.conclusion, phrases)).append("?\n");
  } else {
    prompt.append("Conclusion: ").append(logic::to_symbolic(*d.conclusion, symbols)).append("\n");
  }
  prompt += kClosing;
}

// ---- The enumerated question space: depth 1 without distractors (levels 1 and 2) ----
// There a premise is [~](l1 op l2), literals l1, l2 over two different variables (random_premise at
// depth 1) and the conclusion a literal (random_formula at depth 0). A question is a multiset of
// premises and a conclusion, up to renaming the variables: what question_key tells apart. Codes:
// premise = ((pair * 4 + polarities) * 4 + op) * 2 + negated, pair = an ordered pair of different
// variables, polarity bit 0 / 1 = left / right literal negated; conclusion = variable * 2 + negated;
// question = conclusion | premise i << (kConclusionBits + i * kPremiseBits).
constexpr Op kPremiseOps[] = {Op::And, Op::Or, Op::Implies, Op::Iff};
constexpr int kMaxEnumeratedVars = 6, kMaxEnumeratedPremises = 6;
constexpr int kConclusionBits = 4, kPremiseBits = 10;  // 2 * 6 literals < 16; 6 * 5 * 32 premises < 1024
// Enumeration work (premise multisets x conclusions x variable permutations) up to which the knobs are
// enumerated rather than drawn at random. Measured (CPU, one core): level 1 (0.7 million) under 1
// ms; 4 variables, 2 premises (14 million) 1 ms; 2 variables, 4 premises (6 million) 7 ms; level 2
// (43 million) 14 ms, which a whole `verity generate` at level 2 earns back from about 5,000 tasks on
// (a task from the list costs 3.8 us, a random one 6.2 us). 3 variables with 4 premises (2 billion)
// or 5 variables with 2 (250 million) would take seconds: such knobs keep the random path.
constexpr double kMaxEnumerationWork = 5e7;

struct DepthOnePremise {
  int left, right;                     // variables
  bool left_negated, right_negated, negated;
  int op;                              // index into kPremiseOps
};

DepthOnePremise decode_premise(int code, int vars) {
  DepthOnePremise p;
  p.negated = code & 1;
  p.op = (code >> 1) & 3;
  p.left_negated = (code >> 3) & 1;
  p.right_negated = (code >> 4) & 1;
  const int pair = code >> 5;
  p.left = pair / (vars - 1);
  const int other = pair % (vars - 1);
  p.right = other >= p.left ? other + 1 : other;
  return p;
}

int encode_premise(const DepthOnePremise& p, int vars) {
  const int pair = p.left * (vars - 1) + (p.right > p.left ? p.right - 1 : p.right);
  return (((pair * 4 + (p.right_negated << 1 | p.left_negated)) * 4 + p.op) * 2) + p.negated;
}

// Truth tables over at most 6 variables as one word (bit a = assignment a).
uint64_t all_assignments(int vars) { return vars >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << vars)) - 1; }
uint64_t variable_table(int var, int vars) {
  uint64_t t = 0;
  for (uint64_t a = 0; a < (uint64_t{1} << vars); ++a) t |= ((a >> var) & 1) << a;
  return t;
}
uint64_t premise_table(const DepthOnePremise& p, int vars) {
  const uint64_t all = all_assignments(vars);
  const uint64_t l = variable_table(p.left, vars) ^ (p.left_negated ? all : 0);
  const uint64_t r = variable_table(p.right, vars) ^ (p.right_negated ? all : 0);
  const uint64_t table[] = {l & r, l | r, (~l | r) & all, ~(l ^ r) & all};
  return table[p.op] ^ (p.negated ? all : 0);
}

// Premise multisets x conclusions x permutations: the enumeration's work, or infinity when the knobs are
// not depth 1 without distractors within the code's bounds.
double enumeration_work(const Knobs& knobs) {
  const int vars = static_cast<int>(knobs.get_int("variables")), k = static_cast<int>(knobs.get_int("premises"));
  if (knobs.get_int("depth") != 1 || knobs.get_int("distractors") != 0 || vars > kMaxEnumeratedVars ||
      k > kMaxEnumeratedPremises)
    return std::numeric_limits<double>::infinity();
  const double premises = 32.0 * vars * (vars - 1);
  double work = 2.0 * vars;  // conclusions
  for (int i = 0; i < k; ++i) work *= (premises + i) / (i + 1);  // multisets: C(premises + k - 1, k)
  for (int i = 2; i <= vars; ++i) work *= i;
  return work;
}

// Each renaming of the variables but the identity, as maps of premise and conclusion codes, and the
// least code any renaming gives each premise.
struct Renamings {
  std::vector<std::vector<int>> premise, conclusion;
  std::vector<int> least_premise;
  Renamings(int vars, int premise_codes, int conclusion_codes) : least_premise(premise_codes) {
    std::vector<int> perm(vars);
    std::iota(perm.begin(), perm.end(), 0);
    while (std::next_permutation(perm.begin(), perm.end())) {
      auto& p = premise.emplace_back(premise_codes);
      for (int c = 0; c < premise_codes; ++c) {
        DepthOnePremise d = decode_premise(c, vars);
        d.left = perm[d.left], d.right = perm[d.right];
        p[c] = encode_premise(d, vars);
      }
      auto& q = conclusion.emplace_back(conclusion_codes);
      for (int c = 0; c < conclusion_codes; ++c) q[c] = perm[c >> 1] * 2 + (c & 1);
    }
    for (int c = 0; c < premise_codes; ++c) {
      least_premise[c] = c;
      for (const auto& p : premise) least_premise[c] = std::min(least_premise[c], p[c]);
    }
  }
};

// Every distinct question of depth 1 over `vars` variables with `k` premises whose premises can all
// hold (the random path redraws the others), by label; one representative per renaming class: the
// one whose sorted premise codes, then conclusion code, are least over all renamings. A least
// multiset's first (smallest) premise p is its own least renaming, and every other premise's least
// renaming is >= p (else a renaming would put a smaller premise first): the loops visit only such
// multisets (a fifth of them at level 2), then check every renaming.
question_space::Space enumerate_questions(int vars, int k) {
  const int premise_codes = 32 * vars * (vars - 1), conclusion_codes = 2 * vars;
  std::vector<uint64_t> tables(premise_codes), literal_tables(conclusion_codes);
  for (int c = 0; c < premise_codes; ++c) tables[c] = premise_table(decode_premise(c, vars), vars);
  for (int c = 0; c < conclusion_codes; ++c)
    literal_tables[c] = variable_table(c >> 1, vars) ^ ((c & 1) ? all_assignments(vars) : 0);
  const Renamings renamings(vars, premise_codes, conclusion_codes);
  const auto& rename_premise = renamings.premise;
  const auto& rename_conclusion = renamings.conclusion;

  question_space::Space space;
  for (Entailment label : kLabels) space.labels.push_back(z3bridge::to_string(label));
  space.questions.resize(3);
  std::vector<int> premises(k), image(k), others;
  std::vector<size_t> fixing;  // the renamings that map this premise multiset onto itself
  const auto add_if_least = [&] {
    uint64_t models = all_assignments(vars);
    for (int c : premises) models &= tables[c];
    if (models == 0) return;  // the random path redraws premises that cannot all hold
    fixing.clear();
    for (size_t r = 0; r < rename_premise.size(); ++r) {
      for (int i = 0; i < k; ++i) image[i] = rename_premise[r][premises[i]];
      std::sort(image.begin(), image.end());
      if (image < premises) return;
      if (image == premises) fixing.push_back(r);
    }
    for (int conclusion = 0; conclusion < conclusion_codes; ++conclusion) {
      bool least_conclusion = true;
      for (size_t r : fixing) least_conclusion = least_conclusion && rename_conclusion[r][conclusion] >= conclusion;
      if (!least_conclusion) continue;
      uint64_t code = static_cast<uint64_t>(conclusion);
      for (int i = 0; i < k; ++i) code |= static_cast<uint64_t>(premises[i]) << (kConclusionBits + i * kPremiseBits);
      const uint64_t table = literal_tables[conclusion];
      const int slot = (models & ~table) == 0 ? 0 : (models & table) == 0 ? 1 : 2;  // kLabels' order
      space.questions[slot].push_back(code);
    }
  };
  for (int first = 0; first < premise_codes; ++first) {
    if (renamings.least_premise[first] != first) continue;
    others.clear();
    for (int c = first; c < premise_codes; ++c)
      if (renamings.least_premise[c] >= first) others.push_back(c);
    // The other k - 1 premises: a non-decreasing run of indices into `others`.
    std::vector<size_t> at(k - 1, 0);
    for (;;) {
      premises[0] = first;
      for (int i = 1; i < k; ++i) premises[i] = others[at[i - 1]];
      add_if_least();
      int i = k - 2;
      while (i >= 0 && at[i] + 1 == others.size()) --i;
      if (i < 0) break;
      const size_t next = at[i] + 1;
      for (int j = i; j < k - 1; ++j) at[j] = next;
    }
  }
  return space;
}

FormulaPtr literal(int var, bool negated) {
  FormulaPtr v = Formula::variable(var);
  return negated ? Formula::negate(v) : v;
}

// Question `code` of the space as premises and conclusion, with the variables renamed at random and
// the premises in a random order (the same question: surface only).
void decode_question(uint64_t code, int vars, int k, Rng& rng, Draft& draft) {
  std::array<int, kMaxEnumeratedVars> name{};
  std::iota(name.begin(), name.begin() + vars, 0);
  for (int i = vars; i > 1; --i) std::swap(name[i - 1], name[rng.index(i)]);
  const uint64_t conclusion = code & ((1u << kConclusionBits) - 1);
  draft.conclusion = literal(name[conclusion >> 1], conclusion & 1);
  draft.premises.clear();
  for (int i = 0; i < k; ++i) {
    const int premise_code = static_cast<int>((code >> (kConclusionBits + i * kPremiseBits)) & ((1u << kPremiseBits) - 1));
    const DepthOnePremise p = decode_premise(premise_code, vars);
    FormulaPtr f = Formula::binary(kPremiseOps[p.op], literal(name[p.left], p.left_negated),
                                   literal(name[p.right], p.right_negated));
    draft.premises.push_back(p.negated ? Formula::negate(f) : f);
  }
  rng.shuffle(draft.premises);
}

// The draft of candidate task.index() from the enumerated space; the label is the one the space
// files it under, decided again (with core and models for the trace) and checked.
void enumerated_draft(const question_space::Space& space, Rng& rng, const Knobs& knobs, const pb::Task& task,
                      Draft& draft) {
  const int vars = static_cast<int>(knobs.get_int("variables")), k = static_cast<int>(knobs.get_int("premises"));
  const auto pick = question_space::pick(space, mix_seed({task.seed(), question_space::knobs_hash(knobs)}), task.index());
  decode_question(pick.question, vars, k, rng, draft);
  draft.total_vars = vars;
  draft.distractors = 0;
  draft.decision = entailment::decide(draft.premises, draft.conclusion, vars);
  if (z3bridge::to_string(draft.decision.label) != space.labels[pick.slot])
    throw std::logic_error("propositional_entailment: enumerated question filed as " + space.labels[pick.slot] +
                           " decides as " + z3bridge::to_string(draft.decision.label));
}

// The random path: draws the target label, then drafts until one has it.
void random_draft(Rng& rng, const Knobs& knobs, Draft& draft) {
  const Entailment target = kLabels[rng.index(3)];
  const int core_vars = static_cast<int>(knobs.get_int("variables"));
  const int distractor_vars =
      knobs.get_int("distractors") == 0 ? 0 : std::min<int>(kMaxSymbols - core_vars, knobs.get_int("distractors") + 1);
  draft.total_vars = core_vars + distractor_vars;
  bool done = false;
  for (int attempt = 0; attempt < 400 && !done; ++attempt) done = try_draft(rng, knobs, target, core_vars, distractor_vars, draft);
  if (!done) throw std::runtime_error("propositional_entailment: no " + z3bridge::to_string(target) +
                                      " instance found for knobs " + knobs.canonical());
}

// Fills the task from a draft: names, instance, prompt, label and trace.
void fill_task(Rng& rng, const Knobs& knobs, const Draft& draft, pb::Task& task) {
  const int total_vars = draft.total_vars;
  // Names: letters in order; phrases drawn without replacement (Rng::shuffle's draws on their
  // indices: no copy of the phrase table per task).
  std::array<uint8_t, std::size(kPhraseTable)> order;
  std::iota(order.begin(), order.end(), uint8_t{0});
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.index(i)]);
  // Reused from task to task: assigning into them keeps their strings' capacity.
  thread_local std::vector<std::string> symbols;
  thread_local logic::Phrases phrases;
  symbols.resize(static_cast<size_t>(total_vars));
  phrases.positive.resize(static_cast<size_t>(total_vars));
  phrases.negative.resize(static_cast<size_t>(total_vars));
  for (int i = 0; i < total_vars; ++i) {
    phrases.positive[i] = kPhraseTable[order[i]].first;
    phrases.negative[i] = kPhraseTable[order[i]].second;
    symbols[i].assign(1, static_cast<char>('A' + i));
  }

  auto* instance = task.mutable_propositional();
  for (int i = 0; i < total_vars; ++i) {
    instance->add_variables(symbols[i]);
    instance->add_variable_phrases(phrases.positive[i]);
  }
  for (const auto& p : draft.premises) instance->add_premises(logic::to_symbolic(*p, symbols));
  instance->set_conclusion(logic::to_symbolic(*draft.conclusion, symbols));
  instance->set_distractor_premises(draft.distractors);

  render_prompt(rng, draft, symbols, phrases, knobs.get("format") == "natural", *task.mutable_prompt());
  task.set_label(z3bridge::to_string(draft.decision.label));
  task.set_answer(task.label());
  write_trace(draft, symbols, total_vars, task);
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
  Draft draft;
  if (const auto* space = propositional_entailment::enumerated_space(knobs)) enumerated_draft(*space, rng, knobs, task, draft);
  else random_draft(rng, knobs, draft);
  fill_task(rng, knobs, draft, task);
}

std::map<std::string, uint64_t> PropositionalEntailmentGenerator::question_counts(const Knobs& knobs) const {
  const auto* space = propositional_entailment::enumerated_space(knobs);
  return space ? space->counts() : std::map<std::string, uint64_t>{};
}

// generate() draws the target label first, each of the three with equal odds (from the enumerated
// space: in turns, one of each per three candidates).
std::map<std::string, double> PropositionalEntailmentGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"entailed", 1.0 / 3}, {"contradicted", 1.0 / 3}, {"neither", 1.0 / 3}};
}

namespace propositional_entailment {

const question_space::Space* enumerated_space(const Knobs& knobs) {
  if (enumeration_work(knobs) > kMaxEnumerationWork) return nullptr;
  const int vars = static_cast<int>(knobs.get_int("variables")), k = static_cast<int>(knobs.get_int("premises"));
  return &question_space::cached(mix_seed({fnv1a64("propositional_entailment"), static_cast<uint64_t>(vars),
                                           static_cast<uint64_t>(k)}),
                                 [&] { return enumerate_questions(vars, k); });
}

void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task) {
  Draft draft;
  random_draft(rng, knobs, draft);
  fill_task(rng, knobs, draft, task);
}

}  // namespace propositional_entailment

namespace generators {
const Generator& propositional_entailment() {
  static const PropositionalEntailmentGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
