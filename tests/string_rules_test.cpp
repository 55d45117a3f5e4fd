// string_rules: gold verifies, wrong outputs score 0, and the characteristic sample re-proved: Z3
// finds exactly one function of the stated class with at most R rules that reproduces the examples
// (every level, every task), and at the low levels a brute-force search over every rule set of at
// most R rules, run through a transducer written here, finds exactly the stored one. Its output on
// the query is the gold answer. The prompt read back by a reader written from the templates gives the
// stored instance; difficulty rises by hypothesis-space size and a baseline's accuracy falls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "family_properties.h"
#include "solvers/z3_bridge.h"

namespace {

using namespace verity;

struct Rules {
  std::map<std::pair<std::string, char>, char> map;  // (context, letter) -> replacement
};

struct Stated {
  std::string letters, kind;
  int window = 0, max_rules = 0;
  std::vector<std::pair<std::string, std::string>> examples;
  std::string query;
};

Stated stored(const pb::Task& task) {
  const auto& inst = task.string_rules();
  Stated s{inst.letters(), inst.kind(), inst.window(), inst.max_rules(), {}, inst.query()};
  for (int i = 0; i < inst.example_inputs_size(); ++i) s.examples.push_back({inst.example_inputs(i), inst.example_outputs(i)});
  return s;
}

Rules stored_rules(const pb::Task& task) {
  Rules r;
  for (const auto& rule : task.string_rules().rules()) r.map[{rule.context(), rule.from()[0]}] = rule.to()[0];
  return r;
}

// The transducer, written from the class definitions (not solvers/string_rules.cpp).
std::string run(const std::string& kind, int window, const Rules& rules, const std::string& in) {
  const int n = static_cast<int>(in.size()), w = window - 1;
  std::string out = in;
  auto rewrite = [&](int i, const std::string& context) {
    const auto it = rules.map.find({context, in[i]});
    if (it != rules.map.end()) out[i] = it->second;
  };
  if (kind == "isl")
    for (int i = w; i < n; ++i) rewrite(i, in.substr(i - w, w));
  if (kind == "l-osl")
    for (int i = w; i < n; ++i) rewrite(i, out.substr(i - w, w));
  if (kind == "r-osl")
    for (int i = n - 1 - w; i >= 0; --i) rewrite(i, out.substr(i + 1, w));
  return out;
}

bool reproduces(const Stated& s, const Rules& rules) {
  for (const auto& [in, out] : s.examples)
    if (run(s.kind, s.window, rules, in) != out) return false;
  return true;
}

// Every rule set of at most max_rules rules over the whole rule space, run on the examples; returns
// how many reproduce them (stopping at 2) and the first one.
int brute_force(const Stated& s, Rules& found) {
  std::vector<std::string> contexts = {""};
  for (int j = 0; j < s.window - 1; ++j) {
    std::vector<std::string> longer;
    for (const auto& c : contexts)
      for (char l : s.letters) longer.push_back(c + l);
    contexts = longer;
  }
  std::vector<std::tuple<std::string, char, char>> all;
  for (const auto& c : contexts)
    for (char from : s.letters)
      for (char to : s.letters)
        if (to != from) all.emplace_back(c, from, to);
  int count = 0;
  Rules current;
  std::function<void(size_t, int)> extend = [&](size_t start, int left) {
    if (count >= 2) return;
    if (reproduces(s, current) && count++ == 0) found = current;
    if (left == 0) return;
    for (size_t i = start; i < all.size() && count < 2; ++i) {
      const auto& [c, from, to] = all[i];
      if (current.map.count({c, from})) continue;
      current.map[{c, from}] = to;
      extend(i + 1, left - 1);
      current.map.erase({c, from});
    }
  };
  extend(0, s.max_rules);
  return count;
}

// Z3: one unknown output letter per (context, letter) the examples exercise, the examples as
// constraints, rules (changed pairs, plus any number on unexercised pairs) at most max_rules.
// Returns the number of solutions (0, 1 or 2 meaning more) and the first one's rules.
int z3_solutions(const Stated& s, Rules& found) {
  const z3bridge::SolverScope scope(z3bridge::kGenerationRlimit);
  z3::context& ctx = scope.ctx();
  z3::solver& solver = scope.solver();
  std::map<std::pair<std::string, char>, z3::expr> vars;
  const int w = s.window - 1;
  for (const auto& [in, out] : s.examples) {
    for (int i = 0; i < static_cast<int>(in.size()); ++i) {
      const bool right = s.kind == "r-osl";
      const bool full = right ? i + w < static_cast<int>(in.size()) : i >= w;
      if (!full) {
        if (in[i] != out[i]) return 0;
        continue;
      }
      const std::string context = right ? out.substr(i + 1, w) : (s.kind == "isl" ? in : out).substr(i - w, w);
      const auto key = std::make_pair(context, in[i]);
      if (!vars.count(key)) vars.emplace(key, ctx.int_const(("f_" + context + "_" + in[i]).c_str()));
      solver.add(vars.at(key) == static_cast<int>(out[i]));
    }
  }
  const z3::expr extra = ctx.int_const("extra_rules");
  z3::expr rules = extra;
  for (const auto& [key, v] : vars) rules = rules + z3::ite(v != static_cast<int>(key.second), ctx.int_val(1), ctx.int_val(0));
  solver.add(extra >= 0 && rules <= s.max_rules);
  const double unexercised = std::pow(s.letters.size(), s.window) - static_cast<double>(vars.size());
  solver.add(extra <= ctx.int_val(static_cast<int>(std::min(unexercised, 1e6))));
  int count = 0;
  while (count < 2 && solver.check() == z3::sat) {
    const z3::model m = solver.get_model();
    z3::expr_vector differs(ctx);
    if (count == 0)
      for (const auto& [key, v] : vars) {
        const char to = static_cast<char>(m.eval(v, true).get_numeral_int());
        if (to != key.second) found.map[key] = to;
      }
    for (const auto& [key, v] : vars) differs.push_back(v != m.eval(v, true));
    differs.push_back(extra != m.eval(extra, true));
    solver.add(z3::mk_or(differs));
    ++count;
  }
  return count;
}

// ---- the prompt read back ----

Stated parse_prompt(const std::string& p, bool natural) {
  Stated s;
  std::smatch m;
  if (natural) {
    if (std::regex_search(p, m, std::regex("Its strings use the letters ([^.]*)\\."))) {
      const std::string list = std::regex_replace(std::string(m[1]), std::regex(" and |, "), ",");
      for (size_t i = 0; i < list.size(); i += 2) s.letters += list[i];
    }
    if (p.find("(always read in the original input") != std::string::npos) s.kind = "isl";
    if (p.find("written from left to right") != std::string::npos) s.kind += "l-osl";
    if (p.find("written from right to left") != std::string::npos) s.kind += "r-osl";
    if (std::regex_search(p, m, std::regex("A rule has a context of (\\d+) letters?,"))) s.window = std::stoi(m[1]) + 1;
    if (std::regex_search(p, m, std::regex("The function has at most (\\d+) rules?\\."))) s.max_rules = std::stoi(m[1]);
    if (std::regex_search(p, m, std::regex("What does it output for ([a-z]+)\\?\n"))) s.query = m[1];
  } else {
    if (std::regex_search(p, m, std::regex("^f: strings over \\{([a-z]+)\\}"))) s.letters = m[1];
    if (std::regex_search(p, m, std::regex("Class (ISL|L-OSL \\(left to right\\)|R-OSL \\(right to left\\)), k = (\\d)")))
      s.kind = m[1].str()[0] == 'I' ? "isl" : m[1].str()[0] == 'L' ? "l-osl" : "r-osl", s.window = std::stoi(m[2]);
    if (std::regex_search(p, m, std::regex("except for at most (\\d+) rules"))) s.max_rules = std::stoi(m[1]);
    if (std::regex_search(p, m, std::regex("\n([a-z]+) -> \\?\n"))) s.query = m[1];
  }
  const std::regex example("\n([a-z]+) -> ([a-z]+)(?=\n)");
  for (auto it = std::sregex_iterator(p.begin(), p.end(), example); it != std::sregex_iterator(); ++it)
    s.examples.push_back({(*it)[1], (*it)[2]});
  return s;
}

std::string compare_prompt(const pb::Task& task) {
  const Stated want = stored(task);
  const Stated got = parse_prompt(task.prompt(), task.string_rules().format() == "natural");
  if (got.letters != want.letters) return "letters read back: " + got.letters + "; ";
  if (got.kind != want.kind) return "class read back: " + got.kind + "; ";
  if (got.window != want.window || got.max_rules != want.max_rules) return "window / bound read back differ; ";
  if (got.examples != want.examples) return "examples read back differ; ";
  if (got.query != want.query) return "query read back differs; ";
  return "";
}

std::string score_reason(const pb::Task& task, const std::string& completion, double want) {
  const pb::Score s = score_completion(task, completion);
  if (s.reward() == want) return "";
  return "'" + completion.substr(0, 80) + "' scored " + std::to_string(s.reward()) + " (" + s.reason() + "); ";
}

std::string check_wrong_answers(const pb::Task& task) {
  const std::string gold = task.answer();
  const std::string& letters = task.string_rules().letters();
  std::string failure = score_reason(task, "<answer>" + task.string_rules().query() + "</answer>", 0.0);  // copied
  for (size_t i = 0; i < gold.size(); ++i) {  // every single-letter change
    std::string wrong = gold;
    wrong[i] = letters[(letters.find(gold[i]) + 1) % letters.size()];
    failure += score_reason(task, "<answer>" + wrong + "</answer>", 0.0);
  }
  failure += score_reason(task, "<answer>" + gold + letters[0] + "</answer>", 0.0);
  failure += score_reason(task, "<answer>" + gold.substr(1) + "</answer>", 0.0);
  failure += score_reason(task, "<answer>not " + gold + "</answer>", 0.0);
  std::string spaced;
  for (char c : gold) spaced += std::string(spaced.empty() ? "" : " ") + c;
  failure += score_reason(task, "<answer>" + spaced + "</answer>", 1.0);
  failure += score_reason(task, "Answer: " + gold, 1.0);
  return failure;
}

std::string check_task(const pb::Task& task, int level) {
  const Stated s = stored(task);
  std::string failure = compare_prompt(task);
  const Rules hidden = stored_rules(task);
  if (static_cast<int>(hidden.map.size()) != s.max_rules) failure += "the hidden function has fewer rules than stated; ";
  if (!reproduces(s, hidden)) failure += "the stored rules do not reproduce the examples; ";
  if (run(s.kind, s.window, hidden, s.query) != task.answer()) failure += "the stored rules give another query output; ";
  if (task.answer() == s.query) failure += "copying the query would be right; ";
  Rules z3_found;
  const int z3_count = z3_solutions(s, z3_found);
  if (z3_count != 1) failure += "Z3 finds " + std::to_string(z3_count) + " functions (2 = several); ";
  else if (z3_found.map != hidden.map) failure += "Z3's function differs from the stored one; ";
  if (level <= 5) {
    Rules brute;
    const int n = brute_force(s, brute);
    if (n != 1) failure += "brute force finds " + std::to_string(n) + " functions; ";
    else if (brute.map != hidden.map || run(s.kind, s.window, brute, s.query) != task.answer()) failure += "brute force differs; ";
  }
  if (task.meta().at("consistent_hypotheses") != "1") failure += "meta count; ";
  for (const auto& [in, out] : s.examples)
    if (in == s.query) failure += "the query is an example; ";
  return failure + check_wrong_answers(task);
}

class StringRulesLevels : public ::testing::TestWithParam<int> {};

TEST_P(StringRulesLevels, UniqueFunctionGoldVerifiesWrongFails) {
  const int level = GetParam();
  std::map<std::string, int> kinds;
  std::mutex mutex;
  verity::testing::check_every_task("string_rules", level, {}, 2000, [&](const pb::Task& task, uint64_t) {
    std::lock_guard lock(mutex);
    ++kinds[task.string_rules().kind()];
    return check_task(task, level);
  });
  if (level >= 3)  // mixed: the three classes about equally often
    for (const char* k : {"isl", "l-osl", "r-osl"}) EXPECT_NEAR(kinds[k] / 2000.0, 1.0 / 3, 0.05) << k;
}

TEST_P(StringRulesLevels, SymbolicFormatToo) {
  const int level = GetParam();
  verity::testing::check_every_task("string_rules", level, {{"format", "symbolic"}}, 500,
                                    [&](const pb::Task& task, uint64_t) { return check_task(task, level); });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, StringRulesLevels, ::testing::Range(1, 11));

// A learner that knows the class and window but reads only the first three examples: it takes the
// rules it sees there and copies everything else. Right when the query needs no rule it missed.
std::string few_examples_baseline(Stated s) {
  s.examples.resize(std::min<size_t>(3, s.examples.size()));
  Rules seen;
  const int w = s.window - 1;
  for (const auto& [in, out] : s.examples)
    for (int i = 0; i < static_cast<int>(in.size()); ++i) {
      const bool right = s.kind == "r-osl";
      if (right ? i + w >= static_cast<int>(in.size()) : i < w) continue;
      const std::string context = right ? out.substr(i + 1, w) : (s.kind == "isl" ? in : out).substr(i - w, w);
      if (out[i] != in[i]) seen.map[{context, in[i]}] = out[i];
    }
  return run(s.kind, s.window, seen, s.query);
}

TEST(StringRules, DifficultyRisesWithLevel) {
  const Generator& f = find_family("string_rules").generator;
  std::vector<double> space, baseline;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double right = 0, log_space = 0;
    const int n = 600;
    for (uint64_t i = 0; i < n; ++i) {
      const pb::Task task = make_task(f, knobs, level, 5, i);
      right += few_examples_baseline(stored(task)) == task.answer();
      log_space += std::stod(task.meta().at("hypothesis_space_log2"));
    }
    space.push_back(log_space / n);
    baseline.push_back(right / n);
    std::cout << "level " << level << ": log2 hypotheses " << space.back() << ", few-examples baseline " << baseline.back() << "\n";
  }
  for (int l = 1; l < 10; ++l) {
    EXPECT_LT(space[l - 1], space[l]) << "level " << l;
    EXPECT_GT(baseline[l - 1] + 0.05, baseline[l]) << "level " << l;
  }
  EXPECT_GT(baseline[0], baseline[9] + 0.15);
}

