#include "curriculum/curriculum.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tasks/rng.h"

namespace verity::curriculum {

Curriculum::Curriculum(CurriculumConfig config, const std::vector<std::pair<std::string, double>>& family_weights,
                       int start_level)
    : config_(config), weights_(family_weights) {
  if (weights_.empty()) throw std::invalid_argument("curriculum: no families");
  for (const auto& [f, w] : weights_) {
    if (!(w > 0)) throw std::invalid_argument("curriculum: weight of " + f + " must be > 0");
    current_[f].level = std::clamp(start_level, config_.min_level, config_.max_level);
  }
}

std::vector<std::pair<std::string, int>> Curriculum::next_batch(int n, uint64_t seed) const {
  double total = 0;
  for (const auto& [f, w] : weights_) total += w;
  std::vector<std::pair<std::string, int>> out;
  out.reserve(n);
  uint64_t state = seed;
  auto uniform = [&] { return double(splitmix64(state) >> 11) * 0x1.0p-53; };
  for (int i = 0; i < n; ++i) {
    // families: stratified by weight (deterministic shares), remainder drawn at random
    double u = weights_.size() == 1 ? 0.0 : uniform() * total;
    size_t k = 0;
    while (k + 1 < weights_.size() && u >= weights_[k].second) u -= weights_[k++].second;
    const std::string& family = weights_[k].first;
    int level = current_.at(family).level;
    if (config_.review_frac > 0 && level > config_.min_level && uniform() < config_.review_frac)
      level = config_.min_level + static_cast<int>(uniform() * (level - config_.min_level));
    out.emplace_back(family, level);
  }
  return out;
}

std::vector<LevelStat> Curriculum::record(const std::vector<Outcome>& outcomes, int64_t step) {
  struct Acc { int64_t n = 0, ok = 0; double adv = 0; };
  std::map<std::pair<std::string, int>, Acc> batch;
  for (const auto& o : outcomes) {
    auto& a = batch[{o.family, o.level}];
    ++a.n;
    a.ok += o.success ? 1 : 0;
    a.adv += std::fabs(o.abs_advantage);
  }
  std::vector<LevelStat> touched;
  for (const auto& [key, a] : batch) {
    LevelStat& s = stats_[key];
    s.family = key.first;
    s.level = key.second;
    const double rate = double(a.ok) / double(a.n);
    s.ema_pass = s.attempts == 0 ? rate : (1 - config_.ema_alpha) * s.ema_pass + config_.ema_alpha * rate;
    s.mean_abs_adv = (s.mean_abs_adv * double(s.attempts) + a.adv) / double(s.attempts + a.n);
    s.attempts += a.n;
    s.successes += a.ok;
    s.last_step = step;
    auto cur = current_.find(key.first);
    if (cur != current_.end() && cur->second.level == key.second) cur->second.attempts_since_change += a.n;
    touched.push_back(s);
  }
  return touched;
}

std::vector<LevelChange> Curriculum::update_levels(int64_t step) {
  std::vector<LevelChange> changes;
  if (!config_.adaptive) return changes;
  for (auto& [family, cur] : current_) {
    if (cur.attempts_since_change < config_.min_samples) continue;
    auto it = stats_.find({family, cur.level});
    if (it == stats_.end()) continue;
    const double ema = it->second.ema_pass;
    int to = cur.level;
    if (ema > config_.band_high && cur.level < config_.max_level) to = cur.level + 1;
    else if (ema < config_.band_low && cur.level > config_.min_level) to = cur.level - 1;
    if (to == cur.level) continue;
    changes.push_back({step, family, cur.level, to, ema});
    cur.level = to;
    cur.attempts_since_change = 0;
  }
  return changes;
}

std::vector<LevelStat> Curriculum::stats() const {
  std::vector<LevelStat> out;
  for (const auto& [k, s] : stats_) out.push_back(s);
  return out;
}

nlohmann::json Curriculum::to_json() const {
  nlohmann::json j;
  j["config"] = {{"band_low", config_.band_low}, {"band_high", config_.band_high},
                 {"min_samples", config_.min_samples}, {"ema_alpha", config_.ema_alpha},
                 {"review_frac", config_.review_frac}, {"min_level", config_.min_level},
                 {"max_level", config_.max_level}, {"adaptive", config_.adaptive}};
  j["weights"] = nlohmann::json::array();
  for (const auto& [f, w] : weights_) j["weights"].push_back({f, w});
  j["current"] = nlohmann::json::object();
  for (const auto& [f, c] : current_) j["current"][f] = {{"level", c.level}, {"attempts_since_change", c.attempts_since_change}};
  j["stats"] = nlohmann::json::array();
  for (const auto& [k, s] : stats_)
    j["stats"].push_back({{"family", s.family}, {"level", s.level}, {"attempts", s.attempts},
                          {"successes", s.successes}, {"ema_pass", s.ema_pass}, {"mean_abs_adv", s.mean_abs_adv},
                          {"last_step", s.last_step}});
  return j;
}

Curriculum Curriculum::from_json(const nlohmann::json& j) {
  Curriculum c;
  const auto& cf = j.at("config");
  c.config_.band_low = cf.at("band_low");
  c.config_.band_high = cf.at("band_high");
  c.config_.min_samples = cf.at("min_samples");
  c.config_.ema_alpha = cf.at("ema_alpha");
  c.config_.review_frac = cf.at("review_frac");
  c.config_.min_level = cf.at("min_level");
  c.config_.max_level = cf.at("max_level");
  c.config_.adaptive = cf.at("adaptive");
  for (const auto& w : j.at("weights")) c.weights_.emplace_back(w.at(0).get<std::string>(), w.at(1).get<double>());
  for (const auto& [f, v] : j.at("current").items())
    c.current_[f] = {v.at("level").get<int>(), v.at("attempts_since_change").get<int64_t>()};
  for (const auto& s : j.at("stats")) {
    LevelStat st{s.at("family"), s.at("level"), s.at("attempts"), s.at("successes"), s.at("ema_pass"),
                 s.at("mean_abs_adv"), s.at("last_step")};
    c.stats_[{st.family, st.level}] = st;
  }
  return c;
}

}  // namespace verity::curriculum
