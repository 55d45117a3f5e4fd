// zebra: Einstein puzzles. n houses in a row, k attributes (colour, nationality, pet, ...), each a
// permutation of its values over the houses. Clues (same house, not the same house, next to,
// somewhere left of, directly left of, in house p, not in house p) are drawn true for a random
// solution until it is the only one, then pruned so that removing any clue makes it ambiguous.
// Uniqueness and non-redundancy are proved by the exact solver in zebra_solver.h (cross-checked
// against Z3 in the tests). The answer is the whole grid, one entry per house:
//   House 1: red, Brit, dog; House 2: green, Swede, cat; ...
// scored cell by cell (reward = fraction of cells right), or one value (question=single).
#include "generators/generators.h"

#include <algorithm>
#include <stdexcept>

#include "generators/canonical_form.h"
#include "solvers/zebra_solver.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

class ZebraGenerator final : public Generator {
 public:
  std::string name() const override { return "zebra"; }
  std::string summary() const override {
    return "Einstein puzzle: houses x attributes with a unique solution and no redundant clue; fill the grid or "
           "answer one question.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override {
    return "the grid, one entry per house: House 1: v1, v2, ...; House 2: ... (or one value, question=single)";
  }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::string question_key(const pb::Task& task) const override;
};

using zebra::Clue;
using zebra::ClueKind;

// An attribute's vocabulary and how English refers to the person holding a value ("{}" = the value).
// Value words are single words, unique across all categories, so a grid answer can be read word by word.
struct Category {
  const char* key;        // symbolic name
  const char* noun;       // "What is the <noun> of ...?"
  std::vector<std::string> values;
  const char* person;     // noun phrase: "the person who keeps the {}"
  const char* predicate;  // verb phrase: "keeps the {}"
};

const std::vector<Category>& categories() {
  static const std::vector<Category> kCategories = {
      {"color", "house colour", {"red", "green", "blue", "yellow", "white", "ivory", "purple", "grey"},
       "the person in the {} house", "lives in the {} house"},
      {"nationality", "nationality",
       {"Brit", "Swede", "Dane", "Norwegian", "German", "Spaniard", "Italian", "Japanese"}, "the {}", "is the {}"},
      {"pet", "pet", {"dog", "cat", "bird", "fish", "horse", "rabbit", "hamster", "turtle"},
       "the person who keeps the {}", "keeps the {}"},
      {"drink", "drink", {"tea", "coffee", "milk", "water", "juice", "beer", "cocoa", "lemonade"},
       "the person who drinks {}", "drinks {}"},
      {"hobby", "hobby", {"chess", "painting", "gardening", "cooking", "hiking", "reading", "dancing", "knitting"},
       "the person who enjoys {}", "enjoys {}"},
      {"job", "job", {"teacher", "doctor", "baker", "pilot", "farmer", "lawyer", "nurse", "chef"}, "the {}",
       "is the {}"},
      {"car", "car", {"Ford", "Toyota", "BMW", "Honda", "Tesla", "Volvo", "Fiat", "Audi"},
       "the person who drives the {}", "drives the {}"},
      {"sport", "sport", {"tennis", "soccer", "golf", "rugby", "hockey", "cricket", "baseball", "volleyball"},
       "the person who plays {}", "plays {}"},
      {"name", "name", {"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi"}, "{}", "is {}"},
      {"music", "favourite music", {"jazz", "rock", "pop", "blues", "folk", "opera", "reggae", "techno"},
       "the person who likes {}", "likes {}"},
  };
  return kCategories;
}

std::string fill(const char* pattern, const std::string& value) {
  std::string out = pattern;
  const size_t at = out.find("{}");
  return at == std::string::npos ? out : out.replace(at, 2, value);
}

std::string capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string ordinal(int house) {  // 1-based
  static const char* kOrdinals[] = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"};
  return kOrdinals[house - 1];
}

// The puzzle being built: which categories and values it uses, and the hidden solution.
struct Draft {
  int houses = 0;
  std::vector<int> category;                 // per attribute: index into categories()
  std::vector<std::vector<int>> value_word;  // per attribute, per value: index into the category's values
  zebra::Solution solution;                  // per global value: 0-based house
  zebra::Puzzle puzzle;
  long nodes = 0;

