// Tilt schemes as data: angles, acquisition order, dose per tilt, angle errors.
#pragma once

#include "core/tilt.hpp"
#include "core/tilt_series.hpp"

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tomosweep {

/// Order in which the tilts are acquired. TOML names in kTiltOrderNames (enum order).
enum class TiltOrder { dose_symmetric, bidirectional, unidirectional, list };
inline constexpr std::array<std::string_view, 4> kTiltOrderNames{"dose-symmetric", "bidirectional", "unidirectional",
                                                                 "list"};
constexpr std::string_view name_of(TiltOrder v) { return kTiltOrderNames[static_cast<std::size_t>(v)]; }

/// Bidirectional: the side acquired first.
enum class FirstBranch { negative, positive };
inline constexpr std::array<std::string_view, 2> kFirstBranchNames{"negative", "positive"};
constexpr std::string_view name_of(FirstBranch v) { return kFirstBranchNames[static_cast<std::size_t>(v)]; }

/// How the total dose is shared between tilts: evenly, proportional to 1/cos(tilt), or a given list.
enum class DoseWeighting { even, cos, list };
inline constexpr std::array<std::string_view, 3> kDoseWeightingNames{"even", "cos", "list"};
constexpr std::string_view name_of(DoseWeighting v) { return kDoseWeightingNames[static_cast<std::size_t>(v)]; }

/// A tilt scheme: which angles, in which acquisition order, with which dose per tilt.
struct TiltParams {
  double min_deg = -60, max_deg = 60, step_deg = 2;
  std::vector<double> angles_deg{};                 ///< explicit list; overrides min/max/step when not empty
  TiltOrder order = TiltOrder::dose_symmetric;      ///< list: acquired as angles_deg is written
  double start_deg = 0;                             ///< first tilt of dose-symmetric and bidirectional orders
  double axis_azimuth_deg = 0;                      ///< missing-wedge orientation
  double angle_error_deg = 0;                       ///< standard deviation of random per-tilt angle errors
  int group_size = 1;                               ///< dose-symmetric: tilts per side before switching (Hagen: 1 or 2)
  FirstBranch first_branch = FirstBranch::negative; ///< bidirectional: side acquired first
  DoseWeighting dose_weighting = DoseWeighting::even; ///< even | cos (dose proportional to 1/cos(tilt)) | list
  std::vector<double> doses_e_per_A2{}; ///< per-tilt doses (dose_weighting = list): angles_deg order, else ascending
  // Acquisition residuals (plan_series): standard deviations of normal draws; 0 = none.
  double shift_sd_A = 0;        ///< per-tilt image shift, each of x and y (Angstrom)
  double rotation_sd_deg = 0;   ///< per-tilt in-plane image rotation (deg)
  double magnification_sd = 0;  ///< per-tilt relative magnification (m = 1 + sd N(0,1))
  double defocus_jitter_um = 0; ///< per-tilt defocus (um)
  double axis_offset_deg = 0;   ///< tilt-axis azimuth offset, one per series (deg)
  double motion_sd_A = 0;       ///< per-tilt straight-line drift during the exposure, each of x and y (Angstrom)
};

/// Number of tilts of a scheme: the explicit list's length, or floor((max - min) / step + 1e-6) + 1 (a step
/// that divides the range up to rounding reaches max_deg). Fails, with the same message, wherever
/// tilt_angles_deg() fails, except on a min..max scheme whose rounded steps repeat an angle.
int tilt_count(const TiltParams& t);

/// Nominal angles (degrees) of a scheme in ascending order (explicit list sorted, or min..max by step):
/// tilt_count(t) of them.
std::vector<double> tilt_angles_deg(const TiltParams& t);

/// Acquisition order: position k holds the index (into the ascending angles) of the k-th tilt acquired.
std::vector<int> acquisition_order(const TiltParams& t, const std::vector<double>& ascending_deg);

/// Plan a scheme: records in ascending nominal angle order with acquisition index, dose (e/A^2), cumulative
/// dose before each tilt (acquisition order) and actual angle (nominal + seeded error); defocus_um is 0.
/// With dose_weighting = list the per-tilt doses replace total_dose_e_per_A2.
std::vector<TiltRecord> plan_tilts(const TiltParams& t, double total_dose_e_per_A2, std::uint64_t seed,
                                   std::uint64_t job_id);

/// A series ready to be imaged (no images yet): the records of plan_tilts(), the scheme's axis azimuth, and
/// the views of every record, built here once: at the actual angles (views) and at the nominal angles
/// (nominal_views). Every view has defocus_um (positive = underfocus) in Angstrom at the tilt axis; every
/// record keeps defocus_um as metadata for the files. The actual views also carry the acquisition residuals
/// (Rng stream Purpose::residual of the job: first the axis offset, then per tilt in ascending angle
/// order shift x, shift y, rotation, magnification, defocus; then per tilt the drift x, y), each recorded in its
/// TiltRecord; the nominal views have none. The drift (beam-induced motion) is the image's, not the view's: the
/// imaging pipeline blurs by it.
TiltSeries plan_series(const TiltParams& t, double total_dose_e_per_A2, double defocus_um, std::uint64_t seed,
                       std::uint64_t job_id);

} // namespace tomosweep
