#include "io/config/overrides.hpp"

#include <map>
#include <sstream>

namespace tomosweep {
namespace {

/// A value node for `v`, taking over the source position of `src` (the sweep's node for this value) when
/// the types agree, so that read_job_config's messages point at the sweep line.
template <class T> void assign(toml::table& t, const std::string& key, const T& v, toml::node* src) {
  if (src) {
    if (auto* s = src->as<T>()) {
      toml::value<T> moved(std::move(*s));
      moved = v;
      t.insert_or_assign(key, std::move(moved));
      return;
    }
  }
  t.insert_or_assign(key, toml::value<T>(v));
}

} // namespace

std::string format_setting(const SettingValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        std::ostringstream os;
        if constexpr (std::is_same_v<X, std::string>)
          os << '"' << x << '"';
        else if constexpr (std::is_same_v<X, bool>)
          os << (x ? "true" : "false");
        else {
          os.precision(12);
          os << x;
        }
        return os.str();
      },
      v);
}

std::optional<double> setting_number(const SettingValue& v) {
  if (auto* i = std::get_if<long long>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

bool same_setting(const SettingValue& a, const SettingValue& b) {
  auto na = setting_number(a), nb = setting_number(b);
  if (na && nb) return *na == *nb;
  return a == b;
}

std::optional<SettingValue> setting_of(const toml::node& n) {
  if (auto v = n.value_exact<int64_t>()) return SettingValue(static_cast<long long>(*v));
  if (auto v = n.value_exact<double>()) return SettingValue(*v);
  if (auto v = n.value_exact<bool>()) return SettingValue(*v);
  if (auto v = n.value_exact<std::string>()) return SettingValue(*v);
  return std::nullopt;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '.') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

const toml::node* find_path(const toml::table& root, const std::string& path) {
  const toml::node* n = &root;
  for (const std::string& k : split_path(path)) {
    const toml::table* t = n->as_table();
    if (!t || !(n = t->get(k))) return nullptr;
  }
  return n;
}

void apply_override(toml::table& root, const std::string& file, const std::string& path, const SettingValue& v,
                    toml::node* src, Problems& problems) {
  const std::vector<std::string> keys = split_path(path);
  toml::table* t = &root;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    toml::node* n = t->get(keys[i]);
    if (!n) {
      t->insert_or_assign(keys[i], toml::table{});
      n = t->get(keys[i]);
    }
    if (!(t = n->as_table())) {
      problems.add(where(file, src ? src->source() : toml::source_region{}) + ": " + path + ": '" + keys[i] +
                   "' is not a table");
      return;
    }
  }
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, long long>)
          assign<int64_t>(*t, keys.back(), x, src);
        else
          assign<X>(*t, keys.back(), x, src);
      },
      v);
}

std::optional<double> known_setting(const JobConfig& c, const std::string& path) {
  static const std::map<std::string, double (*)(const JobConfig&)> kKnown{
      {"model.pixel_size_A", [](const JobConfig& j) { return j.model.pixel_size_A; }},
      {"imaging.voltage_kV", [](const JobConfig& j) { return j.imaging.voltage_kV; }},
      {"imaging.cs_mm", [](const JobConfig& j) { return j.imaging.cs_mm; }},
      {"imaging.amplitude_contrast", [](const JobConfig& j) { return j.imaging.amplitude_contrast; }},
      {"imaging.envelope_sigma", [](const JobConfig& j) { return j.imaging.envelope_sigma; }},
      {"imaging.defocus_um", [](const JobConfig& j) { return j.imaging.defocus_um; }},
      {"imaging.phase_shift_deg", [](const JobConfig& j) { return j.imaging.phase_shift_deg; }},
      {"imaging.dose_e_per_A2", [](const JobConfig& j) { return j.imaging.dose_e_per_A2; }},
      {"imaging.dqe", [](const JobConfig& j) { return j.imaging.dqe; }},
      {"imaging.imfp_A", [](const JobConfig& j) { return j.imaging.imfp_A; }},
      {"imaging.tilt.min_deg", [](const JobConfig& j) { return j.imaging.tilt.min_deg; }},
      {"imaging.tilt.max_deg", [](const JobConfig& j) { return j.imaging.tilt.max_deg; }},
      {"imaging.tilt.step_deg", [](const JobConfig& j) { return j.imaging.tilt.step_deg; }},
      {"imaging.tilt.axis_azimuth_deg", [](const JobConfig& j) { return j.imaging.tilt.axis_azimuth_deg; }},
      {"imaging.tilt.angle_error_deg", [](const JobConfig& j) { return j.imaging.tilt.angle_error_deg; }},
      {"reconstruction.cutoff", [](const JobConfig& j) { return j.reconstruction.cutoff; }},
      {"reconstruction.falloff", [](const JobConfig& j) { return j.reconstruction.falloff; }},
  };
  auto it = kKnown.find(path);
  if (it == kKnown.end()) return std::nullopt;
  return it->second(c);
}

} // namespace tomosweep
