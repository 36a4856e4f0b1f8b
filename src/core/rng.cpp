#include "core/rng.hpp"

#include "core/errors.hpp"
#include "core/exp_poly.hpp"
#include "core/simd.hpp"

#include <algorithm>
#if defined(TOMOSWEEP_X86_KERNELS)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstring>

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

#if defined(TOMOSWEEP_X86_KERNELS)
// Blocks in the lanes of vector registers: x0..x3 hold word j of every block. A round's 32 x 32 -> 64-bit
// products come from vpmuludq on the even lanes and on the odd lanes shifted down; their high and low halves
// are blended back into 32-bit lanes. Integer work: the same words as philox4x32.
[[gnu::target("avx2")]] inline void philox_rounds8(__m256i& x0, __m256i& x1, __m256i& x2, __m256i& x3,
                                                 std::array<std::uint32_t, 2> key) {
  const __m256i m0 = _mm256_set1_epi64x(kM0), m1 = _mm256_set1_epi64x(kM1);
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
}

[[gnu::target("avx2")]] void philox4x32_16_avx2(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                                std::uint32_t c3, std::array<std::uint32_t, 2> key,
                                                std::uint32_t* out) {
  for (int half = 0; half < 2; ++half) {
    const auto b = static_cast<int>(c0 + 8u * static_cast<std::uint32_t>(half));
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32(b), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i x1 = _mm256_set1_epi32(static_cast<int>(c1)), x2 = _mm256_set1_epi32(static_cast<int>(c2));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(c3));
    philox_rounds8(x0, x1, x2, x3, key);
    alignas(32) std::uint32_t w[4][8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[0]), x0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[1]), x1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[2]), x2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[3]), x3);
    std::uint32_t* o = out + 32 * half;
    for (int i = 0; i < 8; ++i) o[4 * i] = w[0][i], o[4 * i + 1] = w[1][i], o[4 * i + 2] = w[2][i], o[4 * i + 3] = w[3][i];
  }
}

// Philox4x32-10 of the 16 counters (c0[i], c1[i], c2, c3), word j of block i into w[j][i] (planar, as the
// Poisson sampler reads them).
void philox_planar16_scalar(const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2, std::uint32_t c3,
                            std::array<std::uint32_t, 2> key, std::uint32_t (*w)[16]) {
  for (int i = 0; i < 16; ++i) {
    const auto b = philox4x32({c0[i], c1[i], c2, c3}, key);
    for (int j = 0; j < 4; ++j) w[j][i] = b[j];
  }
}

[[gnu::target("avx2")]] void philox_planar16_avx2(const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2,
                                                  std::uint32_t c3, std::array<std::uint32_t, 2> key,
                                                  std::uint32_t (*w)[16]) {
  for (int half = 0; half < 16; half += 8) {
    __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c0 + half));
    __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c1 + half));
    __m256i x2 = _mm256_set1_epi32(static_cast<int>(c2)), x3 = _mm256_set1_epi32(static_cast<int>(c3));
    philox_rounds8(x0, x1, x2, x3, key);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[0] + half), x0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[1] + half), x1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[2] + half), x2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w[3] + half), x3);
  }
}

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_epi32(), which -Wuninitialized reports
// where they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
[[gnu::target("avx512f")]] inline void philox_rounds16(__m512i& x0, __m512i& x1, __m512i& x2, __m512i& x3,
                                                     std::array<std::uint32_t, 2> key) {
  const __m512i m0 = _mm512_set1_epi64(kM0), m1 = _mm512_set1_epi64(kM1);
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
}

[[gnu::target("avx512f")]] void philox_planar16_avx512(const std::uint32_t* c0, const std::uint32_t* c1,
                                                       std::uint32_t c2, std::uint32_t c3,
                                                       std::array<std::uint32_t, 2> key, std::uint32_t (*w)[16]) {
  __m512i x0 = _mm512_loadu_si512(c0), x1 = _mm512_loadu_si512(c1);
  __m512i x2 = _mm512_set1_epi32(static_cast<int>(c2)), x3 = _mm512_set1_epi32(static_cast<int>(c3));
  philox_rounds16(x0, x1, x2, x3, key);
  _mm512_storeu_si512(w[0], x0);
  _mm512_storeu_si512(w[1], x1);
  _mm512_storeu_si512(w[2], x2);
  _mm512_storeu_si512(w[3], x3);
}

