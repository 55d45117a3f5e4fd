// Dataset recipes: a declarative JSON file (datasets/*.json, format in datasets/README.md) that lists
// the parts of one dataset split, each {name, family, level and/or knobs, count, seed}. Building a
// recipe writes one JSONL file per part with its DatasetManifest, plus a recipe manifest with counts,
// seeds and content hashes. Rebuilding gives identical bytes.
//
// A recipe is one split: no question (graph / premises + query) appears twice in it, and none appears
// in the recipes it names in "disjoint_from" (e.g. an evaluation split names its training split).
// Duplicates are skipped in index order and replaced by the next indices, so the output is still a
// pure function of the recipe.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "schemas/verity.pb.h"
#include "tasks/knobs.h"
#include "tasks/registry/registry.h"  // question_key

namespace verity {

class RecipeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RecipePart {
  std::string name;    // also the output file name: <name>.jsonl
  std::string family;
  int level = 0;
  KnobMap knobs;       // overrides on top of the level ladder
  uint64_t count = 0;
  uint64_t seed = 0;
};

struct Recipe {
  std::string path;                        // the file it was read from (error messages, relative paths)
  std::string name;
  std::string description;
  std::vector<std::string> disjoint_from;  // other recipe files, relative to this one
  std::vector<RecipePart> parts;
  uint64_t source_hash = 0;                // xxh64 of the file's bytes (tasks/content_hash.h)
};

// Parses and validates (families, levels, knobs, counts, unique part names); errors name the file
// and the field, e.g. "datasets/x.json: parts[2] ('seq7').count: expected a positive integer".
Recipe load_recipe(const std::string& path);
Recipe parse_recipe(const std::string& json_text, const std::string& path_for_messages);

struct RecipeBuildOptions {
  std::string output_dir;
  double scale = 1.0;  // multiplies every part's count (at least 1 task per part): quick previews, tests
  int threads = 0;     // 0 = all cores
};

struct RecipeSummary {
  uint64_t total = 0;
  uint64_t skipped_duplicates = 0;
  std::string manifest_path;
  std::string content_hash;
};

// Writes <output_dir>/<part>.jsonl (+ .manifest.json) for every part and
// <output_dir>/<recipe name>.manifest.json.
RecipeSummary build_recipe(const Recipe& recipe, const RecipeBuildOptions& options);

}  // namespace verity
