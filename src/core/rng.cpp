#include "core/rng.hpp"

#include "core/simd.hpp"

#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cmath>

namespace tomosweep {

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> c, std::array<std::uint32_t, 2> k) {
  constexpr std::uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57, kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

namespace {

constexpr std::uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57, kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;

void philox4x32_16_scalar(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                          std::array<std::uint32_t, 2> key, std::uint32_t* out) {
  for (std::uint32_t i = 0; i < 16; ++i) {
    const auto w = philox4x32({c0 + i, c1, c2, c3}, key);
    std::copy(w.begin(), w.end(), out + 4 * i);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Blocks in the lanes of vector registers: x0..x3 hold word j of every block. A round's 32 x 32 -> 64-bit
// products come from vpmuludq on the even lanes and on the odd lanes shifted down; their high and low halves
// are blended back into 32-bit lanes. Integer work: the same words as philox4x32.
[[gnu::target("avx2")]] void philox4x32_16_avx2(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                                std::uint32_t c3, std::array<std::uint32_t, 2> key,
                                                std::uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi64x(kM0), m1 = _mm256_set1_epi64x(kM1);
  for (int half = 0; half < 2; ++half) {
    const auto b = static_cast<int>(c0 + 8u * static_cast<std::uint32_t>(half));
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32(b), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i x1 = _mm256_set1_epi32(static_cast<int>(c1)), x2 = _mm256_set1_epi32(static_cast<int>(c2));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(c3));
    std::uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      const __m256i e0 = _mm256_mul_epu32(x0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
      const __m256i e1 = _mm256_mul_epu32(x2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
      const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
      const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0)));
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1)));
      x1 = lo1;
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    alignas(32) std::uint32_t w[4][8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[0]), x0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[1]), x1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[2]), x2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[3]), x3);
    std::uint32_t* o = out + 32 * half;
    for (int i = 0; i < 8; ++i) o[4 * i] = w[0][i], o[4 * i + 1] = w[1][i], o[4 * i + 2] = w[2][i], o[4 * i + 3] = w[3][i];
  }
}

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_epi32(), which -Wuninitialized reports
// where they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
[[gnu::target("avx512f")]] void philox4x32_16_avx512(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                                     std::uint32_t c3, std::array<std::uint32_t, 2> key,
                                                     std::uint32_t* out) {
  const __m512i m0 = _mm512_set1_epi64(kM0), m1 = _mm512_set1_epi64(kM1);
  __m512i x0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(c0)),
                                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i x1 = _mm512_set1_epi32(static_cast<int>(c1)), x2 = _mm512_set1_epi32(static_cast<int>(c2));
  __m512i x3 = _mm512_set1_epi32(static_cast<int>(c3));
  constexpr __mmask16 kOdd = 0xAAAA;
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const __m512i e0 = _mm512_mul_epu32(x0, m0), o0 = _mm512_mul_epu32(_mm512_srli_epi64(x0, 32), m0);
    const __m512i e1 = _mm512_mul_epu32(x2, m1), o1 = _mm512_mul_epu32(_mm512_srli_epi64(x2, 32), m1);
    const __m512i hi0 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e0, 32), o0);
    const __m512i lo0 = _mm512_mask_blend_epi32(kOdd, e0, _mm512_slli_epi64(o0, 32));
    const __m512i hi1 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e1, 32), o1);
    const __m512i lo1 = _mm512_mask_blend_epi32(kOdd, e1, _mm512_slli_epi64(o1, 32));
    x0 = _mm512_xor_si512(_mm512_xor_si512(hi1, x1), _mm512_set1_epi32(static_cast<int>(k0)));
    x2 = _mm512_xor_si512(_mm512_xor_si512(hi0, x3), _mm512_set1_epi32(static_cast<int>(k1)));
    x1 = lo1;
    x3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  // Interleave the four word vectors into blocks (4 words each): a 4 x 16 transpose through two unpack levels
  // and 128-bit lane shuffles.
  const __m512i a = _mm512_unpacklo_epi32(x0, x1), b = _mm512_unpackhi_epi32(x0, x1);
  const __m512i c = _mm512_unpacklo_epi32(x2, x3), d = _mm512_unpackhi_epi32(x2, x3);
  const __m512i r0 = _mm512_unpacklo_epi64(a, c), r1 = _mm512_unpackhi_epi64(a, c);
  const __m512i r2 = _mm512_unpacklo_epi64(b, d), r3 = _mm512_unpackhi_epi64(b, d);
  alignas(64) std::uint32_t w[4][16];
  _mm512_store_si512(w[0], r0);
  _mm512_store_si512(w[1], r1);
  _mm512_store_si512(w[2], r2);
  _mm512_store_si512(w[3], r3);
  // In 128-bit lane l, r0 holds block 4l, r1 block 4l + 1, r2 block 4l + 2, r3 block 4l + 3.
  for (int l = 0; l < 4; ++l)
    for (int j = 0; j < 4; ++j) {
      const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(w[j] + 4 * l));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * l + 4 * j), v);
    }
}
#pragma GCC diagnostic pop
#endif

} // namespace

