// The one place families are registered: each family's Generator paired with its Verifier, by name.
// Above both generators/ and verifiers/; everything that looks a family up by name sits above it.
#pragma once
#include <string>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/generator.h"
#include "tasks/verifier.h"

namespace verity {

struct Family {
  const Generator& generator;
  const Verifier& verifier;
  std::string name() const { return generator.name(); }
};

const std::vector<Family>& all_families();
// Returns the family or throws std::invalid_argument naming the known families.
const Family& find_family(const std::string& name);

// What makes two tasks "the same question" (its generator's question_key hook): recipes keep a split
// free of repeats and disjoint from the splits it names. Throws for an unknown family.
std::string question_key(const pb::Task& task);

}  // namespace verity