[[gnu::target("avx512f")]] void philox4x32_16_avx512(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                                     std::uint32_t c3, std::array<std::uint32_t, 2> key,
                                                     std::uint32_t* out) {
  __m512i x0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(c0)),
                                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i x1 = _mm512_set1_epi32(static_cast<int>(c1)), x2 = _mm512_set1_epi32(static_cast<int>(c2));
  __m512i x3 = _mm512_set1_epi32(static_cast<int>(c3));
  philox_rounds16(x0, x1, x2, x3, key);
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
#if defined(TOMOSWEEP_X86_KERNELS)
  if (cpu_has_avx512f()) k.emplace_back("avx512f", philox4x32_16_avx512);
  if (cpu_has_avx2()) k.emplace_back("avx2", philox4x32_16_avx2);
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

namespace {

// The 256-layer ziggurat of the standard normal density f(x) = exp(-x^2 / 2) (unnormalised): layer 0 is the base
// strip with the tail beyond r, every layer has area v. x[i] is the right edge of layer i (x[0] the base strip's
// pseudo-width v / f(r), x[256] = 0); ratio[i] = x[i + 1] / x[i], below which a draw is inside the rectangle that
// lies under the curve.
struct Ziggurat {
  static constexpr double r = 3.6541528853610088, v = 0.00492867323399;
  double x[257], ratio[256];
  Ziggurat() {
    const auto f = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = v / f(r);
    x[1] = r;
    for (int i = 2; i < 256; ++i) x[i] = std::sqrt(-2 * std::log(v / x[i - 1] + f(x[i - 1])));
    x[256] = 0;
    for (int i = 0; i < 256; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

} // namespace

double Rng::normal_ziggurat() {
  const Ziggurat& z = ziggurat();
  std::uint32_t w0, w1;
  if (used_ <= kWords - 2) {
    w0 = words_[used_], w1 = words_[used_ + 1];
    used_ += 2;
  } else {
    w0 = next_u32(), w1 = next_u32();
  }
  const int layer = static_cast<int>(w0 & 0xFF);
  // 24 + 29 random bits: u in [-1, 1) on a grid of 2^-52.
  const double u = (static_cast<double>(w0 >> 8) * 536870912.0 + static_cast<double>(w1 >> 3)) *
                       (2.0 / 9007199254740992.0) - 1.0;
  if (std::abs(u) < z.ratio[layer]) return u * z.x[layer];
  return ziggurat_slow(layer, u);
}

double Rng::ziggurat_slow(int layer, double u) {
  const Ziggurat& z = ziggurat();
  for (;;) {
    if (layer == 0) { // the tail beyond r (Marsaglia 1964)
      double x, y;
      do {
        x = std::log(uniform_pos()) / Ziggurat::r;
        y = std::log(uniform_pos());
      } while (-2 * y < x * x);
      return u < 0 ? x - Ziggurat::r : Ziggurat::r - x;
    }
    // The wedge between the rectangle and the curve.
    const double x = u * z.x[layer];
    const double f0 = std::exp(-0.5 * (z.x[layer] * z.x[layer] - x * x));
    const double f1 = std::exp(-0.5 * (z.x[layer + 1] * z.x[layer + 1] - x * x));
    if (f1 + uniform() * (f0 - f1) < 1.0) return x;
    // A fresh draw.
    const std::uint32_t w0 = next_u32(), w1 = next_u32();
    layer = static_cast<int>(w0 & 0xFF);
    u = (static_cast<double>(w0 >> 8) * 536870912.0 + static_cast<double>(w1 >> 3)) * (2.0 / 9007199254740992.0) -
        1.0;
    if (std::abs(u) < z.ratio[layer]) return u * z.x[layer];
  }
}

void Rng::fill_normal(float* out, std::size_t n, double scale) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(scale * normal_ziggurat());
}

void Rng::add_normal(float* out, std::size_t n, double scale) {
  for (std::size_t i = 0; i < n; ++i) out[i] += static_cast<float>(scale * normal_ziggurat());
}

std::uint64_t Rng::below(std::uint64_t n) {
  return n == 0 ? 0 : static_cast<std::uint64_t>(uniform() * static_cast<double>(n)) % n;
}

namespace {

// log(k!) = lgamma(k + 1), the very values std::lgamma gives, tabulated for the k that PTRS meets at the
// doses of tilt images (and std::lgamma past the table).
constexpr int kLogFactorials = 8192;

const double* log_factorials() {
  static const std::vector<double> table = [] {
    std::vector<double> t(kLogFactorials);
    for (int i = 0; i < kLogFactorials; ++i) t[i] = std::lgamma(i + 1.0);
    return t;
  }();
  return table.data();
}

double log_factorial(double k) {
  return k < kLogFactorials ? log_factorials()[static_cast<std::size_t>(k)] : std::lgamma(k + 1);
}

} // namespace

namespace {

// The uniform in [0, 1) of two words (53 bits), as Rng::uniform().
inline double uniform_of(std::uint32_t a, std::uint32_t b) {
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * (1.0 / 9007199254740992.0);
}

// PTRS's constants for mean lambda >= 10.
struct Ptrs {
  double slam, b, a, vr;
  explicit Ptrs(double lambda)
      : slam(std::sqrt(lambda)), b(0.931 + 2.53 * slam), a(-0.059 + 0.02483 * b), vr(0.9277 - 3.6224 / (b - 2)) {}
};

// One PTRS trial with uniforms u0 (in [0, 1), shifted to u) and v: the count, or -1 when rejected.
// Natural logarithm for PTRS's acceptance test, the same bits in scalar and vector code (log_poly4 below):
// x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716, as
// s (2 + s^2 (2/3 + s^2 (2/5 + ...))) to s^23 (relative error below 1e-16), plus e log 2 in two parts. Positive
// normal x; log(0) = -infinity; nothing else is met.
using poly::kLn2Hi;
using poly::kLn2Lo;
constexpr double kLogC[12] = {2.0,        2.0 / 3,  2.0 / 5,  2.0 / 7,  2.0 / 9,  2.0 / 11,
                              2.0 / 13,   2.0 / 15, 2.0 / 17, 2.0 / 19, 2.0 / 21, 2.0 / 23};

double log_poly(double x) {
  if (x == 0) return -HUGE_VAL;
  std::uint64_t bits;
  std::memcpy(&bits, &x, 8);
  std::int64_t e = static_cast<std::int64_t>(bits >> 52) - 1023;
  bits = (bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL;
  double m;
  std::memcpy(&m, &bits, 8);
  if (m > 1.4142135623730951) m *= 0.5, e += 1;
  const double s = (m - 1) / (m + 1), s2 = s * s;
  double p = kLogC[11];
  for (int i = 10; i >= 0; --i) p = p * s2 + kLogC[i];
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + s * p);
}

using poly::exp_poly; // e^-lambda of the inversion (core/exp_poly.hpp)

// 1 / k for the inversion's terms.
constexpr int kInversionMax = 1000;
const double* inverse_integers() {
  static const std::vector<double> t = [] {
    std::vector<double> v(kInversionMax + 1, 0.0);
    for (int k = 1; k <= kInversionMax; ++k) v[k] = 1.0 / k;
    return v;
  }();
  return t.data();
}

// Poisson count for a mean in (0, 10) by inversion: the least k with u0 <= P(K <= k), the terms p_k = p_(k-1)
// (lambda / k) with 1 / k from a table; at most kInversionMax.
double poisson_inversion(double lambda, double u0) {
  const double* inv = inverse_integers();
  double p = exp_poly(-lambda), f = p;
  int k = 0;
  while (u0 > f && k < kInversionMax) {
    ++k;
    p = p * (lambda * inv[k]);
    f = f + p;
  }
  return k;
}

// PTRS's full test of one trial after the fast acceptance failed: log(v alpha^-1 / (a / us^2 + b)) against
// k log(lambda) - lambda - log k!.
bool ptrs_slow_accept(double lambda, double loglam, double b, double a, double us, double v, double k) {
  if (k < 0 || (us < 0.013 && v > us)) return false;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  return log_poly(v * inv_alpha / (a / (us * us) + b)) <= k * loglam - lambda - log_factorial(k);
}

// A PTRS trial's candidate count k from uniform u0 (in [0, 1), shifted to u), the |u| margin us it needs, and
// whether v passes the fast acceptance (ptrs_trial4 is the same in four lanes).
struct PtrsCandidate {
  double us, k;
  bool fast;
};
PtrsCandidate ptrs_candidate(double lambda, const Ptrs& c, double u0, double v) {
  const double u = u0 - 0.5, us = 0.5 - std::abs(u);
  const double k = std::floor((2 * c.a / us + c.b) * u + lambda + 0.43);
  return {us, k, us >= 0.07 && v <= c.vr};
}

// One PTRS trial with uniforms u0 and v: the count, or -1 when rejected.
double ptrs_trial(double lambda, double loglam, const Ptrs& c, double u0, double v) {
  const PtrsCandidate t = ptrs_candidate(lambda, c, u0, v);
  if (t.fast) return t.k;
  return ptrs_slow_accept(lambda, loglam, c.b, c.a, t.us, v, t.k) ? t.k : -1;
}

// Trials of a pixel are numbered from 0; trial `attempt` uses block (j, c1 + attempt 2^16, c2, c3).
void check_attempt(double lambda, std::uint32_t attempt) {
  if (attempt >= 0x7FFF) fail("Poisson sampler: no count accepted after 32767 trials at mean ", lambda);
}

// The uniforms of trial `attempt` of pixel j of poisson_pixels: its first block's for the first trial, then one
// block per trial.
std::array<double, 2> trial_uniforms(double lambda, std::uint32_t attempt, std::uint32_t j, std::uint32_t c1,
                                     std::uint32_t c2, std::uint32_t c3, std::array<std::uint32_t, 2> key) {
  check_attempt(lambda, attempt);
  const auto w = philox4x32({j, c1 + (attempt << 16), c2, c3}, key);
  return {uniform_of(w[0], w[1]), uniform_of(w[2], w[3])};
}

// Pixel j of poisson_pixels (a mean of 10 or more) from trial `attempt` on, whose uniforms are (u0, v).
double poisson_pixel(double lambda, double u0, double v, std::uint32_t attempt, std::uint32_t j, std::uint32_t c1,
                     std::uint32_t c2, std::uint32_t c3, std::array<std::uint32_t, 2> key) {
  const Ptrs c(lambda);
  const double loglam = log_poly(lambda);
  for (;;) {
    const double k = ptrs_trial(lambda, loglam, c, u0, v);
    if (k >= 0) return k;
    const auto uv = trial_uniforms(lambda, ++attempt, j, c1, c2, c3, key);
    u0 = uv[0], v = uv[1];
  }
}

// The uniforms (u0, v) of 16 pixels from their blocks' words (planar: word j of block i in w[j][i]).
void uniforms16_scalar(const std::uint32_t (*w)[16], double* u0, double* v) {
  for (int i = 0; i < 16; ++i) u0[i] = uniform_of(w[0][i], w[1][i]), v[i] = uniform_of(w[2][i], w[3][i]);
}

// What a pixel's first trial gave, when not its count: pending (PTRS's fast acceptance failed: the full test
// decides, in a later pass over such pixels only), rejected (the next trial is the pixel's second block), or
// undecided (the full test needs log k! beyond the table: poisson_pixel starts again).
constexpr double kRejected = -1, kUndecided = -2, kPending = -3;

// First pass over 16 pixels: their uniforms; the count of a mean in (0, 10) by inversion, 0 for a mean of 0 (or
// less), and for a mean of 10 or more PTRS's first trial when its fast acceptance holds, else kPending.
void first_pass16_scalar(const double* lambda, const std::uint32_t (*w)[16], double* u0, double* v, double* count) {
  uniforms16_scalar(w, u0, v);
  for (int i = 0; i < 16; ++i) {
    if (!(lambda[i] > 0)) {
      count[i] = 0;
    } else if (lambda[i] < 10) {
      count[i] = poisson_inversion(lambda[i], u0[i]);
    } else {
      const PtrsCandidate t = ptrs_candidate(lambda[i], Ptrs(lambda[i]), u0[i], v[i]);
      count[i] = t.fast ? t.k : kPending;
    }
  }
}

// Later passes: a whole PTRS trial of n pixels (means of 10 or more; n a multiple of 4) with uniforms (u0, v): the
// count, kRejected, or kUndecided where the full test needs log k! beyond the table.
void trial4n_scalar(const double* lambda, const double* u0, const double* v, std::size_t n, double* count) {
  for (std::size_t i = 0; i < n; ++i) {
    const Ptrs c(lambda[i]);
    const PtrsCandidate t = ptrs_candidate(lambda[i], c, u0[i], v[i]);
    count[i] = t.fast                                                                        ? t.k
               : t.k >= kLogFactorials                                                       ? kUndecided
               : ptrs_slow_accept(lambda[i], log_poly(lambda[i]), c.b, c.a, t.us, v[i], t.k) ? t.k
                                                                                             : kRejected;
  }
}

#if defined(TOMOSWEEP_X86_KERNELS)
// log_poly of four lanes: the same operations in the same order.
[[gnu::target("avx2")]] inline __m256d log_poly4(__m256d x) {
  const __m256i bits = _mm256_castpd_si256(x);
  // The biased exponent as a double, exactly: its integer in the mantissa of 2^52, minus 2^52.
  const __m256i eb = _mm256_srli_epi64(bits, 52);
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
  __m256d e = _mm256_sub_pd(_mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(eb, _mm256_castpd_si256(two52))), two52),
                            _mm256_set1_pd(1023.0));
  __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                                  _mm256_set1_epi64x(0x3FF0000000000000LL)));
  const __m256d hi = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), hi);
  e = _mm256_blendv_pd(e, _mm256_add_pd(e, _mm256_set1_pd(1.0)), hi);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d s = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one)), s2 = _mm256_mul_pd(s, s);
  __m256d p = _mm256_set1_pd(kLogC[11]);
  for (int i = 10; i >= 0; --i) p = _mm256_add_pd(_mm256_mul_pd(p, s2), _mm256_set1_pd(kLogC[i]));
  const __m256d r = _mm256_add_pd(_mm256_mul_pd(e, _mm256_set1_pd(kLn2Hi)),
                                  _mm256_add_pd(_mm256_mul_pd(e, _mm256_set1_pd(kLn2Lo)), _mm256_mul_pd(s, p)));
  return _mm256_blendv_pd(r, _mm256_set1_pd(-HUGE_VAL), _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_EQ_OQ));
}

