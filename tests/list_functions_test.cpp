// list_functions: gold verifies, wrong outputs do not, and the identifiability claim is re-proved by
// a second method written here from the DSL's documented semantics (its own interpreter, its own
// stage list, plain depth-first enumeration of every program without deduplication): the number of
// programs that fit the examples equals the stored count, every one of them gives the stored output
// on the query and on every probe, and none with fewer stages fits. Prompts are parsed back by a
// parser written for this test. Difficulty: hypothesis space and a random-search baseline's accuracy.
#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "family_properties.h"
#include "service/scoring.h"
#include "solvers/list_dsl.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;
using verity::testing::check_every_task;

// ---- the reference semantics (independent of solvers/list_dsl) ---------------------------------

struct RefValue {
  bool defined = true;
  bool number = false;
  std::vector<long long> items;  // a number: one item
  bool operator==(const RefValue&) const = default;
};
RefValue undefined_value() { return {false, false, {}}; }

struct RefStage {
  std::string name;     // map, mapif, filter, take, drop, reverse, sort, sort_desc, unique, append, prepend,
                        // sum, length, max, min, head, last, count
  char op = '+';        // map / mapif: + - * % n(egate)
  long long c = 0;      // map / mapif operand; take / drop / append / prepend argument
  std::string pred;     // ">", "<", "even", "odd"
  long long pc = 0;
  mutable int id = -1;  // index of name in kNames, filled on first use
  bool reduces() const {
    static const std::set<std::string> kReducers = {"sum", "length", "max", "min", "head", "last", "count"};
    return kReducers.count(name) > 0;
  }
};

bool in_range(long long v) { return v >= INT32_MIN && v <= INT32_MAX; }
bool ref_holds(const RefStage& s, long long x) {
  if (s.pred == ">") return x > s.pc;
  if (s.pred == "<") return x < s.pc;
  if (s.pred == "even") return x % 2 == 0;
  return x % 2 != 0;
}
std::optional<long long> ref_arith(const RefStage& s, long long x) {
  long long r = 0;
  switch (s.op) {
    case '+': r = x + s.c; break;
    case '-': r = x - s.c; break;
    case '*': r = x * s.c; break;
    case '%': if (s.c <= 0) return std::nullopt; r = ((x % s.c) + s.c) % s.c; break;
    default: r = -x;
  }
  if (!in_range(r)) return std::nullopt;
  return r;
}

// The stage names, as small integers compared (not strings) in the brute force's inner loop.
const std::vector<std::string> kNames = {"map", "mapif", "filter", "take", "drop", "reverse", "sort", "sort_desc",
                                         "unique", "append", "prepend", "sum", "length", "count", "max", "min",
                                         "head", "last"};
struct Name {
  int id;
};

RefValue ref_apply(const RefStage& s, const RefValue& in) {
  if (!in.defined || in.number) return undefined_value();
  const auto& x = in.items;
  RefValue out;
  auto number = [](long long v) { return in_range(v) ? RefValue{true, true, {v}} : undefined_value(); };
  thread_local std::map<std::string, int> ids;
  if (ids.empty()) for (size_t i = 0; i < kNames.size(); ++i) ids[kNames[i]] = static_cast<int>(i);
  if (s.id < 0) s.id = ids.at(s.name);
  const Name n{s.id};
  if (n.id == 0 /* map */ || n.id == 1 /* mapif */) {
    for (long long v : x) {
      if (n.id == 1 /* mapif */ && !ref_holds(s, v)) { out.items.push_back(v); continue; }
      auto r = ref_arith(s, v);
      if (!r) return undefined_value();
      out.items.push_back(*r);
    }
  } else if (n.id == 2 /* filter */) {
    for (long long v : x) if (ref_holds(s, v)) out.items.push_back(v);
  } else if (n.id == 3 /* take */) {
    out.items.assign(x.begin(), x.begin() + std::min<long long>(s.c, x.size()));
  } else if (n.id == 4 /* drop */) {
    out.items.assign(x.begin() + std::min<long long>(s.c, x.size()), x.end());
  } else if (n.id == 5 /* reverse */) {
    out.items.assign(x.rbegin(), x.rend());
  } else if (n.id == 6 /* sort */ || n.id == 7 /* sort_desc */) {
    out.items = x;
    std::sort(out.items.begin(), out.items.end());
    if (n.id == 7 /* sort_desc */) std::reverse(out.items.begin(), out.items.end());
  } else if (n.id == 8 /* unique */) {
    for (long long v : x) if (std::find(out.items.begin(), out.items.end(), v) == out.items.end()) out.items.push_back(v);
  } else if (n.id == 9 /* append */ || n.id == 10 /* prepend */) {
    if (x.size() + 1 > 64) return undefined_value();
    out.items = x;
    if (n.id == 9 /* append */) out.items.push_back(s.c);
    else out.items.insert(out.items.begin(), s.c);
  } else if (n.id == 11 /* sum */) {
    long long t = 0;
    for (long long v : x) t += v;
    return number(t);
  } else if (n.id == 12 /* length */) {
    return number(static_cast<long long>(x.size()));
  } else if (n.id == 13 /* count */) {
    return number(std::count_if(x.begin(), x.end(), [&](long long v) { return ref_holds(s, v); }));
  } else {  // max min head last
    if (x.empty()) return undefined_value();
    if (n.id == 14 /* max */) return number(*std::max_element(x.begin(), x.end()));
    if (n.id == 15 /* min */) return number(*std::min_element(x.begin(), x.end()));
    return number(n.id == 16 /* head */ ? x.front() : x.back());
  }
  return out;
}

RefValue ref_list(const pb::ListFunctionValue& v) {
  return {true, false, {v.values().begin(), v.values().end()}};
}
RefValue ref_stored(const pb::ListFunctionValue& v, bool number) {
  RefValue r = ref_list(v);
  r.number = number;
  return r;
}

