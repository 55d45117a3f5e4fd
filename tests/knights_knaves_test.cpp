#include <gtest/gtest.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "family_properties.h"
#include "generators/canonical_form.h"
#include "solvers/knights_knaves_logic.h"
#include "solvers/knights_knaves_z3.h"
#include "tasks/concat.h"
#include "tasks/rng.h"
#include "test_support.h"

namespace {

using namespace verity;

// The puzzle as stored in the record, read back through the symbolic parser.
std::optional<kk::Puzzle> stored_puzzle(const pb::Task& task, std::string* error) {
  const auto& inst = task.knights_knaves();
  const std::vector<std::string> names(inst.people().begin(), inst.people().end());
  kk::Puzzle p;
  p.people = inst.people_size();
  for (const auto& s : inst.statements()) {
    const auto speaker = std::find(names.begin(), names.end(), s.speaker());
    auto f = kk::parse_symbolic(s.formula(), names, error);
    if (!f || speaker == names.end()) return std::nullopt;
    p.statements.push_back({static_cast<int>(speaker - names.begin()), *f});
  }
  return p;
}

// ---- plain reference evaluators, independent of the library's table-driven ones ----

int knights_counted(const kk::Node& n) { return n.counts_knaves ? std::popcount(n.group) - n.count : n.count; }

// Two-valued truth by a recursive tree walk.
bool tree_truth(const kk::Formula& f, int i, uint32_t a) {
  const kk::Node& n = f.nodes[i];
  switch (n.op) {
    case kk::Op::Knight: return kk::is_knight(a, n.person);
    case kk::Op::Knave: return !kk::is_knight(a, n.person);
    case kk::Op::Not: return !tree_truth(f, n.left, a);
    case kk::Op::And: return tree_truth(f, n.left, a) && tree_truth(f, n.right, a);
    case kk::Op::Or: return tree_truth(f, n.left, a) || tree_truth(f, n.right, a);
    case kk::Op::Implies: return !tree_truth(f, n.left, a) || tree_truth(f, n.right, a);
    case kk::Op::Iff: return tree_truth(f, n.left, a) == tree_truth(f, n.right, a);
    case kk::Op::Exactly: return std::popcount(a & n.group) == knights_counted(n);
  }
  return false;
}
bool tree_truth(const kk::Formula& f, uint32_t a) { return f.size > 0 && tree_truth(f, f.root(), a); }

bool tree_consistent(const kk::Puzzle& p, uint32_t a) {
  for (const auto& s : p.statements)
    if (tree_truth(s.formula, a) != kk::is_knight(a, s.speaker)) return false;
  return true;
}

// Kleene's three-valued truth by a recursive tree walk: a value is decided when every way of
// deciding the open people gives it by the connectives' rules.
kk::Truth kleene(const kk::Formula& f, int i, uint32_t known, uint32_t knights) {
  using kk::Truth;
  const kk::Node& n = f.nodes[i];
  const auto of = [](bool b) { return b ? Truth::True : Truth::False; };
  const auto neg = [](Truth t) { return t == Truth::Unknown ? t : t == Truth::True ? Truth::False : Truth::True; };
  switch (n.op) {
    case kk::Op::Knight:
    case kk::Op::Knave:
      if (!((known >> n.person) & 1u)) return Truth::Unknown;
      return of(kk::is_knight(knights, n.person) == (n.op == kk::Op::Knight));
    case kk::Op::Not: return neg(kleene(f, n.left, known, knights));
    case kk::Op::Exactly: {
      const int sure = std::popcount(knights & known & n.group), open = std::popcount(~known & n.group & 0xFFFFu);
      if (sure > knights_counted(n) || sure + open < knights_counted(n)) return Truth::False;
      return open == 0 ? Truth::True : Truth::Unknown;
    }
    default: break;
  }
  Truth l = kleene(f, n.left, known, knights), r = kleene(f, n.right, known, knights);
  if (n.op == kk::Op::Implies) l = neg(l);
  if (n.op == kk::Op::Iff) return l == Truth::Unknown || r == Truth::Unknown ? Truth::Unknown : of(l == r);
  if (n.op == kk::Op::And) return l == Truth::False || r == Truth::False ? Truth::False
                                 : l == Truth::True && r == Truth::True ? Truth::True : Truth::Unknown;
  return l == Truth::True || r == Truth::True ? Truth::True  // Or, Implies
         : l == Truth::False && r == Truth::False ? Truth::False : Truth::Unknown;
}

// Independent count: every assignment, statement by statement, with the plain tree evaluator.
std::vector<uint32_t> brute_force(const kk::Puzzle& p) {
  std::vector<uint32_t> found;
  for (uint32_t a = 0; a < (1u << p.people); ++a)
    if (tree_consistent(p, a)) found.push_back(a);
  return found;
}

std::string roles_answer(const pb::Task& task, const std::vector<bool>& knight, const std::string& sep = ", ") {
  const auto& people = task.knights_knaves().people();
  std::string out;
  for (int q = 0; q < people.size(); ++q) out += (q ? sep : "") + people[q] + ": " + (knight[q] ? "knight" : "knave");
  return out;
}

std::vector<bool> gold_roles(const pb::Task& task) {
  std::vector<bool> knight;
  for (const auto& r : task.knights_knaves().roles()) knight.push_back(r == "knight");
  return knight;
}

// The gold answer in the spellings a model might use, all of which must score 1.
std::vector<std::string> gold_spellings(const pb::Task& task, uint64_t index) {
  const auto& people = task.knights_knaves().people();
  const std::vector<bool> knight = gold_roles(task);
  std::vector<int> order(people.size());
  for (size_t q = 0; q < order.size(); ++q) order[q] = static_cast<int>(q);
  Rng rng(index);
  rng.shuffle(order);
  std::string sentences, grouped_names, dashes;
  std::string knights, knaves;
  for (int q : order) {
    sentences += (sentences.empty() ? "" : " and ") + people[q] + " is a " + (knight[q] ? "knight" : "knave");
    dashes += people[q] + " - " + (knight[q] ? "truth-teller" : "liar") + "\n";
    (knight[q] ? knights : knaves) += ((knight[q] ? knights : knaves).empty() ? "" : ", ") + people[q];
  }
  std::string role_first = "Knights: " + knights + "; Knaves: " + knaves;
  std::string name_first = (knights.empty() ? "" : knights + " are knights. ") + (knaves.empty() ? "" : knaves + " are knaves.");
  if (knights.empty()) role_first = "Knaves: " + knaves;
  if (knaves.empty()) role_first = "Knights: " + knights;
  return {"<answer>" + task.answer() + "</answer>", "Let me think.\nAnswer: " + task.answer(),
          "\\boxed{" + task.answer() + "}", "<answer>" + sentences + ".</answer>", "<answer>" + dashes + "</answer>",
          "<answer>" + role_first + "</answer>", "<answer>" + name_first + "</answer>",
          "<answer>**" + roles_answer(task, knight, "\n") + "**</answer>"};
}

std::string score_reason(const pb::Task& task, const std::string& completion, double want) {
  const pb::Score s = score_completion(task, completion);
  if (s.reward() == want && s.correct() == (want == 1.0)) return "";
  return "'" + completion.substr(0, 120) + "' scored " + std::to_string(s.reward()) + " (" + s.reason() + "); ";
}

// Answers that must score 0 on a task with a unique solution.
std::string check_wrong_answers(const pb::Task& task) {
  const auto& people = task.knights_knaves().people();
  const std::vector<bool> gold = gold_roles(task);
  std::string failure;
  for (int q = 0; q < people.size(); ++q) {  // any single flipped role
    std::vector<bool> flipped = gold;
    flipped[q] = !flipped[q];
    failure += score_reason(task, "<answer>" + roles_answer(task, flipped) + "</answer>", 0.0);
  }
  const std::string full = roles_answer(task, gold);
  const std::string partial = full.substr(0, full.rfind(", "));
  failure += score_reason(task, "<answer>" + partial + "</answer>", 0.0);
  const std::string twice = full + ", " + people[0] + ": " + (gold[0] ? "knave" : "knight");
  failure += score_reason(task, "<answer>" + twice + "</answer>", 0.0);
  failure += score_reason(task, "<answer>" + full + ", Zorro: knight</answer>", 0.0);
  failure += score_reason(task, "<answer>" + std::string(kNoUniqueSolution) + "</answer>", 0.0);
  failure += score_reason(task, "I am not sure.", 0.0);
  return failure;
}

// Shape of the record: one statement per person, each as deep as the depth knob asks.
std::string check_shape(const pb::Task& task, const kk::Puzzle& p) {
  const auto& inst = task.knights_knaves();
  const long people = std::stol(task.knobs().at("people"));
  const long depth = std::stol(task.knobs().at("depth"));
  if (inst.people_size() != people || inst.statements_size() != people) return "wrong number of people or statements";
  for (int q = 0; q < people; ++q) {
    if (p.statements[q].speaker != q) return "statements out of order";
    if (p.statements[q].formula.depth() != depth) return "statement depth " + std::to_string(p.statements[q].formula.depth());
    if (task.prompt().find(inst.people(q)) == std::string::npos) return "a name is missing from the prompt";
  }
  if (task.trace_size() < 2 || task.trace(task.trace_size() - 1).rule() != "conclusion") return "trace has no conclusion";
  return "";
}

// Everything a task must satisfy; Z3 on every `z3_every`-th task (it is the slow method).
std::string check_task(const pb::Task& task, uint64_t index, int z3_every) {
  const auto& inst = task.knights_knaves();
  std::string error;
  const auto puzzle = stored_puzzle(task, &error);
  if (!puzzle) return "a stored formula does not parse: " + error;
  std::string failure = check_shape(task, *puzzle);
  const std::vector<uint32_t> found = brute_force(*puzzle);
  const int capped = static_cast<int>(std::min<size_t>(found.size(), 2));
  if (capped != inst.solutions()) return "enumeration finds " + std::to_string(found.size()) + " solutions";
  if (puzzle->people <= kk::kMaxTablePeople && kk::count_by_tables(*puzzle, 2) != capped) failure += "truth tables disagree with enumeration; ";
  if (kk::solve(*puzzle, 2, false).solutions != capped) failure += "backtracking disagrees with enumeration; ";
  if (z3_every > 0 && index % z3_every == 0 && kk::count_with_z3(*puzzle, 2) != capped)
    failure += "Z3 disagrees with enumeration; ";
  if (capped != 1) {
    if (task.answer() != kNoUniqueSolution || task.label() != "unanswerable") failure += "gold should abstain; ";
    for (const char* said : {"no unique solution", "No unique solution.", "cannot be determined", "Unanswerable"})
      failure += score_reason(task, "<answer>" + std::string(said) + "</answer>", 1.0);
    if (!found.empty()) {  // a consistent assignment is still not an answer
      std::vector<bool> roles;
      for (int q = 0; q < puzzle->people; ++q) roles.push_back(kk::is_knight(found[0], q));
      failure += score_reason(task, "<answer>" + roles_answer(task, roles) + "</answer>", 0.0);
    }
    return failure;
  }
  for (int q = 0; q < puzzle->people; ++q)
    if ((inst.roles(q) == "knight") != kk::is_knight(found[0], q)) return "gold role of " + inst.people(q) + " is wrong";
  if (task.label() != "answerable") failure += "label; ";
  for (const auto& form : gold_spellings(task, index)) failure += score_reason(task, form, 1.0);
  return failure + check_wrong_answers(task);
}

// Runs check_task over a dataset and requires no two tasks to pose the same puzzle.
void check_dataset(int level, const KnobMap& overrides, uint64_t count, int z3_every) {
  std::mutex mutex;
  std::set<std::string> puzzles;
  std::atomic<int> duplicates{0};
  verity::testing::check_every_task("knights_knaves", level, overrides, count, [&](const pb::Task& task, uint64_t i) {
    std::string key;
    for (const auto& p : task.knights_knaves().people()) key += p + ",";
    for (const auto& s : task.knights_knaves().statements()) key += s.formula() + ";";
    {
      std::lock_guard lock(mutex);
      if (!puzzles.insert(key).second) ++duplicates;
    }
    return check_task(task, i, z3_every);
  });
  EXPECT_EQ(duplicates.load(), 0) << "level " << level << ": puzzles repeat within one dataset";
}

class KnightsKnavesLevels : public ::testing::TestWithParam<int> {};

TEST_P(KnightsKnavesLevels, GoldVerifiesWrongFailsUniqueAndCrossChecked) {
  check_dataset(GetParam(), {}, 1500, 10);
}

TEST_P(KnightsKnavesLevels, SymbolicFormatToo) {
  check_dataset(GetParam(), {{"format", "symbolic"}}, 300, 0);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, KnightsKnavesLevels, ::testing::Range(1, 11));

// Balanced roles: at every level half the people are knights, and at level 1 all four role patterns
// of two people occur about equally (with "and" alone, two knights can never be a unique solution:
// their statements are true, and so false for two knaves; level 1 therefore allows or / not too).
TEST_P(KnightsKnavesLevels, RolesAreBalanced) {
  const int level = GetParam();
  const Generator& f = find_family("knights_knaves").generator;
  const Knobs knobs = resolve_knobs(f, level, {});
  int knights = 0, people = 0;
  std::map<std::string, int> patterns;
  const int n = 800;
  for (uint64_t i = 0; i < n; ++i) {
    const auto inst = make_task(f, knobs, level, 9, i).knights_knaves();
    std::string pattern;
    for (const auto& role : inst.roles()) {
      knights += role == "knight";
      ++people;
      pattern += role == "knight" ? 'K' : 'N';
    }
    ++patterns[pattern];
  }
  EXPECT_NEAR(double(knights) / people, 0.5, 0.04) << "level " << level;
  // Balanced within each puzzle too: never everyone alike (at two people that guess was right 52% of
  // the time), so level 1 (three people) has the six mixed patterns, equally often.
  for (const auto& [pattern, count] : patterns)
    EXPECT_TRUE(pattern.find('K') != std::string::npos && pattern.find('N') != std::string::npos)
        << "level " << level << ": " << count << " puzzles are " << pattern;
  if (level == 1) {
    EXPECT_EQ(patterns.size(), 6u);
    for (const auto& [pattern, count] : patterns) EXPECT_NEAR(double(count) / n, 1.0 / 6, 0.05) << pattern;
  }
}

// ---- distinct questions ----

std::vector<std::string> kk_statements(const pb::Task& task) {
  std::vector<std::string> out;
  for (const auto& st : task.knights_knaves().statements()) out.push_back(st.speaker() + ": " + st.formula());
  return out;
}

std::string kk_brute_key(const pb::Task& task) {
  const auto& people = task.knights_knaves().people();
  return verity::testing::brute_force_canonical(kk_statements(task), {people.begin(), people.end()});
}

// The same puzzle with other names (P0, P1, ... in a random order) and its statements shuffled.
pb::Task kk_renamed(const pb::Task& task, Rng& rng) {
  pb::Task copy = task;
  auto* inst = copy.mutable_knights_knaves();
  auto rename = verity::testing::random_renaming({inst->people().begin(), inst->people().end()}, "P", rng);
  for (auto& person : *inst->mutable_people()) person = rename[person];
  std::vector<pb::KnightsKnavesStatement> statements(inst->statements().begin(), inst->statements().end());
  rng.shuffle(statements);
  inst->clear_statements();
  for (auto st : statements) {
    st.set_speaker(rename[st.speaker()]);
    st.set_formula(verity::testing::rename_identifiers(st.formula(), rename));
    *inst->add_statements() = st;
  }
  return copy;
}

// question_key agrees with the brute-force canonical form (every renaming tried) on 2,000 puzzles
// per level, repeats included (two people: only a few hundred distinct puzzles, so many repeats).
TEST(KnightsKnavesQuestions, KeyIsTheCanonicalFormUpToNamesAndOrder) {
  for (int level = 1; level <= 4; ++level) {
    const size_t distinct = verity::testing::expect_question_key_matches("knights_knaves", level, 2000, kk_brute_key);
    EXPECT_GT(distinct, 1600u) << "level " << level;
  }
  const size_t two = verity::testing::expect_question_key_matches("knights_knaves", 0, 2000, kk_brute_key, nullptr,
                                                                  {{"people", "2"}, {"depth", "1"}, {"operators", "2"}});
  EXPECT_LT(two, 400u);
  for (int level = 1; level <= 10; ++level)
    verity::testing::expect_key_survives("knights_knaves", level, 300, kk_renamed);
}

// question_key hands the canonical form its literal text in merged pieces, with a name table: the key
// must be byte for byte that of the plain Question::symbolized spelling of the same statements.
TEST(KnightsKnavesQuestions, KeyIsThatOfTheSymbolizedStatements) {
  const Generator& f = find_family("knights_knaves").generator;
  for (int level = 1; level <= 10; ++level) {
    const Knobs knobs(f.knob_specs(), f.level_knobs(level));
    for (int i = 0; i < 200; ++i) {
      const pb::Task task = make_task(f, knobs, level, 3, i);
      const auto& inst = task.knights_knaves();
      canonical::Question q;
      for (const auto& st : inst.statements()) {
        q.statement();
        q.symbolized(st.speaker(), inst.people());
        q.text(": ");
        q.symbolized(st.formula(), inst.people());
      }
      ASSERT_EQ(f.question_key(task), task.family() + "|" + q.key()) << "level " << level << " task " << i;
    }
  }
}

TEST(KnightsKnavesQuestions, DatasetsHoldDistinctQuestionsAtEveryLevel) {
  const auto dir = verity::testing::fresh_temp_dir("verity_kk_distinct", "datasets");
  for (int level = 1; level <= 10; ++level) {
    const auto tasks = verity::testing::distinct_dataset("knights_knaves", level, 2000, dir.string());
    EXPECT_EQ(tasks.size(), 2000u) << "level " << level;
    if (level <= 4) {  // the independent canonical form agrees: no two alike
      std::set<std::string> brute;
      for (const auto& t : tasks) brute.insert(kk_brute_key(t));
      EXPECT_EQ(brute.size(), tasks.size()) << "level " << level;
    }
  }
  // The lowest levels hold more than the 10,000 distinct puzzles a dataset may ask for.
  for (int level = 1; level <= 2; ++level)
    EXPECT_EQ(verity::testing::distinct_dataset("knights_knaves", level, 10000, dir.string()).size(), 10000u)
        << "level " << level;
  std::filesystem::remove_all(dir);
}

TEST(KnightsKnaves, UnanswerablePuzzlesHaveNoneOrSeveralSolutions) {
  for (int level : {1, 3, 6, 9}) {
    check_dataset(level, {{"unanswerable", "0.5"}}, 600, 3);
    const Generator& f = find_family("knights_knaves").generator;
    const Knobs knobs = resolve_knobs(f, level, {{"unanswerable", "0.5"}});
    int abstain = 0, none = 0;
    for (uint64_t i = 0; i < 400; ++i) {
      const pb::Task task = make_task(f, knobs, level, 5, i);
      abstain += task.label() == "unanswerable";
      none += task.knights_knaves().solutions() == 0;
      EXPECT_NE(task.prompt().find("no unique solution"), std::string::npos);
    }
    EXPECT_NEAR(abstain / 400.0, 0.5, 0.08) << "level " << level;
    EXPECT_NEAR(none / 400.0, 0.25, 0.08) << "level " << level;  // half of the unanswerable ones
  }
}

TEST(KnightsKnaves, BeyondTwelvePeopleZ3ProvesUniqueness) {
  check_dataset(0, {{"people", "14"}, {"depth", "2"}, {"operators", "4"}}, 12, 1);
}

// ---- the fast evaluators and the solver's shortcuts against the plain references ----

// A random formula over `people` (every operator, "exactly k of" with k from 0 to the group size).
int random_node(Rng& rng, kk::Formula& f, int people, int depth) {
  kk::Node n;
  if (depth == 0) {
    if (people >= 2 && rng.chance(0.2)) {
      n.op = kk::Op::Exactly;
      const int size = static_cast<int>(rng.uniform(2, std::min(4, people)));
      while (std::popcount(n.group) < size) n.group |= static_cast<uint16_t>(1u << rng.index(people));
      n.count = static_cast<uint8_t>(rng.uniform(0, size));
      n.counts_knaves = rng.chance(0.5);
    } else {
      n.op = rng.chance(0.5) ? kk::Op::Knight : kk::Op::Knave;
      n.person = static_cast<uint8_t>(rng.index(people));
    }
    return f.add(n);
  }
  static const kk::Op kBinary[] = {kk::Op::And, kk::Op::Or, kk::Op::Implies, kk::Op::Iff};
  n.op = kBinary[rng.index(4)];
  n.left = static_cast<int8_t>(random_node(rng, f, people, static_cast<int>(rng.uniform(0, depth - 1))));
  n.right = static_cast<int8_t>(random_node(rng, f, people, depth - 1));
  int root = f.add(n);
  if (rng.chance(0.2)) {
    kk::Node neg;
    neg.op = kk::Op::Not;
    neg.left = static_cast<int8_t>(root);
    root = f.add(neg);
  }
  return root;
}

kk::Puzzle random_puzzle(Rng& rng, int people) {
  kk::Puzzle p;
  p.people = people;
  for (int i = 0; i < people; ++i) {
    kk::Formula f;
    random_node(rng, f, people, static_cast<int>(rng.uniform(1, 3)));
    p.statements.push_back({i, f});
  }
  return p;
}

// The backtracking solver as kk::solve's header specifies it, with Kleene's evaluation for every
// question: kk::solve answers most of them from truth tables instead, and must take the same steps.
class ReferenceSolver {
 public:
  explicit ReferenceSolver(const kk::Puzzle& p) : p_(p) {
    for (const auto& s : p.statements) mentions_.push_back(s.formula.people() | (1u << s.speaker));
  }
  kk::SolveResult run(int limit) {
    limit_ = limit;
    dfs(0, 0, 0, 0);
    return out_;
  }

