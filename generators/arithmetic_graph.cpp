// arithmetic_graph: GSM-Infinite-style arithmetic over a dependency DAG of named quantities. Each
// quantity is given a small value or defined by one atomic operation (+, -, x, sum of three) on
// earlier ones, optionally modulo a number; distractor quantities are mixed in. Forward mode asks the
// last quantity; reverse mode states a later quantity's value and asks an earlier (hidden) one. The
// `unanswerable` knob withholds a needed value or definition: the gold answer is then "cannot be
// determined". Whenever the knob is above 0, every task (answerable or not) also holds a decoy: a
// distractor whose value or definition is withheld in answerable tasks, so both labels have the same
// number of facts, numbers and unstated names, and only following the dependencies tells them apart.
// Difficulty = operations needed. Gold solution, one step per line:
//   Define <quantity> as C; so C = A + B = 3 + 1 = 4.
// which verifiers/arithmetic_trace.h checks step by step (process reward).
#include "generators/generators.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <numeric>

#include "generators/canonical_form.h"
#include "tasks/answer_extraction.h"
#include "tasks/concat.h"

namespace verity {
namespace {

class ArithmeticGraphGenerator final : public Generator {
 public:
  std::string name() const override { return "arithmetic_graph"; }
  std::string summary() const override {
    return "Named quantities defined by +, -, x, sum (optionally mod m) with distractors; compute one, forward "
           "or reverse, or say it cannot be determined.";
  }
  std::vector<KnobSpec> knob_specs() const override;
  KnobMap level_knobs(int level) const override;
  std::string answer_format() const override { return "an integer, or \"cannot be determined\""; }
  void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const override;
  std::map<std::string, double> label_shares(const Knobs& knobs) const override;
  std::string question_key(const pb::Task& task) const override;
};

// Without a modulus, every value stays in [0, kValueCap] so answers remain small integers.
constexpr long kValueCap = 99;

enum class Op { Given, Add, Sub, Mul, Sum };
const char* op_name(Op op) {
  switch (op) {
    case Op::Given: return "";
    case Op::Add: return "add";
    case Op::Sub: return "sub";
    case Op::Mul: return "mul";
    case Op::Sum: return "sum";
  }
  return "";
}

struct Quantity {
  std::string name;
  Op op = Op::Given;
  std::vector<int> operands;
  long value = 0;
  bool distractor = false;
  bool on_path = false;  // on the single path from the hidden leaf to the target (reverse / unanswerable)
};

struct Graph {
  std::vector<Quantity> q;  // operands always come before the quantities defined from them
  long modulus = 0;
  int target = -1;          // the last main quantity: every other main quantity feeds it
  std::vector<int> path;    // hidden leaf, then each quantity it feeds, up to the target (empty if none)
};

long reduce(long v, long modulus) { return modulus ? ((v % modulus) + modulus) % modulus : v; }

long apply(Op op, const std::vector<long>& a, long modulus) {
  long v = 0;
  if (op == Op::Add || op == Op::Sum) v = std::accumulate(a.begin(), a.end(), 0L);
  if (op == Op::Sub) v = a[0] - a[1];
  if (op == Op::Mul) v = a[0] * a[1];
  return reduce(v, modulus);
}

// ---- names ----

struct Theme {
  const char* pattern;  // "the number of {thing} in {place}"
  std::vector<std::string> things, places;
};

const std::vector<Theme>& themes() {
  static const std::vector<Theme> kThemes = {
      {"in",
       {"adult owls", "adult foxes", "adult wolves", "adult bears", "baby deer", "adult rabbits", "adult eagles",
        "adult beavers", "adult otters", "adult hedgehogs", "adult badgers", "adult squirrels", "adult herons",
        "adult lynxes", "adult moose", "adult ravens", "adult swans", "adult frogs", "adult turtles", "adult bison"},
       {"Pine Forest", "Cedar Valley", "Maple Creek", "Oak Ridge", "Birch Hollow", "Willow Marsh", "Elm Grove",
        "Fern Gully", "Stone Canyon", "Moss Glade", "Clover Field", "Reed Lake", "Thorn Woods", "Ash Hill",
        "Cypress Swamp", "Juniper Bluff", "Hazel Dell", "Spruce Peak", "Poplar Bend", "Bramble Heath"}},
      {"at",
       {"apples", "pears", "lemons", "melons", "pencils", "notebooks", "candles", "teapots", "scarves", "lamps",
        "kites", "puzzles", "marbles", "jars of honey", "loaves of bread", "bags of rice", "boxes of tea",
        "bottles of ink", "rolls of tape", "balls of yarn"},
       {"Lakeside Market", "Hilltop Store", "Corner Shop", "Riverside Bazaar", "Old Mill Store", "Harbor Market",
        "Station Kiosk", "Bridge Street Shop", "Garden Center", "Village Store", "Town Square Stall",
        "Northgate Market", "Southside Depot", "Westend Outlet", "Eastview Mart", "Parkside Shop", "Lighthouse Store",
        "Meadow Market", "Canal Street Shop", "Summit Store"}},
  };
  return kThemes;
}

// Draws distinct quantity names on demand: "the number of adult owls in Pine Forest" (natural) or
// "q17" (symbolic). 400 names per theme, more than the largest graph the knobs allow can use.
class NamePool {
 public:
  NamePool(Rng& rng, bool natural) : natural_(natural), theme_(&rng.pick(themes())) {
    const size_t n = natural ? theme_->things.size() * theme_->places.size() : 400;
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
    rng.shuffle(order_);
  }
  std::string next() {
    if (used_ >= order_.size()) throw std::runtime_error("arithmetic_graph: ran out of quantity names");
    const size_t k = order_[used_++];
    if (!natural_) return "q" + std::to_string(k + 1);
    const size_t places = theme_->places.size();
    return "the number of " + theme_->things[k / places] + " " + theme_->pattern + " " + theme_->places[k % places];
  }