// The stages the knobs allow, built from the knob documentation.
struct RefLanguage {
  std::vector<RefStage> lists, reducers;
};
RefLanguage ref_language(const std::string& primitives, int K) {
  RefLanguage lang;
  std::vector<std::pair<std::string, long long>> preds = {{"even", 0}, {"odd", 0}};
  for (int c = 1; c <= K; ++c) preds.push_back({">", c}), preds.push_back({"<", c});
  auto add = [](std::vector<RefStage>& to, RefStage s) { to.push_back(std::move(s)); };
  for (int c = 1; c <= K; ++c) {
    add(lang.lists, {"map", '+', c});
    add(lang.lists, {"map", '-', c});
    add(lang.lists, {"map", '*', c + 1});
    add(lang.lists, {"take", 0, c});
    add(lang.lists, {"drop", 0, c});
  }
  for (auto& [p, c] : preds) add(lang.lists, {"filter", 0, 0, p, c});
  add(lang.lists, {"reverse"});
  add(lang.lists, {"sort"});
  add(lang.reducers, {"sum"});
  add(lang.reducers, {"length"});
  if (primitives == "basic") return lang;
  add(lang.lists, {"map", 'n'});
  for (int c = 1; c <= K; ++c) {
    add(lang.lists, {"map", '%', c + 1});
    add(lang.lists, {"append", 0, c});
    add(lang.lists, {"prepend", 0, c});
  }
  add(lang.lists, {"sort_desc"});
  add(lang.lists, {"unique"});
  for (const char* r : {"max", "min", "head", "last"}) add(lang.reducers, {r});
  for (auto& [p, c] : preds) add(lang.reducers, {"count", 0, 0, p, c});
  if (primitives == "extended") return lang;
  for (const char* p : {"even", "odd"}) {
    for (int c = 1; c <= K; ++c) add(lang.lists, {"mapif", '+', c, p}), add(lang.lists, {"mapif", '*', c + 1, p});
    add(lang.lists, {"mapif", 'n', 0, p});
  }
  return lang;
}

// Reads the canonical program text back (a parser of its own, for the gold programs).
std::optional<std::vector<RefStage>> ref_parse(const std::string& text) {
  static const std::regex kArith(R"(^(?:x ([-+*%]) (-?\d+)|-x)$)");
  static const std::regex kPred(R"(^(?:x ([<>]) (-?\d+)|even|odd)$)");
  static const std::regex kCall(R"(^([a-z_]+)(?:\((.*)\))?$)");
  static const std::regex kIf(R"(^if (.+) then (.+) else x$)");
  auto arith = [](const std::string& e, RefStage& s) {
    std::smatch m;
    if (!std::regex_match(e, m, kArith)) return false;
    if (m[1].matched) s.op = m[1].str()[0], s.c = std::stoll(m[2]);
    else s.op = 'n';
    return true;
  };
  auto pred = [](const std::string& e, RefStage& s) {
    std::smatch m;
    if (!std::regex_match(e, m, kPred)) return false;
    if (m[1].matched) s.pred = m[1], s.pc = std::stoll(m[2]);
    else s.pred = e;
    return true;
  };
  std::vector<RefStage> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t bar = text.find(" | ", start);
    if (bar == std::string::npos) bar = text.size();
    const std::string part = text.substr(start, bar - start);
    start = bar + 3;
    std::smatch m;
    if (!std::regex_match(part, m, kCall)) return std::nullopt;
    RefStage s;
    s.name = m[1];
    const std::string arg = m[2];
    std::smatch im;
    if (s.name == "map" && std::regex_match(arg, im, kIf)) {
      s.name = "mapif";
      if (!pred(im[1], s) || !arith(im[2], s)) return std::nullopt;
    } else if (s.name == "map") {
      if (!arith(arg, s)) return std::nullopt;
    } else if (s.name == "filter" || s.name == "count") {
      if (!pred(arg, s)) return std::nullopt;
    } else if (m[2].matched) {
      s.c = std::stoll(arg);
    }
    out.push_back(s);
  }
  return out;
}

// ---- brute force: every program of 1..depth stages, no deduplication ----------------------------

struct BruteForce {
  uint64_t programs = 0;             // programs enumerated
  uint64_t fitting = 0;              // reproducing every example
  int shortest = 0;
  std::string disagreement;          // a fitting program that disagrees on the query or a probe
  std::vector<std::string> fitting_texts;  // the first 20 fitting programs, in the DSL's syntax
};

std::string ref_text(const RefStage& s) {
  auto arith = [&] { return s.op == 'n' ? std::string("-x") : std::string("x ") + s.op + " " + std::to_string(s.c); };
  auto pred = [&] { return s.pred == "even" || s.pred == "odd" ? s.pred : "x " + s.pred + " " + std::to_string(s.pc); };
  if (s.name == "map") return "map(" + arith() + ")";
  if (s.name == "mapif") return "map(if " + pred() + " then " + arith() + " else x)";
  if (s.name == "filter" || s.name == "count") return s.name + "(" + pred() + ")";
  if (s.name == "take" || s.name == "drop" || s.name == "append" || s.name == "prepend")
    return s.name + "(" + std::to_string(s.c) + ")";
  return s.name;
}

