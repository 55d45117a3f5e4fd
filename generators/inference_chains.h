// inference_chains' two ways to a question, for its tests: the enumerated Yes questions of small knobs
// (drawn without replacement) and the random path (No tasks there, every task elsewhere).
#pragma once
#include "generators/question_space.h"
#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/rng.h"

namespace verity::inference_chains {

// The Yes questions of depth 1, basic rules, propositional, at most 2 distractors (level 1), enumerated
// once per process, as a Space of labels {Yes, No} whose No list is a placeholder (No tasks, far more
// numerous, are drawn at random); null for other knobs.
const question_space::Space* enumerated_space(const Knobs& knobs);

// What generate() makes by the random path with the label drawn at random, whatever the knobs (the
// enumeration must cover its Yes questions).
void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task);

}  // namespace verity::inference_chains
