// The scalar settings of a job as data: one table per params struct ({key, kind, unit, range, names, doc,
// recorded / corpus column, member}), and the flat list of every setting path of a JobConfig built from them.
// One table serves the TOML readers (io/config), the sweep's known settings, the corpus job table's
// columns and docs/settings.md (tests/unit/config_test.cpp checks that file against the table).
// Lists, sub-tables and cross-field checks are not here: their readers are written by hand.
#pragma once

#include "job/job_config.hpp"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tomosweep {

enum class SettingKind { number, integer, boolean, choice };

/// What a setting is, whichever struct holds it. Values travel as double: numbers as they are, integers
/// and booleans (0 or 1) converted, choices as the index of their name (the enum's value).
struct SettingInfo {
  std::string_view key; ///< key in its TOML table, e.g. "defocus_um"
  SettingKind kind = SettingKind::number;
  std::string_view unit;                   ///< "" if none
  double lo = 0, hi = 0;                   ///< inclusive range (number, integer)
  std::span<const std::string_view> names; ///< TOML names of a choice, in enum order
  std::string_view doc;                    ///< one line
  /// Recorded settings: a sweep records their effective value for every job, also where the file leaves them
  /// unwritten (known_setting(); expand's values, extra corpus columns). Numbers only.
  bool recorded = false;
  int corpus_column = -1; ///< recorded, with a column in every job table: its position; -1: none
  /// Integers only: the name that may be written for 0 (e.g. "auto", resolved when the job runs), or "".
  std::string_view zero_name = {};
};

/// A setting that is a member of a params struct P.
template <class P> struct Field {
  SettingInfo info;
  double (*get)(const P&);
  void (*set)(P&, double);
};

/// The settings of each struct, in the order their readers read them.
std::span<const Field<ImagingParams>> imaging_fields();
std::span<const Field<TiltParams>> tilt_fields(); ///< [imaging.tilt] and [prior.tilt]
std::span<const Field<ReconParams>> reconstruction_fields();
std::span<const Field<ModelParams>> model_fields(); ///< the top-level scalars of [model]
std::span<const Field<PriorParams>> prior_fields(); ///< the scalars of [prior] (its tilt table: tilt_fields)

/// The field of `key` in `fields`, or nullptr.
template <class P> const Field<P>* find_field(std::span<const Field<P>> fields, std::string_view key) {
  for (const Field<P>& f : fields)
    if (f.info.key == key) return &f;
  return nullptr;
}

/// One setting of a JobConfig by its full path.
struct Setting {
  std::string path; ///< e.g. "imaging.tilt.min_deg"
  const SettingInfo* info;
  std::function<double(const JobConfig&)> value;
  /// The value a job uses where it differs from the one written (an "auto" resolved), or empty.
  std::function<double(const JobConfig&)> effective = {};
};

/// Every scalar setting of the table with its path: model, imaging, imaging.tilt, reconstruction, prior
/// ([prior.tilt] takes the keys of imaging.tilt but is not listed).
const std::vector<Setting>& settings();

/// The setting at `path`, or nullptr.
const Setting* find_setting(std::string_view path);

/// Paths of the corpus job table's setting columns, in column order.
const std::vector<std::string>& corpus_columns();

/// Value of a recorded numeric setting path read from a config (e.g. "imaging.defocus_um"), as the job uses it
/// ("auto" resolved); nullopt if the path is not one of those tomosweep records in every corpus.
std::optional<double> known_setting(const JobConfig& config, const std::string& path);

} // namespace tomosweep