BruteForce brute_force(const pb::ListFunctionsInstance& inst) {
  const RefLanguage lang = ref_language(inst.primitives(), inst.constants());
  const bool number = inst.returns_number();
  std::vector<RefValue> inputs, wanted;  // examples, then the query, then the probes
  const int k = inst.example_inputs_size();
  for (int i = 0; i < k; ++i) inputs.push_back(ref_list(inst.example_inputs(i))), wanted.push_back(ref_stored(inst.example_outputs(i), number));
  inputs.push_back(ref_list(inst.query_input()));
  wanted.push_back(ref_stored(inst.query_output(), number));
  for (int p = 0; p < inst.probe_inputs_size(); ++p)
    inputs.push_back(ref_list(inst.probe_inputs(p))), wanted.push_back(ref_stored(inst.probe_outputs(p), number));
  BruteForce out;
  std::vector<std::string> path;
  auto stage_text = [](const RefStage& s) { return ref_text(s); };
  // `values`: the prefix's outputs on every input; `stages`: its length
  std::function<void(const std::vector<RefValue>&, int)> walk = [&](const std::vector<RefValue>& values, int stages) {
    for (int last = 0; last < 2; ++last) {
      for (const RefStage& s : last ? lang.reducers : lang.lists) {
        ++out.programs;
        bool fits = true;
        for (int i = 0; i < k && fits; ++i) fits = ref_apply(s, values[i]) == wanted[i];
        if (fits) {
          ++out.fitting;
          if (out.fitting_texts.size() < 20) {
            std::string text;
            for (const auto& p : path) text += p + " | ";
            out.fitting_texts.push_back(text + ref_text(s));
          }
          if (out.shortest == 0 || stages + 1 < out.shortest) out.shortest = stages + 1;
          for (size_t j = k; j < inputs.size() && out.disagreement.empty(); ++j)
            if (!(ref_apply(s, values[j]) == wanted[j])) {
              path.push_back(stage_text(s));
              for (const auto& p : path) out.disagreement += p + " ";
              path.pop_back();
            }
        }
        if (!last && stages + 1 < inst.depth()) {
          std::vector<RefValue> next;
          next.reserve(values.size());
          for (const RefValue& v : values) next.push_back(ref_apply(s, v));
          path.push_back(stage_text(s));
          walk(next, stages + 1);
          path.pop_back();
        }
      }
    }
  };
  walk(inputs, 0);
  return out;
}

// ---- prompt parse-back (a parser written for the test) ------------------------------------------

RefValue parse_rendered(const std::string& text) {
  RefValue v;
  if (text.empty() || text[0] != '[') {
    v.number = true;
    v.items = {std::stoll(text)};
    return v;
  }
  std::stringstream in(text.substr(1, text.size() - 2));
  std::string item;
  while (std::getline(in, item, ',')) v.items.push_back(std::stoll(item));
  return v;
}

// "" when the prompt states exactly the instance's examples and query.
std::string check_prompt(const pb::Task& task) {
  const auto& inst = task.list_functions();
  static const std::regex kNatural(R"(^Example (\d+): the list (\[[-0-9, ]*\]) (?:becomes the list|gives the number) (\[[-0-9, ]*\]|-?\d+)\.$)");
  static const std::regex kSymbolic(R"(^f\((\[[-0-9, ]*\])\) = (\[[-0-9, ]*\]|-?\d+|\?)$)");
  static const std::regex kQuestion(R"(^What does the rule make of the list (\[[-0-9, ]*\])\?$)");
  std::vector<std::pair<RefValue, RefValue>> examples;
  std::optional<RefValue> query;
  std::stringstream lines(task.prompt());
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kNatural)) {
      if (std::stoi(m[1]) != static_cast<int>(examples.size()) + 1) return "example numbers out of order";
      examples.push_back({parse_rendered(m[2]), parse_rendered(m[3])});
    } else if (std::regex_match(line, m, kSymbolic)) {
      if (m[2] == "?") {
        if (query) return "two queries";
        query = parse_rendered(m[1]);
      } else {
        examples.push_back({parse_rendered(m[1]), parse_rendered(m[2])});
      }
    } else if (std::regex_match(line, m, kQuestion)) {
      if (query) return "two queries";
      query = parse_rendered(m[1]);
    }
  }
  if (static_cast<int>(examples.size()) != inst.example_inputs_size()) return "examples read back: " + std::to_string(examples.size());
  for (int i = 0; i < inst.example_inputs_size(); ++i) {
    if (!(examples[i].first == ref_list(inst.example_inputs(i)))) return "example input differs";
    if (!(examples[i].second == ref_stored(inst.example_outputs(i), inst.returns_number()))) return "example output differs";
  }
  const bool rule_mode = inst.answer_mode() == "rule";
  if (rule_mode != !query.has_value()) return "query shown in rule mode or missing in output mode";
  if (query && !(*query == ref_list(inst.query_input()))) return "query differs";
  return "";
}

// ---- the checks ---------------------------------------------------------------------------------

