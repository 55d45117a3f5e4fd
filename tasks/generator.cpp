#include "tasks/generator.h"

#include <string>

namespace verity {

Knobs resolve_knobs(const Generator& family, int level, const KnobMap& overrides) {
  if (level < 0 || level > family.max_level())
    throw KnobError("level " + std::to_string(level) + " is out of range for " + family.name() +
                    ": use 1.." + std::to_string(family.max_level()));
  KnobMap values;
  if (level > 0) values = family.level_knobs(level);
  for (const auto& [k, v] : overrides) values[k] = v;
  return Knobs(family.knob_specs(), values);
}

}  // namespace verity
