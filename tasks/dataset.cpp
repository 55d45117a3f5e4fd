#include "tasks/dataset.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tasks/json_reader.h"
#include "tasks/json_writer.h"
#include "tasks/registry.h"

namespace verity {
namespace fs = std::filesystem;

FileFormat format_for_path(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".binpb" || ext == ".pb" ? FileFormat::Binary : FileFormat::Jsonl;
}

std::string task_id(const std::string& family, const Knobs& knobs, uint64_t seed, uint64_t index) {
  const uint64_t h = mix_seed({fnv1a64(family), fnv1a64(knobs.canonical()), seed, index, 0x1d});
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return family + "-" + buf;
}

pb::Task make_task(const Family& family, const Knobs& knobs, int level, uint64_t seed, uint64_t index) {
  Rng rng(mix_seed({fnv1a64(family.name()), fnv1a64(knobs.canonical()), seed, index}));
  pb::Task task;
  task.set_id(task_id(family.name(), knobs, seed, index));
  task.set_family(family.name());
  task.set_level(level);
  for (const auto& [k, v] : knobs.values()) (*task.mutable_knobs())[k] = v;
  task.set_seed(seed);
  task.set_index(index);
  family.generate(rng, knobs, task);
  return task;
}

std::string to_json_line(const google::protobuf::Message& message) {
  std::string out;
  out.reserve(1024);
  append_json(message, out);
  return out;
}

std::pair<uint64_t, uint64_t> shard_range(uint64_t count, uint64_t index, uint64_t shard_count) {
  if (shard_count == 0 || index >= shard_count)
    throw std::invalid_argument("--shard K/N needs 0 <= K < N (K is the 0-based job-array index)");
  const auto bound = [&](uint64_t k) {
    return static_cast<uint64_t>((static_cast<__uint128_t>(count) * k) / shard_count);
  };
  return {bound(index), bound(index + 1)};
}

namespace {

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

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
std::vector<std::string> render_block(const Family& family, const Knobs& knobs, int level, uint64_t seed,
                                      uint64_t begin, uint64_t end, FileFormat format) {
  std::vector<std::string> out(end - begin);
  tbb::parallel_for(tbb::blocked_range<uint64_t>(begin, end, 16), [&](const tbb::blocked_range<uint64_t>& r) {
    for (uint64_t i = r.begin(); i != r.end(); ++i) {
      const pb::Task task = make_task(family, knobs, level, seed, i);
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

void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = temporary_path_for(path);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw FileError("cannot write " + path + ": check that the folder exists and is writable");
  try {
    write(out);
    out.flush();
    if (!out) throw FileError("write to " + tmp + " failed (disk full?)");
    out.close();
  } catch (...) {
    out.close();
    fs::remove(tmp);
    throw;
  }
  fs::rename(tmp, path);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_stream_atomically(path, [&](std::ostream& out) { out << content; });
}

pb::DatasetManifest generate_dataset(const GenerateRequest& request) {
  const Family& family = find_family(request.family);
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
      std::vector<std::string> lines;
      arena.execute([&] { lines = render_block(family, knobs, request.level, request.seed, block, block_end, format); });
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

std::vector<pb::Task> read_tasks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open (does the file exist?)");
  std::vector<pb::Task> tasks;
  if (format_for_path(path) == FileFormat::Binary) {
    google::protobuf::io::IstreamInputStream stream(&in);
    for (;;) {
      pb::Task task;
      bool clean_eof = false;
      if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&task, &stream, &clean_eof)) {
        if (clean_eof) break;
        throw FileError(path + ": record " + std::to_string(tasks.size() + 1) +
                        " is not a length-delimited Task (truncated or not a .binpb written by verity?)");
      }
      tasks.push_back(std::move(task));
    }
    return tasks;
  }
  // Parsing JSON is the slow part of reading, so lines are parsed in parallel; the first bad line
  // (lowest number) is the one reported.
  std::vector<std::pair<size_t, std::string>> lines;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.emplace_back(number, std::move(line));
  tasks.resize(lines.size());
  std::vector<std::string> errors(lines.size());
  tbb::parallel_for(size_t{0}, lines.size(), [&](size_t i) {
    const auto& [number, text] = lines[i];
    if (const std::string problem = parse_json_message(text, tasks[i], /*ignore_unknown_fields=*/false);
        !problem.empty()) {
      errors[i] = path + ":" + std::to_string(number) + ": not a Task record (" + problem +
                  "); each line must be one JSON task as written by `verity generate`";
    } else if (tasks[i].id().empty() || tasks[i].family().empty()) {
      errors[i] = path + ":" + std::to_string(number) + ": task has no id or family";
    }
  });
  for (const auto& error : errors)
    if (!error.empty()) throw FileError(error);
  return tasks;
}

}  // namespace verity
