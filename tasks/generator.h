// The generating half of a task family: its knobs and level ladder, and a seeded construction of a
// self-contained Task (prompt, formal instance, gold answer and trace). Its scoring half is a Verifier
// (tasks/verifier.h); tasks/registry/ pairs the two by family name.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/rng.h"

namespace verity {

class Generator {
 public:
  virtual ~Generator() = default;
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
  // What makes two of its tasks "the same question" (recipes keep a split free of repeats and
  // disjoint from other splits): by default the prompt itself; families whose prompts vary in wording
  // or statement order for one question override it with a key of the formal instance.
  virtual std::string question_key(const pb::Task& task) const { return task.family() + "|" + task.prompt(); }
  // The knobs as they seed the instance (make_task's random stream): by default all of them. A family
  // with a rendering that must state the very instance another rendering states maps it to that one
  // here (the causal families' format=axiomatic seeds as format=natural); the task id still differs.
  virtual std::string seed_knobs(const Knobs& knobs) const { return knobs.canonical(); }
  // The shares generate() draws its label in under these knobs (label -> probability, summing to 1), for
  // a family whose label is categorical and drawn first: a written dataset keeps them although skipping
  // repeated questions removes more tasks of one label than of another (service/label_balance.h). None
  // (the default) for a free-form label, which is not balanced.
  virtual std::map<std::string, double> label_shares(const Knobs& /*knobs*/) const { return {}; }
  // The number of distinct questions (question_key) of each label under these knobs, for a family that
  // enumerates its question space there (generators/question_space.h): `verity generate` then stops at
  // the exact end of it. None (the default) where the space is not enumerated; a label left out is drawn
  // at random there (never used up: inference_chains' No).
  virtual std::map<std::string, uint64_t> question_counts(const Knobs& /*knobs*/) const { return {}; }
};

// Resolves the knobs of a request: defaults <- level ladder (when level > 0) <- overrides.
Knobs resolve_knobs(const Generator& generator, int level, const KnobMap& overrides);

}  // namespace verity
