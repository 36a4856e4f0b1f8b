// Contrast transfer function of the weak-phase approximation (formulas in docs/imaging.md), shared by simulation
// (which applies it) and reconstruction (which corrects for it).
//   chi(k) = pi lambda D k^2 - (pi/2) Cs lambda^3 k^4        (D = defocus, positive = underfocus)
//   CTF(k) = -E(k) sin(chi(k) + phase_shift + asin(Q))        (CTFFIND/RELION sign: protein dark)
//   E(k)   = exp(-B k^2 / 4)                                  (B = envelope_B_A2, A^2)
#pragma once

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "core/fft.hpp"
#include "core/volume.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace tomosweep {

/// Microscope constants of one tilt series, in Angstrom and radians.
struct Ctf {
  double wavelength_A = 0.0197;
  double cs_A = 2.7e7;
  double amplitude_contrast = 0.07;
  double phase_shift_rad = 0;
  double astigmatism_A = 0; ///< defocus difference, major minus minor axis
  double astigmatism_angle_rad = 0;
  double envelope_B_A2 = 150; ///< B-factor of the envelope, A^2; <= 0 disables it
  double pixel_A = 1;

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

/// CTF value -E sin(chi + shift) at index i of `grid` and defocus d_A (the sine by a polynomial of our own, the
/// same bits in ctf_values' vector code).
struct CtfAt {
  const Ctf& ctf;
  const CtfGrid& grid;
  double l = ctf.wavelength_A, a = 0.5 * kPi * ctf.cs_A * l * l * l;
  double shift = ctf.phase_shift_rad + std::asin(ctf.amplitude_contrast);
  double phase(std::size_t i, double d_A) const; ///< chi + shift
  double operator()(std::size_t i, double d_A) const;
};

/// The defocus strips of an image whose defocus varies across its columns: D(u) = defocus_A + u tan(tilt_rad)
/// (u in Angstrom from the centre; positive tilt: +x side more underfocused). Copies at defocus(j) are spaced
/// so that the phase difference at Nyquist stays below pi/8; columns interpolate linearly between them.
struct CtfStrips {
  double defocus_A = 0, slope = 0, d_lo = 0, d_hi = 0, pixel_A = 1;
  int nx = 0, copies = 1;
  double defocus(int j) const { return copies == 1 ? defocus_A : d_lo + (d_hi - d_lo) * j / (copies - 1); }
  /// Hat weight of copy j at each column (sums to 1 over j); [x0, x1) holds the nonzero ones.
  std::vector<float> weights(int j, int& x0, int& x1) const;
};
CtfStrips plan_ctf_strips(const Ctf& ctf, int nx, double defocus_A, double tilt_rad);

/// The CTF at every index of the half-plane of an nx x ny image and defocus d_A, into c. Without astigmatism the
/// CTF depends on |k| alone: the rows ky and ny - ky hold the same |k|^2 and share their values, computed once.
void ctf_values(const CtfAt& at, double d_A, int nx, int ny, std::vector<double>& c);

/// F^-1[w . S] of a spectrum S (of nx x ny at ctf.pixel_A) per defocus strip, where w = weight(i, CTF value at
/// index i and the strip's defocus) and the strips are interpolated across columns (CtfStrips). The DC term
/// is kept (keep_dc) or dropped.
template <class Weight>
Image filter_ctf_strips(const Spectrum2& spec, const Ctf& ctf, const CtfGrid& grid, double defocus_A, double tilt_rad,
                        bool keep_dc, Weight weight) {
  const int nx = spec.nx, ny = spec.ny;
  if (grid.nx != nx || grid.ny != ny) fail("ctf grid of ", grid.nx, " x ", grid.ny, " for an image of ", nx, " x ", ny);
  const CtfStrips strips = plan_ctf_strips(ctf, nx, defocus_A, tilt_rad);
  const CtfAt at{ctf, grid};
  Image out(nx, ny, ctf.pixel_A);
  Spectrum2 s = spec;
  std::vector<double> c(s.data.size());
  for (int j = 0; j < strips.copies; ++j) {
    ctf_values(at, strips.defocus(j), nx, ny, c);
    for (std::size_t i = 1; i < s.data.size(); ++i) s.data[i] = spec.data[i] * static_cast<float>(weight(i, c[i]));
    s.data[0] = keep_dc ? spec.data[0] : 0;
    const Image img = fft_inverse(s, ctf.pixel_A);
    if (strips.copies == 1) return img;
    int x0 = nx, x1 = 0;
    const std::vector<float> w = strips.weights(j, x0, x1);
    for (int y = 0; y < ny; ++y)
      for (int x = x0; x < x1; ++x) out(x, y) += w[x] * img(x, y);
  }
  return out;
}

} // namespace tomosweep
