#include "sweep/group_fft.hpp"

#include "core/errors.hpp"
#include "core/fft.hpp"
#include "reconstruct/wbp.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <fftw3-mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace tomosweep {
namespace {

// What every rank tells the others before any transform: its slab's shape and the settings, which must agree.
enum Field { kNx, kNy, kNz, kValues, kNzTotal, kBlock, kVoxel, kIce, kCutoff, kFalloff, kFields };
constexpr std::array<const char*, kFields> kFieldNames = {"nx",    "ny",      "nz",    "values", "nz_total",
                                                          "block", "voxel_A", "ice_V", "cutoff", "falloff"};
using Inputs = std::array<double, kFields>;

// The slices rank k of a group holds: [k * block, min(nz_total, (k + 1) * block)), none past the end.
long long slices_of(int k, int nz_total, int block) {
  const long long start = static_cast<long long>(k) * block;
  return std::clamp<long long>(nz_total - start, 0, block);
}

// Throw the first problem with the inputs of all ranks (`all`, kFields values per rank, rank order). Every rank
// runs this on the same gathered values, so every rank throws the same message or none does.
void check_inputs(const std::vector<double>& all, int ranks) {
  const auto at = [&all](int r, Field f) { return all[static_cast<std::size_t>(r) * kFields + f]; };
  for (int r = 1; r < ranks; ++r)
    for (int f : {kNx, kNy, kNzTotal, kBlock, kVoxel, kIce, kCutoff, kFalloff})
      if (at(r, Field(f)) != at(0, Field(f)) && !(std::isnan(at(r, Field(f))) && std::isnan(at(0, Field(f)))))
        fail("bandlimited_prior_slab: rank ", r, " has ", kFieldNames[f], " ", at(r, Field(f)), " but rank 0 has ",
             at(0, Field(f)));
  const double cutoff = at(0, kCutoff), falloff = at(0, kFalloff);
  if (!(cutoff > 0) || !(falloff >= 0)) // bandlimited_prior's own check and message
    fail("radial filter cutoff ", cutoff, " and falloff ", falloff, " must be positive");
  const int nx = static_cast<int>(at(0, kNx)), ny = static_cast<int>(at(0, kNy));
  const int nz_total = static_cast<int>(at(0, kNzTotal)), block = static_cast<int>(at(0, kBlock));
  if (block <= 0 || block % 64 != 0) fail("bandlimited_prior_slab: block ", block, " is not a positive multiple of 64");
  if (nz_total <= 0) fail("bandlimited_prior_slab: nz_total ", nz_total, " is not positive");
  if (nx <= 0 || ny <= 0) fail("bandlimited_prior_slab: slices of ", nx, " x ", ny, " voxels (both must be positive)");
  const long long covered = std::min<long long>(static_cast<long long>(ranks) * block, nz_total);
  if (covered < nz_total)
    fail("bandlimited_prior_slab: block ", block, " on ", ranks, ranks == 1 ? " rank" : " ranks", " covers only ",
         covered, " of the ", nz_total, " slices");
  for (int r = 0; r < ranks; ++r) {
    const long long want = slices_of(r, nz_total, block), first = static_cast<long long>(r) * block;
    if (at(r, kNz) != static_cast<double>(want))
      fail("bandlimited_prior_slab: rank ", r, " holds ", at(r, kNz), " slices, expected ", want,
           want > 0 ? detail::concat(" (slices ", first, " to ", first + want - 1, " of ", nz_total, ")") : "");
    if (at(r, kValues) != static_cast<double>(nx) * ny * want)
      fail("bandlimited_prior_slab: rank ", r, "'s slab has ", at(r, kValues), " values, not ", nx, " x ", ny, " x ",
           want);
  }
}

void gather_and_check(const boost::mpi::communicator& comm, const Volume<float>& slab, int nz_total, int block,
                      double ice_V, const ReconParams& p) {
  const Inputs mine = {double(slab.nx),  double(slab.ny), double(slab.nz), double(slab.data.size()),
                       double(nz_total), double(block),   slab.voxel_A,    ice_V,
                       p.cutoff,         p.falloff};
  std::vector<double> all(static_cast<std::size_t>(comm.size()) * kFields);
  MPI_Allgather(mine.data(), kFields, MPI_DOUBLE, all.data(), kFields, MPI_DOUBLE, comm);
  check_inputs(all, comm.size());
}

void init_fftw_mpi() {
  static const bool done = [] {
    fftwf_mpi_init();
    return true;
  }();
  (void)done;
}

// The r2c and c2r plans of one transform pair, destroyed on every path.
struct PlanPair {
  fftwf_plan fwd = nullptr, inv = nullptr;
  PlanPair() = default;
  PlanPair(const PlanPair&) = delete;
  PlanPair& operator=(const PlanPair&) = delete;
  ~PlanPair() {
    if (fwd) fftwf_destroy_plan(fwd);
    if (inv) fftwf_destroy_plan(inv);
  }
};

} // namespace

