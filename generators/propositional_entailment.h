// propositional_entailment's two ways to a question, for its tests: the enumerated space of small
// knobs (drawn without replacement) and the random path (every other knob setting).
#pragma once
#include "generators/question_space.h"
#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/rng.h"

namespace verity::propositional_entailment {

// Every distinct question of these knobs by label, enumerated once per process; null where the knobs
// are drawn at random (depth above 1, distractors, or too many questions to list quickly).
const question_space::Space* enumerated_space(const Knobs& knobs);

// What generate() makes by the random path, whatever the knobs (the enumeration must cover it).
void generate_at_random(Rng& rng, const Knobs& knobs, pb::Task& task);

}  // namespace verity::propositional_entailment
