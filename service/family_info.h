// Family metadata for every front end: `verity list` / `describe`, HTTP `GET /families` and the
// Python module's `describe` all read it from here, so they never disagree.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "tasks/knobs.h"
#include "tasks/registry/registry.h"

namespace verity {

// {"name", "summary", "answer_format", "max_level",
//  "knobs": [{"name", "kind" (int | real | choice), "range", "default", "description"}],
//  "levels": {"1": {knob: value, ...}, ...}}
nlohmann::json family_json(const Family& family);
// Label balance per level: {"1": {label: count, ...}, ...} over the `samples` tasks `verity generate
// -n samples --seed seed --level L` writes (repeats skipped, labels kept in their shares: the
// manifest's label_counts), with `overrides` on top of each level's ladder (as --knob). A level whose
// knobs hold fewer distinct questions has generate's error text instead of counts. For `verity
// describe`; not part of family_json (it generates).
nlohmann::json label_balance(const Family& family, uint64_t samples, uint64_t seed, const KnobMap& overrides = {});
// Every registered family, in registry order.
nlohmann::json families_json();

}  // namespace verity
