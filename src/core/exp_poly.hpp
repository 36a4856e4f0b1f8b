// e^x by a polynomial of our own, the same bits in scalar and AVX2 code (exp_poly, exp_poly4), for the Poisson
// sampler's inversion (core/rng.cpp) and the exposure filter (core/exposure.cpp). Include it only from files
// compiled without contraction into FMA (-ffp-contract=off, core/CMakeLists.txt), or the bits may differ.
#pragma once

#include "core/simd.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(TOMOSWEEP_X86_KERNELS)
#include <immintrin.h>
#endif

namespace tomosweep::poly {

// log 2 in two parts (the high part's product with an integer below 2^11 is exact), and log2(e).
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.4426950408889634;
// 1 / i! for the Taylor series of e^r.
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

/// e^x for x in [-708, 0]: x = n log 2 + r, |r| <= log(2) / 2, e^r by its Taylor series to r^13 (relative error
/// below 1e-16), times 2^n from its bits (n >= -1022).
inline double exp_poly(double x) {
  const double n = std::floor(x * kLog2e + 0.5);
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = kExpC[13];
  for (int i = 12; i >= 0; --i) p = p * r + kExpC[i];
  const std::uint64_t bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(n) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, 8);
  return p * scale;
}

#if defined(TOMOSWEEP_X86_KERNELS)
/// exp_poly of four lanes: the same operations in the same order.
[[gnu::target("avx2")]] inline __m256d exp_poly4(__m256d x) {
  const __m256d n = _mm256_floor_pd(_mm256_add_pd(_mm256_mul_pd(x, _mm256_set1_pd(kLog2e)), _mm256_set1_pd(0.5)));
  const __m256d r = _mm256_sub_pd(_mm256_sub_pd(x, _mm256_mul_pd(n, _mm256_set1_pd(kLn2Hi))),
                                  _mm256_mul_pd(n, _mm256_set1_pd(kLn2Lo)));
  __m256d p = _mm256_set1_pd(kExpC[13]);
  for (int i = 12; i >= 0; --i) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(kExpC[i]));
  // 2^n: n + 1023 in the low bits of the mantissa of 2^52 + n + 1023, shifted into the exponent.
  const __m256d t = _mm256_add_pd(n, _mm256_set1_pd(4503599627370496.0 + 1023.0));
  const __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
  return _mm256_mul_pd(p, scale);
}
#endif

} // namespace tomosweep::poly