std::string wrong_outputs_fail(const pb::Task& task) {
  const auto& inst = task.list_functions();
  std::vector<std::string> wrong;
  std::vector<int32_t> gold(inst.query_output().values().begin(), inst.query_output().values().end());
  auto text = [](const std::vector<int32_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  if (inst.returns_number()) {
    wrong = {std::to_string(gold[0] + 1), std::to_string(gold[0] - 1), "[" + std::to_string(gold[0]) + "]",
             "not " + std::to_string(gold[0]), std::to_string(gold[0]) + " or " + std::to_string(gold[0] + 1)};
  } else {
    auto changed = gold;
    if (!changed.empty()) changed.back() += 1;
    auto longer = gold;
    longer.push_back(0);
    auto shorter = gold;
    if (!shorter.empty()) shorter.pop_back();
    wrong = {text(changed), text(longer), text(shorter), "not " + text(gold), text(gold) + " or " + text(longer),
             text(std::vector<int32_t>(inst.query_input().values().begin(), inst.query_input().values().end()))};
  }
  std::string failure;
  for (const auto& w : wrong) {
    if (w == task.answer()) continue;
    const auto s = score_completion(task, "<answer>" + w + "</answer>");
    if (s.reward() != 0.0 || s.correct()) failure += "wrong answer '" + w + "' scored " + std::to_string(s.reward()) + "; ";
  }
  return failure;
}

std::string check_task(const pb::Task& task) {
  if (!task.has_list_functions()) return "no instance";
  const auto& inst = task.list_functions();
  std::string failure;
  for (const std::string& form : {"<answer>" + task.answer() + "</answer>", "Reasoning...\nAnswer: " + task.answer(),
                                  "\\boxed{" + task.answer() + "}"}) {
    const auto s = score_completion(task, form);
    if (s.reward() != 1.0 || !s.correct() || !s.format_ok()) failure += "gold '" + form + "' scored " + s.reason() + "; ";
  }
  if (score_completion(task, "I am not sure.").reward() != 0.0) failure += "no-answer text scored; ";
  if (inst.answer_mode() == "output") failure += wrong_outputs_fail(task);
  failure += check_prompt(task);
  // the gold program, read by the test's own parser and run by its own interpreter
  const auto gold = ref_parse(inst.program());
  if (!gold || static_cast<int>(gold->size()) != inst.depth()) return failure + "gold program unreadable: " + inst.program();
  auto run_gold = [&](const pb::ListFunctionValue& in) {
    RefValue v = ref_list(in);
    for (const auto& s : *gold) v = ref_apply(s, v);
    return v;
  };
  for (int i = 0; i < inst.example_inputs_size(); ++i)
    if (!(run_gold(inst.example_inputs(i)) == ref_stored(inst.example_outputs(i), inst.returns_number())))
      failure += "gold program does not give example " + std::to_string(i + 1) + "; ";
  if (!(run_gold(inst.query_input()) == ref_stored(inst.query_output(), inst.returns_number())))
    failure += "gold program does not give the query output; ";
  if (!inst.returns_number() && ref_list(inst.query_output()) == ref_list(inst.query_input()))
    failure += "the query's output is its input; ";
  // the second method: plain enumeration
  const BruteForce bf = brute_force(inst);
  if (bf.programs != inst.hypothesis_space())
    failure += "hypothesis space " + std::to_string(bf.programs) + " vs stored " + std::to_string(inst.hypothesis_space()) + "; ";
  if (bf.fitting != inst.fitting_programs() || task.meta().at("fitting_programs") != std::to_string(bf.fitting))
    failure += "fitting programs " + std::to_string(bf.fitting) + " vs stored " + std::to_string(inst.fitting_programs()) + "; ";
  if (!bf.disagreement.empty()) failure += "a fitting program disagrees on the query or a probe: " + bf.disagreement + "; ";
  if (bf.shortest != inst.depth()) failure += "a program of " + std::to_string(bf.shortest) + " stages fits; ";
  if (inst.fitting_behaviours() < 1 || inst.fitting_behaviours() > inst.fitting_programs()) failure += "behaviour count; ";
  // rule mode: whichever fitting program is given, it earns 1 with every probe right
  if (inst.answer_mode() == "rule") {
    ScoreOptions w;
    w.process_weight = 1.0;
    for (const auto& text : bf.fitting_texts) {
      const auto s = score_completion(task, "<answer>" + text + "</answer>", w);
      if (s.reward() != 1.0) failure += "fitting program '" + text + "' scored " + s.reason() + "; ";
    }
  }
  return failure;
}

class ListFunctionsLevels : public ::testing::TestWithParam<int> {};

// 2,000 tasks per level: gold verifies, wrong outputs do not, the prompt reads back, and the stored
// counts and the query's determination are re-proved by plain enumeration.
TEST_P(ListFunctionsLevels, EveryFittingProgramAgreesOnTheQuery) {
  check_every_task("list_functions", GetParam(), {}, 2000, [](const pb::Task& t, uint64_t) { return check_task(t); });
}
TEST_P(ListFunctionsLevels, RuleModeAndSymbolicFormat) {
  check_every_task("list_functions", GetParam(), {{"answer", "rule"}, {"format", "symbolic"}}, 300,
                   [](const pb::Task& t, uint64_t) { return check_task(t); });
}
INSTANTIATE_TEST_SUITE_P(AllLevels, ListFunctionsLevels, ::testing::Range(1, 11));

// ---- round trip in every format and answer mode --------------------------------------------------

// A strict reading of the whole prompt, line by line (every line must be one the templates allow):
// the header (what the rule returns, how many examples), the examples, the question (output mode) or
// the program language (rule mode: tier and constants), and the instruction.
struct ReadTask {
  bool number = false;
  std::vector<std::pair<RefValue, RefValue>> examples;
  std::optional<RefValue> query;
  std::string primitives;  // rule mode: basic | extended | full, read from the language description
  int constants = 0;
};

std::string read_whole_prompt(const std::string& prompt, bool symbolic, ReadTask& out) {
  std::vector<std::string> lines;
  std::stringstream in(prompt);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  static const std::regex kNaturalHead(R"(A hidden rule turns a list of integers into (an integer|a list of integers)\. Here is what it does to (\d+) lists:)");
  static const std::regex kSymbolicHead(R"(f maps lists of integers to (integers|lists of integers)\.)");
  static const std::regex kNatural(R"(Example (\d+): the list (\[[-0-9, ]*\]) (becomes the list|gives the number) (\[[-0-9, ]*\]|-?\d+)\.)");
  static const std::regex kSymbolic(R"(f\((\[[-0-9, ]*\])\) = (\[[-0-9, ]*\]|-?\d+|\?))");
  static const std::regex kQuestion(R"(What does the rule make of the list (\[[-0-9, ]*\])\?)");
  static const std::regex kConstants(R"(where c is a whole number from 1 to (\d+) and k from 2 to (\d+)\.)");
  std::smatch m;
  size_t k = 0;
  long stated = -1;
  if (lines.empty() || !std::regex_match(lines[k], m, symbolic ? kSymbolicHead : kNaturalHead)) return "header";
  out.number = m[1] == "an integer" || m[1] == "integers";
  if (!symbolic) stated = std::stol(m[2]);
  for (++k; k < lines.size(); ++k) {
    if (!symbolic && std::regex_match(lines[k], m, kNatural)) {
      if (std::stol(m[1]) != static_cast<long>(out.examples.size()) + 1) return "example numbers";
      if ((m[3] == "gives the number") != out.number) return "an example's output kind differs from the header";
      out.examples.push_back({parse_rendered(m[2]), parse_rendered(m[4])});
    } else if (symbolic && std::regex_match(lines[k], m, kSymbolic) && m[2] != "?") {
      out.examples.push_back({parse_rendered(m[1]), parse_rendered(m[2])});
    } else {
      break;
    }
    if (out.examples.back().second.number != out.number) return "an example's output kind differs from the header";
  }
  if (stated >= 0 && stated != static_cast<long>(out.examples.size())) return "header's example count";
  if (k < lines.size() && std::regex_match(lines[k], m, symbolic ? kSymbolic : kQuestion)) {
    if (symbolic && m[2] != "?") return "question";
    out.query = parse_rendered(m[1]);
    ++k;
  }
  if (!out.query) {  // rule mode: the language, then the probe sentence
    if (k == lines.size() || lines[k].rfind("Write the rule as a program: stages separated by \"|\"", 0) != 0) return "language";
    bool extended = false, full = false;
    for (++k; k < lines.size() && lines[k].rfind("- ", 0) == 0; ++k) {
      extended = extended || lines[k].find("map(x % k), map(-x)") != std::string::npos;
      full = full || lines[k].find("map(if even then E else x)") != std::string::npos;
    }
    if (k == lines.size() || !std::regex_match(lines[k], m, kConstants)) return "constants";
    out.constants = std::stoi(m[1]);
    if (std::stoi(m[2]) != out.constants + 1) return "k's range";
    out.primitives = full ? "full" : extended ? "extended" : "basic";
    if (full && !extended) return "full without extended";
    if (++k == lines.size() || lines[k].rfind("The program must reproduce every example", 0) != 0) return "probe sentence";
    ++k;
  }
  if (k + 1 != lines.size() || lines[k].rfind("Answer with the ", 0) != 0) return "instruction: " + (k < lines.size() ? lines[k] : "");
  return "";
}

// "" when the read prompt is the instance and, for every `brute_every`-th task, plain enumeration
// over the read examples (the language read from the prompt in rule mode) re-derives the answer:
// every fitting program gives the gold output on the read query and the probes.
std::string round_trip(const pb::Task& task, bool brute) {
  const auto& inst = task.list_functions();
  ReadTask read;
  if (auto why = read_whole_prompt(task.prompt(), inst.format() == "symbolic", read); !why.empty()) return why;
  if (read.number != inst.returns_number()) return "output kind read differs";
  if (static_cast<int>(read.examples.size()) != inst.example_inputs_size()) return "example count read differs";
  pb::ListFunctionsInstance mine = inst;
  for (int i = 0; i < inst.example_inputs_size(); ++i) {
    if (!(read.examples[i].first == ref_list(inst.example_inputs(i)))) return "example input read differs";
    RefValue out = read.examples[i].second;
    out.number = read.number;
    if (!(out == ref_stored(inst.example_outputs(i), inst.returns_number()))) return "example output read differs";
    mine.mutable_example_inputs(i)->mutable_values()->Assign(read.examples[i].first.items.begin(), read.examples[i].first.items.end());
    mine.mutable_example_outputs(i)->mutable_values()->Assign(read.examples[i].second.items.begin(), read.examples[i].second.items.end());
  }
  const bool rule_mode = inst.answer_mode() == "rule";
  if (rule_mode == read.query.has_value()) return "query shown in rule mode or missing in output mode";
  if (read.query) {
    if (!(*read.query == ref_list(inst.query_input()))) return "query read differs";
    mine.mutable_query_input()->mutable_values()->Assign(read.query->items.begin(), read.query->items.end());
  } else {
    if (read.primitives != inst.primitives() || read.constants != inst.constants()) return "language read differs";
    mine.set_primitives(read.primitives);
    mine.set_constants(read.constants);
  }
  if (!brute) return "";
  const BruteForce bf = brute_force(mine);
  if (bf.fitting == 0) return "no program fits the read examples";
  if (!bf.disagreement.empty()) return "a program fitting the read examples disagrees: " + bf.disagreement;
  return "";
}

// 2,000 tasks per level in each format and answer mode (500 at level 8, 300 at levels 9-10, where one
// task's identifiability search costs 1-3 ms: 2,000 x 4 there would take a minute), read back
// strictly; the enumeration re-derives
// the answer from the read prompt on every task at levels 1-4 and on every 50th above (it is the
// expensive part: up to 172,445 programs per task at level 10; EveryFittingProgramAgreesOnTheQuery
// runs it on 2,000 natural-format tasks per level, and RuleModeAndSymbolicFormat on 300).
TEST(ListFunctions, EveryFormatAndModeReadsBack) {
  for (int level = 1; level <= 10; ++level)
    for (const char* format : {"natural", "symbolic"})
      for (const char* mode : {"output", "rule"})
        check_every_task("list_functions", level, {{"format", format}, {"answer", mode}},
                         level <= 7 ? 2000 : level == 8 ? 500 : 300,
                         [level](const pb::Task& t, uint64_t i) { return round_trip(t, level <= 4 || i % 50 == 0); });
}

// ---- rule mode ----------------------------------------------------------------------------------

pb::Task rule_task(int level, uint64_t i, const KnobMap& extra = {}) {
  const Generator& f = find_family("list_functions").generator;
  KnobMap knobs = {{"answer", "rule"}};
  knobs.insert(extra.begin(), extra.end());
  return make_task(f, resolve_knobs(f, level, knobs), level, 5, i);
}

// (Every program the brute force finds fitting the examples scores 1 in rule mode: check_task.) Other
// spellings and equivalent programs of any depth are accepted too.
TEST(ListFunctions, EquivalentRulesAreAccepted) {
  int others = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const pb::Task task = rule_task(3, i);
    const auto& inst = task.list_functions();
    // spacing and case do not matter
    std::string spaced;
    for (char c : inst.program()) spaced += c == ' ' ? std::string("  ") : std::string(1, static_cast<char>(std::toupper(c)));
    const auto s = score_completion(task, "<answer>" + spaced + "</answer>");
    EXPECT_EQ(s.reward(), 1.0) << spaced << ": " << s.reason();
    if (!inst.returns_number()) {
      // reversing twice is the identity: a deeper program, the same function
      const std::string twice = inst.program() + " | reverse | reverse";
      ScoreOptions w;
      w.process_weight = 1.0;
      const auto t = score_completion(task, "<answer>" + twice + "</answer>", w);
      EXPECT_EQ(t.reward(), 1.0) << twice << ": " << t.reason();
      ++others;
    }
  }
  EXPECT_GT(others, 50);
}

