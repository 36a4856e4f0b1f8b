#include "io/config/toml_reader.hpp"

#include <fstream>
#include <sstream>

namespace tomosweep {
namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::table:
    return "a table";
  default:
    return "a date or time";
  }
}

std::string fmt_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

} // namespace

void Problems::throw_if_any() const {
  if (lines.empty()) return;
  std::string msg;
  for (const std::string& l : lines) {
    if (!msg.empty()) msg += '\n';
    msg += l;
  }
  throw ConfigError(msg);
}

std::string where(const std::string& file, const toml::source_region& src) {
  if (src.begin.line == 0) return file;
  return file + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

TableReader::TableReader(const toml::table& table, std::string file, std::string prefix, Problems& problems)
    : table_(&table), file_(std::move(file)), prefix_(std::move(prefix)), problems_(&problems) {}

std::string TableReader::path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

const toml::node* TableReader::get(std::string_view key) {
  read_.insert(std::string(key));
  return table_->get(key);
}

void TableReader::problem(std::string_view key, const std::string& what) const {
  const toml::node* n = table_->get(key);
  // An absent key of the root table has no useful position: name the file alone.
  const std::string at = n ? where(file_, n->source()) : prefix_.empty() ? file_ : where(file_, table_->source());
  problems_->add(at + ": " + path(key) + ": " + what);
}

void TableReader::type_problem(std::string_view key, const toml::node& node, const char* expected) const {
  problem(key, std::string("expected ") + expected + ", got " + type_name(node));
}

double TableReader::number(std::string_view key, double def) {
  const toml::node* n = get(key);
  if (!n) return def;
  if (auto v = n->value_exact<double>()) return *v;
  if (auto v = n->value_exact<int64_t>()) return static_cast<double>(*v);
  type_problem(key, *n, "a number");
  return def;
}

double TableReader::number_in(std::string_view key, double def, double lo, double hi) {
  const double v = number(key, def);
  if (has(key) && !(v >= lo && v <= hi))
    problem(key, "expected a number in [" + fmt_number(lo) + ", " + fmt_number(hi) + "], got " + fmt_number(v));
  return v;
}

long long TableReader::integer(std::string_view key, long long def) {
  const toml::node* n = get(key);
  if (!n) return def;
  if (auto v = n->value_exact<int64_t>()) return *v;
  type_problem(key, *n, "an integer");
  return def;
}

long long TableReader::integer_in(std::string_view key, long long def, long long lo, long long hi) {
  const long long v = integer(key, def);
  if (has(key) && (v < lo || v > hi))
    problem(key, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                     std::to_string(v));
  return v;
}

bool TableReader::boolean(std::string_view key, bool def) {
  const toml::node* n = get(key);
  if (!n) return def;
  if (auto v = n->value_exact<bool>()) return *v;
  type_problem(key, *n, "a boolean");
  return def;
}

std::string TableReader::string(std::string_view key, const std::string& def) {
  const toml::node* n = get(key);
  if (!n) return def;
  if (auto v = n->value_exact<std::string>()) return *v;
  type_problem(key, *n, "a string");
  return def;
}

std::string TableReader::choice(std::string_view key, const std::string& def, const std::vector<std::string>& choices) {
  std::string v = string(key, def);
  for (const std::string& c : choices)
    if (c == v) return v;
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + ("'" + c + "'");
  problem(key, "expected one of " + list + ", got '" + v + "'");
  return def;
}

std::vector<double> TableReader::numbers(std::string_view key, const std::vector<double>& def) {
  const toml::node* n = get(key);
  if (!n) return def;
  const toml::array* a = n->as_array();
  if (!a) {
    type_problem(key, *n, "an array of numbers");
    return def;
  }
  std::vector<double> out;
  for (const toml::node& e : *a) {
    if (auto v = e.value_exact<double>())
      out.push_back(*v);
    else if (auto i = e.value_exact<int64_t>())
      out.push_back(static_cast<double>(*i));
    else {
      type_problem(key, e, "an array of numbers");
      return def;
    }
  }
  return out;
}

std::vector<std::string> TableReader::strings(std::string_view key, const std::vector<std::string>& def) {
  const toml::node* n = get(key);
  if (!n) return def;
  const toml::array* a = n->as_array();
  if (!a) {
    type_problem(key, *n, "an array of strings");
    return def;
  }
  std::vector<std::string> out;
  for (const toml::node& e : *a) {
    if (auto v = e.value_exact<std::string>())
      out.push_back(*v);
    else {
      type_problem(key, e, "an array of strings");
      return def;
    }
  }
  return out;
}

std::array<double, 3> TableReader::triple(std::string_view key, std::array<double, 3> def) {
  std::vector<double> v = numbers(key, {def[0], def[1], def[2]});
  if (v.size() != 3) {
    problem(key, "expected 3 numbers, got " + std::to_string(v.size()));
    return def;
  }
  return {v[0], v[1], v[2]};
}

std::optional<TableReader> TableReader::table(std::string_view key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (const toml::table* t = n->as_table()) return TableReader(*t, file_, path(key), *problems_);
  type_problem(key, *n, "a table");
  return std::nullopt;
}

std::vector<TableReader> TableReader::tables(std::string_view key) {
  std::vector<TableReader> out;
  const toml::node* n = get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) {
    type_problem(key, *n, "an array of tables");
    return out;
  }
  int i = 0;
  for (const toml::node& e : *a) {
    if (const toml::table* t = e.as_table())
      out.emplace_back(*t, file_, path(key) + "[" + std::to_string(i) + "]", *problems_);
    else
      type_problem(key, e, "an array of tables");
    ++i;
  }
  return out;
}

void TableReader::finish() {
  for (auto&& [k, v] : *table_)
    if (!read_.count(k.str()))
      problems_->add(where(file_, k.source().begin.line ? k.source() : v.source()) + ": unknown key '" + path(k.str()) +
                     "'");
}

toml::table parse_toml(const std::string& text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(file, e.source()) + ": " + std::string(e.description()));
  }
}

toml::table parse_toml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(errno_message(path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_toml(ss.str(), path);
}

} // namespace tomosweep