using poly::exp_poly4;

// poisson_inversion of 16 lanes (where `lanes`, 4 masks of 4; others 0), in four registers at once so that
// their chains overlap: all lanes step through k together, each counting while its u0 is above its running sum.
[[gnu::target("avx2")]] void inversion16(const double* lambda, const double* u0, const __m256d* lanes,
                                         __m256d* count) {
  const double* inv = inverse_integers();
  __m256d l[4], u[4], p[4], f[4], active[4];
  const __m256d one = _mm256_set1_pd(1.0), ten = _mm256_set1_pd(10.0);
  int any = 0;
  for (int g = 0; g < 4; ++g) {
    l[g] = _mm256_blendv_pd(ten, _mm256_loadu_pd(lambda + 4 * g), lanes[g]);
    u[g] = _mm256_loadu_pd(u0 + 4 * g);
    p[g] = exp_poly4(_mm256_sub_pd(_mm256_setzero_pd(), l[g]));
    f[g] = p[g];
    count[g] = _mm256_setzero_pd();
    active[g] = _mm256_and_pd(lanes[g], _mm256_cmp_pd(u[g], f[g], _CMP_GT_OQ));
    any |= _mm256_movemask_pd(active[g]);
  }
  for (int k = 1; k <= kInversionMax && any != 0; ++k) {
    const __m256d ik = _mm256_set1_pd(inv[k]);
    any = 0;
    for (int g = 0; g < 4; ++g) {
      p[g] = _mm256_mul_pd(p[g], _mm256_mul_pd(l[g], ik));
      f[g] = _mm256_add_pd(f[g], p[g]);
      count[g] = _mm256_add_pd(count[g], _mm256_and_pd(active[g], one));
      active[g] = _mm256_and_pd(active[g], _mm256_cmp_pd(u[g], f[g], _CMP_GT_OQ));
      any |= _mm256_movemask_pd(active[g]);
    }
  }
}

