#include "core/exposure.hpp"

#include "core/simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
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

// e^x for x <= 0: x = n log 2 + r (log 2 in two parts), |r| <= log(2) / 2, e^r by its Taylor series to r^13,
// times 2^n from its bits (n >= -1022 for x >= -708; below, 0).
constexpr double kLog2e = 1.4426950408889634, kLn2Hi = 6.93147180369123816490e-01,
                 kLn2Lo = 1.90821492927058770002e-10, kExpMin = -708.0;
constexpr double kExpC[14] = {1.0,
                              1.0,
                              1.0 / 2,
                              1.0 / 6,
                              1.0 / 24,
                              1.0 / 120,
                              1.0 / 720,
                              1.0 / 5040,
                              1.0 / 40320,
                              1.0 / 362880,
                              1.0 / 3628800,
                              1.0 / 39916800,
                              1.0 / 479001600,
                              1.0 / 6227020800};

double exp_neg(double x) {
  if (!(x >= kExpMin)) return 0;
  const double n = std::floor(x * kLog2e + 0.5);
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = kExpC[13];
  for (int i = 12; i >= 0; --i) p = p * r + kExpC[i];
  const std::uint64_t bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(n) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, 8);
  return p * scale;
}

void exp_neg_scaled_scalar(const float* h, double a, const float* mul, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float e = static_cast<float>(exp_neg(-a * h[i]));
    out[i] = mul ? e * mul[i] : e;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx2")]] void exp_neg_scaled_avx2(const float* h, double a, const float* mul, float* out,
                                                 std::size_t n) {
  std::size_t i = 0;
  const __m256d na = _mm256_set1_pd(-a), lo = _mm256_set1_pd(kExpMin);
  for (; i + 4 <= n; i += 4) {
    const __m256d x0 = _mm256_mul_pd(na, _mm256_cvtps_pd(_mm_loadu_ps(h + i)));
    const __m256d in = _mm256_cmp_pd(x0, lo, _CMP_GE_OQ);
    const __m256d x = _mm256_blendv_pd(lo, x0, in);
    const __m256d k = _mm256_floor_pd(_mm256_add_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _mm256_set1_pd(0.5)));
    const __m256d r = _mm256_sub_pd(_mm256_sub_pd(x, _mm256_mul_pd(k, _mm256_set1_pd(kLn2Hi))),
                                    _mm256_mul_pd(k, _mm256_set1_pd(kLn2Lo)));
    __m256d p = _mm256_set1_pd(kExpC[13]);
    for (int c = 12; c >= 0; --c) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(kExpC[c]));
    // 2^k: k + 1023 in the low bits of the mantissa of 2^52 + k + 1023, shifted into the exponent.
    const __m256d t = _mm256_add_pd(k, _mm256_set1_pd(4503599627370496.0 + 1023.0));
    const __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
    const __m128 e = _mm256_cvtpd_ps(_mm256_and_pd(_mm256_mul_pd(p, scale), in));
    _mm_storeu_ps(out + i, mul ? _mm_mul_ps(e, _mm_loadu_ps(mul + i)) : e);
  }
  exp_neg_scaled_scalar(h + i, a, mul ? mul + i : nullptr, out + i, n - i);
}
#endif

} // namespace

void exp_neg_scaled(const float* h, double a, const float* mul, float* out, std::size_t n) {
#if !defined(TOMOSWEEP_NO_CLONES) && defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return exp_neg_scaled_avx2(h, a, mul, out, n);
#endif
  exp_neg_scaled_scalar(h, a, mul, out, n);
}

} // namespace tomosweep
