#include "tasks/dataset.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "tasks/json_reader.h"
#include "tasks/json_writer.h"

namespace verity {
namespace fs = std::filesystem;

FileFormat format_for_path(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".binpb" || ext == ".pb" ? FileFormat::Binary : FileFormat::Jsonl;
}

namespace {

// Task ids: "<family>-<16 hex digits of a hash of (family, knobs, seed, index)>".
uint64_t id_hash(uint64_t name_hash, uint64_t knobs_hash, uint64_t seed, uint64_t index) {
  return mix_seed({name_hash, knobs_hash, seed, index, 0x1d});
}

void append_hex16(uint64_t value, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  for (int i = 15; i >= 0; --i, value >>= 4) digits[i] = kHex[value & 15];
  out.append(digits, sizeof digits);
}

}  // namespace

std::string task_id(const std::string& family, const Knobs& knobs, uint64_t seed, uint64_t index) {
  std::string id = family + "-";
  append_hex16(id_hash(fnv1a64(family), fnv1a64(knobs.canonical()), seed, index), id);
  return id;
}

TaskMaker::TaskMaker(const Generator& generator, const Knobs& knobs, int level, uint64_t seed)
    : generator_(generator), knobs_(knobs), level_(level), seed_(seed), name_(generator.name()),
      name_hash_(fnv1a64(name_)), knobs_hash_(fnv1a64(knobs.canonical())),
      seed_knobs_hash_(fnv1a64(generator.seed_knobs(knobs))) {}

namespace {

// Empties `task` for the next task but keeps its heap. Task.Clear() deletes the oneof instance with
// every string and statement in it (30 of a syllogism's 100 allocations per task) and the knobs map;
// cleared in place, the next task of the same family reuses them. The result is the same message.
void clear_keeping_storage(pb::Task& task, const Knobs& knobs) {
  static const auto* const instance = [] {
    int plain = 0;  // a field added to Task must be cleared below too
    for (int i = 0; i < pb::Task::descriptor()->field_count(); ++i)
      plain += pb::Task::descriptor()->field(i)->containing_oneof() == nullptr;
    if (plain != 11) throw std::logic_error("pb::Task gained a field: clear it in clear_keeping_storage");
    return pb::Task::descriptor()->FindOneofByName("instance");
  }();
  const auto* reflection = task.GetReflection();
  if (const auto* field = reflection->GetOneofFieldDescriptor(task, instance))
    reflection->MutableMessage(&task, field)->Clear();
  const bool same_knobs = static_cast<size_t>(task.knobs().size()) == knobs.values().size() &&
                          std::all_of(knobs.values().begin(), knobs.values().end(), [&](const auto& kv) {
                            const auto it = task.knobs().find(kv.first);
                            return it != task.knobs().end() && it->second == kv.second;
                          });
  if (!same_knobs) {
    task.clear_knobs();
    for (const auto& [k, v] : knobs.values()) (*task.mutable_knobs())[k] = v;
  }
  task.clear_id(), task.clear_family(), task.clear_level(), task.clear_seed(), task.clear_index();
  task.clear_prompt(), task.clear_answer(), task.clear_trace(), task.clear_label(), task.clear_meta();
}

}  // namespace

void TaskMaker::make(uint64_t index, pb::Task& task) const {
  clear_keeping_storage(task, knobs_);
  Rng rng(mix_seed({name_hash_, seed_knobs_hash_, seed_, index}));
  std::string& id = *task.mutable_id();
  id.assign(name_).push_back('-');
  append_hex16(id_hash(name_hash_, knobs_hash_, seed_, index), id);
  task.set_family(name_);
  task.set_level(level_);
  task.set_seed(seed_);
  task.set_index(index);
  generator_.generate(rng, knobs_, task);
}

pb::Task make_task(const Generator& family, const Knobs& knobs, int level, uint64_t seed, uint64_t index) {
  pb::Task task;
  TaskMaker(family, knobs, level, seed).make(index, task);
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

// The temporary files being written, readable from a signal handler: a slot is claimed (1), filled,
// then published (2); the handler only reads published slots and only calls unlink().
constexpr size_t kTempSlots = 64;
constexpr size_t kTempPathMax = 4096;
struct TempSlot {
  std::atomic<int> state{0};
  char path[kTempPathMax];
};
TempSlot g_temp_files[kTempSlots];

int register_temporary(const std::string& path) {
  if (path.size() >= kTempPathMax) return -1;
  for (size_t i = 0; i < kTempSlots; ++i) {
    int expected = 0;
    if (g_temp_files[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_temp_files[i].path, path.c_str(), path.size() + 1);
      g_temp_files[i].state.store(2, std::memory_order_release);
      return static_cast<int>(i);
    }
  }
  return -1;  // more than kTempSlots at once: that file is left to the next run's stale clean-up
}

void unregister_temporary(int slot) {
  if (slot >= 0) g_temp_files[slot].state.store(0, std::memory_order_release);
}

extern "C" void remove_temporaries_and_reraise(int signal) {
  const int saved_errno = errno;
  for (auto& slot : g_temp_files)
    if (slot.state.load(std::memory_order_acquire) == 2) ::unlink(slot.path);
  // The default action ends the process as the signal would have (exit status: killed by it); the
  // signal is blocked while this handler runs, so it is delivered as the handler returns.
  ::signal(signal, SIG_DFL);
  ::raise(signal);
  errno = saved_errno;
}

// fsync of a file or folder; best effort (a file system without fsync still gets the rename).
void sync_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The output file of write_stream_atomically: 1 MiB writes, and the disk's writeback of every 8 MiB
// started as soon as they are written (sync_file_range, which only queues it), so the fsync before the
// rename waits for the last few MiB instead of the whole file (45 ms of a 0.32 s `verity generate`
// of 76 MB on two threads, all of it serial). A failed write leaves the stream bad (disk full).
class WritebackFile : public std::streambuf {
 public:
  explicit WritebackFile(int fd) : fd_(fd), buffer_(std::make_unique_for_overwrite<char[]>(kBuffer)) {
    setp(buffer_.get(), buffer_.get() + kBuffer);
  }
  WritebackFile(const WritebackFile&) = delete;
  WritebackFile& operator=(const WritebackFile&) = delete;

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
    return ch;
  }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    const auto size = static_cast<size_t>(n);
    if (size > static_cast<size_t>(epptr() - pptr())) {
      if (!flush_buffer()) return 0;
      if (size >= kBuffer / 2) return write_all(data, size) ? n : 0;  // large: no copy
    }
    std::memcpy(pptr(), data, size);
    pbump(static_cast<int>(n));
    return n;
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  static constexpr size_t kBuffer = size_t{1} << 20, kWriteback = size_t{8} << 20;
  bool flush_buffer() {
    const bool ok = write_all(pbase(), static_cast<size_t>(pptr() - pbase()));
    setp(buffer_.get(), buffer_.get() + kBuffer);
    return ok;
  }
  bool write_all(const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n, size -= static_cast<size_t>(n), written_ += static_cast<uint64_t>(n);
    }
    if (written_ - queued_ >= kWriteback) {
      ::sync_file_range(fd_, static_cast<off64_t>(queued_), static_cast<off64_t>(written_ - queued_),
                        SYNC_FILE_RANGE_WRITE);  // best effort: the fsync at the end is the guarantee
      queued_ = written_;
    }
    return true;
  }
  int fd_;
  std::unique_ptr<char[]> buffer_;  // not zero-filled: a small output touches only the pages it fills
  uint64_t written_ = 0, queued_ = 0;
};