 private:
  using Kind = kk::SolveStep::Kind;
  kk::Truth truth(int i, uint32_t known, uint32_t knights) const {
    return kleene(p_.statements[i].formula, p_.statements[i].formula.root(), known, knights);
  }
  bool fits(int i, uint32_t known, uint32_t knights) const {
    const kk::Truth t = truth(i, known, knights);
    return t != kk::Unknown && (t == kk::True) == kk::is_knight(knights, p_.statements[i].speaker);
  }
  void step(Kind kind, int statement, int person, bool knight, int depth, uint32_t path, uint32_t known = 0,
            uint32_t knights = 0) {
    out_.steps.push_back({kind, statement, person, knight, depth, path, known, knights});
  }
  bool propagate(uint32_t& known, uint32_t& knights, int depth, uint32_t path) {
    std::vector<uint32_t> seen(p_.statements.size(), ~0u);
    for (bool changed = true; changed;) {
      changed = false;
      for (int i = 0; i < static_cast<int>(p_.statements.size()); ++i) {
        if ((mentions_[i] & known) == seen[i]) continue;
        seen[i] = mentions_[i] & known;
        const uint32_t open = mentions_[i] & ~known;
        const int speaker = p_.statements[i].speaker;
        const kk::Truth t = truth(i, known, knights);
        const bool speaker_known = (known >> speaker) & 1u;
        if ((open == 0 && !fits(i, known, knights)) ||
            (open != 0 && t != kk::Unknown && speaker_known && (t == kk::True) != kk::is_knight(knights, speaker))) {
          step(Kind::Contradiction, i, -1, false, depth, path, known, knights);
          return false;
        }
        if (open == 0) continue;
        if (t != kk::Unknown && !speaker_known) {
          known |= 1u << speaker;
          if (t == kk::True) knights |= 1u << speaker;
          step(Kind::Forced, i, speaker, t == kk::True, depth, path, known, knights);
          changed = true;
          continue;
        }
        if (std::popcount(open) != 1) continue;
        const int q = std::countr_zero(open);
        const uint32_t bit = 1u << q;
        const bool as_knight = fits(i, known | bit, knights | bit), as_knave = fits(i, known | bit, knights);
        if (!as_knight && !as_knave) {
          step(Kind::Contradiction, i, q, false, depth, path, known, knights);
          return false;
        }
        if (as_knight && as_knave) continue;
        known |= bit;
        if (as_knight) knights |= bit;
        step(Kind::Forced, i, q, as_knight, depth, path, known, knights);
        changed = true;
      }
    }
    return true;
  }
  void dfs(uint32_t known, uint32_t knights, int depth, uint32_t path) {
    if (out_.solutions >= limit_ || !propagate(known, knights, depth, path)) return;
    const uint32_t all = (1u << p_.people) - 1;
    if (known == all) {
      ++out_.solutions;
      if (out_.found.size() < 2) out_.found.push_back(knights);
      step(Kind::Solution, -1, -1, false, depth, path, known, knights);
      return;
    }
    const int q = std::countr_zero(~known & all);
    ++out_.decisions;
    for (int branch = 0; branch < 2 && out_.solutions < limit_; ++branch) {
      const uint32_t next_path = path | (branch == 0 ? 0u : 1u << depth);
      step(Kind::Assume, -1, q, branch == 0, depth + 1, next_path);
      dfs(known | (1u << q), branch == 0 ? knights | (1u << q) : knights, depth + 1, next_path);
    }
  }

