// list_functions: inductive reasoning over integer-list transformations (List Functions style). A
// hidden program of the list DSL (solvers/list_dsl.h: map, filter, take, drop, reverse, sort, unique,
// append, conditional maps, sum / length / count / max ...) is shown through k input/output examples;
// the task asks for its output on a query input (answer=output) or for the program itself
// (answer=rule). Identifiability is proved, not hoped for: every program of the DSL with at most
// `depth` stages is enumerated (deduplicated by its outputs on the task's inputs), and a task is kept
// only when every program that reproduces the examples gives one output on the query; the count is
// stored. The held-out probes (rule mode's check beyond the examples) are inputs where they all
// agree as well. No program with fewer stages fits the examples, so `depth` is the task's real depth.
#include "generators/generators.h"

#include <algorithm>
#include <stdexcept>

#include "solvers/list_dsl.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

using listdsl::Program;
using listdsl::Stage;
using listdsl::StageKind;
using listdsl::Value;
using IntList = std::vector<int32_t>;

constexpr int kExtraInputs = 8;   // query candidates and probes, searched with the examples
constexpr int kMaxAttempts = 400;
// The search holds at most (list stages)^(depth - 1) tuples in its widest layer: about 100 bytes each.
constexpr double kMaxSearchStates = 150000;

class ListFunctionsGenerator final : public Generator {
 public:
  std::string name() const override { return "list_functions"; }
  std::string summary() const override {
    return "Integer-list transformations from a typed DSL (map, filter, take, drop, sort, sum, count ...): infer the "
           "rule from examples, give its output on a query (or the rule itself); every consistent program agrees.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override {
    return "the query's output: a list in square brackets such as [4, 1, 3] or a number (answer=rule: a DSL program "
           "such as filter(odd) | map(x * 2))";
  }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::string question_key(const pb::Task& task) const override;
};

listdsl::Tier tier_of(const std::string& name) {
  return name == "basic" ? listdsl::Tier::Basic : name == "full" ? listdsl::Tier::Full : listdsl::Tier::Extended;
}

// The stages of `pool` grouped by kind: a stage is drawn kind first, so every kind is equally likely
// whatever its number of constants.
std::vector<std::vector<Stage>> by_kind(const std::vector<Stage>& pool) {
  std::vector<std::vector<Stage>> groups;
  for (const Stage& s : pool) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g[0].kind == s.kind; });
    if (it == groups.end()) groups.push_back({s});
    else it->push_back(s);
  }
  return groups;
}

// Two neighbouring stages that collapse into one (or none) never appear in a gold program; the
// search rejects whatever else has a shorter equivalent.
bool redundant_pair(const Stage& a, const Stage& b) {
  if (a.kind != b.kind) {
    const bool sorts = (a.kind == StageKind::Sort || a.kind == StageKind::SortDesc || a.kind == StageKind::Reverse) &&
                       (b.kind == StageKind::Sort || b.kind == StageKind::SortDesc);
    return sorts;
  }
  if (a.kind == StageKind::Map) {
    const auto additive = [](const Stage& s) { return s.arith == listdsl::ArithOp::Add || s.arith == listdsl::ArithOp::Sub; };
    return a.arith == b.arith || (additive(a) && additive(b));
  }
  if (a.kind == StageKind::Filter) return a.pred == b.pred;
  return a.kind != StageKind::MapIf && a.kind != StageKind::Append && a.kind != StageKind::Prepend;
}

Program sample_program(Rng& rng, const listdsl::PrimitiveSet& set, int depth, bool number) {
  static thread_local std::vector<std::vector<Stage>> lists, numbers;
  lists = by_kind(set.lists);
  numbers = by_kind(set.numbers);
  Program p;
  while (static_cast<int>(p.stages.size()) < depth) {
    const bool last = static_cast<int>(p.stages.size()) == depth - 1;
    const auto& groups = last && number ? numbers : lists;
    const Stage s = rng.pick(groups[rng.index(groups.size())]);
    if (!p.stages.empty() && redundant_pair(p.stages.back(), s)) continue;
    p.stages.push_back(s);
  }
  return p;
}

IntList random_input(Rng& rng, const Knobs& knobs) {
  IntList v(static_cast<size_t>(rng.uniform(2, knobs.get_int("max_length"))));
  for (auto& x : v) x = static_cast<int32_t>(rng.uniform(0, knobs.get_int("value_max")));
  return v;
}

