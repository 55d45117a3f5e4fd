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

pb::Task make_task(const Generator& family, const Knobs& knobs, int level, uint64_t seed, uint64_t index) {
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

namespace {

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
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
