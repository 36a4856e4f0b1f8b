// bandlimited_prior_slab (src/sweep/group_fft.hpp) against the serial bandlimited_prior of the whole volume, on
// however many ranks mpiexec starts (ctest: group_fft_n1, _n2, _n3): every rank makes the same volume, filters it
// whole, and compares its slab of the group's result. Also the one-line errors of bad inputs, after which the group
// must still work (no rank left waiting in a collective). And spectral_slab of granular ice against spectral_volume.
#include "../unit/expect_error.hpp"
#include "model/ice.hpp"
#include "reconstruct/wbp.hpp"
#include "sweep/group_fft.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

using namespace tomosweep;

namespace {

boost::mpi::communicator& world() {
  static boost::mpi::communicator c;
  return c;
}

float hash01(int x, int y, int z) {
  std::uint32_t h = static_cast<std::uint32_t>(x) * 73856093u ^ static_cast<std::uint32_t>(y) * 19349663u ^
                    static_cast<std::uint32_t>(z) * 83492791u;
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  return static_cast<float>(h & 0xffffffu) / 16777216.0f;
}

// Noise in [0, 1) plus a few Gaussian blobs, some across the slab boundaries at z = 64 and 128.
Volume<float> test_volume(int nx, int ny, int nz) {
  Volume<float> v(nx, ny, nz, 2.5);
  const double blobs[][4] = {{0.3, 0.4, 0.1, 2.0}, {0.6, 0.5, 63.5, 4.0}, {0.5, 0.2, 128.0, 3.0}, {0.8, 0.7, 0.9, 5.0}};
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) {
        double s = hash01(x, y, z);
        for (const auto& b : blobs) {
          const double bz = b[2] < 1.0 ? b[2] * nz : b[2];
          const double dx = x - b[0] * nx, dy = y - b[1] * ny, dz = z - bz;
          s += 3.0 * std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * b[3] * b[3]));
        }
        v(x, y, z) = static_cast<float>(s);
      }
  return v;
}

// Rank k's slab of v: slices [k * block, min(nz, (k + 1) * block)).
Volume<float> slab_of(const Volume<float>& v, int rank, int block) {
  const int first = std::min(v.nz, rank * block), count = std::clamp(v.nz - rank * block, 0, block);
  Volume<float> s(v.nx, v.ny, count, v.voxel_A);
  std::copy_n(v.slice(first), s.size(), s.data.begin());
  return s;
}

double stddev(const Volume<float>& v) {
  double sum = 0, sum2 = 0;
  for (float f : v.data) sum += f, sum2 += static_cast<double>(f) * f;
  const double mean = sum / v.size();
  return std::sqrt(std::max(0.0, sum2 / v.size() - mean * mean));
}

ReconParams params() {
  ReconParams p;
  p.cutoff = 0.25;
  p.falloff = 0.04;
  return p;
}

constexpr double kIce = 1.5;

// The message every rank throws for slab_prior(), checked to be the same on all ranks.
std::string group_error(const std::function<void()>& call) {
  const std::string mine = test_util::error_of(call);
  std::string root = mine;
  boost::mpi::broadcast(world(), root, 0);
  EXPECT_EQ(mine, root) << "rank " << world().rank() << " threw another message than rank 0";
  return mine;
}

TEST(GroupFft, BadInputsGiveOneLineErrorsOnEveryRank) {
  const int rank = world().rank(), size = world().size();
  const Volume<float> v = test_volume(40, 36, 150);
  const int block = (150 + 64 * size - 1) / (64 * size) * 64;
  const Volume<float> mine = slab_of(v, rank, block);
  const ReconParams p = params();
  EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), slab_of(v, rank, 50), 150, 50, kIce, p); }),
            "bandlimited_prior_slab: block 50 is not a positive multiple of 64");
  const int short_nz = 64 * size + 1;
  EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), mine, short_nz, 64, kIce, p); }),
            "bandlimited_prior_slab: block 64 on " + std::to_string(size) + (size == 1 ? " rank" : " ranks") +
                " covers only " + std::to_string(64 * size) + " of the " + std::to_string(short_nz) + " slices");
  // The last rank holding slices passes one slice too few.
  const int last = (150 - 1) / block, last_count = 150 - last * block;
  Volume<float> cut = mine;
  if (rank == last) cut = Volume<float>(40, 36, last_count - 1, v.voxel_A);
  EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), cut, 150, block, kIce, p); }),
            "bandlimited_prior_slab: rank " + std::to_string(last) + " holds " + std::to_string(last_count - 1) +
                " slices, expected " + std::to_string(last_count) + " (slices " + std::to_string(last * block) +
                " to 149 of 150)");
  Volume<float> torn = mine; // a slab whose data does not match its shape
  if (rank == 0) torn.data.pop_back();
  EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), torn, 150, block, kIce, p); }),
            "bandlimited_prior_slab: rank 0's slab has " + std::to_string(40 * 36 * std::min(block, 150) - 1) +
                " values, not 40 x 36 x " + std::to_string(std::min(block, 150)));
  ReconParams zero = p;
  zero.cutoff = 0;
  EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), mine, 150, block, kIce, zero); }),
            test_util::error_of([&] { bandlimited_prior(v, kIce, zero); })); // the serial message
  if (size > 1) {
    const double ice = rank == size - 1 ? 2.5 : kIce;
    EXPECT_EQ(group_error([&] { bandlimited_prior_slab(world(), mine, 150, block, ice, p); }),
              "bandlimited_prior_slab: rank " + std::to_string(size - 1) + " has ice_V 2.5 but rank 0 has 1.5");
  }
}

