#include "solvers/fol_ground.h"

#include <algorithm>

namespace verity::fol {
namespace {

// Bit a set where bit i of a is: atom i's column in a word, for the six atoms inside a word.
constexpr uint64_t kColumn[6] = {0xAAAAAAAAAAAAAAAAULL, 0xCCCCCCCCCCCCCCCCULL, 0xF0F0F0F0F0F0F0F0ULL,
                                 0xFF00FF00FF00FF00ULL, 0xFFFF0000FFFF0000ULL, 0xFFFFFFFF00000000ULL};

bool is_existential(const Formula& f) {
  return f.kind == Kind::Exists || (f.kind == Kind::Not && f.a->kind == Kind::Forall);
}

}  // namespace

GroundDecider::GroundDecider(int predicates, int constants, int witnesses)
    : predicates_(predicates),
      constants_(constants),
      domain_(constants + witnesses + 1),
      next_witness_(constants + 1),
      atom_index_(static_cast<size_t>(predicates) * static_cast<size_t>(domain_), -1) {}

GroundDecider::~GroundDecider() = default;

bool GroundDecider::register_atom(int pred, int element) {
  // GroundSolver reads an atom outside the grounding as false: no atom needed.
  if (pred < 0 || pred >= predicates_ || element < 0 || element >= domain_) return true;
  int& index = atom_index_[static_cast<size_t>(pred) * domain_ + element];
  if (index >= 0) return true;
  if (atoms_ == kMaxTableAtoms) return false;
  index = atoms_++;
  return true;
}

bool GroundDecider::register_atoms(const Formula& f, bool positive, int witness, int x) {
  switch (f.kind) {
    case Kind::Atom: return register_atom(f.pred, f.arg == kVariable ? x : f.arg);
    case Kind::Not:
      return register_atoms(*f.a, !positive, witness, x);
    case Kind::And:
    case Kind::Or:
    case Kind::Implies: return register_atoms(*f.a, positive, witness, x) && register_atoms(*f.b, positive, witness, x);
    case Kind::Forall:
    case Kind::Exists: {
      if ((f.kind == Kind::Forall) != positive) return register_atoms(*f.a, positive, witness, witness);
      for (int e = 0; e < domain_; ++e)
        if (!register_atoms(*f.a, positive, witness, e)) return false;
      return true;
    }
  }
  return true;
}

uint64_t GroundDecider::column(int pred, int element, size_t w) const {
  if (pred < 0 || pred >= predicates_ || element < 0 || element >= domain_) return 0;
  const int atom = atom_index_[static_cast<size_t>(pred) * domain_ + element];
  if (atom < 6) return kColumn[atom];
  return (w >> (atom - 6)) & 1 ? ~uint64_t{0} : 0;
}

void GroundDecider::quantifier_free(const Formula& f, int x, Table& out, size_t depth) {
  const size_t n = words();
  out.resize(n);
  switch (f.kind) {
    case Kind::Atom: {
      const int element = f.arg == kVariable ? x : f.arg;
      for (size_t w = 0; w < n; ++w) out[w] = column(f.pred, element, w);
      return;
    }
    case Kind::Not:
      quantifier_free(*f.a, x, out, depth);
      for (uint64_t& word : out) word = ~word;
      return;
    case Kind::And:
    case Kind::Or:
    case Kind::Implies: {
      quantifier_free(*f.a, x, out, depth + 1);
      Table& right = scratch_[depth];
      quantifier_free(*f.b, x, right, depth + 1);
      if (f.kind == Kind::And)
        for (size_t w = 0; w < n; ++w) out[w] &= right[w];
      else if (f.kind == Kind::Or)
        for (size_t w = 0; w < n; ++w) out[w] |= right[w];
      else
        for (size_t w = 0; w < n; ++w) out[w] = ~out[w] | right[w];
      return;
    }
    default:  // quantifiers occur only at the top (GroundSolver reads them as false here too)
      for (uint64_t& word : out) word = 0;
  }
}

// GroundSolver::holds, as a table.
void GroundDecider::holds(const Formula& f, bool positive, int witness, Table& out) {
  if (f.kind == Kind::Not && is_quantified(*f.a)) return holds(*f.a, !positive, witness, out);
  // One scratch table per nesting depth, made before the recursion holds references to them.
  if (scratch_.size() < static_cast<size_t>(size(f))) scratch_.resize(static_cast<size_t>(size(f)));
  const size_t n = words();
  if (f.kind == Kind::Forall || f.kind == Kind::Exists) {
    if ((f.kind == Kind::Forall) != positive) {  // one instance, at the witness
      quantifier_free(*f.a, witness, out, 0);
      if (!positive)
        for (uint64_t& word : out) word = ~word;
      return;
    }
    out.assign(n, ~uint64_t{0});
    for (int e = 0; e < domain_; ++e) {
      quantifier_free(*f.a, e, instance_, 0);
      for (size_t w = 0; w < n; ++w) out[w] &= positive ? instance_[w] : ~instance_[w];
    }
    return;
  }
  quantifier_free(f, -1, out, 0);
  if (!positive)
    for (uint64_t& word : out) word = ~word;
}

void GroundDecider::widen(Table& t) const {
  const size_t from = t.size(), to = words();
  if (from == to) return;
  t.resize(to);
  for (size_t w = from; w < to; ++w) t[w] = t[w % from];
}

void GroundDecider::switch_to_z3() {
  z3_ = std::make_unique<GroundSolver>(predicates_, constants_, domain_ - constants_ - 1);
  for (const Premise& p : premises_) z3_->add(p.formula);  // same order: same witnesses, same indices
  refuters_.clear();
  scratch_.clear();
}

int GroundDecider::add(const FormulaPtr& premise) {
  int witness = -1;
  if (is_existential(*premise)) {
    if (next_witness_ >= domain_) return -1;
    witness = next_witness_++;
  }
  premises_.push_back({premise, witness, {}});
  if (z3_) return z3_->add(premise);
  if (!register_atoms(*premise, true, witness)) {
    switch_to_z3();
    return premises() - 1;
  }
  holds(*premise, true, witness, premises_.back().table);
  return premises() - 1;
}

std::vector<int> GroundDecider::all() const {
  std::vector<int> out;
  for (int i = 0; i < premises(); ++i) out.push_back(i);
  return out;
}

std::optional<bool> GroundDecider::satisfiable(const std::vector<int>& use, const Table* extra) {
  for (int i : use) widen(premises_.at(static_cast<size_t>(i)).table);
  const size_t n = words();
  for (size_t w = 0; w < n; ++w) {
    uint64_t models = extra ? (*extra)[w] : ~uint64_t{0};
    for (size_t k = 0; k < use.size() && models; ++k) models &= premises_[static_cast<size_t>(use[k])].table[w];
    if (models) return true;
  }
  return false;
}

std::optional<bool> GroundDecider::consistent(const std::vector<int>& use) {
  if (z3_) return z3_->consistent(use);
  return satisfiable(use, nullptr);
}

std::optional<bool> GroundDecider::entails(const std::vector<int>& use, const FormulaPtr& goal) {
  if (z3_) return z3_->entails(use, goal);
  // The goal's negation, read at the goal's own witness element (the one after the individuals).
  auto it = std::find_if(refuters_.begin(), refuters_.end(),
                         [&](const Refuter& r) { return r.goal == goal || equal(*r.goal, *goal); });
  if (it == refuters_.end()) {
    if (!register_atoms(*goal, false, constants_)) {
      switch_to_z3();
      return z3_->entails(use, goal);
    }
    refuters_.push_back({goal, {}});
    it = refuters_.end() - 1;
    holds(*goal, false, constants_, it->table);
  }
  widen(it->table);
  const auto sat = satisfiable(use, &it->table);
  if (!sat) return std::nullopt;
  return !*sat;
}

Verdict GroundDecider::decide(const std::vector<int>& use, const FormulaPtr& hypothesis) {
  return decide_by_entailment(*this, use, hypothesis);
}

}  // namespace verity::fol
