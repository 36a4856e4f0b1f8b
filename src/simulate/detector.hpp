// Dose, detector and radiation damage laws (formulas in docs/imaging.md).
#pragma once

#include "core/exposure.hpp" // critical_exposure_e_per_A2, damage_attenuation
#include "core/rng.hpp"
#include "core/volume.hpp"

namespace tomosweep {

/// Fraction of electrons not inelastically scattered: exp(-S t / (cos(tilt) IMFP)).
double transmission(double ice_thickness_A, double tilt_rad, double imfp_A, double scatter_factor);

/// Expected counts of an empty pixel: dose (e/A^2) * pixel area * transmission * DQE.
double flat_counts(double dose_e_per_A2, double pixel_A, double transmission, double dqe);

/// Per-pixel standard deviation (rad) of the white damage phase noise of density `rad_A_per_e_A2` (rad A per
/// e/A^2) at `exposure` (e/A^2) on pixels of pixel_A: density x exposure / pixel_A. Its variance times the pixel
/// area, the noise power per unit area, does not depend on the pixel size.
double damage_noise_sd_rad(double rad_A_per_e_A2, double exposure_e_per_A2, double pixel_A);
/// Add that noise to a phase image (rad) on its own pixel size, one normal draw of rng per pixel (ziggurat, in
/// pixel order).
void add_damage_noise(Image& phase_rad, double rad_A_per_e_A2, double exposure_e_per_A2, Rng& rng);

/// Counting detector MTF sinc(pi f/2) per axis, f = frequency in units of Nyquist (|f| <= 1).
double sinc_mtf(double fx_nyquist, double fy_nyquist);

/// Fourier binning by n: the image (nx and ny multiples of n) cropped in Fourier space to the band of the pixel
/// n x pixel_A (nothing above its Nyquist folds back), sampled at the centre of each n x n block of pixels, in
/// counts per output pixel (the sum over the block, for a band-limited image). Coarse Nyquist terms are the mean
/// of the two fine terms they stand for.
Image fourier_bin(const Image& fine, int n);

/// Replace each pixel of an expected-count image by a Poisson draw (poisson_pixels: pixel j from its own stream
/// of Purpose::detector, `id`, under `seed`; negative means count 0).
void poisson_counts(Image& expected, std::uint64_t seed, std::uint64_t id);

} // namespace tomosweep