TEST(ListFunctions, RuleThatOnlyFitsTheExamplesEarnsLess) {
  // gold | map(if x > M then x + 1 else x), M the largest value of every example output: it reproduces
  // the examples, and differs wherever a held-out output has a larger value.
  int exercised = 0;
  for (uint64_t i = 0; i < 400; ++i) {
    const pb::Task task = rule_task(4, i, {{"output", "list"}});
    const auto& inst = task.list_functions();
    int32_t m = INT32_MIN;
    for (const auto& out : inst.example_outputs())
      for (int32_t v : out.values()) m = std::max(m, v);
    if (m == INT32_MIN) continue;
    const std::string overfit = inst.program() + " | map(if x > " + std::to_string(m) + " then x + 1 else x)";
    int probes_off = 0;
    for (const auto& out : inst.probe_outputs())
      probes_off += std::any_of(out.values().begin(), out.values().end(), [&](int32_t v) { return v > m; });
    const bool query_off = std::any_of(inst.query_output().values().begin(), inst.query_output().values().end(),
                                       [&](int32_t v) { return v > m; });
    ScoreOptions w;
    w.process_weight = 0.5;
    const auto s = score_completion(task, "<answer>" + overfit + "</answer>", w);
    EXPECT_EQ(s.steps_valid(), 1) << s.reason();
    if (query_off) {
      EXPECT_EQ(s.reward(), 0.0) << s.reason();
      ++exercised;
    } else if (probes_off > 0) {
      EXPECT_LT(s.reward(), 1.0) << s.reason();
      EXPECT_NEAR(s.reward(), 0.5 + 0.5 * (inst.probe_inputs_size() - probes_off) / inst.probe_inputs_size(), 1e-9);
      ++exercised;
    }
  }
  EXPECT_GT(exercised, 50);
}