// uniform_of for pixels 4 g .. 4 g + 3: the same operations in the same order (the shifted words fit 27 bits, so
// their conversions through signed integers are exact).
[[gnu::target("avx2")]] inline __m256d shifted_words4(const std::uint32_t* w, int shift) {
  return _mm256_cvtepi32_pd(_mm_srl_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)), _mm_cvtsi32_si128(shift)));
}

[[gnu::target("avx2")]] inline void uniforms4(const std::uint32_t (*w)[16], int g, __m256d& u0, __m256d& v) {
  const __m256d hi = _mm256_set1_pd(67108864.0), scale = _mm256_set1_pd(1.0 / 9007199254740992.0);
  u0 = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(shifted_words4(w[0] + 4 * g, 5), hi), shifted_words4(w[1] + 4 * g, 6)),
                     scale);
  v = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(shifted_words4(w[2] + 4 * g, 5), hi), shifted_words4(w[3] + 4 * g, 6)),
                    scale);
}

[[gnu::target("avx2")]] void uniforms16_avx2(const std::uint32_t (*w)[16], double* u0, double* v) {
  for (int g = 0; g < 4; ++g) {
    __m256d uu, vv;
    uniforms4(w, g, uu, vv);
    _mm256_storeu_pd(u0 + 4 * g, uu);
    _mm256_storeu_pd(v + 4 * g, vv);
  }
}

