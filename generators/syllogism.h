// syllogism's two ways to a question, for its tests: the enumerated questions of small knobs (drawn
// without replacement, both labels) and the random path (every task elsewhere).
#pragma once
#include "generators/question_space.h"
#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/rng.h"

namespace verity::syllogism {

// Every distinct question (up to renaming the categories and reordering the premises) of three terms,
// fictional names, no negated terms and at most 2 distractors (levels 1 and 2), enumerated once per
// process, as a Space of labels {Yes, No} with each question's odds under the random path as weights;
// null for other knobs.
const question_space::Space* enumerated_space(const Knobs& knobs);

// What generate() makes by the random path, whatever the knobs (the enumeration must cover its
// questions).
void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task);

}  // namespace verity::syllogism
