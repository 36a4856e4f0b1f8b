#include "core/rng.hpp"

#include <algorithm>
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

Rng::Rng(std::uint64_t seed, Purpose purpose, std::uint64_t id)
    : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
      // counter: [block index, purpose, id low, id high]; the block index advances as draws are made.
      counter_{0, static_cast<std::uint32_t>(purpose), static_cast<std::uint32_t>(id),
               static_cast<std::uint32_t>(id >> 32)} {}

std::uint32_t Rng::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32(counter_, key_);
    if (++counter_[0] == 0) counter_[1] += 0x10000; // past 2^32 blocks: move into the purpose word's high half
    used_ = 0;
  }
  return block_[used_++];
}

double Rng::uniform() {
  std::uint64_t a, b;
  if (used_ <= 2) { // both words from the current block (the same words as two next_u32 calls)
    a = block_[used_] >> 5, b = block_[used_ + 1] >> 6;
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
    if (std::log(v) + log_invalpha - std::log(a / (us * us) + b) <= -lambda + k * loglam - std::lgamma(k + 1))
      return static_cast<std::uint64_t>(k);
  }
}

} // namespace tomosweep
