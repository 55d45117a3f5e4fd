#include "service/recipe.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "service/label_balance.h"
#include "tasks/content_hash.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace verity {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxDisjointDepth = 4;      // recipes excluding recipes excluding ...: a cycle guard
constexpr uint64_t kMaxBlock = 2048;      // tasks generated in parallel per step (fewer for small parts)
constexpr uint64_t kDuplicateSlack = 10;  // give up after count * slack + 1000 skipped duplicates

// ---- parsing ----

// Builds "file: parts[2] ('seq7').count: what" style messages.
struct Where {
  std::string file, field;
  [[noreturn]] void fail(const std::string& what) const {
    throw RecipeError(file + ": " + (field.empty() ? "" : field + ": ") + what);
  }
  Where at(const std::string& sub) const { return {file, field.empty() ? sub : field + "." + sub}; }
};

void check_keys(const json& object, const std::set<std::string>& allowed, const Where& where) {
  for (const auto& [key, value] : object.items()) {
    if (allowed.count(key)) continue;
    std::string names;
    for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
    where.at(key).fail("unknown field; allowed fields are: " + names);
  }
}

std::string get_string(const json& object, const std::string& key, const Where& where, bool required) {
  if (!object.contains(key)) {
    if (required) where.at(key).fail("missing (a string is required)");
    return "";
  }
  if (!object[key].is_string()) where.at(key).fail("expected a string, got " + object[key].dump());
  return object[key].get<std::string>();
}

uint64_t get_unsigned(const json& object, const std::string& key, const Where& where, bool positive) {
  if (!object.contains(key)) where.at(key).fail("missing (an integer is required)");
  const json& v = object[key];
  const bool ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!ok || (positive && v.get<uint64_t>() == 0))
    where.at(key).fail(std::string("expected a ") + (positive ? "positive" : "non-negative") + " integer, got " +
                       v.dump());
  return v.get<uint64_t>();
}

bool safe_file_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; });
}

KnobMap parse_knobs(const json& knobs, const Where& where) {
  if (!knobs.is_object()) where.fail("expected an object of name: value, e.g. {\"chain_length\": 9}");
  KnobMap out;
  for (const auto& [name, value] : knobs.items()) {
    if (value.is_string()) out[name] = value.get<std::string>();
    else if (value.is_number()) out[name] = value.dump();
    else where.at(name).fail("expected a number or a string, got " + value.dump());
  }
  return out;
}

// Resolves the knobs and draws task 0, so bad knob combinations fail at load time naming the part.
void validate_part(const RecipePart& part, const Where& where) {
  const Generator* family = nullptr;
  try {
    family = &find_family(part.family).generator;
  } catch (const std::exception& e) {
    where.at("family").fail(e.what());
  }
  Knobs knobs;
  try {
    knobs = resolve_knobs(*family, part.level, part.knobs);
  } catch (const KnobError& e) {
    where.at(part.knobs.empty() || std::string(e.what()).rfind("level", 0) == 0 ? "level" : "knobs").fail(e.what());
  }
  try {
    make_task(*family, knobs, part.level, part.seed, 0);
  } catch (const std::exception& e) {
    where.at("knobs").fail(e.what());
  }
}

RecipePart parse_part(const json& p, const Where& where) {
  if (!p.is_object()) where.fail("expected an object {name, family, level/knobs, count, seed}");
  check_keys(p, {"name", "family", "level", "knobs", "count", "seed"}, where);
  RecipePart part;
  part.name = get_string(p, "name", where, true);
  if (!safe_file_name(part.name))
    where.at("name").fail("'" + part.name + "' is not a file name: use letters, digits, _ - . only");
  part.family = get_string(p, "family", where, true);
  if (p.contains("level")) {
    if (!p["level"].is_number_integer()) where.at("level").fail("expected an integer, got " + p["level"].dump());
    part.level = p["level"].get<int>();
  }
  if (p.contains("knobs")) part.knobs = parse_knobs(p["knobs"], where.at("knobs"));
  part.count = get_unsigned(p, "count", where, /*positive=*/true);
  part.seed = get_unsigned(p, "seed", where, /*positive=*/false);
  validate_part(part, where);
  return part;
}

}  // namespace

