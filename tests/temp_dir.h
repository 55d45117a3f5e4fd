// A fresh, empty scratch directory per test process: <tmp>/<prefix>_<name>_<pid>.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

namespace verity::testing {

inline std::filesystem::path fresh_temp_dir(const std::string& prefix, const std::string& name) {
  namespace fs = std::filesystem;
  fs::path p = fs::temp_directory_path() / (prefix + "_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

}  // namespace verity::testing