 private:
  bool natural_;
  const Theme* theme_;
  std::vector<size_t> order_;
  size_t used_ = 0;
};

// ---- building the graph ----

class Builder {
 public:
  Builder(Rng& rng, NamePool& names, long modulus) : rng_(rng), names_(names) { g_.modulus = modulus; }

  // `ops` main operations; with `hidden_path`, one leaf (attached at a random step) reaches the target
  // by exactly one path of invertible operations, so its value follows from the target's and
  // withholding any quantity on that path leaves the question open.
  void build_main(int ops, bool hidden_path) {
    // Never at the last operation, which may already consume two waiting quantities.
    const int attach_at = hidden_path ? static_cast<int>(rng_.uniform(0, ops - 2)) : -1;
    for (int i = 0; i < ops; ++i) add_main_operation(i == ops - 1, i == attach_at);
    g_.target = static_cast<int>(g_.q.size()) - 1;
  }

  // Distractors: given values, or operations on any quantities so far; nothing the question needs
  // depends on them (their values are never stated, so they add no constraint either).
  void add_distractors(int count) {
    for (int i = 0; i < count; ++i) {
      if (rng_.chance(0.5) || g_.q.size() < 2) {
        g_.q[new_leaf()].distractor = true;
        continue;
      }
      std::vector<int> operands = {static_cast<int>(rng_.index(g_.q.size()))};
      int other = operands[0];
      while (other == operands[0]) other = static_cast<int>(rng_.index(g_.q.size()));
      operands.push_back(other);
      const int d = define(operands, false);
      g_.q[d].distractor = true;
    }
  }

  // The decoy of a task that may abstain: a distractor E defined from an earlier quantity and a new
  // distractor F shaped like the path quantity W an unanswerable task withholds: a leaf if W is one,
  // else defined from as many operands as W, with its value stated too when W's is (the target in
  // reverse mode). Answerable tasks withhold F's value (leaf) or definition, unanswerable ones W's, so
  // both labels show the same counts (facts, numbers, names never given) and F's name still occurs in
  // E's definition, as W's does in its child's. Neither names `asked` or the target, so the asked
  // quantity is named as often either way. A stated value and definition of F would be a new equation:
  // its operands are then off the path (computable from stated leaves: every quantity that depends on
  // the hidden leaf is on the path), so it only repeats what they determine. Returns F.
  int add_decoy(const Quantity& w, bool value_shown, int asked) {
    std::vector<int> allowed;
    for (int i = 0; i < static_cast<int>(g_.q.size()); ++i)
      if (i != asked && i != g_.target && !(value_shown && g_.q[i].on_path)) allowed.push_back(i);
    int f = -1;
    if (w.op == Op::Given) {
      f = new_leaf();
    } else {
      // W's arity; distinct operands while there are enough (else one repeats); a three-way sum
      // redrawn (a few times) until it stays under the value cap.
      const size_t arity = w.operands.size();
      std::vector<int> operands;
      for (int attempt = 0; attempt < 20; ++attempt) {
        operands = allowed;
        rng_.shuffle(operands);
        while (operands.size() < arity) operands.push_back(rng_.pick(allowed));
        operands.resize(arity);
        long sum = 0;
        for (int o : operands) sum += g_.q[o].value;
        if (arity < 3 || g_.modulus || sum <= kValueCap) break;
      }
      f = define(operands, false);
    }
    g_.q[f].distractor = true;
    allowed.clear();
    for (int i = 0; i < f; ++i)
      if (i != asked && i != g_.target) allowed.push_back(i);
    const int e = define({rng_.pick(allowed), f}, false);
    g_.q[e].distractor = true;
    return f;
  }

