// Scoring completions against tasks: one safe entry point for a single completion, and a file
// driver that survives any input (bad lines are reported with their number, never fatal).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity {

// How the final reward is formed from a family's verdict.
struct ScoreOptions {
  // Weight of the process reward (Score.process: coverage of the required derivation by valid steps x
  // fraction of steps valid) in the final reward, gated by the outcome as in the CMU
  // pre-/mid-training/RL study: reward = outcome x ((1 - w) + w x process). 0 (the default) is the
  // outcome reward; families without a process score (steps_required 0) keep their outcome reward,
  // and in the others a completion with no steps has process 0.
  double process_weight = 0.0;
};

// Never throws: unknown families, oversize text and verifier failures become a zero Score with a reason.
pb::Score score_completion(const pb::Task& task, std::string_view completion, const ScoreOptions& options = {});

// Score.process (in [0, 1]) for families with a process score, else 0.
double process_reward(const pb::Score& score);
// The outcome-gated blend above: a wrong final answer (reward 0) earns 0 whatever its steps; a right
// one earns (1 - w) + w x process; a partial-credit outcome scales the same way. Weights outside
// [0, 1] are clamped.
double blended_reward(const pb::Score& score, double process_weight);

struct ScoreRequest {
  std::string tasks_path;
  std::string completions_path;
  std::string output;                       // scores JSONL; empty = do not write
  std::string id_field = "id";
  std::string completion_field = "completion";
  int threads = 0;
  ScoreOptions options;
  // Fewer than half of the non-blank completion lines naming a task is an error unless this is set.
  bool allow_partial = false;
  // Several lines with one id: "" = an error, "first" / "last" = keep that line, drop the others.
  std::string dedupe;
};

// Counts over a set of scores: the one tally of `verity score`, reports and the trainer's evaluation.
struct Tally {
  uint64_t scored = 0, correct = 0, format_ok = 0;
  double reward = 0;  // sum
  void add(const pb::Score& score);
  void merge(const Tally& other) {
    scored += other.scored, correct += other.correct, format_ok += other.format_ok, reward += other.reward;
  }
  double format_ok_rate() const { return scored ? static_cast<double>(format_ok) / scored : 0.0; }
  double accuracy() const { return scored ? static_cast<double>(correct) / scored : 0.0; }
  double mean_reward() const { return scored ? reward / scored : 0.0; }
};

// Overall and per (family, level), read from the scores themselves.
struct Tallies {
  Tally overall;
  std::map<std::pair<std::string, int>, Tally> by_family_level;
  void add(const pb::Score& score) {
    overall.add(score);
    by_family_level[{score.family(), score.level()}].add(score);
  }
  void merge(const Tallies& other) {
    overall.merge(other.overall);
    for (const auto& [key, tally] : other.by_family_level) by_family_level[key].merge(tally);
  }
};

struct ScoreReport : Tallies {
  std::vector<std::string> problems;        // "file:line: what is wrong" for each bad line (skipped or scored 0)
  uint64_t tasks_without_completion = 0;
  uint64_t lines = 0;                       // non-blank lines of the completions file
  uint64_t duplicates_dropped = 0;          // with dedupe first / last
  std::vector<pb::Score> scores;            // in completion-file order
};

// Throws FileError (message says why and what to change) for input that cannot be right: a tasks or
// completions path that is a folder or empty, a tasks record that cannot be scored (unknown family, no
// instance), no line naming a task (names the id field and an example id of each file), fewer than half
// of the lines naming one (unless allow_partial), a completion field found on no line, repeated ids
// (unless dedupe). Lines that are merely bad (not JSON, invalid UTF-8, unknown id) are reported in
// `problems` and skipped.
ScoreReport score_files(const ScoreRequest& request);
// The first `shown` problems as "warning: ..." lines and a count of the rest.
std::string format_problems(const ScoreReport& report, size_t shown = 5);
// Human-readable summary: overall accuracy and a family x level table.
std::string format_report(const ScoreReport& report);

}  // namespace verity
