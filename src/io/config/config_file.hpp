// Sweep/job files: TOML -> JobConfig. The [sweep] table is read by sweep/ (sweep/expand.cpp).
#pragma once

#include "io/config/toml_reader.hpp"
#include "job/job_config.hpp"

#include <string>

namespace tomosweep {

/// Read [run], [model], [imaging], [reconstruction] and [prior] of a parsed file into a JobConfig.
/// Problems (unknown keys, wrong types, out-of-range values) are added to `problems`, never thrown;
/// the [sweep] table is skipped here.
JobConfig read_job_config(const toml::table& root, const std::string& file, Problems& problems);

/// Parse a file and read its job configuration, throwing ConfigError listing every problem.
JobConfig load_job_config(const std::string& path);

} // namespace tomosweep
