#include "core/ctf.hpp"

namespace tomosweep {

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

double CtfAt::operator()(std::size_t i, double d_A) const {
  const double k2 = grid.k2[i], dd = grid.astig.empty() ? d_A : d_A + ctf.astigmatism_A * grid.astig[i];
  return -grid.envelope[i] * std::sin(kPi * l * dd * k2 - a * k2 * k2 + shift);
}

void ctf_values(const CtfAt& at, double d_A, int nx, int ny, std::vector<double>& c) {
  const std::size_t nkx = static_cast<std::size_t>(nx / 2 + 1);
  c.resize(nkx * ny);
  const bool radial = at.grid.astig.empty();
  for (int ky = 0; ky < ny; ++ky) {
    double* row = c.data() + ky * nkx;
    if (radial && ky > ny / 2) { // fft_freq(ky) = -(ny - ky): the same k^2 as row ny - ky
      const double* mirror = c.data() + (ny - ky) * nkx;
      std::copy(mirror, mirror + nkx, row);
      continue;
    }
    for (std::size_t kx = 0; kx < nkx; ++kx) row[kx] = at(ky * nkx + kx, d_A);
  }
}

CtfStrips plan_ctf_strips(const Ctf& ctf, int nx, double defocus_A, double tilt_rad) {
  CtfStrips s;
  s.defocus_A = defocus_A, s.nx = nx, s.pixel_A = ctf.pixel_A;
  s.slope = std::tan(tilt_rad); // defocus change per Angstrom of u
  const double half_width_A = 0.5 * (nx - 1) * ctf.pixel_A;
  s.d_lo = defocus_A - std::abs(s.slope) * half_width_A, s.d_hi = defocus_A + std::abs(s.slope) * half_width_A;
  // Defocus step between copies: pi lambda step k_Nyquist^2 <= pi / 8.
  const double step = 0.5 * ctf.pixel_A * ctf.pixel_A / ctf.wavelength_A;
  s.copies = s.slope == 0 ? 1 : std::max(2, static_cast<int>(std::ceil((s.d_hi - s.d_lo) / step)) + 1);
  return s;
}

std::vector<float> CtfStrips::weights(int j, int& x0, int& x1) const {
  std::vector<float> w(nx);
  x0 = nx, x1 = 0;
  for (int x = 0; x < nx; ++x) {
    const double dx = defocus_A + slope * (x - 0.5 * (nx - 1)) * pixel_A;
    const double t = (dx - d_lo) / (d_hi - d_lo) * (copies - 1);
    w[x] = static_cast<float>(std::max(0.0, 1.0 - std::abs(t - j)));
    if (w[x] > 0) x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
  }
  return w;
}

} // namespace tomosweep
