#include "core/ctf.hpp"

#include "core/simd.hpp"

#include <cmath>
#if defined(TOMOSWEEP_X86_KERNELS)
#include <immintrin.h>
#endif

namespace tomosweep {

namespace {

// sin(x) for the CTF's phases, the same bits in scalar and vector code: x = n pi + r (pi in three parts, Cody
// and Waite: n p1 exact for |n| < 2^26), sin r by its Taylor series to r^21 (|r| <= pi / 2: error below 1e-16),
// negated for odd n.
constexpr double kInvPi = 0.31830988618379067154, kP1 = 4 * 7.85398125648498535156E-1,
                 kP2 = 4 * 3.77489470793079817668E-8, kP3 = 4 * 2.69515142907905952645E-15;
constexpr double kSinC[11] = {1.0,
                              -1.0 / 6,
                              1.0 / 120,
                              -1.0 / 5040,
                              1.0 / 362880,
                              -1.0 / 39916800,
                              1.0 / 6227020800,
                              -1.0 / 1307674368000,
                              1.0 / 355687428096000,
                              -1.0 / 121645100408832000,
                              1.0 / 51090942171709440000.0};

double sin_poly(double x) {
  const double n = std::floor(x * kInvPi + 0.5);
  const double r = ((x - n * kP1) - n * kP2) - n * kP3, r2 = r * r;
  double p = kSinC[10];
  for (int k = 9; k >= 1; --k) p = p * r2 + kSinC[k];
  const double s = r + r * (r2 * p), h = n * 0.5;
  return h - std::floor(h) != 0 ? -s : s;
}

void sin_rows_scalar(const double* x, double* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = sin_poly(x[i]);
}

#if defined(TOMOSWEEP_X86_KERNELS)
[[gnu::target("avx2")]] void sin_rows_avx2(const double* x, double* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_loadu_pd(x + i);
    const __m256d k = _mm256_floor_pd(_mm256_add_pd(_mm256_mul_pd(v, _mm256_set1_pd(kInvPi)), _mm256_set1_pd(0.5)));
    const __m256d r = _mm256_sub_pd(_mm256_sub_pd(_mm256_sub_pd(v, _mm256_mul_pd(k, _mm256_set1_pd(kP1))),
                                                  _mm256_mul_pd(k, _mm256_set1_pd(kP2))),
                                    _mm256_mul_pd(k, _mm256_set1_pd(kP3)));
    const __m256d r2 = _mm256_mul_pd(r, r);
    __m256d p = _mm256_set1_pd(kSinC[10]);
    for (int c = 9; c >= 1; --c) p = _mm256_add_pd(_mm256_mul_pd(p, r2), _mm256_set1_pd(kSinC[c]));
    const __m256d s = _mm256_add_pd(r, _mm256_mul_pd(r, _mm256_mul_pd(r2, p)));
    const __m256d h = _mm256_mul_pd(k, _mm256_set1_pd(0.5));
    const __m256d odd = _mm256_cmp_pd(_mm256_sub_pd(h, _mm256_floor_pd(h)), _mm256_setzero_pd(), _CMP_NEQ_OQ);
    _mm256_storeu_pd(out + i, _mm256_xor_pd(s, _mm256_and_pd(odd, _mm256_set1_pd(-0.0))));
  }
  for (; i < n; ++i) out[i] = sin_poly(x[i]);
}
#endif

using SinRows = void (*)(const double*, double*, int);

SinRows sin_rows_kernel() {
#if defined(TOMOSWEEP_X86_KERNELS)
  if (cpu_has_avx2()) return sin_rows_avx2;
#endif
  return sin_rows_scalar;
}

} // namespace

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

double CtfAt::phase(std::size_t i, double d_A) const {
  const double k2 = grid.k2[i], dd = grid.astig.empty() ? d_A : d_A + ctf.astigmatism_A * grid.astig[i];
  return kPi * l * dd * k2 - a * k2 * k2 + shift;
}

double CtfAt::operator()(std::size_t i, double d_A) const { return -grid.envelope[i] * sin_poly(phase(i, d_A)); }

void ctf_values(const CtfAt& at, double d_A, int nx, int ny, std::vector<double>& c) {
  static const SinRows sin_rows = sin_rows_kernel();
  const std::size_t nkx = static_cast<std::size_t>(nx / 2 + 1);
  c.resize(nkx * ny);
  const bool radial = at.grid.astig.empty();
  std::vector<double> phase(nkx);
  for (int ky = 0; ky < ny; ++ky) {
    double* row = c.data() + ky * nkx;
    if (radial && ky > ny / 2) { // fft_freq(ky) = -(ny - ky): the same k^2 as row ny - ky
      const double* mirror = c.data() + (ny - ky) * nkx;
      std::copy(mirror, mirror + nkx, row);
      continue;
    }
    const std::size_t i0 = ky * nkx;
    for (std::size_t kx = 0; kx < nkx; ++kx) phase[kx] = at.phase(i0 + kx, d_A);
    sin_rows(phase.data(), row, static_cast<int>(nkx)); // the bits of sin_poly, as CtfAt() gives
    for (std::size_t kx = 0; kx < nkx; ++kx) row[kx] = -at.grid.envelope[i0 + kx] * row[kx];
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