// Every block from the smallest that covers the volume on this many ranks to two more multiples of 64 (so that
// some ranks hold no slices), for an even and an odd shape.
TEST(GroupFft, SlabsMatchTheSerialPrior) {
  const int rank = world().rank(), size = world().size();
  const ReconParams p = params();
  for (const auto& [nx, ny, nz] : {std::array{40, 36, 150}, std::array{27, 33, 101}}) {
    const Volume<float> v = test_volume(nx, ny, nz);
    const Volume<float> serial = bandlimited_prior(v, kIce, p);
    const double tol = 1e-4 * stddev(serial);
    const int smallest = (nz + 64 * size - 1) / (64 * size) * 64;
    for (int block = smallest; block <= smallest + 128; block += 64) {
      const Volume<float> slab = slab_of(v, rank, block);
      const Volume<float> out = bandlimited_prior_slab(world(), slab, nz, block, kIce, p);
      const bool shaped = out.same_shape(slab) && out.size() == slab.size() && out.voxel_A == slab.voxel_A;
      EXPECT_TRUE(shaped) << "rank " << rank << ": the result is not the slab's shape";
      const Volume<float> want = slab_of(serial, rank, block);
      double local = shaped ? 0.0 : HUGE_VAL; // no early return: the other ranks go on to the next collective
      for (std::size_t i = 0; shaped && i < out.size(); ++i)
        local = std::max(local, std::abs(double(out.data[i]) - want.data[i]));
      const double worst = boost::mpi::all_reduce(world(), local, boost::mpi::maximum<double>());
      if (rank == 0)
        std::printf("group_fft %d rank%s, %d x %d x %d, block %d: max |slab - serial| = %.3g (limit %.3g = 1e-4 std)\n",
                    size, size == 1 ? "" : "s", nx, ny, nz, block, worst, tol);
      EXPECT_LE(worst, tol) << nx << " x " << ny << " x " << nz << ", block " << block;
    }
  }
}

TEST(GroupFft, SpectralSlabsMatchTheSerialTexture) {
  // Granular ice over the slabs: every rank draws its own planes of the spectrum (model/ice.hpp), against the
  // serial spectral_volume of the whole box.
  const int rank = world().rank(), size = world().size();
  for (const auto& [nx, ny, nz] : {std::array{40, 36, 150}, std::array{27, 33, 101}}) {
    const Grid g{nx, ny, nz, 3.0};
    const IceTextureField f = ice_texture_field(g, 4.5, 9, 1);
    const Volume<float> serial = spectral_volume(g, f.spectrum, f.filter);
    const double tol = 1e-4 * stddev(serial);
    const int block = (nz + 64 * size - 1) / (64 * size) * 64;
    const Volume<float> out = spectral_slab(world(), g, block, f.spectrum, f.filter);
    const Volume<float> want = slab_of(serial, rank, block);
    const bool shaped = out.same_shape(want) && out.voxel_A == want.voxel_A;
    EXPECT_TRUE(shaped) << "rank " << rank << ": the result is not the slab's shape";
    double local = shaped ? 0.0 : HUGE_VAL;
    for (std::size_t i = 0; shaped && i < out.size(); ++i)
      local = std::max(local, std::abs(double(out.data[i]) - want.data[i]));
    const double worst = boost::mpi::all_reduce(world(), local, boost::mpi::maximum<double>());
    if (rank == 0)
      std::printf("spectral_slab %d rank%s, %d x %d x %d, block %d: max |slab - serial| = %.3g (limit %.3g)\n", size,
                  size == 1 ? "" : "s", nx, ny, nz, block, worst, tol);
    EXPECT_LE(worst, tol) << nx << " x " << ny << " x " << nz;
  }
}

} // namespace

int main(int argc, char** argv) {
  boost::mpi::environment env;
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  return boost::mpi::all_reduce(world(), failed, boost::mpi::maximum<int>());
}