  const kk::Puzzle& p_;
  int limit_ = 2;
  std::vector<uint32_t> mentions_;
  kk::SolveResult out_;
};

std::string describe(const kk::SolveStep& s) {
  return std::to_string(static_cast<int>(s.kind)) + "/" + std::to_string(s.statement) + "/" + std::to_string(s.person) +
         "/" + std::to_string(s.knight) + "/" + std::to_string(s.depth) + "/" + std::to_string(s.path) + "/" +
         std::to_string(s.known) + "/" + std::to_string(s.knights);
}

TEST(KnightsKnavesLogic, TableDrivenEvaluationAgreesWithTreeWalks) {
  Rng rng(20261130);
  std::vector<std::string> names;
  for (int q = 0; q < kk::kMaxPeople; ++q) names.push_back(concat("P", std::to_string(q)));
  for (int trial = 0; trial < 3000; ++trial) {
    const int people = static_cast<int>(rng.uniform(1, 12));
    const kk::Puzzle p = random_puzzle(rng, people);
    const kk::Statement& s = p.statements[0];
    std::vector<uint64_t> table(kk::table_words(people));
    kk::consistency_table(s, people, table.data());
    for (uint32_t a = 0; a < (1u << people); ++a) {
      const bool truth = tree_truth(s.formula, a);
      ASSERT_EQ(kk::evaluate(s.formula, a), truth) << kk::to_symbolic(s.formula, names) << " at " << a;
      ASSERT_EQ((table[a / 64] >> (a % 64)) & 1u, truth == kk::is_knight(a, s.speaker)) << trial << " at " << a;
    }
    if (people < 6) ASSERT_EQ(table[0] >> (1u << people), 0u) << "bits beyond 2^people are clear";
    const uint32_t known = static_cast<uint32_t>(rng.next()) & ((1u << people) - 1);
    const uint32_t knights = static_cast<uint32_t>(rng.next()) & known;
    ASSERT_EQ(kk::evaluate_partial(s.formula, known, knights), kleene(s.formula, s.formula.root(), known, knights));
    const int solutions = static_cast<int>(std::min<size_t>(brute_force(p).size(), 2));
    ASSERT_EQ(kk::count_by_tables(p, 2), solutions) << trial;
  }
}

// kk::solve answers complete-assignment checks from consistency tables and skips three-valued
// evaluation where a one-word table shows the truth still varies (six people or fewer): its case
// analysis (the gold trace) must be the reference's, step for step, from 2 to 13 people.
TEST(KnightsKnavesLogic, SolverShortcutsTakeTheReferenceSteps) {
  Rng rng(77);
  for (int trial = 0; trial < 3000; ++trial) {
    const int people = static_cast<int>(rng.uniform(2, trial % 50 == 0 ? 13 : 10));
    const kk::Puzzle p = random_puzzle(rng, people);
    const kk::SolveResult got = kk::solve(p, 2, true), want = ReferenceSolver(p).run(2);
    ASSERT_EQ(got.solutions, want.solutions) << trial;
    ASSERT_EQ(got.found, want.found) << trial;
    ASSERT_EQ(got.decisions, want.decisions) << trial;
    ASSERT_EQ(got.steps.size(), want.steps.size()) << trial;
    for (size_t i = 0; i < got.steps.size(); ++i) ASSERT_EQ(describe(got.steps[i]), describe(want.steps[i])) << trial;
  }
}

// The generator's solve: a reused result and the consistency tables handed in give the plain solve's
// answer and steps.
TEST(KnightsKnavesLogic, SolveWithGivenTablesIntoAReusedResultAgrees) {
  Rng rng(78);
  kk::SolveResult reused;
  for (int trial = 0; trial < 2000; ++trial) {
    const int people = static_cast<int>(rng.uniform(2, kk::kMaxTablePeople));
    const kk::Puzzle p = random_puzzle(rng, people);
    std::vector<std::vector<uint64_t>> tables(p.statements.size(), std::vector<uint64_t>(kk::table_words(people)));
    std::vector<const uint64_t*> rows;
    for (size_t i = 0; i < p.statements.size(); ++i) {
      kk::consistency_table(p.statements[i], people, tables[i].data());
      rows.push_back(tables[i].data());
    }
    const bool record = trial % 2 == 0;
    const kk::SolveResult want = kk::solve(p, 2, record);
    kk::solve(p, 2, record, reused, trial % 3 == 0 ? nullptr : rows.data());
    ASSERT_EQ(reused.solutions, want.solutions) << trial;
    ASSERT_EQ(reused.found, want.found) << trial;
    ASSERT_EQ(reused.decisions, want.decisions) << trial;
    ASSERT_EQ(reused.steps.size(), want.steps.size()) << trial;
    for (size_t i = 0; i < want.steps.size(); ++i) ASSERT_EQ(describe(reused.steps[i]), describe(want.steps[i])) << trial;
  }
}

// Small corners of the knob space (2 people with only "and", 4 levels of nesting, all unanswerable...)
// still generate valid tasks.
TEST(KnightsKnaves, EveryKnobCornerGenerates) {
  const Generator& f = find_family("knights_knaves").generator;
  for (int people : {2, 3})
    for (int depth = 1; depth <= 4; ++depth)
      for (int ops = 1; ops <= 4; ++ops)
        for (const char* unanswerable : {"0", "1"}) {
          const KnobMap knobs = {{"people", std::to_string(people)}, {"depth", std::to_string(depth)},
                                 {"operators", std::to_string(ops)}, {"unanswerable", unanswerable}};
          for (uint64_t i = 0; i < 4; ++i) {
            const pb::Task task = make_task(f, resolve_knobs(f, 0, knobs), 0, 2, i);
            EXPECT_EQ(check_task(task, i, 1), "") << Knobs(f.knob_specs(), knobs).canonical() << " task " << i;
          }
        }
}

TEST(KnightsKnaves, DifficultyRisesWithLevel) {
  const Generator& f = find_family("knights_knaves").generator;
  auto mean_decisions = [&](int level) {
    const Knobs knobs = resolve_knobs(f, level, {});
    double total = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      const pb::Task task = make_task(f, knobs, level, 3, i);
      std::string error;
      const auto puzzle = stored_puzzle(task, &error);
      total += puzzle ? static_cast<double>(kk::solve(*puzzle, 2, false).decisions) : 0;
    }
    return total / 300;
  };
  std::vector<double> mean;
  for (int level = 1; level <= 10; ++level) mean.push_back(mean_decisions(level));
  for (int level = 1; level < 10; ++level)
    EXPECT_LE(mean[level - 1], mean[level] * 1.15) << "level " << level << " vs " << level + 1;
  for (int level = 1; level + 3 <= 10; level += 3)
    EXPECT_LT(mean[level - 1], mean[level + 2]) << "level " << level << " vs " << level + 3;
}

