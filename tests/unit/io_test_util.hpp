// Helpers shared by the io/ tests: a private temporary folder and writing text files.
#pragma once

#include "io/files/atomic_file.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>

namespace io_test {

// A fresh folder per test executable, removed at exit.
inline const std::string& tmp_dir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    fs::path p = fs::temp_directory_path() / ("tomosweep_io_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  static struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}
inline std::string tmp(const std::string& name) { return tmp_dir() + "/" + name; }

inline void write_text(const std::string& path, const std::string& text) {
  tomosweep::write_file_atomically(path, text);
}

} // namespace io_test