// The checks above can fail: without the only example in which some rule fires, the sample is no
// longer characteristic, and both Z3 and the brute force find several functions.
TEST(StringRules, WithoutARulesOnlyExampleSeveralFunctionsFit) {
  const Generator& f = find_family("string_rules").generator;
  int broken = 0;
  for (uint64_t i = 0; i < 200 && broken < 20; ++i) {
    // ISL: whether a rule fires depends on the input alone, so "fires elsewhere" is easy to tell
    const pb::Task task = make_task(f, resolve_knobs(f, 3, {{"class", "isl"}}), 3, 4, i);
    const Stated s = stored(task);
    const Rules hidden = stored_rules(task);
    for (size_t drop = 0; drop < s.examples.size(); ++drop) {
      Stated fewer = s;
      fewer.examples.erase(fewer.examples.begin() + drop);
      Rules rest;
      for (const auto& [in, out] : fewer.examples)
        for (const auto& [key, to] : hidden.map)
          if (in != out && run(s.kind, s.window, Rules{{{key, to}}}, in) != in) rest.map[key] = to;
      if (rest.map.size() == hidden.map.size()) continue;  // every rule still fires somewhere else
      Rules found;
      EXPECT_EQ(z3_solutions(fewer, found), 2) << task.prompt();
      EXPECT_EQ(brute_force(fewer, found), 2) << task.prompt();
      ++broken;
      break;
    }
  }
  EXPECT_GE(broken, 10);
}

