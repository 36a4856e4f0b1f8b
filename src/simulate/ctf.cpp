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
  c.envelope_sigma = p.envelope_sigma;
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
  if (envelope_sigma <= 0) return 1.0;
  const double r = k / (envelope_sigma * 0.5 / pixel_A);
  return std::exp(-r * r);
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

Image ctf_contrast(const Spectrum2& phase, const Ctf& ctf, double defocus_A, double tilt_rad,
                   const std::vector<float>& extra) {
  const int nx = phase.nx, ny = phase.ny, nkx = phase.nkx();
  const double pA = ctf.pixel_A, dkx = 1.0 / (nx * pA), dky = 1.0 / (ny * pA);
  const double slope = std::tan(tilt_rad); // defocus change per Angstrom of u
  const double half_width_A = 0.5 * (nx - 1) * pA;
  const double d_lo = defocus_A - std::abs(slope) * half_width_A, d_hi = defocus_A + std::abs(slope) * half_width_A;
  // Defocus step between copies: pi lambda step k_Nyquist^2 <= pi / 8.
  const double step = 0.5 * pA * pA / ctf.wavelength_A;
  const int copies = slope == 0 ? 1 : std::max(2, static_cast<int>(std::ceil((d_hi - d_lo) / step)) + 1);

  Image out(nx, ny, pA);
  Spectrum2 s = phase;
  for (int j = 0; j < copies; ++j) {
    const double d = copies == 1 ? defocus_A : d_lo + (d_hi - d_lo) * j / (copies - 1);
    for (int ky = 0; ky < ny; ++ky) {
      const double fy = fft_freq(ky, ny) * dky;
      for (int kx = 0; kx < nkx; ++kx) {
        const std::size_t i = static_cast<std::size_t>(ky) * nkx + kx;
        double w = (kx == 0 && ky == 0) ? 0.0 : 2 * ctf.value(kx * dkx, fy, d);
        if (!extra.empty()) w *= extra[i];
        s.data[i] = phase.data[i] * static_cast<float>(w);
      }
    }
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