TEST(KnightsKnaves, AnswerOrderAndSpellingDoNotMatter) {
  const Generator& f = find_family("knights_knaves").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 5, {}), 5, 1, 0);
  const auto& people = task.knights_knaves().people();
  const std::vector<bool> gold = gold_roles(task);
  std::string reversed;
  for (int q = people.size() - 1; q >= 0; --q)
    reversed += people[q] + std::string(" is a ") + (gold[q] ? "Knight" : "KNAVE") + (q ? "; " : ".");
  EXPECT_EQ(score_completion(task, "<answer>" + reversed + "</answer>").reward(), 1.0) << reversed;
  std::string chatty = "In conclusion, the roles are: ";
  for (int q = 0; q < people.size(); ++q) chatty += people[q] + (gold[q] ? " is a knight" : " is a knave") + (q + 1 < people.size() ? ", " : ".");
  EXPECT_EQ(score_completion(task, "<answer>" + chatty + "</answer>").reward(), 1.0) << chatty;
  // Saying a person's role twice the same way is fine.
  const std::string again = task.answer() + ", " + people[0] + ": " + (gold[0] ? "knight" : "knave");
  EXPECT_EQ(score_completion(task, "<answer>" + again + "</answer>").reward(), 1.0);
}

TEST(KnightsKnaves, VerifierSurvivesHostileInput) {
  const Generator& f = find_family("knights_knaves").generator;
  const pb::Task task = make_task(f, resolve_knobs(f, 10, {}), 10, 1, 0);
  std::string huge = "<answer>";
  while (huge.size() < 60 * 1024) huge += task.knights_knaves().people(0) + " knight knave ";
  huge += "</answer>";
  for (const std::string& text : {std::string(), std::string("<answer></answer>"), huge, std::string(70000, 'a'),
                                  std::string("<answer>knight knave</answer>"), std::string("<answer>\xff\xfe</answer>"),
                                  std::string("<answer>") + task.knights_knaves().people(0) + " is not a knight</answer>"}) {
    const pb::Score s = score_completion(task, text);
    EXPECT_EQ(s.reward(), 0.0);
    EXPECT_FALSE(s.format_ok());
    EXPECT_FALSE(s.reason().empty());
  }
}

