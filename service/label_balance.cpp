#include "service/label_balance.h"

#include <algorithm>
#include <cmath>

namespace verity {
namespace {

using Shares = std::map<std::string, double>;

// An "unanswerable"-style share u for one label, the rest split evenly among `others`.
Shares split(const std::string& rare, double u, std::initializer_list<const char*> others) {
  Shares shares{{rare, u}};
  for (const char* label : others) shares[label] += (1 - u) / static_cast<double>(others.size());
  return shares;
}

// The shares each generator draws its label in (see its generate()): only families whose label is
// categorical and drawn first. Free-form answers (zebra, list_functions, long_horizon_sum,
// string_rules) have no targeted label and are left alone.
Shares target_shares(const std::string& family, const Knobs& knobs) {
  if (family == "syllogism" || family == "inference_chains" || family == "d_separation" ||
      family == "causal_transitivity")
    return {{"Yes", 0.5}, {"No", 0.5}};
  if (family == "propositional_entailment")
    return {{"entailed", 1.0 / 3}, {"contradicted", 1.0 / 3}, {"neither", 1.0 / 3}};
  if (family == "causal_induction") return {{"on", 1.0 / 3}, {"off", 1.0 / 3}, {"undetermined", 1.0 / 3}};
  if (family == "fol_deduction") {
    // Closed world: what does not follow is false, so UNKNOWN draws are labelled DISPROVED.
    const double u = knobs.get_real("unknown_ratio");
    if (knobs.get("world") == "closed") return {{"PROVED", (1 - u) / 2}, {"DISPROVED", (1 + u) / 2}};
    return split("UNKNOWN", u, {"PROVED", "DISPROVED"});
  }
  if (family == "ontology_deduction") return split("Unknown", knobs.get_real("unanswerable"), {"True", "False"});
  if (family == "arithmetic_graph" || family == "knights_knaves")
    return split("unanswerable", knobs.get_real("unanswerable"), {"answerable"});
  return {};
}

}  // namespace

LabelBalance::LabelBalance(const Generator& family, const Knobs& knobs) {
  for (const auto& [label, share] : target_shares(family.name(), knobs))
    if (share > 0) shares_[label] = share;
  // One label and nothing to balance (e.g. unanswerable = 0).
  if (shares_.size() < 2) shares_.clear();
}

bool LabelBalance::admits(const std::string& label) const {
  const auto share = shares_.find(label);
  if (share == shares_.end()) return true;
  const double after = static_cast<double>(total_ + 1);
  return static_cast<double>(kept(label) + 1) <= share->second * after + std::max(1.0, 0.005 * after);
}

void LabelBalance::keep(const std::string& label) {
  if (!active()) return;
  ++total_;
  ++kept_[label];
}

uint64_t LabelBalance::kept(const std::string& label) const {
  const auto it = kept_.find(label);
  return it == kept_.end() ? 0 : it->second;
}

std::string LabelBalance::scarcest() const {
  std::string scarce;
  double lowest = 0;
  for (const auto& [label, share] : shares_) {
    const double fill = static_cast<double>(kept(label)) / share;
    if (scarce.empty() || fill < lowest) scarce = label, lowest = fill;
  }
  return scarce;
}

uint64_t LabelBalance::most_tasks(const std::string& scarce) const {
  return static_cast<uint64_t>(std::floor(static_cast<double>(kept(scarce)) / shares_.at(scarce)));
}

std::string LabelBalance::shortage(const std::string& scarce) const {
  return "label '" + scarce + "' (" + std::to_string(static_cast<int>(std::lround(100 * shares_.at(scarce)))) +
         "% of a balanced dataset) has only " + std::to_string(kept(scarce)) + " distinct questions";
}

}  // namespace verity
