// What a step checker found in a model's reasoning, and how it goes into a Score (steps_checked,
// steps_valid, and the first invalid step in the reason). Step checkers: verifiers/arithmetic_trace.h,
// verifiers/ontology_trace.h.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "schemas/verity.pb.h"

namespace verity {

struct TraceReport {
  int steps_checked = 0;
  int steps_valid = 0;
  int first_invalid = 0;       // 1-based step number, 0 when every step is valid
  std::string first_problem;   // why that step is invalid
  bool truncated = false;      // the text was longer than the checker reads
  int required = 0;            // results of the required derivation (0: no process score)
  int covered = 0;             // of them, established by valid steps in dependency order
  // coverage x precision: covered / required x steps_valid / steps_checked (0 with no steps).
  double process() const {
    if (required <= 0 || steps_checked <= 0) return 0.0;
    return static_cast<double>(covered) / required * steps_valid / steps_checked;
  }
};

// A running hash of strings (order and boundaries matter), continuing from `h`: fingerprints of a
// task's gold solution for the step checkers' per-thread caches of its required derivation.
inline uint64_t fingerprint(uint64_t h, std::string_view text) {
  const uint64_t t = std::hash<std::string_view>{}(text) + 0x9e3779b97f4a7c15ull + text.size();
  return (h ^ (t + (h << 6) + (h >> 2))) * 1099511628211ull;
}
inline constexpr uint64_t kFingerprintSeed = 14695981039346656037ull;
inline constexpr size_t kDerivationCacheEntries = 4096;  // per thread; cleared when full

// How a family's process score is defined (for `verity describe`, family metadata and the README);
// "" for families without one (their reward is the outcome, whatever the process weight).
std::string process_score_definition(const std::string& family);

// Sets the Score's step counts (and, when trace.required > 0, steps_required / steps_covered /
// process) and appends "; steps V/C valid, first invalid step K: why" (and
// `truncated_note` when the checker stopped early) to its reason.
void record_trace(const TraceReport& trace, const std::string& truncated_note, pb::Score& score);

}  // namespace verity
