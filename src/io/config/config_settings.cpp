#include "io/config/config_settings.hpp"

#include <algorithm>

namespace tomosweep {

namespace {

// An integer setting written as its zero name ("auto"): 0, or a problem for any other string.
double read_zero_name(TableReader& t, const SettingInfo& s, double current) {
  const std::string v = t.string(s.key, "");
  if (v == s.zero_name) return 0;
  t.problem(s.key, "expected an integer in [" + std::to_string(static_cast<long long>(s.lo)) + ", " +
                       std::to_string(static_cast<long long>(s.hi)) + "] or '" + std::string(s.zero_name) + "', got '" +
                       v + "'");
  return current;
}

} // namespace

double read_setting(TableReader& t, const SettingInfo& s, double current) {
  switch (s.kind) {
  case SettingKind::number:
    return t.number_in(s.key, current, s.lo, s.hi);
  case SettingKind::integer:
    if (!s.zero_name.empty() && t.holds_string(s.key)) return read_zero_name(t, s, current);
    return static_cast<double>(t.integer_in(s.key, static_cast<long long>(current), static_cast<long long>(s.lo),
                                            static_cast<long long>(s.hi)));
  case SettingKind::boolean:
    return t.boolean(s.key, current != 0) ? 1 : 0;
  case SettingKind::choice: {
    const std::vector<std::string> names(s.names.begin(), s.names.end());
    const std::string v = t.choice(s.key, names[static_cast<std::size_t>(current)], names);
    return static_cast<double>(std::find(names.begin(), names.end(), v) - names.begin());
  }
  }
  return current;
}

} // namespace tomosweep