  int attributes() const { return static_cast<int>(category.size()); }
  const Category& cat(int attribute) const { return categories()[category[attribute]]; }
  const std::string& word(int value) const {
    return cat(value / houses).values[value_word[value / houses][value % houses]];
  }
  // The value of `attribute` in `house`.
  int value_in(int attribute, int house) const {
    for (int v = 0; v < houses; ++v)
      if (solution[attribute * houses + v] == house) return attribute * houses + v;
    return -1;
  }
};

Draft random_draft(Rng& rng, int houses, int attributes) {
  Draft d;
  d.houses = houses;
  std::vector<int> cats(categories().size());
  for (size_t i = 0; i < cats.size(); ++i) cats[i] = static_cast<int>(i);
  rng.shuffle(cats);
  d.category.assign(cats.begin(), cats.begin() + attributes);
  std::sort(d.category.begin(), d.category.end());  // a familiar column order: colour, nationality, pet ...
  for (int a = 0; a < attributes; ++a) {
    std::vector<int> words(8);
    for (int i = 0; i < 8; ++i) words[i] = i;
    rng.shuffle(words);
    words.resize(houses);
    std::sort(words.begin(), words.end());  // values listed in vocabulary order; the solution permutes them
    d.value_word.push_back(words);
    std::vector<int> perm(houses);
    for (int h = 0; h < houses; ++h) perm[h] = h;
    rng.shuffle(perm);
    d.solution.insert(d.solution.end(), perm.begin(), perm.end());
  }
  d.puzzle.houses = houses;
  d.puzzle.attributes = attributes;
  return d;
}

struct ClueMix {
  double position = 0, negative = 0;
};

// A random clue that holds in the draft's solution, its kind drawn from the mix: direct positions,
// negative clues (not the same house / not in house p), and the rest relational.
Clue random_true_clue(Rng& rng, const Draft& d, const ClueMix& mix) {
  const int n = d.houses, k = d.attributes();
  auto value = [&](int attribute, int house) { return static_cast<uint8_t>(d.value_in(attribute, house)); };
  Clue c;
  const double u = rng.unit();
  if (u < mix.position) {
    c.kind = ClueKind::Position;
    c.x = static_cast<uint8_t>(rng.index(n * k));
    c.house = static_cast<uint8_t>(d.solution[c.x]);
    return c;
  }
  if (u < mix.position + mix.negative) {
    const int x = static_cast<int>(rng.index(n * k));
    c.x = static_cast<uint8_t>(x);
    if (rng.chance(0.5)) {
      c.kind = ClueKind::NotPosition;
      c.house = static_cast<uint8_t>((d.solution[x] + 1 + rng.index(n - 1)) % n);
    } else {  // a value of another attribute in another house
      c.kind = ClueKind::NotSame;
      int b = static_cast<int>(rng.index(k - 1));
      if (b >= x / n) ++b;
      c.y = value(b, (d.solution[x] + 1 + static_cast<int>(rng.index(n - 1))) % n);
    }
    return c;
  }
  const int a = static_cast<int>(rng.index(k)), b = static_cast<int>(rng.index(k));
  const int h = static_cast<int>(rng.index(n - 1));  // a house with a right neighbour
  switch (rng.index(5)) {
    case 0:
    case 1: {  // same house: two different attributes
      c.kind = ClueKind::Same;
      const int other = (a + 1 + static_cast<int>(rng.index(k - 1))) % k;
      const int house = static_cast<int>(rng.index(n));
      c.x = value(a, house);
      c.y = value(other, house);
      return c;
    }
    case 2:
      c.kind = ClueKind::ImmediatelyLeft;
      c.x = value(a, h);
      c.y = value(b, h + 1);
      return c;
    case 3:
      c.kind = ClueKind::NextTo;
      if (rng.chance(0.5)) {
        c.x = value(a, h), c.y = value(b, h + 1);
      } else {
        c.x = value(a, h + 1), c.y = value(b, h);
      }
      return c;
    default: {  // somewhere left: any two houses, the left one first
      c.kind = ClueKind::LeftOf;
      const int right = h + 1 + static_cast<int>(rng.index(n - 1 - h));
      c.x = value(a, h);
      c.y = value(b, right);
      return c;
    }
  }
}

