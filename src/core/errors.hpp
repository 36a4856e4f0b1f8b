// One exception family for the whole program. Only main catches.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tomosweep {

/// Any failure tomosweep reports to the user: a one-line, lowercase message.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A bad setting: the message names the file, line:column and key path.
struct ConfigError : Error {
  using Error::Error;
};

/// A file that cannot be read or written: the message names the path and the cause.
struct IoError : Error {
  using Error::Error;
};

/// An error already printed (with print_error) by the code that threw it: main exits non-zero without printing
/// it again. The sweep uses it where ranks must print before any of them exits.
struct ReportedError : Error {
  using Error::Error;
};

/// Print an error message to stderr, one "tomosweep: error: " line per line of the message.
void print_error(const std::string& message);
/// Print a warning to stderr: "tomosweep: warning: MESSAGE".
void print_warning(const std::string& message);

namespace detail {
template <class... Args> std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
} // namespace detail

/// Throw Error with the arguments streamed together, like gemmi::fail.
template <class... Args> [[noreturn]] void fail(Args&&... args) {
  throw Error(detail::concat(std::forward<Args>(args)...));
}
template <class... Args> [[noreturn]] void fail_config(Args&&... args) {
  throw ConfigError(detail::concat(std::forward<Args>(args)...));
}
template <class... Args> [[noreturn]] void fail_io(Args&&... args) {
  throw IoError(detail::concat(std::forward<Args>(args)...));
}

/// "path: strerror(errno)" for the current errno.
std::string errno_message(const std::string& path);

} // namespace tomosweep
