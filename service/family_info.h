// Family metadata for every front end: `verity list` / `describe`, HTTP `GET /families` and the
// Python module's `describe` all read it from here, so they never disagree.
#pragma once
#include <nlohmann/json.hpp>

#include "tasks/registry/registry.h"

namespace verity {

// {"name", "summary", "answer_format", "max_level",
//  "knobs": [{"name", "kind" (int | real | choice), "range", "default", "description"}],
//  "levels": {"1": {knob: value, ...}, ...}}
nlohmann::json family_json(const Family& family);
// Every registered family, in registry order.
nlohmann::json families_json();

}  // namespace verity
