// Shared by the libFuzzer targets (tools/fuzz.sh): a per-process scratch file for readers that take a path,
// and the rule of what counts as a finding. tomosweep::Error (and its subclasses) is the expected way to
// reject bad input; any other exception escapes the target, and libFuzzer reports the abort.
#pragma once

#include "core/errors.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fuzz {

/// A private folder under $TMPDIR (or /tmp) for this process, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    fs::path p = fs::temp_directory_path() / ("tomosweep_fuzz_" + std::to_string(::getpid()));
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

/// Write the input bytes to scratch_dir()/name and return the path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

/// A reader's error must be one line (tomosweep prints it as "tomosweep: error: ..."): a message with a
/// line break or without text is a finding. FUZZ_PRINT_ERRORS=1 prints each message (to triage an input).
inline void check_one_line(const tomosweep::Error& e) {
  const std::string m = e.what();
  if (std::getenv("FUZZ_PRINT_ERRORS")) std::fprintf(stderr, "error: %s\n", m.c_str());
  if (m.empty() || m.find('\n') != std::string::npos) {
    std::fprintf(stderr, "finding: error message is not one line: [%s]\n", m.c_str());
    std::abort();
  }
}

} // namespace fuzz