// Adds true clues until the solution is unique, then drops every clue the rest make redundant (one
// pass suffices: a clue kept because the puzzle was ambiguous without it stays needed when others go).
void build_clues(Rng& rng, Draft& d, const ClueMix& mix) {
  auto& clues = d.puzzle.clues;
  const int max_draws = 200 * d.puzzle.values();
  for (int draws = 0;; ++draws) {
    if (draws == max_draws) throw std::logic_error("zebra: no unique puzzle after " + std::to_string(draws) + " clues");
    const Clue c = random_true_clue(rng, d, mix);
    if (std::find(clues.begin(), clues.end(), c) != clues.end()) continue;
    clues.push_back(c);
    if (zebra::solve(d.puzzle, 2).solutions == 1) break;
  }
  rng.shuffle(clues);  // the order the clues are presented in
  for (int i = static_cast<int>(clues.size()) - 1; i >= 0; --i)
    if (zebra::solve(d.puzzle, 2, i).solutions == 1) clues.erase(clues.begin() + i);
  const zebra::SolveResult check = zebra::solve(d.puzzle, 2);
  if (check.solutions != 1 || check.first != d.solution)
    throw std::logic_error("zebra: pruned puzzle lost its unique solution");
  d.nodes = check.nodes;
}

// ---- rendering ----

struct Speaker {
  const Draft& d;
  bool natural;
  std::string person(int v) const { return fill(d.cat(v / d.houses).person, d.word(v)); }
  std::string Person(int v) const { return capitalized(person(v)); }
  std::string predicate(int v) const { return fill(d.cat(v / d.houses).predicate, d.word(v)); }
  std::string symbol(int v) const { return std::string(d.cat(v / d.houses).key) + "=" + d.word(v); }
  std::string house_of(int v) const { return "house(" + symbol(v) + ")"; }
};

std::string natural_clue(Rng& rng, const Speaker& s, const Clue& c) {
  const int x = c.x, y = c.y, p = c.house + 1;
  const std::string P = std::to_string(p);
  switch (c.kind) {
    case ClueKind::Same: {
      const std::vector<std::string> forms = {s.Person(x) + " " + s.predicate(y) + ".",
                                              s.Person(y) + " " + s.predicate(x) + ".",
                                              s.Person(x) + " and " + s.person(y) + " live in the same house."};
      return rng.pick(forms);
    }
    case ClueKind::NotSame: {
      const std::vector<std::string> forms = {s.Person(x) + " and " + s.person(y) + " are different people.",
                                              s.Person(x) + " is not " + s.person(y) + ".",
                                              "It is not the case that " + s.person(x) + " " + s.predicate(y) + "."};
      return rng.pick(forms);
    }
    case ClueKind::NextTo: {
      const std::vector<std::string> forms = {s.Person(x) + " lives next to " + s.person(y) + ".",
                                              s.Person(x) + " and " + s.person(y) + " live next to each other.",
                                              s.Person(y) + " lives next door to " + s.person(x) + "."};
      return rng.pick(forms);
    }
    case ClueKind::ImmediatelyLeft: {
      const std::vector<std::string> forms = {s.Person(x) + " lives directly to the left of " + s.person(y) + ".",
                                              s.Person(y) + " lives directly to the right of " + s.person(x) + ".",
                                              s.Person(y) + " lives in the house just right of " + s.person(x) + "."};
      return rng.pick(forms);
    }
    case ClueKind::LeftOf: {
      const std::vector<std::string> forms = {s.Person(x) + " lives somewhere to the left of " + s.person(y) + ".",
                                              s.Person(y) + " lives somewhere to the right of " + s.person(x) + ".",
                                              s.Person(x) + " lives further left than " + s.person(y) + "."};
      return rng.pick(forms);
    }
    case ClueKind::Position: {
      const std::vector<std::string> forms = {s.Person(x) + " lives in house " + P + ".",
                                              s.Person(x) + " lives in the " + ordinal(p) + " house.",
                                              "The " + ordinal(p) + " house belongs to " + s.person(x) + "."};
      return rng.pick(forms);
    }
    case ClueKind::NotPosition: {
      const std::vector<std::string> forms = {s.Person(x) + " does not live in house " + P + ".",
                                              s.Person(x) + " does not live in the " + ordinal(p) + " house.",
                                              "The " + ordinal(p) + " house does not belong to " + s.person(x) + "."};
      return rng.pick(forms);
    }
  }
  return "";
}