  const Graph& graph() const { return g_; }
  Graph take() { return std::move(g_); }

 private:
  int new_leaf() {
    Quantity leaf;
    leaf.name = names_.next();
    leaf.value = g_.modulus ? rng_.uniform(0, g_.modulus - 1) : rng_.uniform(1, 12);
    g_.q.push_back(std::move(leaf));
    return static_cast<int>(g_.q.size()) - 1;
  }

  // Every main quantity must feed the target, so an operation usually consumes a quantity nobody uses
  // yet (always when two are waiting; the last operation takes all of them), then fills up with new
  // leaves or reused quantities (never a path quantity: that would open a second path). At most two
  // such waiting quantities are consumed at once, so only filler operands can overflow the value cap.
  void add_main_operation(bool last, bool attach_hidden_leaf) {
    std::vector<int> operands;
    auto take_unused = [&] {
      const size_t k = rng_.index(unused_.size());
      operands.push_back(unused_[k]);
      unused_.erase(unused_.begin() + static_cast<long>(k));
    };
    if (!unused_.empty() && (last || unused_.size() >= 2 || rng_.chance(0.7))) take_unused();
    if (!unused_.empty() && !attach_hidden_leaf && (last || rng_.chance(0.3))) take_unused();
    if (attach_hidden_leaf) {
      const int leaf = new_leaf();
      g_.q[leaf].on_path = true;
      g_.path.push_back(leaf);
      operands.push_back(leaf);
    }
    const size_t required = operands.size();
    const size_t arity = std::max<size_t>(required, rng_.chance(0.25) ? 3 : 2);
    while (operands.size() < arity) operands.push_back(fresh_or_reused(operands));
    const int d = define(operands, operands.size() > required);
    for (int o : operands)
      if (g_.q[o].on_path) {
        g_.q[d].on_path = true;
        g_.path.push_back(d);
      }
    unused_.push_back(d);
    if (last) unused_.clear();
  }

  int fresh_or_reused(const std::vector<int>& taken) {
    std::vector<int> candidates;
    for (int i = 0; i < static_cast<int>(g_.q.size()); ++i)
      if (!g_.q[i].on_path && !g_.q[i].distractor && std::find(taken.begin(), taken.end(), i) == taken.end())
        candidates.push_back(i);
    if (candidates.empty() || rng_.chance(0.5)) return new_leaf();
    return rng_.pick(candidates);
  }

  // Picks an operation the operands allow (values stay in range without a modulus; an operation on the
  // hidden path must be invertible) and appends the defined quantity. A three-way sum over the cap
  // drops its last operand when that one is only a filler (`last_is_filler`); a dropped new leaf is
  // then used by nothing and counts as a distractor.
  int define(std::vector<int> operands, bool last_is_filler) {
    std::vector<long> v;
    bool path_operand = false;
    for (int o : operands) {
      v.push_back(g_.q[o].value);
      path_operand = path_operand || g_.q[o].on_path;
    }
    const long m = g_.modulus;
    Op op = Op::Sub;
    if (operands.size() >= 3) {
      if (m == 0 && std::accumulate(v.begin(), v.end(), 0L) > kValueCap && operands.size() == 3 && last_is_filler) {
        operands.pop_back();
        v.pop_back();
        path_operand = g_.q[operands[0]].on_path || g_.q[operands[1]].on_path;
      } else {
        op = Op::Sum;
      }
    }
    if (operands.size() == 2) {
      std::vector<Op> fits;
      if (m || v[0] + v[1] <= kValueCap) fits.push_back(Op::Add);
      fits.push_back(Op::Sub);
      const bool mul_ok = m ? !path_operand : (v[0] >= 2 && v[1] >= 2 && v[0] * v[1] <= kValueCap);
      if (mul_ok) fits.push_back(Op::Mul);
      op = rng_.pick(fits);
      if (op == Op::Sub && m == 0 && v[0] < v[1]) {  // no negative values without a modulus
        std::swap(operands[0], operands[1]);
        std::swap(v[0], v[1]);
      }
    }
    Quantity d;
    d.name = names_.next();
    d.op = op;
    d.operands = operands;
    d.value = apply(op, v, m);
    g_.q.push_back(std::move(d));
    return static_cast<int>(g_.q.size()) - 1;
  }

