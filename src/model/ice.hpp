// Granular vitreous ice: the potential fluctuation of water's number-density fluctuations, a 3D Gaussian
// random field whose power spectrum is water's structure factor times one molecule's form factor.
#pragma once

#include "core/fft.hpp"
#include "core/volume.hpp"

#include <cstdint>
#include <functional>

namespace tomosweep {

/// Structure factor S(q) of liquid water / vitreous ice (dimensionless), q = 2 pi / d in 1/A: a model with
/// S(0) = 0.062 (rho kT kappa_T of water at 298 K), a first peak of 1.39 at q = 2.0 1/A and S -> 1 at large q:
/// S = 1 - 0.938 exp(-(q / 1.5)^2) + 0.55 exp(-(q - 2)^2 / (2 0.3^2)) (docs/model.md).
double water_structure_factor(double q_per_A);

/// Electron form factor of one water molecule (O + 2 H as independent atoms, International Tables C 4.3.2.2)
/// at k = 1/d (1/A), over its value at k = 0.
double water_form_factor_shape(double k_per_A);

/// Power spectrum of the texture as the variance one DFT mode carries, per voxel (V^2): S(2 pi k) x
/// (f(k)/f(0))^2 x ice_V^2 / n, n = 0.0314 x voxel volume the molecules per voxel; k in 1/A. Its mean over the
/// modes of a grid is the voxel variance.
double ice_texture_power(double k_per_A, double voxel_A, double ice_V);

/// The texture on grid g (volts, zero mean, ice at full occupancy): white Gaussian noise, drawn directly as its
/// spectrum (IceTextureField::spectrum), filtered in 3D to ice_texture_power(). Deterministic in (g, ice_V, seed,
/// replicate).
Volume<float> ice_texture(const Grid& g, double ice_V, std::uint64_t seed, int replicate);

/// ice_texture as its two parts, for spectral_volume (core/fft.hpp) and a rank group's spectral_slab:
/// - spectrum(ky, kz, row): the half row (kx = 0..nx/2) of plane kz of the discrete Fourier transform of real
///   white noise of variance 1 per voxel (complex normals of variance nx ny nz, Hermitian in the planes kx = 0 and
///   nx/2, real where a term is its own mirror), from the stream (seed, Purpose::ice_spectrum, replicate x 2^32 +
///   kz ny + ky): rows in any order. Half the transforms of filtering noise made in real space.
/// - filter(|k|) (cycles per voxel): the texture's amplitude.
struct IceTextureField {
  std::function<void(int ky, int kz, Complex* row)> spectrum;
  std::function<double(double k)> filter;
};
IceTextureField ice_texture_field(const Grid& g, double ice_V, std::uint64_t seed, int replicate);

} // namespace tomosweep