TEST(ListFunctions, RuleModeRejectsNonPrograms) {
  const pb::Task task = rule_task(5, 1);
  const auto& inst = task.list_functions();
  const std::string gold = inst.program();
  const std::string output_as_rule = listdsl::to_text(listdsl::Value::list({inst.query_output().values().begin(), inst.query_output().values().end()}));
  for (const std::string& bad : {output_as_rule, "not " + gold, gold + " or reverse", gold + " because it fits",
                                 std::string("the rule is ") + gold, std::string(""), std::string("map(x + 99999999999)"),
                                 std::string("sum | reverse"), std::string("take(-1)")}) {
    const auto s = score_completion(task, "<answer>" + bad + "</answer>");
    EXPECT_EQ(s.reward(), 0.0) << bad << ": " << s.reason();
    EXPECT_FALSE(s.correct()) << bad;
  }
  // two different rules: conflicting answers
  EXPECT_EQ(score_completion(task, "<answer>" + gold + "</answer> <answer>reverse</answer>").reward(), 0.0);
  // the gold rule earns the full process score
  ScoreOptions w;
  w.process_weight = 1.0;
  const auto s = score_completion(task, "<answer>" + gold + "</answer>", w);
  EXPECT_EQ(s.reward(), 1.0) << s.reason();
  EXPECT_EQ(s.steps_covered(), s.steps_required());
}

TEST(ListFunctions, ProbesExistForTheProcessScore) {
  for (int level : {1, 5, 10}) {
    int with_probes = 0;
    for (uint64_t i = 0; i < 300; ++i) with_probes += rule_task(level, i).list_functions().probe_inputs_size() > 0;
    EXPECT_GT(with_probes, 270) << "level " << level;
  }
}

// ---- the DSL ------------------------------------------------------------------------------------

TEST(ListDsl, EveryStageReadsBackFromItsText) {
  const auto set = listdsl::primitive_set(listdsl::Tier::Full, 5);
  for (const auto* pool : {&set.lists, &set.numbers})
    for (const auto& s : *pool) {
      const auto parsed = listdsl::parse_program(listdsl::to_text(s));
      ASSERT_EQ(parsed.error, "") << listdsl::to_text(s);
      ASSERT_EQ(parsed.program.stages.size(), 1u);
      EXPECT_EQ(listdsl::to_text(parsed.program), listdsl::to_text(s));
    }
  const auto p = listdsl::parse_program("FILTER( x>2 )|Map(IF odd THEN x*3 ELSE x) | reverse() |count(even)");
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(listdsl::to_text(p.program), "filter(x > 2) | map(if odd then x * 3 else x) | reverse | count(even)");
  // [1, 3, 4, 6] -> [3, 4, 6] -> [9, 4, 6] -> [6, 4, 9] -> two even elements
  EXPECT_EQ(listdsl::to_text(listdsl::run(p.program, {1, 3, 4, 6})), "2");
}

