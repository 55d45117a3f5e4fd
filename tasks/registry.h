// The one place families are registered.
#pragma once
#include <string>
#include <vector>

#include "tasks/family.h"

namespace verity {

const std::vector<const Family*>& all_families();
// Returns the family or throws std::invalid_argument naming the known families.
const Family& find_family(const std::string& name);

}  // namespace verity