TEST(KnightsKnaves, SymbolicParserRejectsMalformedFormulas) {
  const std::vector<std::string> names = {"Alice", "Bruno", "Clara"};
  for (const char* bad : {"", "Alice &", "(Alice", "Alice Bruno", "Zorro", "exactly4(Alice, Bruno)", "~", "exactly(Alice)"})
    EXPECT_FALSE(kk::parse_symbolic(bad, names)) << bad;
  EXPECT_FALSE(kk::parse_symbolic(std::string(200, '(') + "Alice" + std::string(200, ')'), names));
  const auto f = kk::parse_symbolic("~Alice -> Bruno <-> exactly1(Alice, Clara) | ~(Bruno & Clara)", names);
  ASSERT_TRUE(f);
  const auto back = kk::parse_symbolic(kk::to_symbolic(*f, names), names);
  ASSERT_TRUE(back);
  for (uint32_t a = 0; a < 8; ++a) EXPECT_EQ(kk::evaluate(*f, a), kk::evaluate(*back, a)) << a;
  // Precedence: & binds tighter than |, which binds tighter than ->, then <->.
  for (uint32_t a = 0; a < 8; ++a) {
    const bool A = a & 1, B = a & 2, C = a & 4;
    EXPECT_EQ(kk::evaluate(*f, a), (A || B) == ((A + C == 1) || !(B && C))) << a;
  }
}