TEST(ListDsl, SemanticsMatchTheReferenceInterpreter) {
  // Random programs over the full DSL with random constants (negative too) on random lists: the
  // shared interpreter and the reference give the same value, undefined included.
  Rng rng(99);
  const auto set = listdsl::primitive_set(listdsl::Tier::Full, 6);
  std::vector<listdsl::Stage> pool = set.lists;
  for (int n = 0; n < 20000; ++n) {
    listdsl::Program p;
    const int stages = static_cast<int>(rng.uniform(1, 5));
    for (int s = 0; s < stages; ++s) {
      listdsl::Stage st = rng.pick(s + 1 == stages && rng.chance(0.4) ? set.numbers : pool);
      if (rng.chance(0.2)) st.arg = static_cast<int32_t>(rng.uniform(-3, 3));
      if (rng.chance(0.1)) st.arg = static_cast<int32_t>(rng.uniform(1, 2000000000));
      if (st.kind == listdsl::StageKind::Take || st.kind == listdsl::StageKind::Drop) st.arg = std::abs(st.arg);
      p.stages.push_back(st);
    }
    std::vector<int32_t> in(static_cast<size_t>(rng.uniform(0, 9)));
    for (auto& v : in) v = static_cast<int32_t>(rng.uniform(-20, 20));
    const auto ref = ref_parse(listdsl::to_text(p));
    ASSERT_TRUE(ref.has_value()) << listdsl::to_text(p);
    RefValue r{true, false, {in.begin(), in.end()}};
    for (const auto& s : *ref) r = ref_apply(s, r);
    const listdsl::Value v = listdsl::run(p, in);
    const RefValue mine = v.type == listdsl::Value::Type::Undefined
                              ? undefined_value()
                              : RefValue{true, v.type == listdsl::Value::Type::Number, {v.items.begin(), v.items.end()}};
    ASSERT_EQ(mine, r) << listdsl::to_text(p);
  }
}

// ---- difficulty, balance, bounds ----------------------------------------------------------------

// A baseline with a fixed budget: 2,000 programs drawn at random from the task's hypothesis space; the
// first that reproduces the examples answers the query (none: the query unchanged, or 0).
bool random_search_baseline(const pb::Task& task, Rng& rng) {
  const auto& inst = task.list_functions();
  const RefLanguage lang = ref_language(inst.primitives(), inst.constants());
  const bool number = inst.returns_number();
  for (int n = 0; n < 2000; ++n) {
    const int stages = static_cast<int>(rng.uniform(1, inst.depth()));
    std::vector<RefStage> p;
    for (int s = 0; s < stages; ++s) p.push_back(s + 1 == stages && number ? rng.pick(lang.reducers) : rng.pick(lang.lists));
    auto run = [&](const pb::ListFunctionValue& in) {
      RefValue v = ref_list(in);
      for (const auto& s : p) v = ref_apply(s, v);
      return v;
    };
    bool fits = true;
    for (int i = 0; i < inst.example_inputs_size() && fits; ++i)
      fits = run(inst.example_inputs(i)) == ref_stored(inst.example_outputs(i), number);
    if (fits) return run(inst.query_input()) == ref_stored(inst.query_output(), number);
  }
  return number ? inst.query_output().values(0) == 0 : false;
}

TEST(ListFunctions, DifficultyRisesWithLevel) {
  const Generator& f = find_family("list_functions").generator;
  std::vector<double> space, accuracy;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double log_space = 0, right = 0;
    constexpr int kTasks = 400;
    Rng rng(7);
    for (uint64_t i = 0; i < kTasks; ++i) {
      const pb::Task task = make_task(f, knobs, level, 3, i);
      log_space += std::log(static_cast<double>(task.list_functions().hypothesis_space()));
      right += random_search_baseline(task, rng);
    }
    space.push_back(log_space / kTasks);
    accuracy.push_back(right / kTasks);
  }
  std::string table;
  for (int l = 0; l < 10; ++l) table += "L" + std::to_string(l + 1) + " space " + std::to_string(std::exp(space[l])) + " baseline " + std::to_string(accuracy[l]) + "\n";
  for (int l = 1; l < 10; ++l) EXPECT_GT(space[l], space[l - 1]) << table;
  for (int l = 1; l < 10; ++l) EXPECT_LE(accuracy[l], accuracy[l - 1] + 0.06) << table;
  EXPECT_GT(accuracy[0], 0.9) << table;
  EXPECT_LT(accuracy[9], accuracy[0] - 0.5) << table;
  std::cout << table;
}

TEST(ListFunctions, AnswersAndRulesAreBalanced) {
  const Generator& f = find_family("list_functions").generator;
  for (int level : {2, 5, 9}) {
    const Knobs knobs = resolve_knobs(f, level, {});
    std::map<std::string, int> answers, first_kind;
    int numbers = 0, empty = 0;
    constexpr int kTasks = 1500;
    for (uint64_t i = 0; i < kTasks; ++i) {
      const pb::Task task = make_task(f, knobs, level, 8, i);
      ++answers[task.answer()];
      numbers += task.list_functions().returns_number();
      empty += task.answer() == "[]";
      const std::string& prog = task.list_functions().program();
      ++first_kind[prog.substr(0, prog.find_first_of("( "))];
    }
    EXPECT_NEAR(numbers / double(kTasks), 1.0 / 3, 0.05) << "level " << level;
    EXPECT_LT(empty / double(kTasks), 0.1) << "level " << level;
    int most = 0;
    for (const auto& [a, n] : answers) most = std::max(most, n);
    EXPECT_LT(most / double(kTasks), 0.06) << "level " << level << ": one answer is too common";
    for (const auto& [kind, n] : first_kind) EXPECT_LT(n / double(kTasks), 0.3) << "level " << level << " " << kind;
  }
}

TEST(ListFunctions, KnobsBeyondTheSearchBoundAreRefused) {
  const Generator& f = find_family("list_functions").generator;
  const Knobs knobs = resolve_knobs(f, 0, {{"depth", "4"}, {"constants", "9"}, {"primitives", "full"}});
  try {
    make_task(f, knobs, 0, 1, 0);
    FAIL() << "no error";
  } catch (const KnobError& e) {
    EXPECT_NE(std::string(e.what()).find("lower depth"), std::string::npos) << e.what();
  }
}

