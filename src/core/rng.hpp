// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11) keyed by (seed, purpose, id).
// The same key gives the same stream on every machine, rank count and job order. Samplers are our own,
// because std:: distributions differ between standard libraries.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tomosweep {

/// What a stream is for; part of its key so that streams for different purposes never overlap.
enum class Purpose : std::uint32_t {
  scene = 1,       // particle placement of one replicate
  structure = 2,   // synthetic structures
  features = 3,    // vesicles, carbon, beads, contamination of one replicate
  ice_texture = 4, // granular ice of one replicate (id = replicate x 2^32 + z slice)
  ice_surface = 5, // ice surfaces (roughness modes) of one replicate
  ice_spectrum = 6, // granular ice's white-noise spectrum of one replicate (id = replicate x 2^32 + kz ny + ky)
  tilt_error = 10, // per-tilt angle errors of one job
  detector = 11,   // electron counting of one tilt image (id = job and tilt)
  damage = 12,     // radiation-damage noise of one tilt image
  residual = 13,   // acquisition residuals of one job (image shifts, rotation, magnification, defocus, axis)
  sweep = 20,      // random draws of sweep parameters
  test = 99,
};

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key);

/// Philox4x32-10 of the 16 counters (c0 + i, c1, c2, c3), i = 0..15, block i into out[4 i .. 4 i + 3]; c0 + 15
/// must not wrap. Vectorized; the same words as philox4x32 of each counter.
void philox4x32_16(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                   std::array<std::uint32_t, 2> key, std::uint32_t* out);
using Philox16 = void (*)(std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::array<std::uint32_t, 2>,
                          std::uint32_t*);
/// The implementations of philox4x32_16 this CPU runs, the one in use first (AVX-512, AVX2, scalar); for tests.
std::vector<std::pair<const char*, Philox16>> philox16_kernels();

class Rng {
public:
  Rng(std::uint64_t seed, Purpose purpose, std::uint64_t id);

  std::uint32_t next_u32();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in (0, 1]: safe for log().
  double uniform_pos() { return 1.0 - uniform(); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Marsaglia polar method).
  double normal();
  /// Standard normal by the ziggurat method (256 layers: Marsaglia and Tsang 2000, in Doornik's 2005 form):
  /// two words a draw, more for the 1.1% of draws beyond the layers' rectangles. Exact, and about 4x faster
  /// than normal(); used for noise fields (granular ice, damage noise). Another stream of values than normal().
  double normal_ziggurat();
  /// out[i] = scale x normal_ziggurat(), i = 0..n-1, in order.
  void fill_normal(float* out, std::size_t n, double scale = 1.0);
  /// out[i] += scale x normal_ziggurat(), i = 0..n-1, in order.
  void add_normal(float* out, std::size_t n, double scale);
  /// Poisson with mean lambda >= 0: inversion below 10, PTRS (Hormann 1993) above.
  std::uint64_t poisson(double lambda);
  /// Index in [0, n).
  std::uint64_t below(std::uint64_t n);

  /// Words drawn ahead: next_u32 reads them from a buffer that is refilled 16 Philox blocks at a time (the
  /// blocks a block-by-block generator would give, in the same order).
  static constexpr int kWords = 64;

private:
  void refill();
  double ziggurat_slow(int layer, double u);

  std::array<std::uint32_t, 2> key_;
  std::array<std::uint32_t, 4> counter_;
  int used_ = kWords;
  std::array<std::uint32_t, kWords> words_{};
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

/// Poisson counts of an image: out[j] ~ Poisson(max(0, lambda[j])), j = 0..n-1 (out may be lambda). Pixel j
/// draws from its own counter-based stream, Philox blocks (j, purpose | 2^31 | attempt x 2^16, id low, id high)
/// under the key (seed low, seed high), two uniforms a block: inversion below a mean of 10 (one uniform), PTRS
/// (Hormann 1993) above, its fast acceptance tried for 16 pixels at a time. So the counts do not depend on the
/// order or vector width they are drawn in; these streams never meet those of Rng (whose second counter word
/// stays below 2^31). n < 2^32 - 16.
void poisson_pixels(const float* lambda, float* out, std::size_t n, std::uint64_t seed, Purpose purpose,
                    std::uint64_t id);
/// The same without the vector kernel this CPU would use (for tests: both give the same counts).
void poisson_pixels_scalar(const float* lambda, float* out, std::size_t n, std::uint64_t seed, Purpose purpose,
                           std::uint64_t id);

} // namespace tomosweep
