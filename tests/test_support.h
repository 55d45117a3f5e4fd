// What several test files need: a scratch directory, a whole file as a string, and the built
// `verity` binary run the way a user runs it.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace verity::testing {

// A fresh, empty scratch directory per test process: <tmp>/<prefix>_<name>_<pid>.
inline std::filesystem::path fresh_temp_dir(const std::string& prefix, const std::string& name) {
  namespace fs = std::filesystem;
  fs::path p = fs::temp_directory_path() / (prefix + "_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// The whole file, bytes as they are; "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

#ifdef VERITY_BINARY
struct VerityRun {
  int status = -1;     // exit code; -1 when killed by a signal or not started
  std::string output;  // stdout and stderr together
};

// `verity <args>` through the shell (so args may redirect or pipe).
inline VerityRun run_verity(const std::string& args) {
  VerityRun r;
  const std::string command = std::string(VERITY_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
#endif

}  // namespace verity::testing
