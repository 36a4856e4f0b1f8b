// Radiation damage as a function of exposure (Grant & Grigorieff 2015), shared by simulation (which damages the
// images) and reconstruction (which weights them by it). Formulas in docs/imaging.md.
#pragma once

#include <cstddef>

namespace tomosweep {

/// Critical exposure N_e(k) (e/A^2) at frequency k (1/A): 0.245 k^-1.665 + 2.81 at 300 kV (Grant & Grigorieff
/// 2015), scaled by 0.8 at 200 kV (linear in voltage between, clamped to [0.8, 1]); 1e30 at k <= 0.
double critical_exposure_e_per_A2(double k_per_A, double voltage_kV);

/// Amplitude left by radiation damage after exposure N (e/A^2): exp(-N / (2 N_e(k))).
double damage_attenuation(double k_per_A, double exposure_e_per_A2, double voltage_kV);

/// out[i] = float(e^(-a h[i])), times mul[i] when mul is given (a >= 0, h[i] >= 0): the exposure filter's values
/// for a whole image at once. e^x by a polynomial of our own (relative error below 1e-16; 0 below x = -708), the
/// same bits in scalar and AVX2 code. out may alias h or mul.
void exp_neg_scaled(const float* h, double a, const float* mul, float* out, std::size_t n);

} // namespace tomosweep