TEST(KnightsKnaves, KnobsAreValidatedAndDeterministic) {
  const Generator& f = find_family("knights_knaves").generator;
  EXPECT_THROW(resolve_knobs(f, 0, {{"people", "1"}}), KnobError);
  EXPECT_THROW(resolve_knobs(f, 0, {{"operators", "5"}}), KnobError);
  const Knobs knobs = resolve_knobs(f, 7, {});
  EXPECT_EQ(to_json_line(make_task(f, knobs, 7, 9, 42)), to_json_line(make_task(f, knobs, 7, 9, 42)));
  EXPECT_NE(make_task(f, knobs, 7, 9, 42).prompt(), make_task(f, knobs, 7, 9, 43).prompt());
}

// ---------------------------------------------------------------------------------------------
// One reading per statement. A reader's parser, written from the English templates (not from the
// renderer): it returns every way a statement can be read, splitting at each top-level connective
// (outside parentheses), and the test requires that every reading means what the stored formula
// means (same truth value under every assignment of roles). "It is not the case that (A) and (B)"
// reads both as not-A-and-B and as not-(A-and-B): the test catches it.

struct Reading {
  char op = 'k';  // k knight, n knave, ! not, & and, | or, > if-then, = iff, e exactly
  int person = 0, count = 0;
  bool knaves = false;
  uint32_t group = 0;
  std::shared_ptr<const Reading> a, b;
};
using ReadingPtr = std::shared_ptr<const Reading>;

bool holds(const Reading& r, uint32_t knights) {
  switch (r.op) {
    case 'k': return (knights >> r.person) & 1u;
    case 'n': return !((knights >> r.person) & 1u);
    case '!': return !holds(*r.a, knights);
    case '&': return holds(*r.a, knights) && holds(*r.b, knights);
    case '|': return holds(*r.a, knights) || holds(*r.b, knights);
    case '>': return !holds(*r.a, knights) || holds(*r.b, knights);
    case '=': return holds(*r.a, knights) == holds(*r.b, knights);
    default: {
      const int k = __builtin_popcount(knights & r.group);
      return (r.knaves ? __builtin_popcount(r.group) - k : k) == r.count;
    }
  }
}

// Shared by the readers below: the closing parenthesis of the one at `open`, the positions of `word`
// outside parentheses (" -> " is no part of " <-> "), and a reading node.
size_t close_of(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
    if (depth == 0) return i;
  }
  return std::string::npos;
}

std::vector<size_t> top_level(const std::string& s, const std::string& word) {
  std::vector<size_t> at;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
    if (depth == 0 && s.compare(i, word.size(), word) == 0) at.push_back(i);
  }
  return at;
}

ReadingPtr node(char op, ReadingPtr a, ReadingPtr b) {
  auto r = std::make_shared<Reading>();
  r->op = op;
  r->a = std::move(a);
  r->b = std::move(b);
  return r;
}

class StatementReader {
 public:
  StatementReader(std::vector<std::string> names, int speaker) : names_(std::move(names)), speaker_(speaker) {}

  std::vector<ReadingPtr> read(const std::string& s) {
    if (const auto it = memo_.find(s); it != memo_.end()) return it->second;
    std::vector<ReadingPtr> out;
    if (s.size() >= 2 && s.front() == '(' && close_of(s, 0) == s.size() - 1) append(out, read(s.substr(1, s.size() - 2)));
    if (auto atom = read_atom(s)) out.push_back(atom);
    if (auto exactly = read_exactly(s)) out.push_back(exactly);
    if (starts(s, "it is not the case that "))
      for (const auto& r : read(s.substr(24))) out.push_back(node('!', r, nullptr));
    if (starts(s, "if "))
      for (size_t at : top_level(s, ", then "))
        combine(out, '>', read(s.substr(3, at - 3)), read(s.substr(at + 7)));
    for (const auto& [word, op] : {std::pair<std::string, char>{" and ", '&'}, {" or ", '|'}, {" if and only if ", '='}})
      for (size_t at : top_level(s, word)) combine(out, op, read(s.substr(0, at)), read(s.substr(at + word.size())));
    memo_[s] = out;
    return out;
  }

