// causal_induction (ACRE / Gopnik's blicket detector): objects are put on a machine in trials and the
// machine turns on or stays off. Some objects are blickets; under the disjunctive rule the machine
// turns on exactly when at least one blicket is on it, under the conjunctive rule when at least two
// are; at the top levels the rule itself is unknown. The question is a new combination of objects:
// "on" / "off" when every explanation (rule, blicket set) consistent with the trials agrees, else
// "undetermined". Labels come from enumerating every explanation (solvers/blicket.h; the tests
// cross-check with Z3). Balanced: the label, the query's size and the trials' sizes are drawn first,
// independently, and the trials' objects redrawn until such a query exists, so none betrays another.
#include <algorithm>
#include <array>
#include <bit>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <stdexcept>

#include "generators/canonical_form.h"
#include "generators/generators.h"
#include "solvers/blicket.h"
#include "tasks/answer_extraction.h"

namespace verity {
namespace {

using blicket::Hypothesis;
using blicket::Mask;
using blicket::Outcome;
using blicket::Rule;
using blicket::Trial;

class CausalInductionGenerator final : public Generator {
 public:
  std::string name() const override { return "causal_induction"; }
  std::string summary() const override {
    return "Blicket detector (ACRE): from trials of objects on a machine that turned on or stayed off, does a new "
           "combination turn it on, keep it off, or is that undetermined?";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "on, off or undetermined"; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

constexpr int kMaxTrials = 24;  // the trials knob's maximum

constexpr std::array<std::string_view, blicket::kMaxObjects> kColors = {
    "red",  "blue",  "green", "yellow", "purple", "orange", "pink",   "brown",
    "black", "white", "gray", "silver", "gold",   "teal",   "violet", "cyan"};
constexpr std::array<std::string_view, 8> kShapes = {"cube", "ball", "cone", "ring", "cylinder", "pyramid", "disk", "star"};

struct Shape {
  int objects = 4;
  int trials = 4;
  std::string rule;  // disjunctive | conjunctive | either | unknown
  bool natural = true;
};

// The rules an explanation may use: the stated one, or both when the rule is not stated.
std::vector<Rule> allowed_rules(const std::string& rule_knob, Rule hidden) {
  if (rule_knob == "unknown") return {Rule::Disjunctive, Rule::Conjunctive};
  return {hidden};
}

// The smallest and largest trial: 1..max_size objects, at least 2 where the rule may be conjunctive
// (one object alone never turns such a machine on, so the trial would only repeat the rule).
std::pair<int, int> trial_size_range(const Shape& s, bool may_be_conjunctive) {
  const int lo = may_be_conjunctive ? 2 : 1;
  return {lo, std::min(s.objects, std::max(lo, (s.objects + 1) / 2 + 1))};
}

// Combinations of `k` of `n` objects.
long choose(int n, int k) {
  long out = 1;
  for (int i = 1; i <= k; ++i) out = out * (n - k + i) / i;
  return out;
}

// The trials' sizes (objects on the machine in each), drawn before the search for the label and kept
// while the trials' objects are drawn again: drawn with the objects, the sizes that more easily give
// the drawn label were kept more often, and the prompt's length told the label (0.60 at level 1). A
// size is drawn again when its combinations are used up.
std::vector<int> draw_trial_sizes(Rng& rng, const Shape& s, bool may_be_conjunctive) {
  const auto [lo, hi] = trial_size_range(s, may_be_conjunctive);
  std::vector<int> sizes;
  std::vector<long> room(hi + 1, 0);  // the combinations of each size
  for (int size = 1; size <= hi; ++size) room[size] = choose(s.objects, size);
  while (static_cast<int>(sizes.size()) < s.trials) {
    const int size = static_cast<int>(rng.uniform(lo, hi));
    if (room[size] == 0) continue;
    --room[size];
    sizes.push_back(size);
  }
  return sizes;
}

// `size` distinct objects, drawn one at a time (a repeat drawn again).
Mask draw_objects(Rng& rng, int objects, int size) {
  Mask m = 0;
  for (int held = 0; held < size;) {
    const Mask object = Mask{1} << rng.index(objects);
    held += (m & object) ? 0 : 1;
    m |= object;
  }
  return m;
}

// Distinct trials of the given sizes, outcomes by the hidden explanation.
void draw_trials(Rng& rng, const std::vector<int>& sizes, const Shape& s, const Hypothesis& hidden,
                 std::vector<Trial>& trials) {
  trials.clear();
  for (int guard = 0; trials.size() < sizes.size() && guard < 64 * s.trials; ++guard) {
    const Mask m = draw_objects(rng, s.objects, sizes[trials.size()]);
    if (std::any_of(trials.begin(), trials.end(), [&](const Trial& t) { return t.objects == m; })) continue;
    trials.push_back({m, blicket::activates(hidden.rule, hidden.blickets, m)});
  }
}

Hypothesis draw_hidden(Rng& rng, const Shape& s, Rule rule) {
  const int need = blicket::threshold(rule);
  const int count = static_cast<int>(rng.uniform(need, std::min(s.objects, std::max(need + 1, s.objects / 2))));
  return {rule, draw_objects(rng, s.objects, count)};
}

struct Instance {
  Hypothesis hidden;
  std::vector<Rule> rules;  // the rules explanations may use
  std::vector<Trial> trials;
  std::vector<Hypothesis> consistent;
  Mask query = 0;
  Outcome answer = Outcome::Undetermined;
};

// The queries of exactly `size` objects, other than a trial's combination, by their answer, ascending.
void queries_by_answer(const std::vector<Trial>& trials, const blicket::Explanations& fitting, int objects, int size,
                       std::array<std::vector<Mask>, 3>& out) {
  for (auto& queries : out) queries.clear();
  // The masks of `size` bits in ascending order (Gosper's hack: the next larger one with as many bits).
  for (Mask q = (Mask{1} << size) - 1; q < (Mask{1} << objects);) {
    if (std::none_of(trials.begin(), trials.end(), [&](const Trial& t) { return t.objects == q; }))
      out[static_cast<int>(fitting.decide(q))].push_back(q);
    const Mask lowest = q & -q, ripple = q + lowest;
    q = (((ripple ^ q) >> 2) / lowest) | ripple;
  }
}

// Trials must leave combinations untried for the question: at most half of those a trial may use.
void check_room(const Shape& s, bool may_be_conjunctive, const Knobs& knobs) {
  const auto [lo, hi] = trial_size_range(s, may_be_conjunctive);
  long room = 0;
  for (int size = lo; size <= hi; ++size) room += choose(s.objects, size);
  if (s.trials > room / 2)
    throw std::invalid_argument("causal_induction: trials=" + std::to_string(s.trials) + " needs more distinct "
                                "combinations than " + std::to_string(s.objects) + " objects allow (at most " +
                                std::to_string(room / 2) + " trials; knobs " + knobs.canonical() +
                                "): lower trials or raise objects");
}

constexpr int kCells = 64;              // (query size, trial sizes) cells drawn before giving up
constexpr int kProbeAttempts = 400;     // instances a cell's probe draws looking for all three labels
constexpr int kAttemptsPerCell = 2000;  // instances drawn for the task's label in a cell that passed

// A cell: the query's size and the trials' sizes, drawn before the instance.
struct Cell {
  int query_size = 1;
  std::vector<int> trial_sizes;
};

struct Search {
  std::array<std::optional<Instance>, 3> found;  // the first instance with each answer
  bool saw_every_label = false;                   // instances drawn had queries of all three answers
};

// Draws instances (hidden explanation, trials' objects) of the cell until `wanted` answers all have a
// query of the cell's size, at most `attempts`.
Search search_cell(Rng& rng, const Shape& s, Rule hidden_rule, const std::vector<Rule>& rules, const Cell& cell,
                   const std::array<bool, 3>& wanted, int attempts) {
  Search search;
  auto& found = search.found;
  std::array<bool, 3> seen = {false, false, false};
  int missing = static_cast<int>(std::count(wanted.begin(), wanted.end(), true));
  thread_local blicket::Explanations fitting;
  thread_local std::vector<Trial> trials;
  thread_local std::array<std::vector<Mask>, 3> candidates;
  for (int attempt = 0; attempt < attempts && missing > 0; ++attempt) {
    const Hypothesis hidden = draw_hidden(rng, s, hidden_rule);
    draw_trials(rng, cell.trial_sizes, s, hidden, trials);
    if (static_cast<int>(trials.size()) < s.trials) continue;
    fitting.reset(s.objects, rules, trials);
    queries_by_answer(trials, fitting, s.objects, cell.query_size, candidates);
    for (int label = 0; label < 3; ++label) {
      seen[label] = seen[label] || !candidates[label].empty();
      if (!wanted[label] || found[label] || candidates[label].empty()) continue;
      found[label] = Instance{hidden, rules, trials, fitting.list(), candidates[label][rng.index(candidates[label].size())],
                              static_cast<Outcome>(label)};
      --missing;
    }
  }
  search.saw_every_label = seen[0] && seen[1] && seen[2];
  return search;
}

// Whether instances of a cell give all three answers: some never do (three objects off the machine
// together, only larger trials: "off" for the three cannot be shown). A probe with its own seed (a
// hash of the knobs, the rule and the cell, so the same in every process and thread) decides, once
// per cell: a pure function of those, remembered (asked again for many tasks).
bool cell_gives_every_label(const Shape& s, Rule hidden_rule, const std::vector<Rule>& rules, const Cell& cell,
                            const Knobs& knobs) {
  std::vector<int> sizes = cell.trial_sizes;
  std::sort(sizes.begin(), sizes.end());
  std::string key = knobs.canonical() + "|" + blicket::rule_name(hidden_rule) + "|" + std::to_string(cell.query_size) + "|";
  for (int size : sizes) key += std::to_string(size) + ",";
  static std::mutex mutex;
  static std::unordered_map<std::string, bool> known;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (const auto it = known.find(key); it != known.end()) return it->second;
  }
  Rng probe(fnv1a64(key));
  const Cell sorted{cell.query_size, sizes};
  const bool every = search_cell(probe, s, hidden_rule, rules, sorted, {true, true, true}, kProbeAttempts).saw_every_label;
  const std::lock_guard<std::mutex> lock(mutex);
  known.emplace(std::move(key), every);
  return every;
}

// The label, the query's size and the trials' sizes are drawn first, independently, and instances
// drawn until one has a query of that size with that label. Drawn with the instance, the sizes that
// more easily give the label would be kept more often and tell it (the prompt's length did, 0.60 at
// level 1). So a cell is kept only when it gives every label (the probe above), whichever label was
// drawn: which cells are kept does not depend on it (but in corners without such cells, below).
Instance build_instance(Rng& rng, const Shape& s, const Knobs& knobs) {
  const Outcome target = static_cast<Outcome>(rng.index(3));
  const Rule hidden_rule = s.rule == "conjunctive" ? Rule::Conjunctive
                           : s.rule == "disjunctive" ? Rule::Disjunctive
                                                     : (rng.chance(0.5) ? Rule::Disjunctive : Rule::Conjunctive);
  const std::vector<Rule> rules = allowed_rules(s.rule, hidden_rule);
  const bool may_be_conjunctive = hidden_rule == Rule::Conjunctive || rules.size() > 1;
  check_room(s, may_be_conjunctive, knobs);
  // One object alone can never turn a conjunctive machine on: a 1-object query would give "off" away.
  const int lo = may_be_conjunctive ? 2 : 1;
  std::array<bool, 3> wanted = {false, false, false};
  wanted[static_cast<int>(target)] = true;
  for (int draw = 0; draw < kCells; ++draw) {
    Cell cell;
    cell.query_size = static_cast<int>(rng.uniform(lo, std::max(lo, std::min(s.objects - 1, 4))));
    cell.trial_sizes = draw_trial_sizes(rng, s, may_be_conjunctive);
    if (!cell_gives_every_label(s, hidden_rule, rules, cell, knobs)) continue;
    Search search = search_cell(rng, s, hidden_rule, rules, cell, wanted, kAttemptsPerCell);
    if (auto& found = search.found[static_cast<int>(target)]) return std::move(*found);
  }
  // Corners where no cell gives every answer (one trial: "on" needs it to hold one object, "off" a
  // larger one): cells for the drawn label alone, so the sizes lean towards it there.
  for (int draw = 0; draw < kCells; ++draw) {
    const Cell cell{static_cast<int>(rng.uniform(lo, std::max(lo, std::min(s.objects - 1, 4)))),
                    draw_trial_sizes(rng, s, may_be_conjunctive)};
    Search search = search_cell(rng, s, hidden_rule, rules, cell, wanted, kProbeAttempts / 4);
    if (auto& found = search.found[static_cast<int>(target)]) return std::move(*found);
  }
  throw std::runtime_error("causal_induction: no instance with a " + std::string(blicket::outcome_word(target)) +
                           " query for knobs " + knobs.canonical() + "; change objects or trials");
}

// ---- names and rendering ----

std::vector<std::string> object_names(Rng& rng, int count, bool natural) {
  std::vector<std::string> names;
  if (!natural) {
    for (int i = 0; i < count; ++i) names.emplace_back(1, static_cast<char>('A' + i));
    return names;
  }
  std::vector<int> colors(kColors.size());
  for (size_t i = 0; i < colors.size(); ++i) colors[i] = static_cast<int>(i);
  rng.shuffle(colors);
  for (int i = 0; i < count; ++i)
    names.push_back(std::string(kColors[colors[i]]) + " " + std::string(kShapes[rng.index(kShapes.size())]));
  return names;
}

// "the red cube, the blue ball and the green cone" (natural) or "{A, B, C}" (symbolic), appended to
// `out` (written in place: the prompt and the trace list objects dozens of times per task).
void append_objects(Mask m, const std::vector<std::string>& names, bool natural, std::string& out) {
  if (!natural) out += '{';
  for (bool first = true; m; m &= m - 1, first = false) {
    const Mask rest = m & (m - 1);
    if (!first) out += natural && rest == 0 ? " and " : ", ";
    if (natural) out += "the ";
    out += names[static_cast<size_t>(std::countr_zero(m))];
  }
  if (!natural) out += '}';
}

std::string list_objects(Mask m, const std::vector<std::string>& names, bool natural) {
  std::string out;
  append_objects(m, names, natural, out);
  return out;
}

std::string rule_sentence(const std::string& rule_knob, Rule rule) {
  if (rule_knob == "unknown")
    return "The machine follows one of two rules, and you are not told which. Rule 1: it turns on exactly when at "
           "least one blicket is on it. Rule 2: it turns on exactly when at least two blickets are on it.";
  return std::string("The machine turns on exactly when at least ") +
         (rule == Rule::Disjunctive ? "one blicket is" : "two blickets are") + " on it.";
}

std::string natural_prompt(Rng& rng, const Instance& inst, const Shape& s, const std::vector<std::string>& names) {
  static const std::vector<std::string> kIntros = {
      "A scientist is testing a machine with some objects.", "You are studying a strange machine and a set of objects.",
      "A detector machine is tested with a collection of objects."};
  static const std::vector<std::string> kPlaced = {" placed on the machine.", " put on the machine."};
  std::string p = rng.pick(kIntros) + " Each object either is a blicket or is not, and any number of the objects "
                  "(none, some or all) may be blickets. " + rule_sentence(s.rule, inst.hidden.rule) +
                  " Objects that are not blickets make no difference. Every trial starts with an empty machine and "
                  "puts on it exactly the objects listed.\n";
  p += "The objects are: ";
  append_objects((Mask{1} << s.objects) - 1, names, true, p);
  p += ".\n";
  for (size_t t = 0; t < inst.trials.size(); ++t) {
    const Mask m = inst.trials[t].objects;
    p.append("Trial ").append(std::to_string(t + 1)).append(": ");
    append_objects(m, names, true, p);
    p.append(std::popcount(m) == 1 ? " alone is" : " are").append(rng.pick(kPlaced))
        .append(inst.trials[t].on ? " The machine switches on.\n" : " The machine remains off.\n");
  }
  p += "Question: ";
  append_objects(inst.query, names, true, p);
  p += std::popcount(inst.query) == 1 ? " alone is" : " are";
  p += " put on the empty machine, with nothing else. Does the machine turn on?\n";
  const std::string choice = s.rule == "unknown" ? "a choice of which objects are blickets together with one of the "
                                                   "two rules"
                                                 : "a choice of which objects are blickets";
  p += "An explanation is " + choice + "; it fits when it gives every trial the outcome observed. Answer \"on\" if "
       "every fitting explanation turns the machine on for the question's objects, \"off\" if every fitting "
       "explanation leaves it off, and \"undetermined\" if at least one fitting explanation turns it on and at "
       "least one leaves it off.\n";
  return p;
}

std::string symbolic_prompt(const Instance& inst, const Shape& s, const std::vector<std::string>& names) {
  std::string p = "Blicket machine. Objects: " + list_objects((Mask{1} << s.objects) - 1, names, false) +
                  ". S is an unknown set of blickets (any subset of the objects, empty and full included).\n";
  p += s.rule == "unknown" ? "Rule: on(X) <=> |X & S| >= k, where k is 1 or 2 (unknown).\n"
                           : "Rule: on(X) <=> |X & S| >= " + std::to_string(blicket::threshold(inst.hidden.rule)) + ".\n";
  p += "Observations (X -> 1: on(X) holds, X -> 0: on(X) fails; X = the objects on the machine, nothing else):\n";
  for (size_t t = 0; t < inst.trials.size(); ++t) {
    p.append("T").append(std::to_string(t + 1)).append(": ");
    append_objects(inst.trials[t].objects, names, false, p);
    p.append(inst.trials[t].on ? " -> 1\n" : " -> 0\n");
  }
  p += "Query: ";
  append_objects(inst.query, names, false, p);
  p += " -> ?\n";
  p += std::string("An explanation is a value of S") + (s.rule == "unknown" ? " and k" : "") +
       " under which every observation holds. Answer on if on(query) holds under every explanation, off if it "
       "fails under every explanation, undetermined if it holds under some and fails under others.\n";
  return p;
}

// ---- gold trace ----

// How the two rules are named in the prompt: "rule 1" / "rule 2" (natural), "k = 1" / "k = 2" (symbolic).
std::string rule_label(Rule r, bool natural) {
  return (natural ? "rule " : "k = ") + std::to_string(blicket::threshold(r));
}

// What one trial says about the blickets under one rule, appended to `out`.
void append_trial_clause(Rule r, const Trial& t, const std::vector<std::string>& names, bool natural,
                         std::string& out) {
  if (std::popcount(t.objects) == 1) {
    append_objects(t.objects, names, natural, out);
    if (r == Rule::Conjunctive) out += " alone can never turn the machine on";
    else out += t.on ? " is a blicket" : " is not a blicket";
    return;
  }
  if (r == Rule::Disjunctive) out += t.on ? "at least one of " : "none of ";
  else out += t.on ? "at least two of " : "at most one of ";
  append_objects(t.objects, names, natural, out);
  out += r == Rule::Conjunctive && t.on ? " are blickets" : " is a blicket";
}

void append_trial_reading(const Trial& t, const std::vector<Rule>& rules, const std::vector<std::string>& names,
                          bool natural, std::string& out) {
  if (rules.size() == 1) return append_trial_clause(rules[0], t, names, natural, out);
  out.append("if ").append(rule_label(Rule::Disjunctive, natural)).append(" holds, ");
  append_trial_clause(Rule::Disjunctive, t, names, natural, out);
  out.append("; if ").append(rule_label(Rule::Conjunctive, natural)).append(" holds, ");
  append_trial_clause(Rule::Conjunctive, t, names, natural, out);
}

std::string explanation_text(const Hypothesis& h, const std::vector<std::string>& names, bool natural, bool name_rule) {
  std::string out = h.blickets ? "blickets " + list_objects(h.blickets, names, natural) : std::string("no blickets");
  if (name_rule) out += " under " + rule_label(h.rule, natural);
  return out;
}

void add_step(pb::Task& task, std::string text, const std::string& rule, std::vector<std::string> cites = {}) {
  auto* step = task.add_trace();
  step->set_text(std::move(text));
  step->set_rule(rule);
  for (auto& c : cites) step->add_cites(std::move(c));
}

void write_trace(const Instance& inst, const Shape& s, const std::vector<std::string>& names, pb::Task& task) {
  const bool two_rules = inst.rules.size() > 1;
  std::vector<std::string> all;
  for (size_t t = 0; t < inst.trials.size(); ++t) {
    const std::string number = std::to_string(t + 1);
    all.push_back("t" + number);
    auto* step = task.add_trace();
    std::string& text = *step->mutable_text();
    text.append("Trial ").append(number).append(inst.trials[t].on ? " was on, so " : " was off, so ");
    append_trial_reading(inst.trials[t], inst.rules, names, s.natural, text);
    text += '.';
    step->set_rule("trial");
    step->add_cites(all.back());
  }
  const int64_t space = int64_t{1} << s.objects << (two_rules ? 1 : 0);
  const blicket::ObjectStatus st = blicket::object_status(inst.consistent, s.objects);
  const size_t fit = inst.consistent.size();
  std::string summary = std::to_string(fit) + " of the " + std::to_string(space) + " possible explanations " +
                        (fit == 1 ? "fits" : "fit") + " every trial.";
  if (st.always) summary += " Blickets in all of them: " + list_objects(st.always, names, s.natural) + ".";
  if (st.never) summary += " Blickets in none of them: " + list_objects(st.never, names, s.natural) + ".";
  add_step(task, summary, "enumerate", all);
  const std::string q = list_objects(inst.query, names, s.natural);
  const auto turns_on = [&](const Hypothesis& h) { return blicket::activates(h.rule, h.blickets, inst.query); };
  if (inst.answer == Outcome::Undetermined) {
    const auto on = std::find_if(inst.consistent.begin(), inst.consistent.end(), turns_on);
    const auto off = std::find_if_not(inst.consistent.begin(), inst.consistent.end(), turns_on);
    add_step(task, "With " + explanation_text(*on, names, s.natural, two_rules) + ", every trial fits and " + q +
                       " turn the machine on; with " + explanation_text(*off, names, s.natural, two_rules) +
                       ", every trial fits and they leave it off. So the answer is undetermined.",
             "conclusion", {"s" + std::to_string(inst.trials.size() + 1)});
    return;
  }
  const bool on = inst.answer == Outcome::On;
  const std::string which = inst.consistent.size() == 1
                                ? "The only fitting explanation ("
                                : "Every one of the " + std::to_string(inst.consistent.size()) +
                                      " fitting explanations (for example ";
  add_step(task, which + explanation_text(inst.consistent.front(), names, s.natural, two_rules) + ") " +
                     (on ? "turns the machine on for " : "leaves the machine off for ") + q + ". So the answer is " +
                     (on ? "on." : "off."),
           "conclusion", {"s" + std::to_string(inst.trials.size() + 1)});
}

void fill_instance(const Instance& inst, const Shape& s, const std::vector<std::string>& names,
                   pb::CausalInductionInstance& out) {
  for (const auto& n : names) out.add_objects(n);
  for (const Trial& t : inst.trials) {
    auto* trial = out.add_trials();
    for (Mask m = t.objects; m; m &= m - 1) trial->add_objects(std::countr_zero(m));
    trial->set_on(t.on);
  }
  for (Mask m = inst.query; m; m &= m - 1) out.add_query(std::countr_zero(m));
  out.set_rule(s.rule == "unknown" ? "unknown" : blicket::rule_name(inst.hidden.rule));
  out.set_hidden_rule(blicket::rule_name(inst.hidden.rule));
  for (Mask m = inst.hidden.blickets; m; m &= m - 1) out.add_hidden_blickets(std::countr_zero(m));
  out.set_hypothesis_space(int64_t{1} << s.objects << (inst.rules.size() > 1 ? 1 : 0));
  out.set_consistent_hypotheses(static_cast<int64_t>(inst.consistent.size()));
  out.set_format(s.natural ? "natural" : "symbolic");
}

}  // namespace

std::vector<KnobSpec> CausalInductionGenerator::knob_specs() const {
  return {KnobSpec::integer("objects", "objects that may be blickets", 3, blicket::kMaxObjects, 4),
          KnobSpec::integer("trials", "observed trials (distinct combinations)", 1, kMaxTrials, 4),
          KnobSpec::choice("rule", "activation rule: disjunctive (>= 1 blicket), conjunctive (>= 2), either (one of "
                                   "the two per task, stated), unknown (not stated: explanations may use either)",
                           {"disjunctive", "conjunctive", "either", "unknown"}, "disjunctive"),
          KnobSpec::choice("format", "trials in English or as set notation", {"natural", "symbolic"}, "natural")};
}

KnobMap CausalInductionGenerator::level_knobs(int level) const {
  struct Row { int objects, trials; const char* rule; };
  // The explanations before any trial double from each level to the next, 32 at levels 1 and 2 (level
  // 2 states either rule, level 1 only the disjunctive one), 8,192 at 10. Levels 1 and 2 have 5 objects
  // and 5 trials: up to renaming the objects and reordering the trials, 4 objects and 3 trials hold only
  // 903 distinct questions (4 and 5: 5,954); with 5 objects and 4 trials a balanced dataset held about
  // 20,000-31,000 disjunctive and 13,000 conjunctive ones, so a 20,000-task level 2 drew 41,600
  // candidates. With 5 trials either rule holds more than 90,000, and about 87% of the candidates are
  // new questions. (A fifth trial at level 2 alone would leave it fewer explanations than level 1:
  // CausalInduction.DifficultyRisesWithLevel.)
  static const Row kLadder[] = {{5, 5, "disjunctive"}, {5, 5, "either"},  {6, 4, "either"},  {6, 5, "unknown"},
                                {7, 5, "unknown"},     {8, 6, "unknown"}, {9, 6, "unknown"}, {10, 7, "unknown"},
                                {11, 7, "unknown"},    {12, 8, "unknown"}};
  const Row& r = kLadder[level - 1];
  return {{"objects", std::to_string(r.objects)}, {"trials", std::to_string(r.trials)}, {"rule", r.rule}};
}

void CausalInductionGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  Shape s;
  s.objects = static_cast<int>(knobs.get_int("objects"));
  s.trials = static_cast<int>(knobs.get_int("trials"));
  s.rule = knobs.get("rule");
  s.natural = knobs.get("format") == "natural";
  const Instance inst = build_instance(rng, s, knobs);
  const std::vector<std::string> names = object_names(rng, s.objects, s.natural);
  fill_instance(inst, s, names, *task.mutable_causal_induction());
  const std::string body = s.natural ? natural_prompt(rng, inst, s, names) : symbolic_prompt(inst, s, names);
  task.set_prompt(body + answer_instruction("one word: on, off or undetermined", "off"));
  task.set_answer(blicket::outcome_word(inst.answer));
  task.set_label(task.answer());
  write_trace(inst, s, names, task);
  (*task.mutable_meta())["consistent_hypotheses"] = std::to_string(inst.consistent.size());
  (*task.mutable_meta())["hypothesis_space"] = std::to_string(task.causal_induction().hypothesis_space());
}

namespace {

// Up to this many objects (levels 1-4) question_key is an exact canonical form computed here, in
// about a sixth of the general canonical::Question's time (which was a sixth of a level-2 command).
constexpr int kExactKeyObjects = 6;

// The exact form: each object gets an invariant (whether the query holds it, and a sum over the trials
// holding it of a hash of their outcome and size: the same under any renaming and trial order); the
// objects are ranked by it, and every order within runs of equal invariants tried. An order renders
// the question as each trial's code (its renamed objects as a mask, then its outcome bit) sorted, then
// the renamed query; the smallest rendering is the key. Two questions get the same key exactly when
// one is the other with objects renamed and trials reordered. One byte per trial with <= 6 objects.
// Empty for a task it does not fit (more objects or trials, or an object number out of range).
std::string exact_question_key(const pb::Task& task) {
  const auto& inst = task.causal_induction();
  const int n = inst.objects_size();
  const int trial_count = inst.trials_size();
  if (n > kExactKeyObjects || trial_count > kMaxTrials) return {};
  const auto in_range = [n](const auto& objects) {
    return std::all_of(objects.begin(), objects.end(), [n](int object) { return object >= 0 && object < n; });
  };
  std::array<uint64_t, kExactKeyObjects> invariant{};
  std::array<Mask, kMaxTrials> trials{};
  std::array<bool, kMaxTrials> on{};
  Mask query = 0;
  if (!in_range(inst.query())) return {};
  for (int object : inst.query()) query |= Mask{1} << object, invariant[object] = 1;
  for (int t = 0; t < trial_count; ++t) {
    on[t] = inst.trials(t).on();
    if (!in_range(inst.trials(t).objects())) return {};
    for (int object : inst.trials(t).objects()) trials[t] |= Mask{1} << object;
    const uint64_t weight = mix_seed({static_cast<uint64_t>(on[t]), static_cast<uint64_t>(std::popcount(trials[t]))});
    for (Mask m = trials[t]; m; m &= m - 1) invariant[std::countr_zero(m)] += weight;
  }
  std::array<int, kExactKeyObjects> order{};  // order[rank]: the object renamed to `rank`
  for (int i = 0; i < n; ++i) order[i] = i;
  const auto by_invariant = [&](int a, int b) { return invariant[a] != invariant[b] ? invariant[a] < invariant[b] : a < b; };
  for (int i = 1; i < n; ++i)  // insertion sort (std::sort of so short an array trips GCC 12's -Warray-bounds)
    for (int j = i; j > 0 && by_invariant(order[j], order[j - 1]); --j) std::swap(order[j], order[j - 1]);
  std::array<std::pair<int, int>, kExactKeyObjects> ties{};  // runs [first, last) of equal invariants
  int tie_count = 0;
  for (int i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && invariant[order[j]] == invariant[order[i]];) ++j;
    if (j - i > 1) ties[tie_count++] = {i, j};
  }
  std::string best, now(static_cast<size_t>(trial_count) + 1, '\0');
  std::array<Mask, kExactKeyObjects> renamed{};  // renamed[object]: its bit after renaming
  const auto rename = [&](Mask m) {
    Mask out = 0;
    for (; m; m &= m - 1) out |= renamed[std::countr_zero(m)];
    return out;
  };
  // Every combination of orders of the tie runs (an odometer over std::next_permutation).
  for (bool first = true;; first = false) {
    for (int rank = 0; rank < n; ++rank) renamed[order[rank]] = Mask{1} << rank;
    for (int t = 0; t < trial_count; ++t) now[t] = static_cast<char>(rename(trials[t]) << 1 | (on[t] ? 1 : 0));
    std::sort(now.begin(), now.begin() + trial_count);
    now[trial_count] = static_cast<char>(rename(query));
    if (first || now < best) best = now;
    int t = 0;
    while (t < tie_count && !std::next_permutation(order.begin() + ties[t].first, order.begin() + ties[t].second)) ++t;
    if (t == tie_count) break;
  }
  return task.family() + "|" + inst.rule() + "|" + std::to_string(n) + "|" + best;
}

}  // namespace

