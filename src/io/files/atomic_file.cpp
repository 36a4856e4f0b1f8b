#include "io/files/atomic_file.hpp"

#include "core/errors.hpp"
#include "core/system.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tomosweep {

namespace {
constexpr std::size_t kDirectAlign = 4096;         // logical block size O_DIRECT needs (and more)
constexpr std::size_t kDirectBuffer = 4u << 20;     // bytes per direct write
constexpr std::uint64_t kDirectMinBytes = 8u << 20; // smaller files go through the page cache
} // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, std::uint64_t expected_bytes)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
#ifdef O_DIRECT
  if (expected_bytes >= kDirectMinBytes) {
    fd_ = ::open(tmp_.c_str(), flags | O_DIRECT, 0644);
    if (fd_ >= 0) {
      buf_ = static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectBuffer));
      direct_ = buf_ != nullptr;
      if (direct_) prefault_for_write(buf_, kDirectBuffer);
      if (!direct_) ::close(fd_), fd_ = -1;
    }
  }
#else
  (void)expected_bytes;
#endif
  if (fd_ < 0) fd_ = ::open(tmp_.c_str(), flags, 0644);
  if (fd_ < 0) fail_io("cannot write ", errno_message(path_));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
  std::free(buf_);
}

void AtomicFileWriter::fail_write() {
  const std::string msg = errno_message(path_);
  ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  fail_io("cannot write ", msg);
}

void AtomicFileWriter::write_all(const char* p, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t k = ::write(fd_, p + done, n - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      fail_write();
    }
    done += static_cast<std::size_t>(k);
  }
}

// Direct I/O writes whole aligned blocks: the last one is padded with zeros and the file cut to its size.
void AtomicFileWriter::flush_buffer(bool last) {
  if (used_ == 0) return;
  const std::size_t n = last ? (used_ + kDirectAlign - 1) / kDirectAlign * kDirectAlign : used_;
  std::memset(buf_ + used_, 0, n - used_);
  write_all(buf_, n);
  written_ += used_;
  used_ = 0;
  if (last && ::ftruncate(fd_, static_cast<off_t>(written_)) != 0) fail_write();
}

void AtomicFileWriter::append(const void* bytes, std::size_t n) {
  const char* p = static_cast<const char*>(bytes);
  if (!direct_) return write_all(p, n);
  while (n > 0) {
    const std::size_t k = std::min(n, kDirectBuffer - used_);
    std::memcpy(buf_ + used_, p, k);
    used_ += k, p += k, n -= k;
    if (used_ == kDirectBuffer) flush_buffer(false);
  }
}

void AtomicFileWriter::commit() {
  if (direct_) flush_buffer(true);
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string msg = errno_message(path_);
    ::unlink(tmp_.c_str());
    fail_io("cannot write ", msg);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string msg = errno_message(path_);
    ::unlink(tmp_.c_str());
    fail_io("cannot write ", msg);
  }
}

void write_file_atomically(const std::string& path, std::string_view bytes) { write_file_atomically(path, {bytes}); }

void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces) {
  std::uint64_t total = 0;
  for (std::string_view bytes : pieces) total += bytes.size();
  AtomicFileWriter w(path, total);
  for (std::string_view bytes : pieces) w.append(bytes);
  w.commit();
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
