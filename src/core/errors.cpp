#include "core/errors.hpp"

#include <cerrno>
#include <cstring>

namespace tomosweep {

std::string errno_message(const std::string& path) { return path + ": " + std::strerror(errno); }

} // namespace tomosweep
