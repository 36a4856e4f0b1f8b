// Exposure filtering (dose weighting) of a tilt series before back projection (Grant & Grigorieff 2015;
// docs/imaging.md, Reconstruction): each tilt is weighted per frequency by the amplitude radiation damage left
// in it, normalised over the series.
#pragma once

#include "core/tilt_series.hpp"
#include "core/volume.hpp"

#include <vector>

namespace tomosweep {

/// Exposure of each tilt (e/A^2) as imaging applies damage: the dose received before it plus half its own.
std::vector<double> tilt_exposures(const std::vector<TiltRecord>& tilts);

/// Weights of the tilts at frequency k (1/A): q_t = exp(-N_t / (2 N_e(k))) (core/exposure.hpp), normalised so
/// that their mean over the series is 1: w_t = n q_t / sum_s q_s. All 1 at k = 0 or when every N_t is 0.
std::vector<double> exposure_weights(const std::vector<double>& exposures_e_per_A2, double k_per_A, double voltage_kV);

/// Multiplies the spectrum of image t of `images` (nx x ny x tilts.size(), pixel images.voxel_A) by
/// exposure_weights(...)[t] at each |k|, tabulated over |k| and interpolated linearly. No-op when every
/// exposure is 0.
void filter_exposure(Volume<float>& images, const std::vector<TiltRecord>& tilts, double voltage_kV);

} // namespace tomosweep
