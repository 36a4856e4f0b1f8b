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

/// Whole file as bytes; throws IoError "PATH: reason" when it cannot be read.
std::string read_file_bytes(const std::string& path);

/// Read exactly `bytes` bytes at `offset` into dst; throws IoError "PATH: reason" (also when the file is shorter).
void read_file_exactly(const std::string& path, std::uint64_t offset, void* dst, std::size_t bytes);

} // namespace tomosweep