// ptrs_candidate of four lanes (means of 10 or more), with the constants b and a the full test needs.
struct PtrsTrial4 {
  __m256d b, a, us, k, fast;
};

[[gnu::target("avx2")]] inline PtrsTrial4 ptrs_trial4(__m256d lam, __m256d u0, __m256d v) {
  PtrsTrial4 t;
  const __m256d half = _mm256_set1_pd(0.5), sign = _mm256_set1_pd(-0.0);
  const __m256d slam = _mm256_sqrt_pd(lam);
  t.b = _mm256_add_pd(_mm256_set1_pd(0.931), _mm256_mul_pd(_mm256_set1_pd(2.53), slam));
  t.a = _mm256_add_pd(_mm256_set1_pd(-0.059), _mm256_mul_pd(_mm256_set1_pd(0.02483), t.b));
  const __m256d u = _mm256_sub_pd(u0, half);
  t.us = _mm256_sub_pd(half, _mm256_andnot_pd(sign, u));
  const __m256d m = _mm256_add_pd(_mm256_div_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), t.a), t.us), t.b);
  t.k = _mm256_floor_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(m, u), lam), _mm256_set1_pd(0.43)));
  const __m256d vr = _mm256_sub_pd(_mm256_set1_pd(0.9277),
                                   _mm256_div_pd(_mm256_set1_pd(3.6224), _mm256_sub_pd(t.b, _mm256_set1_pd(2.0))));
  t.fast = _mm256_and_pd(_mm256_cmp_pd(t.us, _mm256_set1_pd(0.07), _CMP_GE_OQ), _mm256_cmp_pd(v, vr, _CMP_LE_OQ));
  return t;
}