Volume<float> bandlimited_prior_slab(const boost::mpi::communicator& comm, const Volume<float>& slab, int nz_total,
                                     int block, double ice_V, const ReconParams& p) {
  gather_and_check(comm, slab, nz_total, block, ice_V, p);
  const float level = static_cast<float>(ice_V);
  const auto minus = [&](int y, int z, float* row) {
    const float* src = slab.data.data() + slab.index(0, y, z - comm.rank() * block);
    for (int x = 0; x < slab.nx; ++x) row[x] = level - src[x];
  };
  return filtered_slab(comm, Grid{slab.nx, slab.ny, nz_total, slab.voxel_A}, block, minus,
                       [&p](double k) { return radial_rolloff(k, p); });
}

namespace {

// The slab transform filtered_slab and spectral_slab share: this rank's planes of the whole volume's transform,
// its padded buffer in the returned slab's own storage (from a 64-byte boundary, as filtered_volume's), and the
// plans (the forward one only when asked for). `what` names the caller in errors.
struct SlabTransform {
  Volume<float> out;
  float* buf = nullptr;
  std::ptrdiff_t z0 = 0, local_n0 = 0;
  int nzl = 0;
  PlanPair plans;
};

void plan_slab_transform(const char* what, const boost::mpi::communicator& comm, const Grid& g, int block,
                         bool forward, SlabTransform& t) {
  if (block <= 0 || block % 64 != 0) fail(what, ": block ", block, " is not a positive multiple of 64");
  if (static_cast<long long>(comm.size()) * block < g.nz)
    fail(what, ": block ", block, " on ", comm.size(), " ranks covers only part of ", g.nz, " slices");
  init_fftw_mpi();
  const int nx = g.nx, ny = g.ny, nz_total = g.nz;
  t.nzl = static_cast<int>(slices_of(comm.rank(), nz_total, block));
  const std::ptrdiff_t n[3] = {nz_total, ny, nx}, nc[3] = {nz_total, ny, nx / 2 + 1};
  const std::ptrdiff_t alloc = fftwf_mpi_local_size_many(3, nc, 1, block, comm, &t.local_n0, &t.z0);
  if (t.local_n0 != t.nzl || (t.nzl > 0 && t.z0 != static_cast<std::ptrdiff_t>(comm.rank()) * block))
    fail(what, ": FFTW-MPI gives rank ", comm.rank(), " slices ", t.z0, " + ", t.local_n0, ", not the slab's ",
         t.nzl); // cannot happen for a valid block: the same distribution by construction
  t.out.nx = nx, t.out.ny = ny, t.out.nz = t.nzl, t.out.voxel_A = g.voxel_A;
  t.buf = aligned_transform_buffer(t.out, 2 * static_cast<std::size_t>(std::max<std::ptrdiff_t>(alloc, 1)));
  fftwf_complex* spec = reinterpret_cast<fftwf_complex*>(t.buf);
  if (forward) t.plans.fwd = fftwf_mpi_plan_many_dft_r2c(3, n, 1, block, block, t.buf, spec, comm, FFTW_ESTIMATE);
  t.plans.inv = fftwf_mpi_plan_many_dft_c2r(3, n, 1, block, block, spec, t.buf, comm, FFTW_ESTIMATE);
  const bool planned = (!forward || t.plans.fwd) && t.plans.inv;
  if (!boost::mpi::all_reduce(comm, planned, std::logical_and<bool>()))
    fail(what, ": FFTW-MPI could not plan the ", nx, " x ", ny, " x ", nz_total, " transform on ", comm.size(),
         " ranks with block ", block);
}

} // namespace

Volume<float> filtered_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int y, int z, float* row)>& fill,
                            const std::function<double(double k)>& filter) {
  SlabTransform t;
  plan_slab_transform("filtered_slab", comm, g, block, true, t);
  const int nx = g.nx, ny = g.ny, px = 2 * (nx / 2 + 1), first = comm.rank() * block;
  for (int z = 0; z < t.nzl; ++z)
    for (int y = 0; y < ny; ++y) fill(y, first + z, t.buf + (static_cast<std::size_t>(z) * ny + y) * px);
  fftwf_execute(t.plans.fwd);
  weight_spectrum_planes(reinterpret_cast<Complex*>(t.buf), nx, ny, g.nz, t.z0, t.local_n0, filter);
  fftwf_execute(t.plans.inv);
  unpad_rows(t.out, t.buf, nx, px, static_cast<std::size_t>(ny) * t.nzl);
  return std::move(t.out);
}

Volume<float> spectral_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int ky, int kz, Complex* row)>& spectrum,
                            const std::function<double(double k)>& filter) {
  SlabTransform t;
  plan_slab_transform("spectral_slab", comm, g, block, false, t);
  const int nx = g.nx, ny = g.ny, nkx = nx / 2 + 1, px = 2 * nkx;
  Complex* c = reinterpret_cast<Complex*>(t.buf);
  for (int z = 0; z < t.nzl; ++z)
    for (int y = 0; y < ny; ++y)
      spectrum(y, static_cast<int>(t.z0) + z, c + (static_cast<std::size_t>(z) * ny + y) * nkx);
  weight_spectrum_planes(c, nx, ny, g.nz, t.z0, t.local_n0, filter);
  fftwf_execute(t.plans.inv);
  unpad_rows(t.out, t.buf, nx, px, static_cast<std::size_t>(ny) * t.nzl);
  return std::move(t.out);
}

} // namespace tomosweep