std::string symbolic_clue(const Speaker& s, const Clue& c) {
  const std::string hx = s.house_of(c.x), hy = s.house_of(c.y), p = std::to_string(c.house + 1);
  switch (c.kind) {
    case ClueKind::Same: return hx + " = " + hy;
    case ClueKind::NotSame: return hx + " != " + hy;
    case ClueKind::NextTo: return "|" + hx + " - " + hy + "| = 1";
    case ClueKind::ImmediatelyLeft: return hx + " + 1 = " + hy;
    case ClueKind::LeftOf: return hx + " < " + hy;
    case ClueKind::Position: return hx + " = " + p;
    case ClueKind::NotPosition: return hx + " != " + p;
  }
  return "";
}

std::string attribute_list(const Draft& d, bool natural) {
  std::string out;
  for (int a = 0; a < d.attributes(); ++a) {
    out += natural ? std::string("- ") + d.cat(a).noun + ": " : std::string(d.cat(a).key) + ": ";
    for (int v = 0; v < d.houses; ++v) out += (v ? ", " : "") + d.word(a * d.houses + v);
    out += "\n";
  }
  return out;
}

struct Question {
  bool single = false;
  int target = 0;      // attribute asked for
  int given = 0;       // global value identifying the house
  int answer = 0;      // global value answering it
};

std::string grid_example(const Draft& d) {
  std::string row;
  for (int a = 0; a < d.attributes(); ++a) row += std::string(a ? ", " : "") + "<" + d.cat(a).key + ">";
  return "House 1: " + row + "; House 2: " + row + "; ...";
}

std::string render_prompt(Rng& rng, const Draft& d, const Question& q, bool natural) {
  const Speaker s{d, natural};
  const std::string n = std::to_string(d.houses);
  std::string prompt;
  if (natural) {
    static const std::vector<std::string> kIntros = {
        "There are " + n + " houses in a row, numbered 1 to " + n + " from left to right.",
        n + " houses stand side by side in a street, numbered 1 (leftmost) to " + n + " (rightmost).",
        "Picture a row of " + n + " houses, house 1 on the far left and house " + n + " on the far right."};
    prompt = rng.pick(kIntros) + " One person lives in each house. Every house has a different value of each "
             "attribute below:\n" + attribute_list(d, true) + "Clues:\n";
  } else {
    prompt = "Houses 1.." + n + ", left to right. Each attribute assigns its values to the houses one-to-one:\n" +
             attribute_list(d, false) + "house(a=v) is the house with value v of attribute a. Constraints:\n";
  }
  for (size_t i = 0; i < d.puzzle.clues.size(); ++i) {
    const Clue& c = d.puzzle.clues[i];
    prompt += std::to_string(i + 1) + ". " + (natural ? natural_clue(rng, s, c) : symbolic_clue(s, c)) + "\n";
  }
  if (!q.single) {
    prompt += natural ? "The clues have exactly one solution. Work out who lives where.\n"
                      : "The constraints have exactly one solution. Find it.\n";
    std::string order;
    for (int a = 0; a < d.attributes(); ++a) order += std::string(a ? ", " : "") + d.cat(a).key;
    return prompt + answer_instruction("the full grid: for each house, \"House <number>: \" and its values in the "
                                       "order " + order + ", houses separated by semicolons", grid_example(d));
  }
  const Category& target = d.cat(q.target);
  std::string ask = "What is the " + std::string(target.noun) + " of " + s.person(q.given) + "?";
  if (natural && (std::string(target.key) == "nationality" || std::string(target.key) == "name") && rng.chance(0.5))
    ask = "Who " + s.predicate(q.given) + "?";
  if (!natural) ask = "Query: the " + std::string(target.key) + " at " + s.house_of(q.given) + ".";
  std::string options;
  for (int v = 0; v < d.houses; ++v) options += std::string(v ? ", " : "") + d.word(q.target * d.houses + v);
  return prompt + ask + "\n" + answer_instruction("one " + std::string(target.key) + " (one of: " + options + ")",
                                                  d.word(q.target * d.houses));
}

