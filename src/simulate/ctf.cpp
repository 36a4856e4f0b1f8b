#include "simulate/ctf.hpp"

#include "core/conventions.hpp"

#include <algorithm>
#include <cmath>

namespace tomosweep {
namespace {
constexpr double kElectronRestEnergy_eV = 510998.95;
constexpr double kHc_eV_A = 12398.419843320026;
} // namespace

double electron_wavelength_A(double voltage_kV) {
  if (!(voltage_kV > 0)) fail("voltage ", voltage_kV, " kV must be positive");
  const double e = voltage_kV * 1e3;
  return kHc_eV_A / std::sqrt(e * (2 * kElectronRestEnergy_eV + e));
}

double interaction_constant_rad_per_V_A(double voltage_kV) {
  // sigma = 2 pi m e lambda / h^2 = (2 pi / (lambda E)) (E0 + E) / (2 E0 + E), E = eV (Kirkland 2010, eq. 5.6).
  const double e = voltage_kV * 1e3;
  return 2 * kPi / (electron_wavelength_A(voltage_kV) * e) * (kElectronRestEnergy_eV + e) /
         (2 * kElectronRestEnergy_eV + e);
}

Ctf Ctf::from(const ImagingParams& p, double pixel_A) {
  Ctf c;
  c.wavelength_A = electron_wavelength_A(p.voltage_kV);
  c.cs_A = p.cs_mm * kAngstromPerMillimetre;
  c.amplitude_contrast = p.amplitude_contrast;
  c.phase_shift_rad = p.phase_shift_deg * kDegToRad;
  c.astigmatism_A = p.astigmatism_um * kAngstromPerMicrometre;
  c.astigmatism_angle_rad = p.astigmatism_angle_deg * kDegToRad;
  c.envelope_B_A2 = p.envelope_B_A2;
  c.pixel_A = pixel_A;
  return c;
}

double Ctf::chi(double kx, double ky, double defocus_A) const {
  const double k2 = kx * kx + ky * ky;
  double d = defocus_A;
  if (astigmatism_A != 0 && k2 > 0)
    d += 0.5 * astigmatism_A * std::cos(2 * (std::atan2(ky, kx) - astigmatism_angle_rad));
  const double l = wavelength_A;
  return kPi * l * d * k2 - 0.5 * kPi * cs_A * l * l * l * k2 * k2;
}

double Ctf::envelope(double k) const {
  if (envelope_B_A2 <= 0) return 1.0;
  return std::exp(-0.25 * envelope_B_A2 * k * k);
}

double Ctf::value(double kx, double ky, double defocus_A) const {
  return -envelope(std::hypot(kx, ky)) *
         std::sin(chi(kx, ky, defocus_A) + phase_shift_rad + std::asin(amplitude_contrast));
}

std::vector<double> Ctf::zeros_per_A(double defocus_A, int count) const {
  // chi(k) + shift = n pi with chi = b k^2 - a k^4: a k^4 - b k^2 + (n pi - shift) = 0, smaller root.
  const double shift = phase_shift_rad + std::asin(amplitude_contrast);
  const double l = wavelength_A, a = 0.5 * kPi * cs_A * l * l * l, b = kPi * l * defocus_A;
  std::vector<double> z;
  for (int n = 0; static_cast<int>(z.size()) < count && n < 100000; ++n) {
    const double c = n * kPi - shift;
    if (c <= 0) continue; // the root k = 0 region
    const double disc = b * b - 4 * a * c;
    if (disc < 0) break;
    z.push_back(std::sqrt((b - std::sqrt(disc)) / (2 * a)));
  }
  return z;
}

CtfGrid ctf_grid(const Ctf& ctf, int nx, int ny) {
  CtfGrid g;
  g.nx = nx, g.ny = ny;
  const int nkx = nx / 2 + 1;
  const double dkx = 1.0 / (nx * ctf.pixel_A), dky = 1.0 / (ny * ctf.pixel_A);
  const std::size_t n = static_cast<std::size_t>(nkx) * ny;
  g.k2.resize(n);
  g.envelope.resize(n);
  if (ctf.astigmatism_A != 0) g.astig.resize(n);
  for (int ky = 0; ky < ny; ++ky)
    for (int kx = 0; kx < nkx; ++kx) {
      const std::size_t i = static_cast<std::size_t>(ky) * nkx + kx;
      const double fx = kx * dkx, fy = fft_freq(ky, ny) * dky;
      g.k2[i] = fx * fx + fy * fy;
      g.envelope[i] = ctf.envelope(std::sqrt(g.k2[i]));
      if (!g.astig.empty()) g.astig[i] = 0.5 * std::cos(2 * (std::atan2(fy, fx) - ctf.astigmatism_angle_rad));
    }
  return g;
}

Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra) {
  return ctf_contrast(phase, ctf, ctf_grid(ctf, phase.nx, phase.ny), defocus_A, tilt_rad, extra);
}

Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, const CtfGrid& grid, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra) {
  const int nx = phase.nx, ny = phase.ny;
  if (grid.nx != nx || grid.ny != ny) fail("ctf grid of ", grid.nx, " x ", grid.ny, " for an image of ", nx, " x ", ny);
  const double pA = ctf.pixel_A;
  const double slope = std::tan(tilt_rad); // defocus change per Angstrom of u
  const double half_width_A = 0.5 * (nx - 1) * pA;
  const double d_lo = defocus_A - std::abs(slope) * half_width_A, d_hi = defocus_A + std::abs(slope) * half_width_A;
  // Defocus step between copies: pi lambda step k_Nyquist^2 <= pi / 8.
  const double step = 0.5 * pA * pA / ctf.wavelength_A;
  const int copies = slope == 0 ? 1 : std::max(2, static_cast<int>(std::ceil((d_hi - d_lo) / step)) + 1);
  const double l = ctf.wavelength_A, a = 0.5 * kPi * ctf.cs_A * l * l * l;
  const double shift = ctf.phase_shift_rad + std::asin(ctf.amplitude_contrast);

  Image out(nx, ny, pA);
  Spectrum2 s = phase;
  for (int j = 0; j < copies; ++j) {
    const double d = copies == 1 ? defocus_A : d_lo + (d_hi - d_lo) * j / (copies - 1);
    for (std::size_t i = 1; i < s.data.size(); ++i) { // i = 0 is the DC term: dropped
      const double k2 = grid.k2[i], dd = grid.astig.empty() ? d : d + ctf.astigmatism_A * grid.astig[i];
      double w = -2 * grid.envelope[i] * std::sin(kPi * l * dd * k2 - a * k2 * k2 + shift);
      if (!extra.empty()) w *= extra[i];
      s.data[i] = phase.data[i] * static_cast<float>(w);
    }
    s.data[0] = 0;
    const Image img = fft_inverse(s, pA);
    if (copies == 1) return img;
    // Hat weight of copy j at each column's defocus.
    std::vector<float> w(nx);
    int x0 = nx, x1 = 0;
    for (int x = 0; x < nx; ++x) {
      const double dx = defocus_A + slope * (x - 0.5 * (nx - 1)) * pA;
      const double t = (dx - d_lo) / (d_hi - d_lo) * (copies - 1);
      w[x] = static_cast<float>(std::max(0.0, 1.0 - std::abs(t - j)));
      if (w[x] > 0) x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
    }
    for (int y = 0; y < ny; ++y)
      for (int x = x0; x < x1; ++x) out(x, y) += w[x] * img(x, y);
  }
  return out;
}

} // namespace tomosweep