// first_pass16_scalar four lanes at a time (IEEE square root, division and floor are exact in any width, and
// nothing is fused): the same uniforms and counts.
[[gnu::target("avx2")]] void first_pass16_avx2(const double* lambda, const std::uint32_t (*w)[16], double* u0,
                                               double* v, double* count) {
  const __m256d ten = _mm256_set1_pd(10.0), zero = _mm256_setzero_pd(), pending = _mm256_set1_pd(kPending);
  __m256d small[4];
  int any_small = 0;
  for (int g = 0; g < 4; ++g) {
    __m256d uu, vv;
    uniforms4(w, g, uu, vv);
    _mm256_storeu_pd(u0 + 4 * g, uu);
    _mm256_storeu_pd(v + 4 * g, vv);
    const __m256d l = _mm256_loadu_pd(lambda + 4 * g);
    const __m256d big = _mm256_cmp_pd(l, ten, _CMP_GE_OQ);
    const PtrsTrial4 t = ptrs_trial4(_mm256_blendv_pd(ten, l, big), uu, vv);
    // Means in (0, 10): inversion, below; 0 (or less): count 0.
    small[g] = _mm256_andnot_pd(big, _mm256_cmp_pd(l, zero, _CMP_GT_OQ));
    any_small |= _mm256_movemask_pd(small[g]);
    _mm256_storeu_pd(count + 4 * g, _mm256_and_pd(big, _mm256_blendv_pd(pending, t.k, t.fast)));
  }
  if (!any_small) return;
  __m256d inverted[4];
  inversion16(lambda, u0, small, inverted);
  for (int g = 0; g < 4; ++g)
    _mm256_storeu_pd(count + 4 * g, _mm256_blendv_pd(_mm256_loadu_pd(count + 4 * g), inverted[g], small[g]));
}

