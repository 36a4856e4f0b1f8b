// Files written atomically: the bytes go to a temporary file in the same folder, which is renamed over the
// final name only once complete, so a reader (or a resumed run) never sees a half-written file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace tomosweep {

/// Write `bytes` to `path` through "path.tmp.PID" and rename(2); throws IoError naming the path.
void write_file_atomically(const std::string& path, std::string_view bytes);
/// The same for several pieces written one after the other (no concatenated copy is made).
void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces);

/// A file written atomically piece by piece: append() as often as needed, then commit() renames it into place
/// (a writer destroyed without commit() removes its temporary file). Large files bypass the page cache
/// (O_DIRECT through an aligned buffer, where the file system allows it): on virtual machines the kernel's copy
/// into the page cache costs more than the disk. The bytes on disk are the same either way.
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path, std::uint64_t expected_bytes = 0);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void append(const void* bytes, std::size_t n);
  void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
  void commit();

private:
  void flush_buffer(bool last);
  void write_all(const char* p, std::size_t n);
  [[noreturn]] void fail_write();
  std::string path_, tmp_;
  int fd_ = -1;
  bool direct_ = false;
  char* buf_ = nullptr; // aligned bounce buffer (direct I/O only)
  std::size_t used_ = 0;
  std::uint64_t written_ = 0;
};

/// Whole file as bytes; throws IoError "PATH: reason" when it cannot be read.
std::string read_file_bytes(const std::string& path);

/// Read exactly `bytes` bytes at `offset` into dst; throws IoError "PATH: reason" (also when the file is shorter).
void read_file_exactly(const std::string& path, std::uint64_t offset, void* dst, std::size_t bytes);

} // namespace tomosweep