// Gold trace: the solver's deductions in order (each placement citing the clues that narrowed it),
// then the grid. Clues are premises p1, p2, ... in prompt order.
void write_trace(const Draft& d, const Question& q, bool natural, pb::Task& task) {
  const Speaker s{d, natural};
  std::vector<zebra::Deduction> steps;
  const bool complete = zebra::deduce(d.puzzle, steps);
  for (const auto& step : steps) {
    auto* t = task.add_trace();
    const std::string h = std::to_string(step.house + 1);
    if (step.placed) {
      t->set_text(natural ? s.Person(step.value) + " lives in house " + h + "." : s.house_of(step.value) + " = " + h);
    } else {
      t->set_text(natural ? "If " + s.person(step.value) + " lived in house " + h +
                                ", the clues would contradict each other; so not house " + h + "."
                          : s.house_of(step.value) + " != " + h + " (assuming it leads to a contradiction)");
    }
    for (int c : step.clues) t->add_cites(concat("p", std::to_string(c + 1)));
    t->set_rule(step.rule);
  }
  if (!complete) {
    auto* t = task.add_trace();
    t->set_text("Trying the remaining possibilities one by one leaves exactly one arrangement.");
    t->set_rule("search");
  }
  auto* t = task.add_trace();
  t->set_text("Solution: " + zebra_grid_answer(task.zebra()));
  t->set_rule("solution");
  if (q.single) {
    auto* a = task.add_trace();
    a->set_text(natural ? "So the " + std::string(d.cat(q.target).noun) + " of " + s.person(q.given) + " is " +
                              d.word(q.answer) + "."
                        : std::string(d.cat(q.target).key) + " at " + s.house_of(q.given) + " = " + d.word(q.answer));
    a->set_rule("answer");
  }
}

void fill_instance(const Draft& d, const Question& q, pb::ZebraInstance& inst) {
  inst.set_houses(d.houses);
  for (int a = 0; a < d.attributes(); ++a) {
    auto* attr = inst.add_attributes();
    attr->set_name(d.cat(a).key);
    for (int v = 0; v < d.houses; ++v) {
      attr->add_values(d.word(a * d.houses + v));
      attr->add_solution(d.solution[a * d.houses + v] + 1);
    }
  }
  for (const Clue& c : d.puzzle.clues) {
    auto* clue = inst.add_clues();
    clue->set_kind(zebra::kind_name(c.kind));
    clue->set_attribute_a(c.x / d.houses);
    clue->set_value_a(c.x % d.houses);
    const bool two = c.kind != ClueKind::Position && c.kind != ClueKind::NotPosition;
    if (two) {
      clue->set_attribute_b(c.y / d.houses);
      clue->set_value_b(c.y % d.houses);
    } else {
      clue->set_house(c.house + 1);
    }
  }
  inst.set_question(q.single ? "single" : "grid");
  if (q.single) {
    inst.set_question_attribute(q.target);
    inst.set_given_attribute(q.given / d.houses);
    inst.set_given_value(q.given % d.houses);
  }
  inst.set_search_nodes(static_cast<int32_t>(d.nodes));
}

Question pick_question(Rng& rng, const Draft& d, bool single) {
  Question q;
  q.single = single;
  if (!single) return q;
  const int k = d.attributes();
  q.target = static_cast<int>(rng.index(k));
  int given_attribute = static_cast<int>(rng.index(k - 1));
  if (given_attribute >= q.target) ++given_attribute;
  q.given = given_attribute * d.houses + static_cast<int>(rng.index(d.houses));
  q.answer = d.value_in(q.target, d.solution[q.given]);
  return q;
}

}  // namespace