// trial4n_scalar four lanes at a time: the same counts.
[[gnu::target("avx2")]] void trial4n_avx2(const double* lambda, const double* u0, const double* v, std::size_t n,
                                          double* count) {
  const double* logfact = log_factorials();
  const __m256d zero = _mm256_setzero_pd(), table = _mm256_set1_pd(kLogFactorials);
  for (std::size_t i = 0; i < n; i += 4) {
    const __m256d lam = _mm256_loadu_pd(lambda + i), vv = _mm256_loadu_pd(v + i);
    const PtrsTrial4 t = ptrs_trial4(lam, _mm256_loadu_pd(u0 + i), vv);
    // ptrs_slow_accept where k is in [0, kLogFactorials) and not (us < 0.013 and v > us).
    const __m256d in_table =
        _mm256_and_pd(_mm256_cmp_pd(t.k, zero, _CMP_GE_OQ), _mm256_cmp_pd(t.k, table, _CMP_LT_OQ));
    const __m256d squeezed_out = _mm256_and_pd(_mm256_cmp_pd(t.us, _mm256_set1_pd(0.013), _CMP_LT_OQ),
                                               _mm256_cmp_pd(vv, t.us, _CMP_GT_OQ));
    const __m128i idx = _mm256_cvttpd_epi32(_mm256_and_pd(t.k, in_table)); // 0 outside the table
    const __m256d lf = _mm256_mask_i32gather_pd(zero, logfact, idx, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)), 8);
    const __m256d inv_alpha = _mm256_add_pd(
        _mm256_set1_pd(1.1239), _mm256_div_pd(_mm256_set1_pd(1.1328), _mm256_sub_pd(t.b, _mm256_set1_pd(3.4))));
    const __m256d lhs = log_poly4(_mm256_div_pd(_mm256_mul_pd(vv, inv_alpha),
                                                _mm256_add_pd(_mm256_div_pd(t.a, _mm256_mul_pd(t.us, t.us)), t.b)));
    const __m256d rhs = _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(t.k, log_poly4(lam)), lam), lf);
    const __m256d slow =
        _mm256_andnot_pd(squeezed_out, _mm256_and_pd(in_table, _mm256_cmp_pd(lhs, rhs, _CMP_LE_OQ)));
    const __m256d r = _mm256_blendv_pd(_mm256_set1_pd(kRejected), t.k, slow);
    const __m256d beyond = _mm256_andnot_pd(t.fast, _mm256_cmp_pd(t.k, table, _CMP_GE_OQ));
    _mm256_storeu_pd(count + i, _mm256_blendv_pd(_mm256_blendv_pd(r, t.k, t.fast), _mm256_set1_pd(kUndecided), beyond));
  }
}
#endif

using PhiloxPlanar16 = void (*)(const std::uint32_t*, const std::uint32_t*, std::uint32_t, std::uint32_t,
                                std::array<std::uint32_t, 2>, std::uint32_t (*)[16]);

struct PoissonKernels {
  PhiloxPlanar16 philox16;
  void (*uniforms16)(const std::uint32_t (*)[16], double*, double*);
  void (*first_pass16)(const double*, const std::uint32_t (*)[16], double*, double*, double*);
  void (*trial4n)(const double*, const double*, const double*, std::size_t, double*);
};

constexpr PoissonKernels kScalarPoisson{philox_planar16_scalar, uniforms16_scalar, first_pass16_scalar,
                                        trial4n_scalar};

PoissonKernels poisson_kernels() {
#if defined(TOMOSWEEP_X86_KERNELS)
  if (cpu_has_avx2())
    return {cpu_has_avx512f() ? philox_planar16_avx512 : philox_planar16_avx2, uniforms16_avx2,
            first_pass16_avx2, trial4n_avx2};
#endif
  return kScalarPoisson;
}

} // namespace

