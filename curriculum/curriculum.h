// The curriculum policy: per family a current level, per (family, level) pass-rate statistics; each
// batch's levels are drawn from them and a family's level moves by one of three policies
// (docs/curriculum.md gives the maths):
//   band    promoted / demoted when the exponential moving average of its pass rate leaves
//           [band_low, band_high] (training at the edge of competence; the trainer's default)
//   window  Reasoning Gym's rule: the mean reward of the last `window` outcomes at the current level
//           >= promote (0.7) moves up, <= demote (0.3) moves down, and the window restarts
//   target  target accuracy: a continuous difficulty d follows d <- d + step_size x (reward - target)
//           per outcome (stochastic approximation: it settles where the expected reward is `target`);
//           each task's level is floor(d) or floor(d) + 1, the latter with probability d - floor(d)
// Pure state, no I/O: curriculum/store.h keeps it in SQLite, the trainer and front ends drive it.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace verity::curriculum {

struct LevelStat {
  std::string family;
  int level = 0;
  int64_t attempts = 0, successes = 0;
  double ema_pass = 0;          // exponential moving average of per-batch pass rates
  double mean_abs_adv = 0;      // running mean of |advantage| (GRPO; 0 for SFT)
  int64_t last_step = -1;
};

struct LevelChange {
  int64_t step = 0;
  std::string family;
  int from_level = 0, to_level = 0;
  double ema_pass = 0;
};

enum class Policy { band, window, target };
Policy parse_policy(const std::string& name);  // "band" | "window" | "target"; throws std::invalid_argument
std::string policy_name(Policy policy);

struct CurriculumConfig {
  Policy policy = Policy::band;
  double band_low = 0.2, band_high = 0.8;  // band
  int min_samples = 64;         // band: attempts at the current level before it may change
  double ema_alpha = 0.1;
  double review_frac = 0.0;
  int min_level = 1, max_level = 10;
  bool adaptive = true;         // false: levels never change
  int window = 32;              // window: outcomes averaged (Reasoning Gym's promote / demote rule)
  double promote = 0.7, demote = 0.3;
  double target = 0.5;          // target: the reward the difficulty is steered to
  double step_size = 0.05;      // target: levels per unit of (reward - target) per outcome
  // Throws std::invalid_argument naming the setting and its allowed range.
  void validate() const;
};

// Per family: the current level; per (family, level): statistics. Chooses each batch's levels.
class Curriculum {
 public:
  Curriculum() = default;
  Curriculum(CurriculumConfig config, const std::vector<std::pair<std::string, double>>& family_weights,
             int start_level);
  // `n` (family, level) draws for the next batch; a pure function of (state, seed).
  std::vector<std::pair<std::string, int>> next_batch(int n, uint64_t seed) const;
  // Records one batch's outcomes; updates the aggregates and returns the stats it touched.
  struct Outcome {
    std::string family;
    int level;
    bool success;
    double abs_advantage;
    double reward = -1;         // in [0, 1]; negative: success as 0 / 1 (the window and target policies read it)
  };
  std::vector<LevelStat> record(const std::vector<Outcome>& outcomes, int64_t step);
  // Promotes / demotes each family whose current level has enough samples and an EMA outside the band.
  std::vector<LevelChange> update_levels(int64_t step);

  int level(const std::string& family) const { return current_.at(family).level; }
  // target policy: the continuous difficulty (the level otherwise).
  double difficulty(const std::string& family) const;
  const std::vector<std::pair<std::string, double>>& weights() const { return weights_; }
  std::vector<LevelStat> stats() const;
  const CurriculumConfig& config() const { return config_; }

  nlohmann::json to_json() const;
  static Curriculum from_json(const nlohmann::json& j);

 private:
  struct Current {
    int level = 1;
    int64_t attempts_since_change = 0;
    std::vector<double> recent;   // window policy: rewards at `level` since it was reached (last `window`)
    double difficulty = 1;        // target policy
  };
  void learn(Current& cur, int level, double reward);
  int draw_level(const Current& cur, const std::function<double()>& uniform) const;
  CurriculumConfig config_;
  std::vector<std::pair<std::string, double>> weights_;
  std::map<std::string, Current> current_;
  std::map<std::pair<std::string, int>, LevelStat> stats_;
};

}  // namespace verity::curriculum
