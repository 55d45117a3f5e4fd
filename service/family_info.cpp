#include "service/family_info.h"

#include <oneapi/tbb/parallel_for.h>

#include <map>
#include <string>
#include <vector>

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

nlohmann::json label_balance(const Family& family, uint64_t samples, uint64_t seed) {
  const Generator& g = family.generator;
  nlohmann::json out = nlohmann::json::object();
  for (int level = 1; level <= g.max_level(); ++level) {
    const Knobs knobs = resolve_knobs(g, level, {});
    std::vector<std::string> labels(samples);
    tbb::parallel_for(uint64_t{0}, samples, [&](uint64_t i) { labels[i] = make_task(g, knobs, level, seed, i).label(); });
    std::map<std::string, uint64_t> counts;
    for (const auto& label : labels) ++counts[label];
    out[std::to_string(level)] = counts;
  }
  return out;
}

nlohmann::json families_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const Family& f : all_families()) out.push_back(family_json(f));
  return out;
}

}  // namespace verity
