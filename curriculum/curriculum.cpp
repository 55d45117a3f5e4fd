#include "curriculum/curriculum.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tasks/rng.h"

namespace verity::curriculum {

Policy parse_policy(const std::string& name) {
  if (name == "band") return Policy::band;
  if (name == "window") return Policy::window;
  if (name == "target") return Policy::target;
  throw std::invalid_argument("unknown curriculum policy '" + name + "': use band, window or target");
}

std::string policy_name(Policy policy) {
  switch (policy) {
    case Policy::band: return "band";
    case Policy::window: return "window";
    case Policy::target: return "target";
  }
  return "band";
}

void CurriculumConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("curriculum: " + what);
  };
  require(0 <= band_low && band_low < band_high && band_high <= 1, "band_low < band_high, both in [0, 1]");
  require(min_samples >= 1, "min_samples must be >= 1");
  require(ema_alpha > 0 && ema_alpha <= 1, "ema_alpha must be in (0, 1]");
  require(review_frac >= 0 && review_frac < 1, "review_frac must be in [0, 1)");
  require(1 <= min_level && min_level <= max_level, "levels need 1 <= min_level <= max_level");
  // (the window is part of the state a served curriculum saves at every commit)
  require(window >= 1 && window <= 10'000, "window must be in 1..10000");
  require(0 <= demote && demote < promote && promote <= 1, "demote < promote, both in [0, 1]");
  require(target > 0 && target < 1, "target must be in (0, 1)");
  require(step_size > 0 && step_size <= 10, "step_size must be in (0, 10]");
}

Curriculum::Curriculum(CurriculumConfig config, const std::vector<std::pair<std::string, double>>& family_weights,
                       int start_level)
    : config_(config), weights_(family_weights) {
  config_.validate();
  if (weights_.empty()) throw std::invalid_argument("curriculum: no families");
  for (const auto& [f, w] : weights_) {
    if (!(w > 0)) throw std::invalid_argument("curriculum: weight of " + f + " must be > 0");
    if (current_.count(f)) throw std::invalid_argument("curriculum: family " + f + " is listed twice");
    current_[f].level = std::clamp(start_level, config_.min_level, config_.max_level);
    current_[f].difficulty = current_[f].level;
  }
}

double Curriculum::difficulty(const std::string& family) const {
  const Current& cur = current_.at(family);
  return config_.policy == Policy::target ? cur.difficulty : cur.level;
}

// target: floor(d) or floor(d) + 1 with probability d - floor(d), so the expected level is d.
// The other policies: the current level (no draw, so the band policy's random stream is unchanged).
int Curriculum::draw_level(const Current& cur, const std::function<double()>& uniform) const {
  if (config_.policy != Policy::target) return cur.level;
  const double low = std::floor(cur.difficulty);
  const int level = static_cast<int>(low) + (uniform() < cur.difficulty - low ? 1 : 0);
  return std::clamp(level, config_.min_level, config_.max_level);
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
    int level = draw_level(current_.at(family), uniform);
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
  if (config_.adaptive)
    for (const auto& o : outcomes)
      if (auto cur = current_.find(o.family); cur != current_.end())
        learn(cur->second, o.level, o.reward >= 0 ? std::min(o.reward, 1.0) : (o.success ? 1.0 : 0.0));
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

// The per-outcome half of the window and target policies (band reads the aggregates in update_levels).
void Curriculum::learn(Current& cur, int level, double reward) {
  if (config_.policy == Policy::window && level == cur.level) {
    cur.recent.push_back(reward);
    if (cur.recent.size() > static_cast<size_t>(config_.window)) cur.recent.erase(cur.recent.begin());
  } else if (config_.policy == Policy::target) {
    // Only outcomes of the two levels d mixes move d: review draws from lower levels say nothing about it.
    const int low = static_cast<int>(std::floor(cur.difficulty));
    if (level != low && level != low + 1) return;
    cur.difficulty = std::clamp(cur.difficulty + config_.step_size * (reward - config_.target),
                                double(config_.min_level), double(config_.max_level));
  }
}

std::vector<LevelChange> Curriculum::update_levels(int64_t step) {
  std::vector<LevelChange> changes;
  if (!config_.adaptive) return changes;
  for (auto& [family, cur] : current_) {
    int to = cur.level;
    double evidence = 0;  // what moved it: EMA pass rate (band), window mean (window), difficulty (target)
    if (config_.policy == Policy::band) {
      if (cur.attempts_since_change < config_.min_samples) continue;
      auto it = stats_.find({family, cur.level});
      if (it == stats_.end()) continue;
      evidence = it->second.ema_pass;
      if (evidence > config_.band_high) to = cur.level + 1;
      else if (evidence < config_.band_low) to = cur.level - 1;
    } else if (config_.policy == Policy::window) {
      if (cur.recent.size() < static_cast<size_t>(config_.window)) continue;
      double sum = 0;
      for (double r : cur.recent) sum += r;
      evidence = sum / double(cur.recent.size());
      if (evidence >= config_.promote) to = cur.level + 1;
      else if (evidence <= config_.demote) to = cur.level - 1;
    } else {
      // The level shown and logged follows d with a hysteresis of a quarter level beyond the midpoint,
      // so d hovering around x.5 does not log a change at every report (draws use d itself).
      evidence = cur.difficulty;
      if (std::fabs(cur.difficulty - cur.level) >= 0.75) to = static_cast<int>(std::lround(cur.difficulty));
    }
    to = std::clamp(to, config_.min_level, config_.max_level);
    if (to == cur.level) continue;
    changes.push_back({step, family, cur.level, to, evidence});
    cur.level = to;
    cur.attempts_since_change = 0;
    cur.recent.clear();
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
                 {"max_level", config_.max_level}, {"adaptive", config_.adaptive},
                 {"policy", policy_name(config_.policy)}, {"window", config_.window},
                 {"promote", config_.promote}, {"demote", config_.demote}, {"target", config_.target},
                 {"step_size", config_.step_size}};
  j["weights"] = nlohmann::json::array();
  for (const auto& [f, w] : weights_) j["weights"].push_back({f, w});
  j["current"] = nlohmann::json::object();
  for (const auto& [f, c] : current_)
    j["current"][f] = {{"level", c.level}, {"attempts_since_change", c.attempts_since_change},
                       {"recent", c.recent}, {"difficulty", c.difficulty}};
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
  // Checkpoints written before the window and target policies lack these keys: band, defaults.
  c.config_.policy = parse_policy(cf.value("policy", "band"));
  c.config_.window = cf.value("window", c.config_.window);
  c.config_.promote = cf.value("promote", c.config_.promote);
  c.config_.demote = cf.value("demote", c.config_.demote);
  c.config_.target = cf.value("target", c.config_.target);
  c.config_.step_size = cf.value("step_size", c.config_.step_size);
  for (const auto& w : j.at("weights")) c.weights_.emplace_back(w.at(0).get<std::string>(), w.at(1).get<double>());
  for (const auto& [f, v] : j.at("current").items()) {
    Current& cur = c.current_[f];
    cur.level = v.at("level").get<int>();
    cur.attempts_since_change = v.at("attempts_since_change").get<int64_t>();
    cur.recent = v.value("recent", std::vector<double>{});
    cur.difficulty = v.value("difficulty", double(cur.level));
  }
  for (const auto& s : j.at("stats")) {
    LevelStat st{s.at("family"), s.at("level"), s.at("attempts"), s.at("successes"), s.at("ema_pass"),
                 s.at("mean_abs_adv"), s.at("last_step")};
    c.stats_[{st.family, st.level}] = st;
  }
  return c;
}

}  // namespace verity::curriculum
