#include "io/config/overrides.hpp"

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

} // namespace tomosweep