Recipe parse_recipe(const std::string& json_text, const std::string& path) {
  const Where top{path, ""};
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    top.fail(std::string("not valid JSON (") + e.what() + ")");
  }
  if (!doc.is_object()) top.fail("expected a JSON object with name and parts");
  check_keys(doc, {"name", "description", "disjoint_from", "parts"}, top);
  Recipe recipe;
  recipe.path = path;
  recipe.source_hash = xxh64(json_text);
  recipe.name = get_string(doc, "name", top, true);
  if (!safe_file_name(recipe.name)) top.at("name").fail("'" + recipe.name + "' is not a file name");
  recipe.description = get_string(doc, "description", top, false);
  if (doc.contains("disjoint_from")) {
    if (!doc["disjoint_from"].is_array()) top.at("disjoint_from").fail("expected a list of recipe files");
    for (const auto& f : doc["disjoint_from"]) {
      if (!f.is_string()) top.at("disjoint_from").fail("expected file names (strings), got " + f.dump());
      recipe.disjoint_from.push_back(f.get<std::string>());
    }
  }
  if (!doc.contains("parts") || !doc["parts"].is_array() || doc["parts"].empty())
    top.at("parts").fail("expected a non-empty list of parts");
  std::set<std::string> names;
  for (size_t i = 0; i < doc["parts"].size(); ++i) {
    const json& p = doc["parts"][i];
    std::string label = "parts[" + std::to_string(i) + "]";
    if (p.is_object() && p.contains("name") && p["name"].is_string()) label += " ('" + p["name"].get<std::string>() + "')";
    recipe.parts.push_back(parse_part(p, {path, label}));
    if (!names.insert(recipe.parts.back().name).second)
      Where{path, label + ".name"}.fail("part name '" + recipe.parts.back().name + "' is used twice");
  }
  return recipe;
}

Recipe load_recipe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RecipeError(path + ": cannot open recipe (does the file exist?)");
  std::stringstream text;
  text << in.rdbuf();
  return parse_recipe(text.str(), path);
}

namespace {

// ---- building ----

using QuestionSet = std::unordered_set<std::string>;

uint64_t scaled_count(uint64_t count, double scale) {
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(static_cast<double>(count) * scale)));
}

struct PartResult {
  uint64_t written = 0, skipped = 0, next_index = 0;
  ContentHash hash;
  std::map<std::string, uint64_t> label_counts;
};

// Generates the part's tasks in index order, skipping questions already in `seen` (and adding the
// ones it keeps); `emit` receives each kept task and its JSON line (empty unless `serialize`: JSON
// costs several times the generation, and excluded recipes only need their questions).
PartResult generate_part(const Recipe& recipe, const RecipePart& part, double scale, tbb::task_arena& arena,
                         QuestionSet& seen, bool serialize,
                         const std::function<void(const pb::Task&, const std::string&)>& emit) {
  const Generator& family = find_family(part.family).generator;
  const Knobs knobs = resolve_knobs(family, part.level, part.knobs);
  const uint64_t wanted = scaled_count(part.count, scale);
  LabelBalance balance(family, knobs);
  PartResult result;
  while (result.written < wanted) {
    if (result.skipped > wanted * kDuplicateSlack + 1000)
      throw RecipeError(recipe.path + ": part '" + part.name + "': skipped " + std::to_string(result.skipped) +
                        " duplicate questions" +
                        (balance.active() ? " (or ones of a label above its share; scarcest label '" +
                                                balance.scarcest() + "')"
                                          : std::string()) +
                        "; these knobs have too few distinct questions for count " + std::to_string(wanted));
    // A little more than still needed, so small parts do not generate a whole block in vain.
    const uint64_t missing = wanted - result.written;
    const uint64_t begin = result.next_index, end = begin + std::min(kMaxBlock, missing + missing / 8 + 8);
    std::vector<pb::Task> tasks(end - begin);
    std::vector<std::string> lines(end - begin);
    arena.execute([&] {
      tbb::parallel_for(begin, end, [&](uint64_t i) {
        tasks[i - begin] = make_task(family, knobs, part.level, part.seed, i);
        if (serialize) lines[i - begin] = to_json_line(tasks[i - begin]) + "\n";
      });
    });
    for (uint64_t i = begin; i < end && result.written < wanted; ++i) {
      result.next_index = i + 1;
      // A repeat, or a label above its share of the part (LabelBalance): skipped alike.
      const pb::Task& task = tasks[i - begin];
      std::string key = question_key(task);
      if (seen.count(key) || !balance.admits(task.label())) {
        ++result.skipped;
        continue;
      }
      seen.insert(std::move(key));
      balance.keep(task.label());
      ++result.written;
      ++result.label_counts[tasks[i - begin].label()];
      result.hash.update(lines[i - begin]);
      emit(tasks[i - begin], lines[i - begin]);
    }
  }
  return result;
}

std::string hash_text(uint64_t hash) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "xxh64:%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

// Every question the recipe's output holds (its own exclusions applied), without writing files.
void collect_questions(const Recipe& recipe, double scale, tbb::task_arena& arena, int depth, QuestionSet& into);

// The questions of every recipe in `recipe.disjoint_from`.
QuestionSet excluded_questions(const Recipe& recipe, double scale, tbb::task_arena& arena, int depth) {
  QuestionSet excluded;
  if (!recipe.disjoint_from.empty() && depth >= kMaxDisjointDepth)
    throw RecipeError(recipe.path + ": disjoint_from: recipes exclude each other too deeply (a cycle?)");
  for (const auto& other : recipe.disjoint_from) {
    const fs::path other_path = fs::path(recipe.path).parent_path() / other;
    Recipe other_recipe;
    try {
      other_recipe = load_recipe(other_path.string());
    } catch (const RecipeError& e) {
      throw RecipeError(recipe.path + ": disjoint_from: " + e.what());
    }
    collect_questions(other_recipe, scale, arena, depth + 1, excluded);
  }
  return excluded;
}

