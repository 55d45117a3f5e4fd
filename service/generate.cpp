// Dataset generation: a family's tasks [shard of 0, count) written in parallel, deterministically
// (bytes never depend on the thread count), through a temporary file renamed at the end.
#include "service/generate.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tasks/content_hash.h"
#include "tasks/json_writer.h"
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

// Tasks rendered by one worker in one go, into one reused buffer.
constexpr uint64_t kChunk = 32;

// A chunk's tasks as file bytes, and how often each label occurs in it.
struct Chunk {
  std::string bytes;
  std::vector<std::pair<std::string, uint64_t>> labels;
};

void count_label(const std::string& label, std::vector<std::pair<std::string, uint64_t>>& counts) {
  for (auto& [known, n] : counts)
    if (known == label) {
      ++n;
      return;
    }
  counts.emplace_back(label, 1);
}

void append_record(const pb::Task& task, FileFormat format, std::string& bytes) {
  if (format == FileFormat::Jsonl) {
    append_json(task, bytes);
    bytes.push_back('\n');
    return;
  }
  // Length-delimited, map keys sorted. Not SerializeDelimitedToCodedStream: when its stream has room
  // it serialises to an array without the deterministic flag, in the map's hash order (which depends
  // on the reused Task's history, so on the thread count).
  using google::protobuf::io::CodedOutputStream;
  const size_t size = task.ByteSizeLong();
  uint8_t prefix[10];
  const uint8_t* prefix_end = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), prefix);
  bytes.append(reinterpret_cast<const char*>(prefix), static_cast<size_t>(prefix_end - prefix));
  const size_t at = bytes.size();
  bytes.resize(at + size);
  google::protobuf::io::ArrayOutputStream array(bytes.data() + at, static_cast<int>(size));
  CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  task.SerializeWithCachedSizes(&coded);
}

// A block of tasks rendered in parallel into chunks of kChunk tasks: the file's bytes are the chunks
// in order, so they never depend on the thread count. Buffers and Tasks are reused from block to block.
struct Block {
  uint64_t begin = 0, end = 0;
  std::vector<Chunk> chunks;

  size_t chunk_count() const { return static_cast<size_t>((end - begin + kChunk - 1) / kChunk); }
  uint64_t bytes() const {
    uint64_t n = 0;
    for (size_t c = 0; c < chunk_count(); ++c) n += chunks[c].bytes.size();
    return n;
  }
  void render(const TaskMaker& maker, FileFormat format, tbb::enumerable_thread_specific<pb::Task>& scratch) {
    if (chunks.size() < chunk_count()) chunks.resize(chunk_count());
    tbb::parallel_for(size_t{0}, chunk_count(), [&](size_t c) {
      Chunk& chunk = chunks[c];
      chunk.bytes.clear();
      chunk.labels.clear();
      pb::Task& task = scratch.local();
      const uint64_t first = begin + c * kChunk, last = std::min(end, first + kChunk);
      for (uint64_t i = first; i < last; ++i) {
        maker.make(i, task);
        count_label(task.label(), chunk.labels);
        append_record(task, format, chunk.bytes);
      }
    });
  }
};

// Tasks per block: at most kBlockBytes of output (two blocks are in memory: one rendered while the
// other is written) and kMaxBlock tasks (the progress bar moves per block), at least a few chunks per
// thread so the threads stay busy.
constexpr uint64_t kBlockBytes = uint64_t{16} << 20, kMaxBlock = 4096;
uint64_t next_block_size(uint64_t bytes_so_far, uint64_t tasks_so_far, int threads) {
  const uint64_t floor = kChunk * 4 * static_cast<uint64_t>(threads);
  if (tasks_so_far == 0) return floor;
  const uint64_t per_task = std::max<uint64_t>(1, bytes_so_far / tasks_so_far);
  return std::max(floor, std::min(kMaxBlock, kBlockBytes / per_task / kChunk * kChunk));
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
  ContentHash hash;
  ProgressBar progress(request.progress, end - begin);
  const TaskMaker maker(family, knobs, request.level, request.seed);
  tbb::enumerable_thread_specific<pb::Task> scratch;
  // Block k is written (a task in the arena, so --threads N means N threads in all) while block k + 1
  // is rendered; with one thread the two simply take turns.
  Block blocks[2];
  write_stream_atomically(request.output, [&](std::ostream& out) {
    const auto write = [&](const Block& block) {
      for (size_t c = 0; c < block.chunk_count(); ++c) {
        const Chunk& chunk = block.chunks[c];
        out.write(chunk.bytes.data(), static_cast<std::streamsize>(chunk.bytes.size()));
        hash.update(chunk.bytes);
        for (const auto& [label, n] : chunk.labels) (*manifest.mutable_label_counts())[label] += n;
      }
      progress.update(block.end - begin);
    };
    arena.execute([&] {
      tbb::task_group writer;
      try {
        uint64_t bytes = 0;
        for (uint64_t next = begin, k = 0; next < end; ++k) {
          Block& block = blocks[k % 2];
          block.begin = next;
          block.end = next = std::min(end, next + next_block_size(bytes, next - begin, threads));
          block.render(maker, format, scratch);
          bytes += block.bytes();
          writer.wait();  // the previous block is out: its buffers may be rendered into next
          writer.run([&write, &block] { write(block); });
        }
        writer.wait();
      } catch (...) {
        writer.cancel();
        try {
          writer.wait();
        } catch (...) {
        }
        throw;
      }
    });
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
  manifest.set_content_hash(hash.text());
  manifest.set_output(fs::path(request.output).filename().string());
  write_file_atomically(request.output + ".manifest.json", to_json_line(manifest) + "\n");
  return manifest;
}

}  // namespace verity
