// Weighted back projection (IMOD tilt-like) and the tomogram of a simulated tilt series.
#pragma once

#include "core/projector.hpp"
#include "core/tilt.hpp"
#include "core/tilt_series.hpp"
#include "core/volume.hpp"
#include "reconstruct/params.hpp"

#include <functional>
#include <vector>

namespace tomosweep {

/// Radial weights for rows of n samples (n/2 + 1 values, frequency k = i/n cycles/pixel): the discrete
/// Ram-Lak ramp (DFT of the band-limited ramp kernel, so with its small DC term), times
/// IMOD tilt's RADIAL roll-off exp(-((k - cutoff) / falloff)^2) above the cutoff.
std::vector<float> radial_weights(int n, const ReconParams& p);

/// Angular weight of each view (radians): half the gap to its neighbours (sorted by angle), the full gap
/// at both ends; pi / n for fewer than two views.
std::vector<double> angular_weights(const std::vector<TiltView>& views);

/// WBP of line integrals (units x Angstrom, pixel = grid.voxel_A) into an XYZ volume on `grid` (units):
/// rows along u are weighted (zero padded to twice their length), scaled by the angular weights and back
/// projected. The inverse of core/projector's project() for dense angular sampling.
Volume<float> weighted_back_project(const Volume<float>& projections, const std::vector<TiltView>& views,
                                    const Grid& grid, const ReconParams& p);

/// Contrast of each image: c = I / flat - 1 with the record's flat_e_per_pixel (image mean when 0), divided
/// by 2 sigma_e when the series knows sigma_e, giving line integrals of (minus) potential in V*A.
Volume<float> contrast_line_integrals(const TiltSeries& series);

/// How a WBP back-projects its weighted images on its grid: given a block of rows at a time (back_project_rows)
/// or as a stack (back_project). Empty functions: back_project_rows and back_project of the whole grid. A rank
/// group gives functions that make each rank's z slab.
struct BackProjector {
  std::function<Volume<float>(int nu, const ImageRows& rows, const std::vector<TiltView>& views)> rows;
  std::function<Volume<float>(const Volume<float>& stack, const std::vector<TiltView>& views)> stack;
};

/// Tomogram of a tilt series on `grid`: contrast_line_integrals, then WBP (or SIRT) with the series'
/// nominal views (nominal angles, axis azimuth). XYZ volume, Z along the beam, specimen coordinates. Units:
/// volts with protein dark (the prior of an ideal series is -(V - V_ice)), or contrast per Angstrom if sigma_e
/// is unknown. With a BackProjector, what it returns (SIRT refuses one).
/// `threads` (1 or 2): a series back-projected by blocks of rows (views at azimuth 0, WBP) shares the blocks out
/// between that many threads (back_project_rows); the same tomogram either way.
Volume<float> reconstruct_tomogram(const TiltSeries& series, const Grid& grid, const ReconParams& p,
                                   const BackProjector& bp = {}, int threads = 1);
/// The same, reusing the series' memory for the filtered images (for callers that no longer need it).
Volume<float> reconstruct_tomogram(TiltSeries&& series, const Grid& grid, const ReconParams& p,
                                   const BackProjector& bp = {});

/// The roll-off of the reconstruction's resolution at frequency f (cycles/pixel): 1 up to p.cutoff, IMOD's
/// exp(-((f - cutoff) / falloff)^2) beyond it (0 when p.falloff = 0); radial_weights applies it to the ramp.
double radial_rolloff(double f, const ReconParams& p);

/// The "bandlimit" prior: -(V - ice_V) (volts, protein dark, the scale and sign of a WBP prior) filtered in 3D
/// by radial_rolloff(|k|) with |k| the 3D frequency in cycles/voxel: the potential at the reconstruction's
/// resolution, the same in every direction, on the potential's grid.
Volume<float> bandlimited_prior(const Volume<float>& potential_V, double ice_V, const ReconParams& p);

} // namespace tomosweep