void collect_questions(const Recipe& recipe, double scale, tbb::task_arena& arena, int depth, QuestionSet& into) {
  QuestionSet seen = excluded_questions(recipe, scale, arena, depth);
  for (const auto& part : recipe.parts)
    generate_part(recipe, part, scale, arena, seen, /*serialize=*/false, [&](const pb::Task& task, const std::string&) {
      into.insert(question_key(task));
    });
}

pb::DatasetManifest part_manifest(const Recipe& recipe, const RecipePart& part, const PartResult& r,
                                  const std::string& file) {
  const Knobs knobs = resolve_knobs(find_family(part.family).generator, part.level, part.knobs);
  pb::DatasetManifest m;
  m.set_recipe(recipe.name);
  m.set_family(part.family);
  m.set_level(part.level);
  for (const auto& [k, v] : knobs.values()) (*m.mutable_knobs())[k] = v;
  m.set_seed(part.seed);
  m.set_count(r.written);
  m.set_total(r.written);
  m.set_shard("0/1");
  m.set_version(kVersion);
  m.set_format("jsonl");
  m.set_content_hash(r.hash.text());
  m.set_output(file);
  for (const auto& [label, n] : r.label_counts) (*m.mutable_label_counts())[label] = n;
  return m;
}

// Streams one part into <dir>/<name>.jsonl via a temporary file renamed at the end.
PartResult write_part(const Recipe& recipe, const RecipePart& part, const RecipeBuildOptions& options,
                      tbb::task_arena& arena, QuestionSet& seen) {
  const std::string file = part.name + ".jsonl";
  const std::string path = (fs::path(options.output_dir) / file).string();
  PartResult result;
  write_stream_atomically(path, [&](std::ostream& out) {
    result = generate_part(recipe, part, options.scale, arena, seen, /*serialize=*/true,
                           [&](const pb::Task&, const std::string& line) { out << line; });
  });
  write_file_atomically(path + ".manifest.json", to_json_line(part_manifest(recipe, part, result, file)) + "\n");
  return result;
}

json part_entry(const RecipePart& part, const PartResult& r) {
  const Knobs resolved = resolve_knobs(find_family(part.family).generator, part.level, part.knobs);
  json knobs = json::object();
  for (const auto& [k, v] : resolved.values()) knobs[k] = v;
  return {{"name", part.name},          {"family", part.family},       {"level", part.level},
          {"knobs", knobs},             {"seed", part.seed},           {"count", r.written},
          {"file", part.name + ".jsonl"}, {"content_hash", r.hash.text()},
          {"skipped_duplicates", r.skipped}, {"indices_used", r.next_index}, {"label_counts", r.label_counts}};
}

}  // namespace

RecipeSummary build_recipe(const Recipe& recipe, const RecipeBuildOptions& options) {
  if (!(options.scale > 0) || !std::isfinite(options.scale)) throw RecipeError("--scale must be a positive number");
  constexpr uint64_t kMaxPartCount = 1'000'000'000;  // as `verity generate -n`
  for (const auto& part : recipe.parts)
    if (static_cast<double>(part.count) * options.scale > static_cast<double>(kMaxPartCount))
      throw RecipeError(recipe.path + ": part '" + part.name + "': count " + std::to_string(part.count) +
                        (options.scale == 1.0 ? "" : " x --scale") + " is over the limit of " +
                        std::to_string(kMaxPartCount) + " tasks per part");
  fs::create_directories(options.output_dir);
  tbb::task_arena arena(options.threads > 0 ? options.threads : tbb::info::default_concurrency());
  QuestionSet seen = excluded_questions(recipe, options.scale, arena, 0);
  json parts = json::array();
  RecipeSummary summary;
  ContentHash hash;  // of the parts' content hashes
  for (const auto& part : recipe.parts) {
    const PartResult r = write_part(recipe, part, options, arena, seen);
    parts.push_back(part_entry(part, r));
    summary.total += r.written;
    summary.skipped_duplicates += r.skipped;
    hash.update(r.hash.text());
  }
  summary.content_hash = hash.text();
  const json manifest = {{"recipe", recipe.name},
                         {"description", recipe.description},
                         {"source", fs::path(recipe.path).filename().string()},
                         {"source_hash", hash_text(recipe.source_hash)},
                         {"disjoint_from", recipe.disjoint_from},
                         {"scale", options.scale},
                         {"version", kVersion},
                         {"total", summary.total},
                         {"skipped_duplicates", summary.skipped_duplicates},
                         {"content_hash", summary.content_hash},
                         {"parts", parts}};
  summary.manifest_path = (fs::path(options.output_dir) / (recipe.name + ".manifest.json")).string();
  write_file_atomically(summary.manifest_path, manifest.dump(2) + "\n");
  return summary;
}

}  // namespace verity