bool process_is_gone(long pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH; }

}  // namespace

void remove_temporary_files_on_signals() {
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(signal, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_reraise;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal, &action, nullptr);
  }
}

// readdir, not fs::directory_iterator: that built a path object per entry (about 7k instructions), so
// scanning /tmp with 400 entries was a seventh of a small `generate` run.
size_t remove_stale_temporary_files(const std::string& path) {
  size_t removed = 0;
  try {
    const fs::path target(path);
    const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
    const std::string prefix = target.filename().string() + ".tmp.";
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
    if (!listing) return 0;
    while (const dirent* entry = ::readdir(listing.get())) {
      const std::string_view name(entry->d_name);
      if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
      const std::string_view pid = name.substr(prefix.size());
      if (pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string_view::npos) continue;
      if (!process_is_gone(std::stol(std::string(pid)))) continue;
      if (::unlink((dir + "/" + std::string(name)).c_str()) == 0) ++removed;
    }
  } catch (...) {
  }
  return removed;
}

void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (is_standard_output(path)) {
    write(std::cout);
    std::cout.flush();
    if (!std::cout) throw FileError("write to standard output failed (closed pipe or full disk?)");
    return;
  }
  remove_stale_temporary_files(path);
  const std::string tmp = temporary_path_for(path);
  const int slot = register_temporary(tmp);  // before the file exists: a signal never leaves it behind
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    unregister_temporary(slot);
    throw FileError("cannot write " + path + ": check that the folder exists and is writable");
  }
  try {
    {
      WritebackFile file(fd);
      std::ostream out(&file);
      write(out);
      out.flush();
      if (!out) throw FileError("write to " + tmp + " failed (disk full?)");
    }
    // the bytes first, then the name: a crash never leaves a renamed, empty file
    if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
      throw FileError("write to " + tmp + " failed: fsync: " + std::strerror(errno));
    const int closed = ::close(std::exchange(fd, -1));  // never closed twice: the number may be reused
    if (closed != 0) throw FileError("write to " + tmp + " failed: close: " + std::strerror(errno));
    fs::rename(tmp, path);
    const fs::path parent = fs::path(path).parent_path();
    sync_to_disk(parent.empty() ? "." : parent.string());
  } catch (...) {
    if (fd >= 0) ::close(fd);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    unregister_temporary(slot);
    throw;
  }
  unregister_temporary(slot);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_stream_atomically(path, [&](std::ostream& out) { out << content; });
}

namespace {

// The tasks of one stream, `path` naming it in errors.
std::vector<pb::Task> read_task_stream(std::istream& in, const std::string& path, FileFormat format) {
  std::vector<pb::Task> tasks;
  if (format == FileFormat::Binary) {
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

}  // namespace

std::vector<pb::Task> read_tasks(const std::string& path) {
  // JSONL on standard input: what `verity generate -o -` writes
  if (is_standard_input(path)) return read_task_stream(std::cin, kStandardInput, FileFormat::Jsonl);
  if (std::error_code error; fs::is_directory(path, error))
    throw FileError(path + ": is a folder, not a task file (give the .jsonl / .binpb file written by `verity generate`)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open (does the file exist?)");
  return read_task_stream(in, path, format_for_path(path));
}

}  // namespace verity