TEST(StringRules, HostileInputScoresZero) {
  const Generator& f = find_family("string_rules").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 5, {}), 5, 1, 0);
  const std::string gold = task.answer();
  for (const std::string& text :
       {std::string(), std::string("<answer></answer>"), std::string(70000, 'a'), std::string("<answer>\xff\xfe</answer>"),
        "<answer>" + gold + "</answer><answer>" + gold + "x</answer>", "<answer>" + std::string(5000, gold[0]) + "</answer>",
        "<answer>" + gold + " or " + gold + "</answer>", "<answer>the output is " + gold + "</answer>"}) {
    const pb::Score s = score_completion(task, text);
    EXPECT_EQ(s.reward(), 0.0) << text.substr(0, 80);
    EXPECT_FALSE(s.reason().empty());
  }
  std::string upper = gold;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(score_completion(task, "<answer>\"" + upper + "\"</answer>").reward(), 1.0);
}

TEST(StringRules, KnobsAreValidatedAndDeterministic) {
  const Generator& f = find_family("string_rules").generator;
  EXPECT_THROW(resolve_knobs(f, 0, {{"window", "5"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 0, {{"class", "osl"}}), KnobError);
  EXPECT_THROW(make_task(f, resolve_knobs(f, 0, {{"rules", "4"}, {"examples", "3"}}), 0, 1, 0), std::invalid_argument);
  const Knobs knobs = resolve_knobs(f, 7, {});
  EXPECT_EQ(to_json_line(make_task(f, knobs, 7, 9, 42)), to_json_line(make_task(f, knobs, 7, 9, 42)));
  EXPECT_NE(make_task(f, knobs, 7, 9, 42).prompt(), make_task(f, knobs, 7, 9, 43).prompt());
}

TEST(StringRules, EveryKnobCornerGenerates) {
  const Generator& f = find_family("string_rules").generator;
  for (const char* kind : {"isl", "l-osl", "r-osl"})
    for (const auto& [window, vocabulary, rules] : std::vector<std::tuple<int, int, int>>{{2, 2, 1}, {4, 8, 6}, {3, 2, 4}, {2, 8, 6}})
      for (uint64_t i = 0; i < 20; ++i) {
        const Knobs knobs = resolve_knobs(f, 0, {{"class", kind}, {"window", std::to_string(window)},
                                                 {"vocabulary", std::to_string(vocabulary)}, {"rules", std::to_string(rules)},
                                                 {"examples", "12"}, {"length", "12"}});
        const pb::Task task = make_task(f, knobs, 0, 2, i);
        ASSERT_EQ(check_task(task, 99), "") << kind << " " << window << " " << vocabulary << " " << rules;
      }
}

// ---- round trip: a strict reader and the test's own solver ----

// Every line of the prompt must be one the templates allow; the class must be named exactly once (one
// reading), with the window and the copied edge agreeing with it. "" on success.
std::string read_strictly(const std::string& prompt, bool natural, Stated& out) {
  std::vector<std::string> lines;
  std::istringstream in(prompt);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  if (lines.size() < 4) return "too short";
  std::smatch m;
  const std::string& head = lines[0];
  std::string edge;  // "first" or "last"
  int edge_count = 0;
  if (natural) {
    static const std::regex kHead(
        R"((A hidden function rewrites strings\.|A secret string function is at work\.|Someone applies a fixed rewriting function to strings\.) Its strings use the letters ([a-z](?:, [a-z])* and [a-z])\. It turns each string into one of the same length by copying it letter by letter, except where one of its rules applies\. A rule has a context of (\d+) letters?, a letter and a replacement letter\. (.*) The (first|last) (?:(\d+) letters|letter) of a string (?:are|is) always copied\. No two rules have the same context and letter\. The function has at most (\d+) rules?\.)");
    if (!std::regex_match(head, m, kHead)) return "first line";
    std::istringstream list(m[2].str());  // "a, b and c" (the regex fixed its shape)
    for (std::string w; list >> w;)
      if (w != "and") out.letters += w[0];
    out.window = std::stoi(m[3]) + 1;
    edge = m[5];
    edge_count = m[6].matched ? std::stoi(m[6]) : 1;
    out.max_rules = std::stoi(m[7]);
    const std::string body = m[4];
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"isl", "(always read in the original input, so one change never affects another)"},
        {"l-osl", "The output is written from left to right."},
        {"r-osl", "The output is written from right to left."}};
    for (const auto& [kind, marker] : kinds)
      if (body.find(marker) != std::string::npos) out.kind += out.kind.empty() ? kind : "+" + kind;
    const bool one = out.window == 2;
    const std::string context = one ? "the letter" : "the " + std::to_string(out.window - 1) + " letters";
    if (body.find(out.kind == "isl" ? context + " just before it in the input" : out.kind == "l-osl" ? (one ? std::string("the last letter") : "the last " + std::to_string(out.window - 1) + " letters") + " already written to the output (just before it)" : context + " already written to the output just after it") == std::string::npos)
      return "the context's description does not match the class and window";
    if (lines[1] != "Examples (input -> output):") return "examples header";
  } else {
    static const std::regex kHead(
        R"(f: strings over \{([a-z]+)\} -> strings of the same length\. Class (ISL|L-OSL \(left to right\)|R-OSL \(right to left\)), k = (\d): y\[i\] = f\(((?:[xy]\[i[-+]\d\])+), x\[i\]\); the (first|last) (?:(\d) positions are|position is) copied\. f\(u, c\) = c except for at most (\d+) rules \(u, c\) -> d\.)");
    if (!std::regex_match(head, m, kHead)) return "first line";
    out.letters = m[1];
    out.kind = m[2].str()[0] == 'I' ? "isl" : m[2].str()[0] == 'L' ? "l-osl" : "r-osl";
    out.window = std::stoi(m[3]);
    edge = m[5];
    edge_count = m[6].matched ? std::stoi(m[6]) : 1;
    out.max_rules = std::stoi(m[7]);
    std::string args;  // the arguments the class and window call for
    for (int j = out.window - 1; j >= 1; --j)
      if (out.kind != "r-osl") args += std::string(out.kind == "isl" ? "x" : "y") + "[i-" + std::to_string(j) + "]";
    for (int j = 1; j < out.window && out.kind == "r-osl"; ++j) args += "y[i+" + std::to_string(j) + "]";
    if (m[4] != args) return "the formula's arguments do not match the class and window";
  }
  if (out.kind != "isl" && out.kind != "l-osl" && out.kind != "r-osl") return "class read as '" + out.kind + "'";
  if (edge != (out.kind == "r-osl" ? "last" : "first") || edge_count != out.window - 1) return "copied edge";
  size_t k = natural ? 2 : 1;
  auto word = [&](const std::string& w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [&](char c) { return out.letters.find(c) != std::string::npos; });
  };
  for (; k < lines.size(); ++k) {
    const size_t arrow = lines[k].find(" -> ");
    if (arrow == std::string::npos) break;
    const std::string a = lines[k].substr(0, arrow), b = lines[k].substr(arrow + 4);
    if (!word(a) || !(word(b) || b == "?")) return "example line: " + lines[k];
    if (b == "?") break;
    if (a.size() != b.size()) return "an example changes the length";
    out.examples.emplace_back(a, b);
  }
  if (k == lines.size()) return "no question";
  static const std::regex kQuestion(R"(Exactly one function of this kind fits all the examples\. What does it output for ([a-z]+)\?)");
  if (natural ? !std::regex_match(lines[k], m, kQuestion) : lines[k].size() < 6 || lines[k].substr(lines[k].size() - 5) != " -> ?")
    return "question line";
  out.query = natural ? m[1].str() : lines[k].substr(0, lines[k].size() - 5);
  if (!word(out.query)) return "query";
  if (k + 2 != lines.size() || lines[k + 1].rfind("Answer with the output string.", 0) != 0) return "instruction";
  return "";
}

