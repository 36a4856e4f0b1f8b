// Helpers shared by the io/ tests: a private temporary folder and error capture.
#pragma once

#include "core/errors.hpp"
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

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const tomosweep::Error& e) {
    return e.what();
  }
  return "(no error)";
}
template <class E, class F> bool throws_type(F&& f) {
  try {
    f();
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

inline void write_text(const std::string& path, const std::string& text) {
  tomosweep::write_file_atomically(path, text);
}

} // namespace io_test
