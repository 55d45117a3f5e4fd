// Dataset generation: a family's tasks [shard of 0, count) written in parallel, deterministically
// (bytes never depend on the thread count), through a temporary file renamed at the end.
#include "service/generate.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unordered_set>

#include "tasks/registry/registry.h"

namespace verity {
namespace fs = std::filesystem;

std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count) {
  if (shard_count == 0 || index >= shard_count)
    throw std::invalid_argument("--shard K/N needs 0 <= K < N (K is the 0-based job-array index)");
  const auto bound = [&](uint64_t k) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(count) * k) / shard_count);
  };
  return {bound(index), bound(index + 1)};
}

namespace {

class ProgressBar {
 public:
  ProgressBar(bool enabled, uint64_t total)
      : enabled_(enabled && total > 0 && ::isatty(STDERR_FILENO)), total_(total),
        start_(std::chrono::steady_clock::now()) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%llu %.0f tasks/s", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(100 * done / total_),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 seconds > 0 ? done / seconds : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
};

// Candidates [begin, end) of the index stream, made in parallel: each one's question (a hash of the
// family's question_key), label and, when `serialize`, its bytes. Order is by index, so the bytes never
// depend on the thread count.
struct Candidates {
  std::vector<uint64_t> questions;
  std::vector<std::string> labels, bytes;
};

Candidates make_candidates(const Generator& family, const Knobs& knobs, int level, uint64_t seed, uint64_t begin,
                           uint64_t end, FileFormat format, bool serialize) {
  Candidates c;
  c.questions.resize(end - begin);
  c.labels.resize(end - begin);
  c.bytes.resize(serialize ? end - begin : 0);
  tbb::parallel_for(tbb::blocked_range<uint64_t>(begin, end, 16), [&](const tbb::blocked_range<uint64_t>& r) {
    for (uint64_t i = r.begin(); i != r.end(); ++i) {
      const pb::Task task = make_task(family, knobs, level, seed, i);
      c.questions[i - begin] = fnv1a64(family.question_key(task));
      c.labels[i - begin] = task.label();
      if (!serialize) continue;
      std::string& bytes = c.bytes[i - begin];
      if (format == FileFormat::Jsonl) {
        bytes = to_json_line(task) + "\n";
      } else {
        google::protobuf::io::StringOutputStream stream(&bytes);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);  // map keys sorted: stable bytes
        google::protobuf::util::SerializeDelimitedToCodedStream(task, &coded);
      }
    }
  });
  return c;
}

// Drawn in a row without a new question, the knobs' questions count as exhausted.
uint64_t exhausted_after(uint64_t distinct) { return 20000 + distinct; }

// The integer knobs still below their maximum ("people (now 3, up to 10)"): the ones to raise.
std::string knobs_to_raise(const Generator& family, const Knobs& knobs) {
  std::string out;
  for (const auto& spec : family.knob_specs()) {
    if (spec.kind != KnobSpec::Kind::Int || knobs.get_int(spec.name) >= static_cast<long>(spec.max)) continue;
    out += (out.empty() ? "" : ", ") + spec.name + " (now " + knobs.get(spec.name) + ", up to " +
           std::to_string(static_cast<long>(spec.max)) + ")";
  }
  return out;
}

std::string too_few_questions(const Generator& family, const Knobs& knobs, uint64_t distinct, uint64_t drawn,
                              uint64_t count) {
  const std::string raise = knobs_to_raise(family, knobs);
  return family.name() + " with knobs " + knobs.canonical() + " has only " + std::to_string(distinct) +
         " distinct questions (names and statement order ignored; no new one among the last " +
         std::to_string(drawn) + " drawn), fewer than the " + std::to_string(count) + " asked for (-n): raise " +
         (raise.empty() ? std::string("the level") : "the level or one of " + raise) + ", or lower -n to at most " +
         std::to_string(distinct);
}

}  // namespace

pb::DatasetManifest generate_dataset(const GenerateRequest& request) {
  const Generator& family = find_family(request.family).generator;
  const Knobs knobs = resolve_knobs(family, request.level, request.knobs);
  const auto range = shard_range(request.count, request.shard_index, request.shard_count);
  const uint64_t begin = range.first, end = range.second;  // captured below: no structured binding (clang 14)
  const FileFormat format = format_for_path(request.output);
  const int threads = request.threads > 0 ? request.threads : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);

  // The dataset is the first `count` candidates of the index stream 0, 1, 2, ... whose question is new
  // (no two tasks are the same question, family.question_key); the shard is positions [begin, end) of
  // it, so a shard first walks the questions before it (without writing them).
  pb::DatasetManifest manifest;
  uint64_t hash = kFnvOffset;
  ProgressBar progress(request.progress, end - begin);
  std::unordered_set<uint64_t> seen;
  uint64_t position = 0, next = 0, since_new = 0;
  constexpr uint64_t kBlock = 4096;
  write_stream_atomically(request.output, [&](std::ostream& out) {
    while (position < end) {
      // What is still missing, plus the share of repeats seen so far (none: no candidate made in vain).
      const uint64_t missing = end - position, repeats = next - seen.size();
      const uint64_t extra = repeats == 0 ? 0 : missing * repeats / next + 8;
      const uint64_t block = next, block_end = next + std::min(kBlock, missing + extra);
      const bool serialize = position + (block_end - block) > begin;
      Candidates c;
      arena.execute([&] {
        c = make_candidates(family, knobs, request.level, request.seed, block, block_end, format, serialize);
      });
      for (uint64_t i = 0; i < block_end - block && position < end; ++i) {
        next = block + i + 1;
        if (!seen.insert(c.questions[i]).second) {
          if (++since_new >= exhausted_after(seen.size()))
            throw std::invalid_argument(too_few_questions(family, knobs, seen.size(), since_new, request.count));
          continue;
        }
        since_new = 0;
        if (position++ < begin) continue;
        ++(*manifest.mutable_label_counts())[c.labels[i]];
        out << c.bytes[i];
        hash = fnv1a64(c.bytes[i], hash);
      }
      if (position > begin) progress.update(position - begin);
    }
  });

  manifest.set_recipe(request.recipe);
  manifest.set_family(family.name());
  manifest.set_level(request.level);
  for (const auto& [k, v] : knobs.values()) (*manifest.mutable_knobs())[k] = v;
  manifest.set_seed(request.seed);
  manifest.set_count(end - begin);
  manifest.set_total(request.count);
  manifest.set_shard(std::to_string(request.shard_index) + "/" + std::to_string(request.shard_count));
  manifest.set_version(kVersion);
  manifest.set_format(format == FileFormat::Jsonl ? "jsonl" : "binpb");
  char hex[32];
  std::snprintf(hex, sizeof hex, "fnv1a64:%016llx", static_cast<unsigned long long>(hash));
  manifest.set_content_hash(hex);
  manifest.set_output(fs::path(request.output).filename().string());
  write_file_atomically(request.output + ".manifest.json", to_json_line(manifest) + "\n");
  return manifest;
}

}  // namespace verity