// The test's own solver: the examples give each (context, letter) pair they contain its output
// (the context read from the input for ISL, from the given output for OSL); the pairs that change
// are the rules. With exactly the stated bound of them found, every other pair is copied, so the
// query's output follows. "" with the output, else why the examples do not determine it.
std::string solve_from_examples(const Stated& s, std::string& output) {
  Rules rules;
  std::map<std::pair<std::string, char>, char> seen;
  const int w = s.window - 1;
  for (const auto& [in, out] : s.examples) {
    const int n = static_cast<int>(in.size());
    for (int i = 0; i < n; ++i) {
      const bool copied = s.kind == "r-osl" ? i > n - 1 - w : i < w;
      if (copied) {
        if (in[i] != out[i]) return "an always-copied letter changes";
        continue;
      }
      const std::string context = s.kind == "isl" ? in.substr(i - w, w) : s.kind == "l-osl" ? out.substr(i - w, w) : out.substr(i + 1, w);
      const auto [it, fresh] = seen.emplace(std::make_pair(context, in[i]), out[i]);
      if (!fresh && it->second != out[i]) return "one pair has two outputs";
      if (out[i] != in[i]) rules.map[{context, in[i]}] = out[i];
    }
  }
  if (static_cast<int>(rules.map.size()) != s.max_rules) return std::to_string(rules.map.size()) + " rules found, bound " + std::to_string(s.max_rules);
  if (!reproduces(s, rules)) return "the rules found do not reproduce the examples";
  output = run(s.kind, s.window, rules, s.query);
  return "";
}