  Rng& rng_;
  NamePool& names_;
  Graph g_;
  std::vector<int> unused_;  // main quantities no operation uses yet
};

// ---- the question ----

struct Question {
  bool reverse = false;
  int asked = -1;     // the quantity asked for
  int given = -1;     // reverse: the later quantity whose value is stated
  int removed = -1;   // unanswerable: the quantity whose value (leaf) or definition is withheld
  int decoy = -1;     // when the task may abstain: the decoy distractor (Builder::add_decoy)
  bool decoy_withheld = false;     // answerable: the decoy's value (leaf) or definition is withheld
  bool decoy_value_shown = false;  // a defined decoy whose value is stated too
  bool value_stated(const Graph& g, int i) const {
    if (i == decoy) return g.q[i].op == Op::Given ? !decoy_withheld : decoy_value_shown;
    if (g.q[i].op != Op::Given) return reverse && i == given;
    return !(reverse && i == g.path.front()) && i != removed;
  }
  bool definition_stated(const Graph& g, int i) const {
    return g.q[i].op != Op::Given && i != removed && !(i == decoy && decoy_withheld);
  }
};

// ---- gold solution ----

// Variable names for the solution: A..Z without X (x means times), then AA, AB, ...
std::string variable_name(int i) {
  static const std::string kLetters = "ABCDEFGHIJKLMNOPQRSTUVWYZ";
  const int n = static_cast<int>(kLetters.size());
  if (i < n) return std::string(1, kLetters[i]);
  return std::string(1, kLetters[(i / n - 1) % n]) + kLetters[i % n];
}

struct Term {
  int quantity;
  char sign;  // '+', '-', 'x', '/' (the operator before it; ignored for the first term)
};

// Which fact (0-based, prompt order) states each quantity's value and each quantity's definition.
struct FactIndex {
  std::vector<int> value_fact, definition_fact;
};

class Solution {
 public:
  Solution(const Graph& g, pb::Task& task, const FactIndex& facts)
      : g_(g), task_(task), facts_(facts), var_(g.q.size()), step_of_(g.q.size(), -1) {}

  void define_given(int i) {
    const std::string v = introduce(i);
    add_step("Define " + g_.q[i].name + " as " + v + "; so " + v + " = " + std::to_string(g_.q[i].value) + ".",
             "given", facts_.value_fact[i], i, {});
  }

  void define_from_operation(int i) {
    const Quantity& d = g_.q[i];
    std::vector<Term> terms;
    const char sign = d.op == Op::Sub ? '-' : d.op == Op::Mul ? 'x' : '+';
    for (int o : d.operands) terms.push_back({o, sign});
    emit(i, terms, op_name(d.op), i);
  }

  // `child` is defined from `i` (among others): solve that definition for `i`.
  void solve_backwards(int i, int child) {
    const Quantity& c = g_.q[child];
    std::vector<int> others;
    for (int o : c.operands)
      if (o != i) others.push_back(o);
    std::vector<Term> terms;
    if (c.op == Op::Add || c.op == Op::Sum) {  // i = child - others
      terms.push_back({child, '+'});
      for (int o : others) terms.push_back({o, '-'});
    } else if (c.op == Op::Sub && c.operands[0] == i) {  // child = i - b: i = child + b
      terms = {{child, '+'}, {others[0], '+'}};
    } else if (c.op == Op::Sub) {  // child = a - i: i = a - child
      terms = {{others[0], '+'}, {child, '-'}};
    } else {  // child = i x b: i = child / b (exact: b >= 2, no modulus on the hidden path)
      terms = {{child, '+'}, {others[0], '/'}};
    }
    emit(i, terms, "invert", child);
  }

  void conclude(const std::string& text) {
    auto* step = task_.add_trace();
    step->set_text(text);
    step->set_rule("cannot_be_determined");
  }

 private:
  std::string introduce(int i) {
    var_[i] = variable_name(next_var_++);
    return var_[i];
  }

  // One operation step: "Define <q> as C; so C = A + B = 3 + 1 = 4." (with "(...) mod m" under a modulus).
  void emit(int i, const std::vector<Term>& terms, const std::string& rule, int defined_by) {
    std::string names, numbers;
    std::vector<int> used;
    for (size_t k = 0; k < terms.size(); ++k) {
      const std::string op = k == 0 ? "" : std::string(" ") + terms[k].sign + " ";
      names += op + var_[terms[k].quantity];
      numbers += op + std::to_string(g_.q[terms[k].quantity].value);
      used.push_back(terms[k].quantity);
    }
    if (g_.modulus) {
      const std::string mod = " mod " + std::to_string(g_.modulus);
      names = "(" + names + ")" + mod;
      numbers = "(" + numbers + ")" + mod;
    }
    const std::string v = introduce(i);
    add_step("Define " + g_.q[i].name + " as " + v + "; so " + v + " = " + names + " = " + numbers + " = " +
                 std::to_string(g_.q[i].value) + ".",
             rule, facts_.definition_fact[defined_by], i, used);
  }