std::vector<std::pair<const char*, Philox16>> philox16_kernels() {
  std::vector<std::pair<const char*, Philox16>> k;
#if !defined(TOMOSWEEP_NO_CLONES) && defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) k.emplace_back("avx512f", philox4x32_16_avx512);
  if (__builtin_cpu_supports("avx2")) k.emplace_back("avx2", philox4x32_16_avx2);
#endif
  k.emplace_back("scalar", philox4x32_16_scalar);
  return k;
}

void philox4x32_16(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                   std::array<std::uint32_t, 2> key, std::uint32_t* out) {
  static const Philox16 kernel = philox16_kernels().front().second;
  kernel(c0, c1, c2, c3, key, out);
}

Rng::Rng(std::uint64_t seed, Purpose purpose, std::uint64_t id)
    : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
      // counter: [block index, purpose, id low, id high]; the block index advances as draws are made.
      counter_{0, static_cast<std::uint32_t>(purpose), static_cast<std::uint32_t>(id),
               static_cast<std::uint32_t>(id >> 32)} {}

void Rng::refill() {
  constexpr std::uint32_t kBlocks = kWords / 4;
  if (counter_[0] <= 0xFFFFFFFFu - (kBlocks - 1)) {
    philox4x32_16(counter_[0], counter_[1], counter_[2], counter_[3], key_, words_.data());
    counter_[0] += kBlocks;
    if (counter_[0] == 0) counter_[1] += 0x10000;
  } else {
    for (std::uint32_t b = 0; b < kBlocks; ++b) { // the block index wraps inside these 16 blocks
      const auto w = philox4x32(counter_, key_);
      std::copy(w.begin(), w.end(), words_.begin() + 4 * b);
      // past 2^32 blocks: move into the purpose word's high half
      if (++counter_[0] == 0) counter_[1] += 0x10000;
    }
  }
  used_ = 0;
}

std::uint32_t Rng::next_u32() {
  if (used_ == kWords) refill();
  return words_[used_++];
}

double Rng::uniform() {
  std::uint64_t a, b;
  if (used_ <= kWords - 2) { // both words from the buffer (the same words as two next_u32 calls)
    a = words_[used_] >> 5, b = words_[used_ + 1] >> 6;
    used_ += 2;
  } else {
    a = next_u32() >> 5, b = next_u32() >> 6; // 27 + 26 bits
  }
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) * (1.0 / 9007199254740992.0);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u, v, s;
  do {
    u = 2 * uniform() - 1;
    v = 2 * uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double f = std::sqrt(-2 * std::log(s) / s);
  spare_normal_ = v * f;
  has_spare_ = true;
  return u * f;
}

std::uint64_t Rng::below(std::uint64_t n) {
  return n == 0 ? 0 : static_cast<std::uint64_t>(uniform() * static_cast<double>(n)) % n;
}

namespace {

// log(k!) = lgamma(k + 1), the very values std::lgamma gives, tabulated for the k that PTRS meets at the
// doses of tilt images (and std::lgamma past the table).
constexpr int kLogFactorials = 8192;

double log_factorial(double k) {
  static const std::vector<double> table = [] {
    std::vector<double> t(kLogFactorials);
    for (int i = 0; i < kLogFactorials; ++i) t[i] = std::lgamma(i + 1.0);
    return t;
  }();
  return k < kLogFactorials ? table[static_cast<std::size_t>(k)] : std::lgamma(k + 1);
}

} // namespace

std::uint64_t Rng::poisson(double lambda) {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    // Inversion by sequential search.
    double p = std::exp(-lambda), f = p, u = uniform();
    std::uint64_t k = 0;
    while (u > f && k < 1000) {
      ++k;
      p *= lambda / static_cast<double>(k);
      f += p;
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (Hormann, Insurance: Math. and Econ. 12, 1993).
  // log(lambda) and log(1/alpha) are needed only past the squeeze (about 1 draw in 4): computed once, then.
  const double slam = std::sqrt(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double vr = 0.9277 - 3.6224 / (b - 2);
  double loglam = 0, log_invalpha = 0;
  bool slow_constants = false;
  for (;;) {
    const double u = uniform() - 0.5, v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (!slow_constants) {
      loglam = std::log(lambda), log_invalpha = std::log(1.1239 + 1.1328 / (b - 3.4));
      slow_constants = true;
    }
    if (std::log(v) + log_invalpha - std::log(a / (us * us) + b) <= -lambda + k * loglam - log_factorial(k))
      return static_cast<std::uint64_t>(k);
  }
}

} // namespace tomosweep