TEST(ListFunctions, VerifierSurvivesHostileInput) {
  const pb::Task rule = rule_task(10, 0);
  const Generator& f = find_family("list_functions").generator;
  const pb::Task output = make_task(f, resolve_knobs(f, 10, {}), 10, 1, 0);
  std::string deep = "<answer>";
  for (int i = 0; i < 3000; ++i) deep += "map(";
  deep += "</answer>";
  std::string stages = "<answer>";
  for (int i = 0; i < 1000; ++i) stages += std::string(i ? " | " : "") + "append(2147483647)";
  stages += "</answer>";
  std::string growth = "<answer>";
  for (int i = 0; i < 31; ++i) growth += "map(x * 2147483647) | ";
  growth += "sum</answer>";
  std::string numbers = "<answer>[" + std::string(15000, '9') + "]</answer>";
  std::string many = "<answer>[";
  for (int i = 0; i < 4000; ++i) many += "1, ";
  many += "1]</answer>";
  const auto start = std::chrono::steady_clock::now();
  for (const pb::Task* task : {&rule, &output})
    for (const std::string& text : {deep, stages, growth, numbers, many, std::string(70000, 'x'),
                                    std::string("<answer>\0</answer>", 18), std::string("<answer>[1, 2</answer>")}) {
      const auto s = score_completion(*task, text);
      EXPECT_EQ(s.reward(), 0.0) << text.substr(0, 60) << ": " << s.reason();
      EXPECT_FALSE(s.reason().empty());
    }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
}

// In-process mutation fuzzing (scripts/fuzz.sh runs libFuzzer on every verifier; this runs in every
// ctest): mutated gold answers and rules score in [0, 1], never correct unless right, deterministically.
TEST(ListFunctions, MutatedAnswersScoreSanely) {
  const Generator& f = find_family("list_functions").generator;
  Rng rng(2024);
  const std::string alphabet = "[](),| -+*%<>0123456789xmapfilterifthenelse";
  for (int n = 0; n < 300; ++n) {
    const bool rule = n % 2 == 0;
    const int level = 1 + n % 10;
    const pb::Task task = make_task(f, resolve_knobs(f, level, {{"answer", rule ? "rule" : "output"}}), level, 77, n);
    for (int m = 0; m < 40; ++m) {
      std::string text = task.answer();
      const int edits = static_cast<int>(rng.uniform(1, 4));
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng.index(text.size() + 1);
        const int what = static_cast<int>(rng.uniform(0, 2));
        if (what == 0 && at < text.size()) text.erase(at, 1);
        else if (what == 1) text.insert(at, 1, alphabet[rng.index(alphabet.size())]);
        else if (at < text.size()) text[at] = alphabet[rng.index(alphabet.size())];
      }
      ScoreOptions w;
      w.process_weight = 0.5;
      const auto a = score_completion(task, "<answer>" + text + "</answer>", w);
      const auto b = score_completion(task, "<answer>" + text + "</answer>", w);
      ASSERT_EQ(a.SerializeAsString(), b.SerializeAsString()) << text;
      ASSERT_TRUE(a.reward() >= 0.0 && a.reward() <= 1.0) << text;
      ASSERT_TRUE(!a.correct() || a.reward() == 1.0) << text;
      ASSERT_LE(a.steps_covered(), a.steps_required()) << text;
      if (!rule && a.correct()) {  // a right output is the gold list, however it is spelled
        std::string digits_a, digits_b;
        for (char c : text) if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') digits_a += c; else digits_a += ' ';
        for (char c : task.answer()) if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') digits_b += c; else digits_b += ' ';
        std::stringstream sa(digits_a), sb(digits_b);
        std::vector<long long> ta, tb;
        for (std::string t; sa >> t;) ta.push_back(std::stoll(t));
        for (std::string t; sb >> t;) tb.push_back(std::stoll(t));
        ASSERT_EQ(ta, tb) << text << " scored correct for " << task.answer();
      }
    }
  }
}

}  // namespace

// ---- distinct questions ----
namespace {

using IntList = std::vector<int>;
IntList lf_list(const pb::ListFunctionValue& v) { return {v.values().begin(), v.values().end()}; }

// The test's own form: what is asked, the examples as a set of (input, output) lists and the query.
std::string lf_brute_key(const pb::Task& task) {
  const auto& inst = task.list_functions();
  std::set<std::pair<IntList, IntList>> examples;
  for (int i = 0; i < inst.example_inputs_size(); ++i)
    examples.emplace(lf_list(inst.example_inputs(i)), lf_list(inst.example_outputs(i)));
  std::ostringstream out;
  out << inst.answer_mode() << "|";
  auto print = [&](const IntList& l) {
    for (int x : l) out << x << ",";
    out << ";";
  };
  for (const auto& [in, o] : examples) print(in), print(o);
  if (inst.answer_mode() != "rule") out << "?", print(lf_list(inst.query_input()));
  return out.str();
}

// The same question with its examples in another order.
pb::Task lf_shuffled(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_list_functions();
  std::vector<std::pair<pb::ListFunctionValue, pb::ListFunctionValue>> examples;
  for (int i = 0; i < inst->example_inputs_size(); ++i) examples.emplace_back(inst->example_inputs(i), inst->example_outputs(i));
  rng.shuffle(examples);
  inst->clear_example_inputs();
  inst->clear_example_outputs();
  for (const auto& [in, o] : examples) *inst->add_example_inputs() = in, *inst->add_example_outputs() = o;
  return copy;
}

// A near miss: one example's output with one more element.
pb::Task lf_near_miss(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_list_functions();
  if (inst->example_outputs_size() > 0)
    inst->mutable_example_outputs(static_cast<int>(rng.index(static_cast<size_t>(inst->example_outputs_size()))))->add_values(7);
  return copy;
}

}  // namespace

TEST(ListFunctionsQuestions, KeyIsTheExamplesAsASetAndTheQuery) {
  for (int level : {1, 3, 5})
    verity::testing::expect_question_key_matches("list_functions", level, 1000, lf_brute_key, [](const pb::Task& t, Rng& rng) {
      return std::vector<pb::Task>{lf_shuffled(t, rng), lf_near_miss(t, rng)};
    });
  for (int level = 1; level <= 10; level += 3) verity::testing::expect_key_survives("list_functions", level, 100, lf_shuffled);
}
