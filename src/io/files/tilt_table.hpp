// A series' per-tilt metadata as stored: the one list of columns that every writer of tilts shares (a
// job's .tsv here, the tilt tables of stage files and corpora in io/corpus), picked from a TiltRecord in
// one place so that the tables cannot drift apart.
#pragma once

#include "core/tilt_series.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

/// One stored tilt (also the memory layout of the HDF5 tilt tables, see io/corpus/h5_helpers.hpp).
struct TiltRow {
  double angle_deg, actual_angle_deg;
  std::int32_t acquisition_index;
  double dose_e_per_A2, cumulative_dose_e_per_A2, defocus_um;
  double shift_x_A, shift_y_A, rotation_deg, magnification, defocus_jitter_um, axis_offset_deg; ///< residuals
  double motion_x_A, motion_y_A; ///< drift during the exposure (residual)
};

/// The stored columns of a tilt, and a tilt read back from them (the fields not stored stay at their
/// defaults).
TiltRow tilt_row(const TiltRecord& t);
TiltRecord tilt_record(const TiltRow& r);

/// Tab-separated table: a "# index<TAB>angle_deg..." header, then one line per tilt.
std::string tilt_table_tsv(const std::vector<TiltRecord>& tilts);

} // namespace tomosweep
