#include "io/files/atomic_file.hpp"

#include "core/errors.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tomosweep {

void write_file_atomically(const std::string& path, std::string_view bytes) { write_file_atomically(path, {bytes}); }

void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_io("cannot write ", errno_message(path));
  for (std::string_view bytes : pieces) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string msg = errno_message(path);
        ::close(fd);
        ::unlink(tmp.c_str());
        fail_io("cannot write ", msg);
      }
      done += static_cast<std::size_t>(n);
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string msg = errno_message(path);
    ::unlink(tmp.c_str());
    fail_io("cannot write ", msg);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = errno_message(path);
    ::unlink(tmp.c_str());
    fail_io("cannot write ", msg);
  }
}

std::string read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(errno_message(path));
  struct stat sb {};
  std::string out;
  if (::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) out.reserve(static_cast<std::size_t>(sb.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string msg = errno_message(path);
      ::close(fd);
      fail_io(msg);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

void read_file_exactly(const std::string& path, std::uint64_t offset, void* dst, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(errno_message(path));
  char* p = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd, p + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string msg = n < 0 ? errno_message(path) : path + ": file shorter than expected";
      ::close(fd);
      fail_io(msg);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

} // namespace tomosweep
