// Typed, checked reading of TOML tables (toml++) into parameter structs.
// Every problem is recorded with file:line:col and the full key path; unknown keys are problems too.
// Readers share one Problems list (not owned; it must outlive them) so that validation reports everything at once;
// throw_if_any() raises one ConfigError whose message has one line per problem.
#pragma once

#include "core/errors.hpp"

#include <toml++/toml.h>

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tomosweep {

struct Problems {
  std::vector<std::string> lines;
  void add(std::string line) { lines.push_back(std::move(line)); }
  bool empty() const { return lines.empty(); }
  /// Throw ConfigError listing every problem (one per line) if there is any.
  void throw_if_any() const;
};

/// "file:line:col" of a node, or just "file" when the node has no source position.
std::string where(const std::string& file, const toml::source_region& src);

class TableReader {
public:
  TableReader(const toml::table& table, std::string file, std::string prefix, Problems& problems);

  const std::string& file() const { return file_; }
  /// Full key path of a key in this table, e.g. "imaging.defocus_um".
  std::string path(std::string_view key) const;
  bool has(std::string_view key) const { return table_->contains(key); }
  /// Whether `key` holds an array (for settings that take a number or a list).
  bool is_array(std::string_view key) const {
    const toml::node* n = table_->get(key);
    return n && n->is_array();
  }
  /// Whether `key` holds a string (for integer settings that also take a name, e.g. "auto").
  bool holds_string(std::string_view key) const {
    const toml::node* n = table_->get(key);
    return n && n->is_string();
  }
  Problems& problems() const { return *problems_; }

  // Scalars: return the value if present and well typed, else the default (recording a type problem).
  double number(std::string_view key, double def);
  /// A number within [lo, hi]; out of range is a problem naming the range.
  double number_in(std::string_view key, double def, double lo, double hi);
  long long integer(std::string_view key, long long def);
  long long integer_in(std::string_view key, long long def, long long lo, long long hi);
  bool boolean(std::string_view key, bool def);
  std::string string(std::string_view key, const std::string& def);
  /// A string that must be one of `choices`.
  std::string choice(std::string_view key, const std::string& def, const std::vector<std::string>& choices);
  std::vector<double> numbers(std::string_view key, const std::vector<double>& def);
  std::vector<std::string> strings(std::string_view key, const std::vector<std::string>& def);
  /// Exactly three numbers, e.g. box_A = [4000, 4000, 500].
  std::array<double, 3> triple(std::string_view key, std::array<double, 3> def);

  /// A sub-table (key = { ... } or [key]); nullopt if absent (a non-table is a problem).
  std::optional<TableReader> table(std::string_view key);
  /// An array of tables ([[key]] or key = [{...}, ...]); empty if absent.
  std::vector<TableReader> tables(std::string_view key);

  /// Record a problem about `key` at its source position (or this table's if the key is absent).
  void problem(std::string_view key, const std::string& what) const;
  /// Record unknown-key problems for every key not read through this reader. Call once at the end.
  void finish();

private:
  const toml::node* get(std::string_view key);
  void type_problem(std::string_view key, const toml::node& node, const char* expected) const;

  const toml::table* table_;
  std::string file_, prefix_;
  Problems* problems_;
  std::set<std::string, std::less<>> read_;
};

/// Parse TOML text; a syntax error becomes ConfigError "file:line:col: what".
toml::table parse_toml(const std::string& text, const std::string& file);
/// Read and parse a TOML file (IoError if unreadable).
toml::table parse_toml_file(const std::string& path);

} // namespace tomosweep