namespace {

// Pixels whose first trial awaits PTRS's full test (about one pixel in four with a mean of 10 or more), decided a
// batch at a time: the full test of their first trials, then whole trials of those rejected, with new blocks,
// until every pixel has its count.
class PendingPixels {
public:
  static constexpr int kBatch = 256;
  PendingPixels(const PoissonKernels& kernels, float* out, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                std::array<std::uint32_t, 2> key)
      : k_(kernels), out_(out), c1_(c1), c2_(c2), c3_(c3), key_(key) {}
  // The pixels of block j0 whose count is kPending (without branches: each slot is written, kept or not).
  void add16(std::uint32_t j0, int m, const double* lambda, const double* u0, const double* v, const double* count) {
    for (int i = 0; i < m; ++i) {
      index_[n_] = j0 + static_cast<std::uint32_t>(i), attempt_[n_] = 0;
      lambda_[n_] = lambda[i], u0_[n_] = u0[i], v_[n_] = v[i];
      n_ += count[i] == kPending ? 1 : 0;
    }
    if (n_ >= kBatch) decide();
  }
  void decide() {
    while (n_ > 0) {
      int n4 = n_;
      for (; n4 % 4 != 0; ++n4) lambda_[n4] = 10, u0_[n4] = 0.5, v_[n4] = 0.5; // padding, results unused
      k_.trial4n(lambda_, u0_, v_, static_cast<std::size_t>(n4), count_);
      int kept = 0; // the rejected to the front
      for (int i = 0; i < n_; ++i) {
        double c = count_[i];
        if (c == kUndecided)
          c = poisson_pixel(lambda_[i], u0_[i], v_[i], attempt_[i], index_[i], c1_, c2_, c3_, key_);
        if (c >= 0) {
          out_[index_[i]] = static_cast<float>(c);
          continue;
        }
        check_attempt(lambda_[i], attempt_[i] + 1);
        index_[kept] = index_[i], attempt_[kept] = attempt_[i] + 1, lambda_[kept] = lambda_[i];
        ++kept;
      }
      n_ = kept;
      // Their next trial's uniforms: block (j, c1 + attempt 2^16, c2, c3).
      for (int i0 = 0; i0 < n_; i0 += 16) {
        alignas(64) std::uint32_t c0[16] = {}, c1[16] = {}, w[4][16];
        const int m = std::min(16, n_ - i0);
        for (int i = 0; i < m; ++i) c0[i] = index_[i0 + i], c1[i] = c1_ + (attempt_[i0 + i] << 16);
        k_.philox16(c0, c1, c2_, c3_, key_, w);
        double u0[16], v[16];
        k_.uniforms16(w, u0, v);
        for (int i = 0; i < m; ++i) u0_[i0 + i] = u0[i], v_[i0 + i] = v[i];
      }
    }
  }

private:
  const PoissonKernels& k_;
  float* out_;
  std::uint32_t c1_, c2_, c3_;
  std::array<std::uint32_t, 2> key_;
  int n_ = 0;
  static constexpr int kSize = kBatch + 16;
  std::uint32_t index_[kSize], attempt_[kSize];
  double lambda_[kSize], u0_[kSize], v_[kSize], count_[kSize];
};

void poisson_pixels_by(const PoissonKernels& kernels, const float* lambda, float* out, std::size_t n,
                       std::uint64_t seed, Purpose purpose, std::uint64_t id) {
  if (n >= 0xFFFFFFF0u) fail("Poisson counts of ", n, " pixels at once: at most 2^32 - 17");
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  const std::uint32_t c1 = static_cast<std::uint32_t>(purpose) | 0x80000000u, c2 = static_cast<std::uint32_t>(id),
                      c3 = static_cast<std::uint32_t>(id >> 32);
  alignas(64) std::uint32_t c0s[16], c1s[16], w[4][16];
  for (int i = 0; i < 16; ++i) c1s[i] = c1;
  double lam[16], u0[16], v[16], count[16];
  PendingPixels pending(kernels, out, c1, c2, c3, key);
  for (std::size_t j0 = 0; j0 < n; j0 += 16) {
    const int m = static_cast<int>(std::min<std::size_t>(16, n - j0));
    for (int i = 0; i < 16; ++i) c0s[i] = static_cast<std::uint32_t>(j0) + static_cast<std::uint32_t>(i);
    kernels.philox16(c0s, c1s, c2, c3, key, w);
    for (int i = 0; i < 16; ++i) lam[i] = i < m ? std::max(0.0, static_cast<double>(lambda[j0 + i])) : 0.0;
    kernels.first_pass16(lam, w, u0, v, count);
    for (int i = 0; i < m; ++i) out[j0 + i] = static_cast<float>(count[i]); // kPending: replaced by decide()
    pending.add16(static_cast<std::uint32_t>(j0), m, lam, u0, v, count);
  }
  pending.decide();
}

} // namespace

void poisson_pixels(const float* lambda, float* out, std::size_t n, std::uint64_t seed, Purpose purpose,
                    std::uint64_t id) {
  static const PoissonKernels kernels = poisson_kernels();
  poisson_pixels_by(kernels, lambda, out, n, seed, purpose, id);
}

void poisson_pixels_scalar(const float* lambda, float* out, std::size_t n, std::uint64_t seed, Purpose purpose,
                           std::uint64_t id) {
  poisson_pixels_by(kScalarPoisson, lambda, out, n, seed, purpose, id);
}

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