  // Cites the fact used ("p3") and the steps that defined the operands ("s2").
  void add_step(const std::string& text, const std::string& rule, int fact, int defined,
                const std::vector<int>& operands) {
    auto* step = task_.add_trace();
    step->set_text(text);
    step->set_rule(rule);
    step->add_cites("p" + std::to_string(fact + 1));
    for (int o : operands) step->add_cites(concat("s", std::to_string(step_of_[o] + 1)));
    step_of_[defined] = task_.trace_size() - 1;
  }

  const Graph& g_;
  pb::Task& task_;
  const FactIndex& facts_;
  std::vector<std::string> var_;
  std::vector<int> step_of_;
  int next_var_ = 0;
};

// Main quantities (ancestors of the target, the target included), in definition order.
std::vector<bool> main_quantities(const Graph& g) {
  std::vector<bool> main(g.q.size(), false);
  main[g.target] = true;
  for (int i = g.target; i >= 0; --i)
    if (main[i])
      for (int o : g.q[i].operands) main[o] = true;
  return main;
}

// Writes the gold steps; returns the answer (a number or kCannotBeDetermined).
std::string solve(const Graph& g, const Question& question, pb::Task& task, const FactIndex& facts) {
  Solution s(g, task, facts);
  const std::vector<bool> main = main_quantities(g);
  std::vector<bool> blocked(g.q.size(), false);  // depends on a withheld or hidden quantity
  const int start = question.reverse ? g.path.front() : question.removed;
  if (start >= 0) {
    blocked[start] = true;
    for (size_t i = start + 1; i < g.q.size(); ++i)
      for (int o : g.q[i].operands) blocked[i] = blocked[i] || blocked[o];
  }
  const int forward_limit = question.reverse ? g.target : g.target + 1;  // reverse: the target is given
  for (int i = 0; i < forward_limit; ++i) {
    if (!main[i] || blocked[i]) continue;
    g.q[i].op == Op::Given ? s.define_given(i) : s.define_from_operation(i);
  }
  if (!question.reverse) {
    if (question.removed < 0) return std::to_string(g.q[g.target].value);
    const Quantity& r = g.q[question.removed];
    s.conclude(std::string("The ") + (r.op == Op::Given ? "value" : "definition") + " of " + r.name +
               " is never given, and " + g.q[g.target].name + " depends on it, so " + g.q[g.target].name +
               " cannot be determined.");
    return kCannotBeDetermined;
  }
  s.define_given(g.target);
  for (size_t k = g.path.size() - 1; k > 0; --k) {  // walk the path back from the target
    const int child = g.path[k], parent = g.path[k - 1];
    if (child == question.removed) {
      const std::string open = parent == question.asked ? g.q[parent].name
                                                        : g.q[parent].name + ", and with it " + g.q[question.asked].name;
      s.conclude("The definition of " + g.q[child].name + " is never given, so " + open + ", cannot be determined.");
      return kCannotBeDetermined;
    }
    s.solve_backwards(parent, child);
  }
  return std::to_string(g.q[question.asked].value);
}

// ---- rendering ----

std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string definition_sentence(Rng& rng, const Graph& g, const Quantity& d, bool natural) {
  std::vector<std::string> o;
  for (int i : d.operands) o.push_back(g.q[i].name);
  if (!natural) {
    const std::string sign = d.op == Op::Sub ? " - " : d.op == Op::Mul ? " x " : " + ";
    std::string rhs;
    for (size_t k = 0; k < o.size(); ++k) rhs += (k ? sign : "") + o[k];
    return d.name + " = " + rhs;
  }
  const std::string q = capitalised(d.name);
  switch (d.op) {
    case Op::Add:
      return rng.chance(0.5) ? q + " equals " + o[0] + " plus " + o[1] + "." : q + " is the sum of " + o[0] + " and " + o[1] + ".";
    case Op::Sub:
      return rng.chance(0.5) ? q + " equals " + o[0] + " minus " + o[1] + "."
                             : q + " is the difference between " + o[0] + " and " + o[1] + " (the first minus the second).";
    case Op::Mul:
      return rng.chance(0.5) ? q + " equals " + o[0] + " times " + o[1] + "." : q + " is the product of " + o[0] + " and " + o[1] + ".";
    default: {
      std::string list;
      for (size_t k = 0; k < o.size(); ++k) list += (k == 0 ? "" : k + 1 == o.size() ? " and " : ", ") + o[k];
      return q + (rng.chance(0.5) ? " equals the sum of " : " is the total of ") + list + ".";
    }
  }
}

std::string value_sentence(const Quantity& q, bool natural) {
  return natural ? capitalised(q.name) + " is " + std::to_string(q.value) + "." : q.name + " = " + std::to_string(q.value);
}

struct Statement {
  int quantity;
  bool value;  // a value statement (else a definition)
};

std::vector<Statement> statements(const Graph& g, const Question& question) {
  std::vector<Statement> out;
  for (int i = 0; i < static_cast<int>(g.q.size()); ++i) {
    if (question.definition_stated(g, i)) out.push_back({i, false});
    if (question.value_stated(g, i)) out.push_back({i, true});
  }
  return out;
}

std::string render_prompt(Rng& rng, const Graph& g, const Question& question, const std::vector<Statement>& facts,
                          bool natural, bool may_abstain) {
  std::string prompt = natural ? "Consider the following facts.\n" : "Equations:\n";
  if (g.modulus)
    prompt += "All arithmetic is modulo " + std::to_string(g.modulus) + ": every quantity is a whole number from 0 to " +
              std::to_string(g.modulus - 1) + ", and every result is reduced modulo " + std::to_string(g.modulus) + ".\n";
  for (const auto& f : facts)
    prompt += (f.value ? value_sentence(g.q[f.quantity], natural)
                       : definition_sentence(rng, g, g.q[f.quantity], natural)) + "\n";
  prompt += "What is " + g.q[question.asked].name + "?\n";
  prompt += "Solve step by step, one line per quantity, in the form: Define <quantity> as C; so C = A + B = 3 + 1 = 4.\n";
  if (may_abstain)
    prompt += "If the facts do not determine the answer, answer \"cannot be determined\".\n";
  return prompt + answer_instruction(may_abstain ? "an integer or \"cannot be determined\"" : "an integer", "4");
}

void fill_instance(const Graph& g, const Question& question, int operations, pb::ArithmeticGraphInstance& inst) {
  const std::vector<bool> main = main_quantities(g);
  for (int i = 0; i < static_cast<int>(g.q.size()); ++i) {
    const Quantity& q = g.q[i];
    auto* out = inst.add_quantities();
    out->set_name(q.name);
    out->set_op(op_name(q.op));
    for (int o : q.operands) out->add_operands(g.q[o].name);
    out->set_value(static_cast<int>(q.value));
    out->set_value_stated(question.value_stated(g, i));
    out->set_definition_stated(question.definition_stated(g, i));
    out->set_distractor(!main[i]);
  }
  inst.set_query(g.q[question.asked].name);
  inst.set_mode(question.reverse ? "reverse" : "forward");
  inst.set_modulus(static_cast<int>(g.modulus));
  inst.set_answerable(question.removed < 0);
  if (question.removed >= 0) inst.set_removed(g.q[question.removed].name);
  if (question.given >= 0) inst.set_given(g.q[question.given].name);
  inst.set_operations(operations);
}

// The path quantity an unanswerable task withholds (its value if a leaf, else its definition), never
// the only fact that mentions the asked quantity (it would then appear in no fact, and "cannot be
// determined" would need no arithmetic): forward, not the asked quantity's own definition; reverse,
// not the definition that uses the asked leaf, unless the path has no other definition. Drawn for
// answerable tasks too (when they may abstain): its kind is the kind of fact their decoy withholds.
int pick_withheld(Rng& rng, const Graph& g, bool reverse) {
  const size_t first = reverse ? (g.path.size() > 2 ? 2 : 1) : 0, end = reverse ? g.path.size() : g.path.size() - 1;
  return g.path[first + rng.index(end - first)];
}

Question pick_question(const Graph& g, bool reverse) {
  Question q;
  q.reverse = reverse;
  q.asked = reverse ? g.path.front() : g.target;
  if (reverse) q.given = g.target;
  return q;
}

}  // namespace

std::vector<KnobSpec> ArithmeticGraphGenerator::knob_specs() const {
  return {KnobSpec::integer("operations", "operations needed to answer (the difficulty)", 2, 64, 4),
          KnobSpec::integer("distractors", "extra quantities the question does not need", 0, 32, 2),
          KnobSpec::choice("mode", "forward: ask the last quantity; reverse: a later quantity's value is given and "
                           "an earlier one is asked; mixed: each half the time", {"forward", "reverse", "mixed"},
                           "forward"),
          KnobSpec::integer("modulus", "0 = plain integers kept in [0, 99]; m >= 2 = all arithmetic modulo m", 0,
                            1000, 0),
          KnobSpec::real("unanswerable", "fraction of tasks with a needed value or definition withheld (gold answer: "
                         "cannot be determined)", 0, 1, 0),
          KnobSpec::choice("order", "order of the facts", {"sequential", "shuffled"}, "shuffled"),
          KnobSpec::choice("format", "English sentences or equations", {"natural", "symbolic"}, "natural")};
}

KnobMap ArithmeticGraphGenerator::level_knobs(int level) const {
  struct Row { int ops, distractors; const char* order; const char* mode; };
  static const Row kLadder[] = {{2, 0, "sequential", "forward"}, {3, 1, "sequential", "forward"},
                                {4, 2, "sequential", "forward"}, {6, 3, "shuffled", "forward"},
                                {8, 4, "shuffled", "forward"},   {11, 6, "shuffled", "mixed"},
                                {15, 8, "shuffled", "mixed"},    {20, 10, "shuffled", "mixed"},
                                {26, 12, "shuffled", "mixed"},   {34, 16, "shuffled", "mixed"}};
  const Row& r = kLadder[level - 1];
  return {{"operations", std::to_string(r.ops)}, {"distractors", std::to_string(r.distractors)},
          {"order", r.order}, {"mode", r.mode}};
}

void ArithmeticGraphGenerator::generate(Rng& rng, const Knobs& knobs, pb::Task& task) const {
  const long modulus = knobs.get_int("modulus");
  if (modulus == 1) throw KnobError("knob modulus=1 makes every value 0: use 0 (no modulus) or a value >= 2");
  const std::string& mode = knobs.get("mode");
  const bool reverse = mode == "reverse" || (mode == "mixed" && rng.chance(0.5));
  const bool unanswerable = rng.chance(knobs.get_real("unanswerable"));
  const bool natural = knobs.get("format") == "natural";

  const bool may_abstain = knobs.get_real("unanswerable") > 0;

  NamePool names(rng, natural);
  Builder builder(rng, names, modulus);
  // When the task may abstain, answerable and unanswerable ones are built alike (hidden path, decoy)
  // and differ only in which fact is withheld.
  builder.build_main(static_cast<int>(knobs.get_int("operations")), reverse || may_abstain);
  Question question;
  if (may_abstain) {
    question = pick_question(builder.graph(), reverse);
    const int withheld = pick_withheld(rng, builder.graph(), reverse);
    const Quantity w = builder.graph().q[withheld];
    question.decoy_value_shown = w.op != Op::Given && question.value_stated(builder.graph(), withheld);
    question.decoy = builder.add_decoy(w, question.decoy_value_shown, question.asked);
    if (unanswerable) question.removed = withheld;
    else question.decoy_withheld = true;
  }
  builder.add_distractors(static_cast<int>(knobs.get_int("distractors")));
  const Graph g = builder.take();
  if (!may_abstain) question = pick_question(g, reverse);

  std::vector<Statement> facts = statements(g, question);
  if (knobs.get("order") == "shuffled") rng.shuffle(facts);
  FactIndex index{std::vector<int>(g.q.size(), -1), std::vector<int>(g.q.size(), -1)};
  for (size_t k = 0; k < facts.size(); ++k)
    (facts[k].value ? index.value_fact : index.definition_fact)[facts[k].quantity] = static_cast<int>(k);

  task.set_prompt(render_prompt(rng, g, question, facts, natural, may_abstain));
  task.set_answer(solve(g, question, task, index));
  task.set_label(question.removed < 0 ? "answerable" : "unanswerable");
  int operations = 0;
  for (const auto& step : task.trace()) operations += step.rule() != "given" && step.rule() != "cannot_be_determined";
  fill_instance(g, question, operations, *task.mutable_arithmetic_graph());
  (*task.mutable_meta())["mode"] = question.reverse ? "reverse" : "forward";
}

// The stated values and definitions as a set and the question, up to renaming the quantities. The
// operands of add, mul and sum are a multiset ("the sum of A and B" is "the sum of B and A"); sub keeps
// its order. What the prompt does not state (withheld values, which quantities are distractors) is not
// part of the question.
std::string ArithmeticGraphGenerator::question_key(const pb::Task& task) const {
  const auto& inst = task.arithmetic_graph();
  const auto& quantities = inst.quantities();
  const int n = quantities.size();
  thread_local canonical::Question q;
  thread_local canonical::NameIndex index;
  thread_local std::vector<int> operand_at, first_operand;  // flat operand indices (-1: not a quantity)
  thread_local std::vector<const std::string*> operand_name;
  thread_local std::vector<uint64_t> hints;
  q.clear();
  index.clear(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) index.add(quantities[i].name(), i);
  operand_at.clear();
  operand_name.clear();
  first_operand.clear();
  for (const auto& d : quantities) {
    first_operand.push_back(static_cast<int>(operand_at.size()));
    for (const auto& operand : d.operands()) {
      operand_at.push_back(index.find(operand));
      operand_name.push_back(&operand);
    }
  }
  first_operand.push_back(static_cast<int>(operand_at.size()));
  // Each quantity's hint (canonical::Question::hint): a hash of what the prompt says of it and, through
  // its definition, of its operands, all the way down (a chain of definitions is then told apart at
  // once rather than in one refinement round per link).
  hints.assign(static_cast<size_t>(n), 0);
  std::function<uint64_t(int)> hint = [&](int i) -> uint64_t {
    uint64_t& h = hints[static_cast<size_t>(i)];
    if (h != 0) return h;
    const auto& d = quantities[i];
    uint64_t state = d.value_stated() ? static_cast<uint64_t>(d.value()) * 2 + 3 : 2, sum = 0, sum2 = 0;
    state = fnv1a64(d.definition_stated() ? d.op() : std::string_view("-"), state);
    for (int k = first_operand[i]; d.definition_stated() && k < first_operand[i + 1]; ++k) {
      const uint64_t o = operand_at[k] < 0 || operand_at[k] == i ? 1 : hint(operand_at[k]);
      if (d.op() == "sub") state = mix_seed({state, o});
      else sum += mix_seed({o}), sum2 += mix_seed({o, 7});  // a multiset: order-free sums
    }
    return h = mix_seed({state, sum, sum2}) | 1;
  };
  for (int i = 0; i < n; ++i) q.hint(i, 'q', hint(i));
  auto operand = [&](int k) {
    if (operand_at[k] >= 0) q.symbol(operand_at[k], 'q');
    else q.text(*operand_name[static_cast<size_t>(k)]);  // not a quantity (never generated): as written
  };
  auto number = [&](long value) {
    char buf[24];
    q.text(std::string_view(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, value).ptr - buf)));
  };
  q.statement();
  q.text(inst.mode());
  q.text(" mod ");
  number(inst.modulus());
  q.text(" ? ");
  if (const int asked = index.find(inst.query()); asked >= 0) q.symbol(asked, 'q');
  else q.text(inst.query());
  thread_local std::vector<int> order;
  for (int i = 0; i < n; ++i) {
    const auto& d = quantities[i];
    if (d.value_stated()) {
      q.statement();
      q.symbol(i, 'q');
      q.text(" = ");
      number(d.value());
    }
    if (!d.definition_stated()) continue;
    // One statement, the operands of a commutative operation sorted by hint, unless two of them share
    // a hint (their order would then be arbitrary): one statement per operand then.
    order.resize(static_cast<size_t>(first_operand[i + 1] - first_operand[i]));
    std::iota(order.begin(), order.end(), first_operand[i]);
    const bool ordered = d.op() == "sub";
    auto hint_of = [&](int k) { return operand_at[k] < 0 ? uint64_t{1} : hints[static_cast<size_t>(operand_at[k])]; };
    if (!ordered) std::sort(order.begin(), order.end(), [&](int a, int b) { return hint_of(a) < hint_of(b); });
    bool tied = false;
    for (size_t k = 1; k < order.size() && !ordered; ++k) tied |= hint_of(order[k - 1]) == hint_of(order[k]);
    q.statement();
    q.symbol(i, 'q');
    q.text(" = ");
    q.text(d.op());
    q.text(tied ? " of " : " ");
    if (tied) {
      number(static_cast<long>(order.size()));
      for (int k : order) {
        q.statement();
        q.symbol(i, 'q');
        q.text(" operand ");
        operand(k);
      }
      continue;
    }
    for (int k : order) {
      q.text(' ');
      operand(k);
    }
  }
  return task.family() + "|" + q.key();
}

// generate() draws first whether the asked quantity is withheld: with probability `unanswerable`.
std::map<std::string, double> ArithmeticGraphGenerator::label_shares(const Knobs& knobs) const {
  const double u = knobs.get_real("unanswerable");
  return {{"answerable", 1 - u}, {"unanswerable", u}};
}

namespace generators {
const Generator& arithmetic_graph() {
  static const ArithmeticGraphGenerator generator;
  return generator;
}
}  // namespace generators

}  // namespace verity
