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

// Serialises tasks [begin, end) in parallel; order is by index, so bytes never depend on threads.
// Also returns each task's label, for the manifest's label_counts.
std::vector<std::string> render_block(const Generator& family, const Knobs& knobs, int level, uint64_t seed,
                                      uint64_t begin, uint64_t end, FileFormat format, std::vector<std::string>& labels) {
  std::vector<std::string> out(end - begin);
  labels.assign(end - begin, {});
  tbb::parallel_for(tbb::blocked_range<uint64_t>(begin, end, 16), [&](const tbb::blocked_range<uint64_t>& r) {
    for (uint64_t i = r.begin(); i != r.end(); ++i) {
      const pb::Task task = make_task(family, knobs, level, seed, i);
      labels[i - begin] = task.label();
      std::string& bytes = out[i - begin];
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
  return out;
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

  pb::DatasetManifest manifest;
  uint64_t hash = kFnvOffset;
  ProgressBar progress(request.progress, end - begin);
  constexpr uint64_t kBlock = 4096;
  write_stream_atomically(request.output, [&](std::ostream& out) {
    for (uint64_t block = begin; block < end; block += kBlock) {
      const uint64_t block_end = std::min(end, block + kBlock);
      std::vector<std::string> lines, labels;
      arena.execute(
          [&] { lines = render_block(family, knobs, request.level, request.seed, block, block_end, format, labels); });
      for (const auto& label : labels) ++(*manifest.mutable_label_counts())[label];
      for (const auto& line : lines) {
        out << line;
        hash = fnv1a64(line, hash);
      }
      progress.update(block_end - begin);
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