std::string string_round_trip(const pb::Task& task) {
  Stated read;
  if (auto why = read_strictly(task.prompt(), task.string_rules().format() == "natural", read); !why.empty()) return why;
  const Stated want = stored(task);
  if (read.letters != want.letters || read.kind != want.kind || read.window != want.window || read.max_rules != want.max_rules)
    return "class, letters, window or bound read differ";
  if (read.examples != want.examples || read.query != want.query) return "examples or query read differ";
  std::string output;
  if (auto why = solve_from_examples(read, output); !why.empty()) return why;
  return output == task.answer() ? "" : "the test's solver gives " + output;
}

// 2,000 tasks per level in both formats.
TEST(StringRules, PromptsReadBackStrictlyAndTheirExamplesGiveTheAnswer) {
  for (int level = 1; level <= 10; ++level)
    for (const char* format : {"natural", "symbolic"})
      verity::testing::check_every_task("string_rules", level, {{"format", format}}, 2000,
                                        [](const pb::Task& t, uint64_t) { return string_round_trip(t); });
}

// ---- distinct questions: the key up to renaming the letters and reordering the examples ----

// The test's own canonical form, by brute force: every bijection of the alphabet onto its first
// letters in order, the renamed examples sorted, the renamed query; the least rendering.
std::string sr_brute_key(const pb::Task& task) {
  const auto& inst = task.string_rules();
  const std::string& alphabet = inst.letters();
  if (alphabet.size() > 7) return "";
  std::vector<int> perm(alphabet.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
  std::string best;
  do {
    auto renamed = [&](const std::string& text) {
      std::string out;
      for (char c : text) out += static_cast<char>('a' + perm[alphabet.find(c)]);
      return out;
    };
    std::vector<std::string> examples;
    for (int i = 0; i < inst.example_inputs_size(); ++i)
      examples.push_back(renamed(inst.example_inputs(i)) + ">" + renamed(inst.example_outputs(i)));
    std::sort(examples.begin(), examples.end());
    std::string text = inst.kind() + "|" + std::to_string(inst.window()) + "|" + std::to_string(inst.max_rules()) + "|" +
                       std::to_string(alphabet.size()) + "|";
    for (const auto& e : examples) text += e + ";";
    text += "?" + renamed(inst.query());
    if (best.empty() || text < best) best = text;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

// The same question over other letters (a random bijection onto a random alphabet), its examples in
// another order.
pb::Task sr_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_string_rules();
  std::vector<char> pool;
  for (char c = 'a'; c <= 'z'; ++c) pool.push_back(c);
  rng.shuffle(pool);
  std::map<char, char> to;
  for (size_t i = 0; i < inst->letters().size(); ++i) to[inst->letters()[i]] = pool[i];
  auto renamed = [&](const std::string& text) {
    std::string out;
    for (char c : text) out += to.at(c);
    return out;
  };
  std::string letters = renamed(inst->letters());
  std::sort(letters.begin(), letters.end());
  inst->set_letters(letters);
  std::vector<std::pair<std::string, std::string>> examples;
  for (int i = 0; i < inst->example_inputs_size(); ++i)
    examples.emplace_back(renamed(inst->example_inputs(i)), renamed(inst->example_outputs(i)));
  rng.shuffle(examples);
  inst->clear_example_inputs();
  inst->clear_example_outputs();
  for (const auto& [in, out] : examples) {
    inst->add_example_inputs(in);
    inst->add_example_outputs(out);
  }
  inst->set_query(renamed(inst->query()));
  for (auto& rule : *inst->mutable_rules()) {
    rule.set_context(renamed(rule.context()));
    rule.set_from(renamed(rule.from()));
    rule.set_to(renamed(rule.to()));
  }
  return copy;
}

// Near misses: one letter of the query changed to another letter of the alphabet; one example's
// output letter changed. Other questions, unless isomorphic anyway (the brute-force form decides).
std::vector<pb::Task> sr_near_misses(const pb::Task& task, Rng& rng) {
  auto change = [&](std::string text) {
    const std::string& alphabet = task.string_rules().letters();
    const size_t at = rng.index(text.size());
    char c;
    do c = alphabet[rng.index(alphabet.size())];
    while (c == text[at]);
    text[at] = c;
    return text;
  };
  pb::Task query = task, example = task;
  query.mutable_string_rules()->set_query(change(task.string_rules().query()));
  const int e = static_cast<int>(rng.index(task.string_rules().example_outputs_size()));
  example.mutable_string_rules()->set_example_outputs(e, change(task.string_rules().example_outputs(e)));
  return {query, example};
}

// question_key agrees with the brute-force canonical form on 2,000 tasks per level (levels 1-3, both
// formats), renamed and reordered copies and near misses; renamed copies keep the key at every level;
// levels 1-2 hold 10,000 distinct questions (verity generate through the service).
TEST(StringRulesQuestions, KeyIsTheCanonicalFormUpToLettersAndOrder) {
  verity::testing::expect_key_is_the_canonical_form("string_rules", 3, sr_brute_key, sr_renamed, sr_near_misses);
}

TEST(StringRulesQuestions, LowLevelsHoldTenThousandDistinctQuestions) {
  verity::testing::expect_low_levels_hold_distinct_questions("string_rules");
}

}  // namespace
