#include "simulate/detector.hpp"

#include "core/conventions.hpp"
#include "core/fft.hpp"

#include <algorithm>
#include <cmath>
#include <complex>

namespace tomosweep {

double transmission(double ice_thickness_A, double tilt_rad, double imfp_A, double scatter_factor) {
  if (!(imfp_A > 0)) fail("inelastic mean free path ", imfp_A, " A must be positive");
  return std::exp(-scatter_factor * ice_thickness_A / (std::cos(tilt_rad) * imfp_A));
}

double flat_counts(double dose_e_per_A2, double pixel_A, double transmission, double dqe) {
  return dose_e_per_A2 * pixel_A * pixel_A * transmission * dqe;
}

double damage_noise_sd_rad(double rad_A_per_e_A2, double exposure_e_per_A2, double pixel_A) {
  return rad_A_per_e_A2 * exposure_e_per_A2 / pixel_A;
}

void add_damage_noise(Image& phase_rad, double rad_A_per_e_A2, double exposure_e_per_A2, Rng& rng) {
  const double sd = damage_noise_sd_rad(rad_A_per_e_A2, exposure_e_per_A2, phase_rad.pixel_A);
  rng.add_normal(phase_rad.data.data(), phase_rad.data.size(), sd);
}

double sinc_mtf(double fx, double fy) {
  auto sinc = [](double a) { return a == 0 ? 1.0 : std::sin(a) / a; };
  return sinc(0.5 * kPi * fx) * sinc(0.5 * kPi * fy);
}

namespace {

// Term (qx, qy) (signed frequency indices) of the spectrum f of an nx x ny real image, shifted by s pixels along
// x and y: F(q) exp(2 pi i s (qx / nx + qy / ny)), the spectrum of image(x + s, y + s).
std::complex<double> shifted_term(const Spectrum2& f, int qx, int qy, double s) {
  const bool mirror = qx < 0; // the half-plane holds qx >= 0; F(-q) = conj(F(q)) for a real image
  const int ax = mirror ? -qx : qx, ay = ((mirror ? -qy : qy) % f.ny + f.ny) % f.ny;
  std::complex<double> v(f.data[static_cast<std::size_t>(ay) * f.nkx() + ax]);
  if (mirror) v = std::conj(v);
  return v * std::polar(1.0, 2 * kPi * s * (double(qx) / f.nx + double(qy) / f.ny));
}

} // namespace

Image fourier_bin(const Image& fine, int n) {
  if (n < 1 || fine.nx % n != 0 || fine.ny % n != 0)
    fail("cannot bin an image of ", fine.nx, " x ", fine.ny, " by ", n);
  if (n == 1) return fine;
  const Spectrum2 f = fft_forward(fine);
  Spectrum2 c;
  c.nx = fine.nx / n, c.ny = fine.ny / n;
  c.data.resize(static_cast<std::size_t>(c.nkx()) * c.ny);
  const double s = 0.5 * (n - 1); // coarse pixel j samples fine position j n + s, the centre of its block
  for (int ky = 0; ky < c.ny; ++ky)
    for (int kx = 0; kx < c.nkx(); ++kx) {
      const int qy = fft_freq(ky, c.ny);
      const bool nyq_x = 2 * kx == c.nx, nyq_y = 2 * qy == c.ny;
      std::complex<double> sum = 0;
      int terms = 0;
      for (int sx : {1, -1})
        for (int sy : {1, -1}) {
          if ((sx < 0 && !nyq_x) || (sy < 0 && !nyq_y)) continue;
          sum += shifted_term(f, sx * kx, sy * qy, s), ++terms;
        }
      c(kx, ky) = Complex(sum / double(terms));
    }
  return fft_inverse(c, fine.pixel_A * n); // 1 / (coarse pixels): the mean of a block times n^2
}

void poisson_counts(Image& expected, std::uint64_t seed, std::uint64_t id) {
  poisson_pixels(expected.data.data(), expected.data.data(), expected.data.size(), seed, Purpose::detector, id);
}

} // namespace tomosweep
