// The curriculum policy: per family a current level, per (family, level) pass-rate statistics; each
// batch's levels are drawn from them and a family is promoted or demoted when its exponential moving
// average of the pass rate leaves the band [band_low, band_high] (training at the edge of competence).
// Pure state, no I/O: curriculum/store.h keeps it in SQLite, the trainer and front ends drive it.
#pragma once
#include <cstdint>
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

struct CurriculumConfig {
  double band_low = 0.2, band_high = 0.8;
  int min_samples = 64;         // attempts at the current level before it may change
  double ema_alpha = 0.1;
  double review_frac = 0.0;
  int min_level = 1, max_level = 10;
  bool adaptive = true;         // false: levels never change
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
  };
  std::vector<LevelStat> record(const std::vector<Outcome>& outcomes, int64_t step);
  // Promotes / demotes each family whose current level has enough samples and an EMA outside the band.
  std::vector<LevelChange> update_levels(int64_t step);

  int level(const std::string& family) const { return current_.at(family).level; }
  std::vector<LevelStat> stats() const;
  const CurriculumConfig& config() const { return config_; }

  nlohmann::json to_json() const;
  static Curriculum from_json(const nlohmann::json& j);

 private:
  struct Current {
    int level = 1;
    int64_t attempts_since_change = 0;
  };
  CurriculumConfig config_;
  std::vector<std::pair<std::string, double>> weights_;
  std::map<std::string, Current> current_;
  std::map<std::pair<std::string, int>, LevelStat> stats_;
};

}  // namespace verity::curriculum