// Example outputs that say nothing (all the same, all empty, every list unchanged) are redrawn.
bool informative(const std::vector<IntList>& inputs, const std::vector<Value>& outputs) {
  bool differ = false, changed = false, nonempty = false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].type == Value::Type::Undefined) return false;
    differ |= outputs[i] != outputs[0];
    changed |= outputs[i].type == Value::Type::Number || outputs[i].items != inputs[i];
    nonempty |= !outputs[i].items.empty();
  }
  return differ && changed && nonempty;
}

struct Drawn {
  Program program;
  std::vector<IntList> inputs;   // examples, then the extra inputs
  std::vector<Value> outputs;    // gold outputs, same order
  listdsl::SearchResult search;
  int query = -1;                // index among the extra inputs
  std::vector<int> probes;
};

// One attempt: a program, examples and extra inputs; false when the task would not be identifiable.
bool draw(Rng& rng, const Knobs& knobs, const listdsl::PrimitiveSet& set, bool number, Drawn& d) {
  const int depth = static_cast<int>(knobs.get_int("depth"));
  const int k = static_cast<int>(knobs.get_int("examples"));
  d.program = sample_program(rng, set, depth, number);
  d.inputs.clear();
  d.outputs.clear();
  while (static_cast<int>(d.inputs.size()) < k + kExtraInputs) {
    IntList in = random_input(rng, knobs);
    if (std::find(d.inputs.begin(), d.inputs.end(), in) != d.inputs.end()) continue;
    d.outputs.push_back(listdsl::run(d.program, in));
    d.inputs.push_back(std::move(in));
  }
  const std::vector<IntList> examples(d.inputs.begin(), d.inputs.begin() + k);
  const std::vector<Value> example_outputs(d.outputs.begin(), d.outputs.begin() + k);
  if (!informative(examples, example_outputs)) return false;
  const std::vector<IntList> extras(d.inputs.begin() + k, d.inputs.end());
  d.search = listdsl::search(set, depth, examples, example_outputs, extras);
  if (d.search.shortest != depth) return false;  // a shorter program explains the examples
  std::vector<int> candidates;  // determined extras whose output is not the input itself
  d.probes.clear();
  for (int j = 0; j < kExtraInputs; ++j) {
    if (!d.search.determined[j]) continue;
    d.probes.push_back(j);
    const Value& out = d.outputs[k + j];
    if (out.type == Value::Type::Number || out.items != d.inputs[k + j]) candidates.push_back(j);
  }
  if (candidates.empty()) return false;
  d.query = candidates[rng.index(candidates.size())];
  d.probes.erase(std::find(d.probes.begin(), d.probes.end(), d.query));
  return true;
}

void set_value(const Value& v, pb::ListFunctionValue& out) {
  out.mutable_values()->Assign(v.items.begin(), v.items.end());
}

std::string rendered(const Value& v) { return listdsl::to_text(v); }

std::string render_prompt(const pb::ListFunctionsInstance& inst, const std::vector<Value>& example_outputs,
                          const IntList& query, bool rule_mode, bool symbolic, listdsl::Tier tier, int constants) {
  const bool number = inst.returns_number();
  const std::string kind = number ? "an integer" : "a list of integers";
  std::string p;
  if (symbolic) {
    p = std::string("f maps lists of integers to ") + (number ? "integers" : "lists of integers") + ".\n";
    for (int i = 0; i < inst.example_inputs_size(); ++i)
      p += "f(" + rendered(Value::list({inst.example_inputs(i).values().begin(), inst.example_inputs(i).values().end()})) +
           ") = " + rendered(example_outputs[i]) + "\n";
    if (!rule_mode) p += "f(" + rendered(Value::list(query)) + ") = ?\n";
  } else {
    p = "A hidden rule turns a list of integers into " + kind + ". Here is what it does to " +
        std::to_string(inst.example_inputs_size()) + " lists:\n";
    for (int i = 0; i < inst.example_inputs_size(); ++i)
      p += "Example " + std::to_string(i + 1) + ": the list " +
           rendered(Value::list({inst.example_inputs(i).values().begin(), inst.example_inputs(i).values().end()})) +
           (number ? " gives the number " : " becomes the list ") + rendered(example_outputs[i]) + ".\n";
    if (!rule_mode) p += "What does the rule make of the list " + rendered(Value::list(query)) + "?\n";
  }
  if (rule_mode) {
    p += listdsl::describe_language(tier, constants) + "\n";
    p += "The program must reproduce every example; it is also run on other lists, where it must agree with the "
         "hidden rule.\n";
    p += answer_instruction("the program", number ? "filter(odd) | map(x * 2) | sum" : "filter(odd) | map(x * 2) | sort");
  } else {
    p += answer_instruction(number ? "the number" : "the list in square brackets ([] if it is empty)",
                            number ? "7" : "[4, 1, 3]");
  }
  return p;
}

