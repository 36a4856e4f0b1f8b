// Tilt schemes as data: angles, acquisition order, dose per tilt, angle errors.
#pragma once

#include "core/tilt.hpp"
#include "simulate/params.hpp"
#include "simulate/series.hpp"

#include <cstdint>
#include <vector>

namespace tomosweep {

/// Nominal angles (degrees) of a scheme in ascending order (explicit list sorted, or min..max by step).
std::vector<double> tilt_angles_deg(const TiltParams& t);

/// Acquisition order: position k holds the index (into the ascending angles) of the k-th tilt acquired.
std::vector<int> acquisition_order(const TiltParams& t, const std::vector<double>& ascending_deg);

/// Plan a series: records in ascending nominal angle order with acquisition index, dose (e/A^2),
/// cumulative dose before each tilt (acquisition order), actual angle (nominal + seeded error) and defocus.
/// With dose_weighting = list the per-tilt doses replace total_dose_e_per_A2.
std::vector<TiltRecord> plan_tilts(const TiltParams& t, double total_dose_e_per_A2, double defocus_um,
                                   std::uint64_t seed, std::uint64_t job_id);

/// Projection geometry of each record (actual angle, axis azimuth), in the records' order.
std::vector<TiltView> tilt_views(const std::vector<TiltRecord>& tilts, double axis_azimuth_deg, bool actual = true);

} // namespace tomosweep
