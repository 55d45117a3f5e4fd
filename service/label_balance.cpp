#include "service/label_balance.h"

#include <algorithm>
#include <cmath>

namespace verity {

LabelBalance::LabelBalance(const Generator& family, const Knobs& knobs) {
  for (const auto& [label, share] : family.label_shares(knobs))
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

std::string LabelBalance::shortage(const std::string& scarce, bool floor_only) const {
  return "label '" + scarce + "' (" + std::to_string(static_cast<int>(std::lround(100 * shares_.at(scarce)))) +
         "% of a balanced dataset) has " + (floor_only ? "at least " : "only ") + std::to_string(kept(scarce)) +
         " distinct questions";
}

}  // namespace verity