 private:
  static bool starts(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
  static void append(std::vector<ReadingPtr>& out, const std::vector<ReadingPtr>& more) {
    out.insert(out.end(), more.begin(), more.end());
  }
  static void combine(std::vector<ReadingPtr>& out, char op, const std::vector<ReadingPtr>& left,
                      const std::vector<ReadingPtr>& right) {
    for (const auto& l : left)
      for (const auto& r : right) out.push_back(node(op, l, r));
  }
  int person(const std::string& word) const {
    if (word == "I") return speaker_;
    const auto it = std::find(names_.begin(), names_.end(), word);
    return it == names_.end() ? -1 : static_cast<int>(it - names_.begin());
  }
  ReadingPtr read_atom(const std::string& s) const {
    for (const char* role : {"knight", "knave"}) {
      int who = -1;
      if (s == std::string("I am a ") + role) who = speaker_;
      const std::string tail = std::string(" is a ") + role;
      if (s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0)
        who = person(s.substr(0, s.size() - tail.size()));
      if (who >= 0) {
        auto r = std::make_shared<Reading>();
        r->op = role[4] == 'h' ? 'k' : 'n';
        r->person = who;
        return r;
      }
    }
    return nullptr;
  }
  // "exactly two of Ann, Bo and I are knights"
  ReadingPtr read_exactly(const std::string& s) const {
    static const std::vector<std::string> kNumbers = {"zero", "one", "two", "three", "four"};
    if (!starts(s, "exactly ")) return nullptr;
    const size_t of = s.find(" of ");
    if (of == std::string::npos) return nullptr;
    const auto number = std::find(kNumbers.begin(), kNumbers.end(), s.substr(8, of - 8));
    if (number == kNumbers.end()) return nullptr;
    for (const std::string& tail : {" is a knight", " is a knave", " are knights", " are knaves"}) {
      if (s.size() <= of + 4 + tail.size() || s.compare(s.size() - tail.size(), tail.size(), tail) != 0) continue;
      std::string list = s.substr(of + 4, s.size() - tail.size() - of - 4);
      auto r = std::make_shared<Reading>();
      r->op = 'e';
      r->count = static_cast<int>(number - kNumbers.begin());
      r->knaves = tail.find("knave") != std::string::npos;
      for (size_t start = 0; start <= list.size();) {
        size_t end = std::min(list.find(", ", start), list.find(" and ", start));
        const std::string item = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
        const int who = person(item);
        if (who < 0) return nullptr;
        r->group |= 1u << who;
        if (end == std::string::npos) break;
        start = end + (list.compare(end, 2, ", ") == 0 ? 2 : 5);
      }
      return r;
    }
    return nullptr;
  }

  std::vector<std::string> names_;
  int speaker_;
  std::map<std::string, std::vector<ReadingPtr>> memo_;
};

// "" when `readings` of `text` are not empty and all mean `formula` (same truth value for every
// assignment of roles to the n people).
std::string one_meaning(const std::vector<ReadingPtr>& readings, const kk::Formula& formula, int n,
                        const std::string& text, const std::string& stored) {
  if (readings.empty()) return "no reading of \"" + text + "\"";
  for (const auto& r : readings)
    for (uint32_t a = 0; a < (1u << n); ++a)
      if (holds(*r, a) != kk::evaluate(formula, a))
        return std::to_string(readings.size()) + " readings of \"" + text + "\", one of them not " + stored;
  return "";
}

// "" when every statement of the prompt has readings and all of them mean the stored formula.
std::string every_statement_has_one_meaning(const pb::Task& task) {
  const auto& inst = task.knights_knaves();
  const std::vector<std::string> names(inst.people().begin(), inst.people().end());
  const int n = static_cast<int>(names.size());
  size_t from = 0;
  for (const auto& st : inst.statements()) {
    const size_t open = task.prompt().find('"', task.prompt().find("\n" + st.speaker(), from));
    const size_t close = task.prompt().find("\"\n", open + 1);
    if (open == std::string::npos || close == std::string::npos) return "statement of " + st.speaker() + " not found";
    from = close;
    std::string text = task.prompt().substr(open + 1, close - open - 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    // The renderer capitalises the first letter: undo it unless a name or "I" starts the sentence.
    for (const char* word : {"It ", "If ", "Exactly "})
      if (text.rfind(word, 0) == 0) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    const int speaker = static_cast<int>(std::find(names.begin(), names.end(), st.speaker()) - names.begin());
    const auto formula = kk::parse_symbolic(st.formula(), names);
    if (!formula) return "stored formula does not parse";
    if (auto problem = one_meaning(StatementReader(names, speaker).read(text), *formula, n, text, st.formula());
        !problem.empty())
      return problem;
  }
  return "";
}

TEST_P(KnightsKnavesLevels, EveryStatementHasOneReading) {
  verity::testing::check_every_task("knights_knaves", GetParam(), {{"format", "natural"}}, 2000,
                                    [](const pb::Task& t, uint64_t) { return every_statement_has_one_meaning(t); });
}


// The symbolic format read back the same way, by a reader written from the prompt's legend (a name:
// that person is a knight; ~: not, binding to the name or parenthesised group after it; &, |, ->, <->;
// exactlyK(list): exactly K of the listed people are knights). Two binary operators side by side
// outside parentheses have no stated precedence: both groupings are readings, and they must agree.
class SymbolicReader {
 public:
  explicit SymbolicReader(std::vector<std::string> names) : names_(std::move(names)) {}

  std::vector<ReadingPtr> read(const std::string& s) const {
    std::vector<ReadingPtr> out;
    if (s.empty()) return out;
    if (s.front() == '(' && close_of(s, 0) == s.size() - 1) {
      const auto inner = read(s.substr(1, s.size() - 2));
      out.insert(out.end(), inner.begin(), inner.end());
    }
    if (const int who = person(s); who >= 0) out.push_back(atom('k', who));
    if (s.front() == '~') {
      const std::string rest = s.substr(1);
      const bool single = person(rest) >= 0 || (rest.front() == '(' && close_of(rest, 0) == rest.size() - 1) ||
                          rest.rfind("exactly", 0) == 0;
      if (single)
        for (const auto& r : read(rest)) out.push_back(r->op == 'k' ? atom('n', r->person) : node('!', r, nullptr));
    }
    if (auto e = read_exactly(s)) out.push_back(e);
    for (const auto& [word, op] : {std::pair<std::string, char>{" <-> ", '='}, {" -> ", '>'}, {" & ", '&'}, {" | ", '|'}})
      for (size_t at : top_level(s, word))
        for (const auto& l : read(s.substr(0, at)))
          for (const auto& r : read(s.substr(at + word.size()))) out.push_back(node(op, l, r));
    return out;
  }

 private:
  static ReadingPtr atom(char op, int who) {
    auto r = std::make_shared<Reading>();
    r->op = op;
    r->person = who;
    return r;
  }
  int person(const std::string& word) const {
    const auto it = std::find(names_.begin(), names_.end(), word);
    return it == names_.end() ? -1 : static_cast<int>(it - names_.begin());
  }
  // "exactly2(Ann, Bo, Cy)"
  ReadingPtr read_exactly(const std::string& s) const {
    if (s.rfind("exactly", 0) != 0 || s.size() < 10 || !std::isdigit(static_cast<unsigned char>(s[7])) || s[8] != '(' ||
        close_of(s, 8) != s.size() - 1)
      return nullptr;
    auto r = std::make_shared<Reading>();
    r->op = 'e';
    r->count = s[7] - '0';
    const std::string list = s.substr(9, s.size() - 10);
    for (size_t start = 0;;) {
      const size_t end = list.find(", ", start);
      const int who = person(list.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (who < 0) return nullptr;
      r->group |= 1u << who;
      if (end == std::string::npos) return r;
      start = end + 2;
    }
  }

  std::vector<std::string> names_;
};

// "" when every "Name says: formula" line of a symbolic prompt has readings, all meaning the stored one.
std::string every_formula_has_one_meaning(const pb::Task& task) {
  const auto& inst = task.knights_knaves();
  const std::vector<std::string> names(inst.people().begin(), inst.people().end());
  const int n = static_cast<int>(names.size());
  size_t from = 0;
  const SymbolicReader reader(names);
  for (const auto& st : inst.statements()) {
    const std::string head = "\n" + st.speaker() + " says: ";
    const size_t open = task.prompt().find(head, from);
    if (open == std::string::npos) return "statement of " + st.speaker() + " not found";
    const size_t close = task.prompt().find('\n', open + head.size());
    from = close;
    const std::string text = task.prompt().substr(open + head.size(), close - open - head.size());
    const auto formula = kk::parse_symbolic(st.formula(), names);
    if (!formula) return "stored formula does not parse";
    if (auto problem = one_meaning(reader.read(text), *formula, n, text, st.formula()); !problem.empty()) return problem;
  }
  return "";
}

// The reader sees what the test must catch: two binary operators without parentheses read two ways that
// disagree, "~" binds to what follows it, and a stray name has no reading.
TEST(KnightsKnaves, SymbolicReaderFindsEveryGrouping) {
  const SymbolicReader reader({"Ann", "Bo", "Cy"});
  const auto two = reader.read("Ann & Bo | Cy");
  ASSERT_EQ(two.size(), 2u);
  bool differ = false;
  for (uint32_t a = 0; a < 8; ++a) differ = differ || holds(*two[0], a) != holds(*two[1], a);
  EXPECT_TRUE(differ);
  const auto negated = reader.read("~Ann & Bo");
  ASSERT_EQ(negated.size(), 1u);
  EXPECT_TRUE(holds(*negated[0], 0b010));  // Ann a knave, Bo a knight
  EXPECT_EQ(reader.read("~(Ann & Bo)").size(), 1u);
  EXPECT_EQ(reader.read("exactly1(Ann, Cy)").size(), 1u);
  EXPECT_TRUE(reader.read("Ann & Dee").empty());
}

TEST_P(KnightsKnavesLevels, EveryFormulaHasOneReading) {
  verity::testing::check_every_task("knights_knaves", GetParam(), {{"format", "symbolic"}}, 2000,
                                    [](const pb::Task& t, uint64_t) { return every_formula_has_one_meaning(t); });
}

// "No unique solution" needs the case analysis: no surface feature (how many negations, disjunctions,
// how long the statements, how many people talk about themselves) tells those puzzles apart beyond the
// chance band (Kolmogorov-Smirnov, alpha 0.001) at levels 1, 2, 5, 10, in both formats. (With three
// people and unanswerable puzzles drawn freely, the negations did at 0.55 and the self-mentions at 0.57;
// with two, the negations at 0.65.)
std::vector<verity::testing::Shortcut> kk_shortcuts() {
  using verity::testing::Shortcut;
  auto count_in_formulas = [](const pb::Task& t, char c) {
    double n = 0;
    for (const auto& st : t.knights_knaves().statements()) n += std::count(st.formula().begin(), st.formula().end(), c);
    return n;
  };
  return {Shortcut{"negations", [=](const pb::Task& t) { return count_in_formulas(t, '~'); }},
          Shortcut{"disjunctions", [=](const pb::Task& t) { return count_in_formulas(t, '|'); }},
          Shortcut{"statement length", [](const pb::Task& t) {
            double n = 0;
            for (const auto& st : t.knights_knaves().statements()) n += st.formula().size();
            return n;
          }},
          Shortcut{"prompt length", [](const pb::Task& t) { return static_cast<double>(t.prompt().size()); }},
          Shortcut{"self-references", [](const pb::Task& t) {
            double n = 0;
            for (const auto& st : t.knights_knaves().statements()) n += st.formula().find(st.speaker()) != std::string::npos;
            return n;
          }}};
}

TEST(KnightsKnaves, ShortcutClassifiersAreAtChance) {
  for (const char* format : {"natural", "symbolic"})
    verity::testing::expect_shortcuts_at_chance("knights_knaves", {1, 2, 5, 10}, 2000,
                                                [](const pb::Task& t) { return t.label() == "unanswerable"; },
                                                kk_shortcuts(), verity::testing::kChanceBand, {{"format", format}});
}

}  // namespace

// Issue 14: "none" says an empty list; conflicting answers score 0.
TEST(KnightsKnavesAnswers, NoneIsAnEmptyListAndConflictsScoreZero) {
  verity::pb::Task task;
  task.set_family("knights_knaves");
  task.set_id("kk-none");
  auto* inst = task.mutable_knights_knaves();
  for (const char* p : {"Olga", "Isla"}) {
    inst->add_people(p);
    inst->add_roles("knave");
  }
  task.set_answer("Olga is a knave, Isla is a knave");
  for (const char* text : {"<answer>Knights: none. Knaves: Olga, Isla.</answer>",
                           "<answer>Knaves: Olga, Isla. Knights: none</answer>",
                           "<answer>Knights: nobody; Knaves: Isla, Olga</answer>"}) {
    const auto s = verity::score_completion(task, text);
    EXPECT_EQ(s.reward(), 1.0) << text << ": " << s.reason();
  }
  const auto conflict = verity::score_completion(
      task, "<answer>Olga is a knight, Isla is a knave</answer> or <answer>Olga is a knave, Isla is a knave</answer>");
  EXPECT_EQ(conflict.reward(), 0.0);
  EXPECT_EQ(conflict.reason().rfind("conflicting answers", 0), 0u) << conflict.reason();
  EXPECT_EQ(verity::score_completion(task, "<answer>Olga is not a knight, Isla is not a knight</answer>").reward(), 0.0);
}