std::vector<KnobSpec> ZebraGenerator::knob_specs() const {
  return {KnobSpec::integer("houses", "houses in the row (values per attribute)", 2, zebra::kMaxHouses, 4),
          KnobSpec::integer("attributes", "attributes per house (colour, nationality, pet, ...)", 2,
                            zebra::kMaxAttributes, 4),
          KnobSpec::real("position_share", "share of direct 'X lives in house p' clues among those drawn", 0, 1, 0.25),
          KnobSpec::real("negative_share", "share of negative clues (not the same house / not in house p) drawn", 0,
                         1, 0.2),
          KnobSpec::choice("question", "ask for the whole grid or one value", {"grid", "single"}, "grid"),
          KnobSpec::choice("format", "English clues or symbolic constraints", {"natural", "symbolic"}, "natural")};
}

KnobMap ZebraGenerator::level_knobs(int level) const {
  struct Row { int houses, attributes; const char* position; const char* negative; };
  static const Row kLadder[] = {{3, 3, "0.35", "0.1"},  {3, 4, "0.3", "0.15"},  {4, 3, "0.3", "0.15"},
                                {4, 4, "0.25", "0.2"},  {5, 4, "0.2", "0.2"},   {5, 5, "0.15", "0.25"},
                                {6, 5, "0.1", "0.25"},  {6, 6, "0.08", "0.25"}, {7, 6, "0.05", "0.3"},
                                {8, 7, "0.03", "0.3"}};
  const Row& r = kLadder[level - 1];
  return {{"houses", std::to_string(r.houses)},
          {"attributes", std::to_string(r.attributes)},
          {"position_share", r.position},
          {"negative_share", r.negative}};
}

void ZebraGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  const ClueMix mix{knobs.get_real("position_share"), knobs.get_real("negative_share")};
  if (mix.position + mix.negative > 1.0)
    throw KnobError("knobs position_share=" + knobs.get("position_share") + " and negative_share=" +
                    knobs.get("negative_share") + " add up to more than 1: lower one of them");
  const bool natural = knobs.get("format") == "natural";
  const bool single = knobs.get("question") == "single";
  Draft d = random_draft(rng, static_cast<int>(knobs.get_int("houses")), static_cast<int>(knobs.get_int("attributes")));
  build_clues(rng, d, mix);
  const Question q = pick_question(rng, d, single);

  fill_instance(d, q, *task.mutable_zebra());
  task.set_prompt(render_prompt(rng, d, q, natural));
  task.set_answer(single ? d.word(q.answer) : zebra_grid_answer(task.zebra()));
  task.set_label(single ? task.answer() : "");
  (*task.mutable_meta())["clues"] = std::to_string(d.puzzle.clues.size());
  (*task.mutable_meta())["search_nodes"] = std::to_string(d.nodes);
  write_trace(d, q, natural, task);
}

// The clues as a set and the question, up to renaming the attributes and their values (house numbers
// stay: house 1 is the leftmost). A value is written as its attribute and itself; a clue of a symmetric
// kind (same, not_same, next_to) is written both ways round, so the order of its two values does not
// count. Values no clue names do not appear: the house count implies them.
std::string ZebraGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.zebra();
  thread_local canonical::Question q;
  q.clear();
  auto value = [&](int attribute, int v) {
    q.symbol(attribute, 't');
    q.symbol(attribute * inst.houses() + v, 'v');
  };
  q.statement();
  q.text(std::to_string(inst.houses()) + " houses " + std::to_string(inst.attributes_size()) + " attributes " +
         inst.question());
  if (inst.question() == "single") {
    q.statement();
    q.text("?");
    q.symbol(inst.question_attribute(), 't');
    value(inst.given_attribute(), inst.given_value());
  }
  for (const auto& clue : inst.clues()) {
    const bool two = clue.kind() != "position" && clue.kind() != "not_position";
    const bool symmetric = clue.kind() == "same" || clue.kind() == "not_same" || clue.kind() == "next_to";
    for (int turn = 0; turn < (symmetric ? 2 : 1); ++turn) {
      q.statement();
      q.text(clue.kind() + " " + std::to_string(clue.house()));
      if (turn == 0) value(clue.attribute_a(), clue.value_a());
      if (two) value(clue.attribute_b(), clue.value_b());
      if (turn == 1) value(clue.attribute_a(), clue.value_a());
    }
  }
  return task.family() + "|" + q.key();
}

namespace generators {
const Generator& zebra() {
  static const ZebraGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