// The trials as a set and the query, up to renaming the objects (and whatever the notation: the
// symbolic A, B, C ask what the named objects ask). A trial is a symbol of its own sort, its outcome
// one statement and each object on the machine another, so neither the order of the trials nor the
// order of a trial's objects counts. Objects that no trial or query names count by the header's total.
std::string CausalInductionGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.causal_induction();
  if (std::string exact = exact_question_key(task); !exact.empty()) return exact;
  thread_local canonical::Question q;
  q.clear();
  q.statement();
  q.text(inst.rule() + " " + std::to_string(inst.objects_size()) + " objects");
  for (int t = 0; t < inst.trials_size(); ++t) {
    q.statement();
    q.text(inst.trials(t).on() ? "on" : "off");
    q.symbol(t, 't');
    for (int object : inst.trials(t).objects()) {
      q.statement();
      q.text("in");
      q.symbol(object, 'o');
      q.symbol(t, 't');
    }
  }
  for (int object : inst.query()) {
    q.statement();
    q.text("?");
    q.symbol(object, 'o');
  }
  return task.family() + "|" + q.key();
}

// build_instance() draws the answer first, each of the three outcomes with equal odds.
std::map<std::string, double> CausalInductionGenerator::label_shares(const Knobs& /*knobs*/) const {
  return {{"on", 1.0 / 3}, {"off", 1.0 / 3}, {"undetermined", 1.0 / 3}};
}

namespace generators {
const Generator& causal_induction() {
  static const CausalInductionGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
