#include "core/exposure.hpp"

#include "core/exp_poly.hpp"
#include "core/simd.hpp"

#include <algorithm>
#include <cmath>
#if defined(TOMOSWEEP_X86_KERNELS)
#include <immintrin.h>
#endif

namespace tomosweep {

double critical_exposure_e_per_A2(double k_per_A, double voltage_kV) {
  const double scale = std::clamp(0.8 + 0.2 * (voltage_kV - 200) / 100, 0.8, 1.0);
  if (k_per_A <= 0) return 1e30;
  return scale * (0.245 * std::pow(k_per_A, -1.665) + 2.81);
}

double damage_attenuation(double k_per_A, double exposure_e_per_A2, double voltage_kV) {
  if (exposure_e_per_A2 <= 0) return 1.0;
  return std::exp(-exposure_e_per_A2 / (2 * critical_exposure_e_per_A2(k_per_A, voltage_kV)));
}

namespace {

constexpr double kExpMin = -708.0; // e^x below: 0 (poly::exp_poly needs n >= -1022)

double exp_neg(double x) { return x >= kExpMin ? poly::exp_poly(x) : 0.0; }

void exp_neg_scaled_scalar(const float* h, double a, const float* mul, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float e = static_cast<float>(exp_neg(-a * h[i]));
    out[i] = mul ? e * mul[i] : e;
  }
}

#if defined(TOMOSWEEP_X86_KERNELS)
[[gnu::target("avx2")]] void exp_neg_scaled_avx2(const float* h, double a, const float* mul, float* out,
                                                 std::size_t n) {
  std::size_t i = 0;
  const __m256d na = _mm256_set1_pd(-a), lo = _mm256_set1_pd(kExpMin);
  for (; i + 4 <= n; i += 4) {
    const __m256d x0 = _mm256_mul_pd(na, _mm256_cvtps_pd(_mm_loadu_ps(h + i)));
    const __m256d in = _mm256_cmp_pd(x0, lo, _CMP_GE_OQ);
    const __m256d x = _mm256_blendv_pd(lo, x0, in);
    const __m256d ex = poly::exp_poly4(x);
    const __m128 e = _mm256_cvtpd_ps(_mm256_and_pd(ex, in));
    _mm_storeu_ps(out + i, mul ? _mm_mul_ps(e, _mm_loadu_ps(mul + i)) : e);
  }
  exp_neg_scaled_scalar(h + i, a, mul ? mul + i : nullptr, out + i, n - i);
}
#endif

} // namespace

void exp_neg_scaled(const float* h, double a, const float* mul, float* out, std::size_t n) {
#if defined(TOMOSWEEP_X86_KERNELS)
  if (cpu_has_avx2()) return exp_neg_scaled_avx2(h, a, mul, out, n);
#endif
  exp_neg_scaled_scalar(h, a, mul, out, n);
}

} // namespace tomosweep
