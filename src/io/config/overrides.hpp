// Settings as single TOML values: reading one from a node, finding a node by its dotted path, and writing
// an override into a parsed file so that the job's reading checks it like a written setting.
#pragma once

#include "io/config/toml_reader.hpp"
#include "job/job_config.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tomosweep {

/// One value of a scalar setting.
using SettingValue = std::variant<long long, double, bool, std::string>;

/// A setting value as TOML would print it (strings quoted).
std::string format_setting(const SettingValue& v);
/// Numeric value of a setting (nullopt for strings and booleans).
std::optional<double> setting_number(const SettingValue& v);
/// Equal values; numbers compare by value whatever their type (1 == 1.0).
bool same_setting(const SettingValue& a, const SettingValue& b);

/// The value of a scalar node (nullopt for tables, arrays and dates).
std::optional<SettingValue> setting_of(const toml::node& n);

/// "imaging.tilt.step_deg" -> {"imaging", "tilt", "step_deg"}.
std::vector<std::string> split_path(const std::string& path);
/// The node at a dotted path below `root`, or nullptr.
const toml::node* find_path(const toml::table& root, const std::string& path);

/// Set the setting at `path` of `root` to `v`, creating missing tables. The new value takes over the source
/// position of `src` (the node the value was written at, e.g. in [sweep]) when the types agree, so that
/// read_job_config's messages point at that line. A path through a non-table is a problem.
void apply_override(toml::table& root, const std::string& file, const std::string& path, const SettingValue& v,
                    toml::node* src, Problems& problems);

} // namespace tomosweep
