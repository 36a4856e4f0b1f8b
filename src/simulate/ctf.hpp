// Contrast transfer function of the weak-phase approximation (formulas in docs/imaging.md).
//   chi(k) = pi lambda D k^2 - (pi/2) Cs lambda^3 k^4        (D = defocus, positive = underfocus)
//   CTF(k) = -E(k) sin(chi(k) + phase_shift + asin(Q))        (CTFFIND/RELION sign: protein dark)
//   E(k)   = exp(-B k^2 / 4)                                  (B = envelope_B_A2, A^2)
// and the image contrast of a phase image phi is c = 2 F^-1[CTF . F[phi - mean(phi)]].
#pragma once

#include "core/fft.hpp"
#include "core/volume.hpp"
#include "simulate/params.hpp"

#include <vector>

namespace tomosweep {

/// Relativistic electron wavelength (Angstrom) at accelerating voltage voltage_kV.
double electron_wavelength_A(double voltage_kV);
/// Interaction constant sigma_e (rad per V*A): phase = sigma_e * projected potential.
double interaction_constant_rad_per_V_A(double voltage_kV);

/// Microscope constants of one tilt series, in Angstrom and radians.
struct Ctf {
  double wavelength_A = 0.0197;
  double cs_A = 2.7e7;
  double amplitude_contrast = 0.07;
  double phase_shift_rad = 0;
  double astigmatism_A = 0; ///< defocus difference, major minus minor axis
  double astigmatism_angle_rad = 0;
  double envelope_B_A2 = 2000; ///< B-factor of the envelope, A^2; <= 0 disables it
  double pixel_A = 1;

  static Ctf from(const ImagingParams& p, double pixel_A);
  /// Phase aberration (rad) at frequency (kx, ky) in 1/A and mean defocus defocus_A.
  double chi(double kx, double ky, double defocus_A) const;
  /// Envelope E(k), k in 1/A.
  double envelope(double k) const;
  /// Full CTF value (with envelope) at (kx, ky), 1/A.
  double value(double kx, double ky, double defocus_A) const;
  /// First `count` zeros (1/A) along a direction without astigmatism, closed form.
  std::vector<double> zeros_per_A(double defocus_A, int count) const;
};

/// Per-frequency constants of the CTF on the FFT half-plane of an nx x ny image (computed once per series).
struct CtfGrid {
  int nx = 0, ny = 0;
  std::vector<double> k2;       ///< |k|^2 (1/A^2)
  std::vector<double> astig;    ///< 0.5 cos(2 (angle(k) - astigmatism angle)), or empty
  std::vector<double> envelope; ///< E(k)
};
CtfGrid ctf_grid(const Ctf& ctf, int nx, int ny);

/// Contrast image 2 F^-1[CTF . extra . S] of a phase spectrum S (of nx x ny at ctf.pixel_A), where the defocus
/// varies across image columns: D(u) = defocus_A + u tan(tilt_rad) (u in Angstrom from the centre; positive
/// tilt: +x side more underfocused). Columns interpolate linearly between CTF-filtered copies whose defocus
/// steps keep the phase difference at Nyquist below pi/8 (any image size). `extra` is a real half-plane
/// filter (nkx * ny values) or empty; the DC term is dropped (a constant phase is invisible).
Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra);
/// The same with a precomputed grid (ctf_grid(ctf, phase.nx, phase.ny)).
Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, const CtfGrid& grid, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra);

} // namespace tomosweep
