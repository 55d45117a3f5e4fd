// The Family interface: one per task family. A family declares its knobs and level ladder,
// builds a self-contained Task from a seeded RNG, and scores a completion from the Task alone.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/rng.h"

namespace verity {

class Family {
 public:
  virtual ~Family() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  virtual std::vector<KnobSpec> knob_specs() const = 0;
  virtual int max_level() const { return 10; }
  // Knob values for level 1..max_level(); knobs not named keep their defaults.
  virtual KnobMap level_knobs(int level) const = 0;
  // What the answer must look like, e.g. "Yes or No".
  virtual std::string answer_format() const = 0;
  // Fills prompt, instance, answer, trace and label. The caller (make_task) fills id, family, level,
  // knobs, seed and index first. Must be a pure function of (rng state, knobs, seed, index); a family
  // may read seed and index to spread a small instance space without repeats (knights_knaves does).
  virtual void generate(Rng& rng, const Knobs& knobs, pb::Task& task) const = 0;
  // Scores untrusted model text against the task. Must not throw for any completion.
  virtual pb::Score verify(const pb::Task& task, std::string_view completion) const = 0;
};

// Resolves the knobs of a request: defaults <- level ladder (when level > 0) <- overrides.
Knobs resolve_knobs(const Family& family, int level, const KnobMap& overrides);

}  // namespace verity
