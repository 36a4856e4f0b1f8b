// Files written atomically: the bytes go to a temporary file in the same folder, which is renamed over the
// final name only once complete, so a reader (or a resumed run) never sees a half-written file.
#pragma once

#include <string>
#include <string_view>

namespace tomosweep {

/// Write `bytes` to `path` through "path.tmp.PID" and rename(2); throws IoError naming the path.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Whole file as bytes; throws IoError "PATH: reason" when it cannot be read.
std::string read_file_bytes(const std::string& path);

} // namespace tomosweep
