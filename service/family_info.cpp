#include "service/family_info.h"

#include <string>

#include "verifiers/trace_report.h"

namespace verity {

namespace {

const char* kind_name(KnobSpec::Kind kind) {
  switch (kind) {
    case KnobSpec::Kind::Int: return "int";
    case KnobSpec::Kind::Real: return "real";
    default: return "choice";
  }
}

}  // namespace

nlohmann::json family_json(const Family& family) {
  const Generator& g = family.generator;
  nlohmann::json knobs = nlohmann::json::array();
  for (const auto& k : g.knob_specs())
    knobs.push_back({{"name", k.name}, {"kind", kind_name(k.kind)}, {"range", k.range_text()},
                     {"default", k.default_value}, {"description", k.description}});
  nlohmann::json levels = nlohmann::json::object();
  for (int level = 1; level <= g.max_level(); ++level) levels[std::to_string(level)] = g.level_knobs(level);
  const std::string process = process_score_definition(g.name());
  return {{"name", g.name()},          {"summary", g.summary()}, {"answer_format", g.answer_format()},
          {"max_level", g.max_level()}, {"knobs", knobs},         {"levels", levels},
          {"process_score", process.empty() ? "none: the reward is the outcome, whatever the process weight" : process}};
}

nlohmann::json families_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const Family& f : all_families()) out.push_back(family_json(f));
  return out;
}

}  // namespace verity