// "[3, 1, 4] -> map(x + 1) -> [4, 2, 5] -> sort -> [2, 4, 5]"
std::string run_text(const Program& program, const IntList& input) {
  Value v = Value::list(input);
  std::string text = rendered(v);
  for (const Stage& s : program.stages) {
    v = listdsl::run_stage(s, v);
    text += " -> " + listdsl::to_text(s) + " -> " + rendered(v);
  }
  return text;
}

void write_trace(const Drawn& d, const pb::ListFunctionsInstance& inst, bool rule_mode, pb::Task& task) {
  const std::string rule = inst.program();
  auto add = [&](std::string text, std::string rule_name, std::vector<std::string> cites) {
    auto* step = task.add_trace();
    step->set_text(std::move(text));
    step->set_rule(std::move(rule_name));
    for (auto& c : cites) step->add_cites(std::move(c));
  };
  add("Hypothesis: the rule is " + rule + ".", "hypothesis", {});
  for (int i = 0; i < inst.example_inputs_size(); ++i)
    add(concat("Example ", std::to_string(i + 1), ": ", run_text(d.program, d.inputs[i]), ", as given."), "check",
        {concat("e", std::to_string(i + 1)), "s1"});
  const std::string programs = std::to_string(inst.fitting_programs());
  add(concat("Every program of at most ", std::to_string(inst.depth()), inst.depth() == 1 ? " stage" : " stages",
             " that reproduces the examples (", programs, inst.fitting_programs() == 1 ? " program" : " programs",
             rule_mode ? ") computes the same function on every list it is checked on"
                       : ") gives the same output on the query",
             ", and none with fewer stages does."),
      "uniqueness", {});
  if (!rule_mode)
    add(concat("Query: ", run_text(d.program, d.inputs[inst.example_inputs_size() + d.query]), "."), "apply", {"s1"});
}

}  // namespace

std::vector<KnobSpec> ListFunctionsGenerator::knob_specs() const {
  return {KnobSpec::integer("depth", "stages of the hidden program (the search covers every program up to it)", 1, 4, 2),
          KnobSpec::integer("constants", "constants c run over 1..constants (multipliers and moduli 2..constants+1)", 1,
                            9, 3),
          KnobSpec::choice("primitives", "the DSL: basic (map +-*, filter, take, drop, reverse, sort, sum, length), "
                           "extended (+ mod, negate, sort_desc, unique, append, prepend, max, min, head, last, count), "
                           "full (+ conditional maps)", {"basic", "extended", "full"}, "extended"),
          KnobSpec::integer("examples", "input/output examples shown", 2, 10, 4),
          KnobSpec::integer("max_length", "input lists have 2..max_length elements", 2, 12, 7),
          KnobSpec::integer("value_max", "input elements are integers in [0, value_max]", 3, 50, 9),
          KnobSpec::choice("output", "what the hidden rule returns: list, number, or mixed (one task in three a number)",
                           {"list", "number", "mixed"}, "mixed"),
          KnobSpec::choice("format", "natural (sentences) or symbolic (f([..]) = [..])", {"natural", "symbolic"}, "natural"),
          KnobSpec::choice("answer", "output: the query's output; rule: the program (checked on the examples, the "
                           "query and held-out probes)", {"output", "rule"}, "output")};
}

KnobMap ListFunctionsGenerator::level_knobs(int level) const {
  struct Row { int depth, constants; const char* primitives; int examples, max_length, value_max; };
  static const Row kLadder[] = {{1, 3, "basic", 3, 6, 9},     {1, 4, "extended", 3, 6, 9},  {2, 2, "basic", 4, 6, 9},
                                {2, 3, "extended", 4, 7, 12}, {2, 4, "full", 4, 7, 15},     {3, 2, "basic", 5, 8, 15},
                                {3, 3, "basic", 5, 8, 15},    {3, 2, "extended", 5, 8, 20}, {3, 3, "extended", 6, 9, 20},
                                {3, 3, "full", 6, 9, 20}};
  const Row& r = kLadder[level - 1];
  return {{"depth", std::to_string(r.depth)},         {"constants", std::to_string(r.constants)},
          {"primitives", r.primitives},               {"examples", std::to_string(r.examples)},
          {"max_length", std::to_string(r.max_length)}, {"value_max", std::to_string(r.value_max)}};
}

void ListFunctionsGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  const int depth = static_cast<int>(knobs.get_int("depth"));
  const int constants = static_cast<int>(knobs.get_int("constants"));
  const listdsl::Tier tier = tier_of(knobs.get("primitives"));
  const listdsl::PrimitiveSet set = listdsl::primitive_set(tier, constants);
  if (listdsl::search_states_bound(set, depth) > kMaxSearchStates)
    throw KnobError("depth=" + std::to_string(depth) + " with constants=" + std::to_string(constants) + " and primitives=" +
                    knobs.get("primitives") + " makes an identifiability search of up to " +
                    std::to_string(static_cast<long long>(listdsl::search_states_bound(set, depth))) +
                    " states per layer, over the bound of " + std::to_string(static_cast<long>(kMaxSearchStates)) +
                    ": lower depth, constants or primitives");
  const std::string& output = knobs.get("output");
  const bool number = output == "number" || (output == "mixed" && rng.uniform(0, 2) == 0);
  Drawn d;
  int attempts = 0;
  while (!draw(rng, knobs, set, number, d))
    if (++attempts == kMaxAttempts)
      throw std::runtime_error("list_functions: no identifiable task in " + std::to_string(kMaxAttempts) +
                               " attempts with these knobs: raise examples or lower depth");

  const int k = static_cast<int>(knobs.get_int("examples"));
  const bool rule_mode = knobs.get("answer") == "rule";
  auto* inst = task.mutable_list_functions();
  inst->set_program(listdsl::to_text(d.program));
  inst->set_depth(depth);
  inst->set_returns_number(number);
  for (int i = 0; i < k; ++i) {
    set_value(Value::list(d.inputs[i]), *inst->add_example_inputs());
    set_value(d.outputs[i], *inst->add_example_outputs());
  }
  set_value(Value::list(d.inputs[k + d.query]), *inst->mutable_query_input());
  set_value(d.outputs[k + d.query], *inst->mutable_query_output());
  for (int j : d.probes) {
    set_value(Value::list(d.inputs[k + j]), *inst->add_probe_inputs());
    set_value(d.outputs[k + j], *inst->add_probe_outputs());
  }
  inst->set_answer_mode(knobs.get("answer"));
  inst->set_format(knobs.get("format"));
  inst->set_primitives(knobs.get("primitives"));
  inst->set_constants(constants);
  inst->set_hypothesis_space(static_cast<uint64_t>(listdsl::hypothesis_space(set, depth)));
  inst->set_fitting_programs(d.search.fitting_programs);
  inst->set_fitting_behaviours(d.search.fitting_behaviours);

  const std::vector<Value> example_outputs(d.outputs.begin(), d.outputs.begin() + k);
  task.set_prompt(render_prompt(*inst, example_outputs, d.inputs[k + d.query], rule_mode,
                                knobs.get("format") == "symbolic", tier, constants));
  task.set_answer(rule_mode ? inst->program() : rendered(d.outputs[k + d.query]));
  task.set_label("");  // no class label: the answer is a list, a number or a program
  auto& meta = *task.mutable_meta();
  meta["fitting_programs"] = std::to_string(d.search.fitting_programs);
  meta["fitting_behaviours"] = std::to_string(d.search.fitting_behaviours);
  meta["hypothesis_space"] = std::to_string(inst->hypothesis_space());
  meta["search_states"] = std::to_string(d.search.states);
  meta["attempts"] = std::to_string(attempts + 1);
  write_trace(d, *inst, rule_mode, task);
}

// One question whatever its wording: the examples as a set (their order is the prompt's, not the
// question's), the query and what is asked. Nothing is renamable: the numbers are the question.
std::string ListFunctionsGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.list_functions();
  std::string key = task.family() + "|" + inst.answer_mode() + "|";
  std::vector<std::string> examples;
  for (int i = 0; i < inst.example_inputs_size(); ++i)
    examples.push_back(listdsl::to_text(Value::list({inst.example_inputs(i).values().begin(), inst.example_inputs(i).values().end()})) +
           "->" + listdsl::to_text(Value::list({inst.example_outputs(i).values().begin(), inst.example_outputs(i).values().end()})) + ";");
  std::sort(examples.begin(), examples.end());
  for (const auto& example : examples) key += example;
  if (inst.answer_mode() != "rule")
    key.append("?").append(listdsl::to_text(Value::list({inst.query_input().values().begin(), inst.query_input().values().end()})));
  return key;
}

namespace generators {
const Generator& list_functions() {
  static const ListFunctionsGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
