#include "core/errors.hpp"

#include <cstdio>

#include <cerrno>
#include <cstring>

namespace tomosweep {

std::string errno_message(const std::string& path) { return path + ": " + std::strerror(errno); }

void print_error(const std::string& message) {
  std::size_t start = 0;
  do {
    const std::size_t end = message.find('\n', start);
    std::fprintf(stderr, "tomosweep: error: %s\n", message.substr(start, end - start).c_str());
    start = end == std::string::npos ? end : end + 1;
  } while (start != std::string::npos);
}

void print_warning(const std::string& message) { std::fprintf(stderr, "tomosweep: warning: %s\n", message.c_str()); }

} // namespace tomosweep
