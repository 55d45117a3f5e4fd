#include "service/family_info.h"

#include <map>
#include <string>
#include <vector>

#include "service/generate.h"
#include "tasks/dataset.h"
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

nlohmann::json label_balance(const Family& family, uint64_t samples, uint64_t seed, const KnobMap& overrides) {
  nlohmann::json out = nlohmann::json::object();
  GenerateRequest request;
  request.family = family.name();
  request.knobs = overrides;
  request.seed = seed;
  request.count = samples;
  for (int level = 1; level <= family.generator.max_level(); ++level) {
    request.level = level;
    try {
      // Binary records: the cheaper serialisation of the two, and none of them is kept.
      const auto manifest = stream_dataset(request, 0, samples, FileFormat::Binary, [](std::string_view) {});
      out[std::to_string(level)] = std::map<std::string, uint64_t>(manifest.label_counts().begin(),
                                                                   manifest.label_counts().end());
    } catch (const std::invalid_argument& e) {  // too few distinct questions at this level
      out[std::to_string(level)] = e.what();
    }
  }
  return out;
}

nlohmann::json families_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const Family& f : all_families()) out.push_back(family_json(f));
  return out;
}

}  // namespace verity
