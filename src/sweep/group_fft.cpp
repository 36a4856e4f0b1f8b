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

Volume<float> filtered_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int y, int z, float* row)>& fill,
                            const std::function<double(double k)>& filter) {
  if (block <= 0 || block % 64 != 0) fail("filtered_slab: block ", block, " is not a positive multiple of 64");
  if (static_cast<long long>(comm.size()) * block < g.nz)
    fail("filtered_slab: block ", block, " on ", comm.size(), " ranks covers only part of ", g.nz, " slices");
  init_fftw_mpi();
  const int nx = g.nx, ny = g.ny, nz_total = g.nz, px = 2 * (nx / 2 + 1);
  const int nzl = static_cast<int>(slices_of(comm.rank(), nz_total, block));
  const std::ptrdiff_t n[3] = {nz_total, ny, nx}, nc[3] = {nz_total, ny, nx / 2 + 1};
  std::ptrdiff_t local_n0 = 0, z0 = 0;
  const std::ptrdiff_t alloc = fftwf_mpi_local_size_many(3, nc, 1, block, comm, &local_n0, &z0);
  if (local_n0 != nzl || (nzl > 0 && z0 != static_cast<std::ptrdiff_t>(comm.rank()) * block))
    fail("filtered_slab: FFTW-MPI gives rank ", comm.rank(), " slices ", z0, " + ", local_n0, ", not the slab's ",
         nzl); // cannot happen for a valid block: the same distribution by construction
  // The buffer is the returned slab's storage, starting at a 64-byte boundary (as filtered_volume's does).
  Volume<float> out;
  out.nx = nx, out.ny = ny, out.nz = nzl, out.voxel_A = g.voxel_A;
  float* buf = aligned_transform_buffer(out, 2 * static_cast<std::size_t>(std::max<std::ptrdiff_t>(alloc, 1)));
  fftwf_complex* spec = reinterpret_cast<fftwf_complex*>(buf);
  PlanPair plans;
  plans.fwd = fftwf_mpi_plan_many_dft_r2c(3, n, 1, block, block, buf, spec, comm, FFTW_ESTIMATE);
  plans.inv = fftwf_mpi_plan_many_dft_c2r(3, n, 1, block, block, spec, buf, comm, FFTW_ESTIMATE);
  const bool planned = plans.fwd && plans.inv;
  if (!boost::mpi::all_reduce(comm, planned, std::logical_and<bool>()))
    fail("filtered_slab: FFTW-MPI could not plan the ", nx, " x ", ny, " x ", nz_total, " transform on ",
         comm.size(), " ranks with block ", block);
  const int first = comm.rank() * block;
  for (int z = 0; z < nzl; ++z)
    for (int y = 0; y < ny; ++y) fill(y, first + z, buf + (static_cast<std::size_t>(z) * ny + y) * px);
  fftwf_execute(plans.fwd);
  weight_spectrum_planes(reinterpret_cast<Complex*>(buf), nx, ny, nz_total, z0, local_n0, filter);
  fftwf_execute(plans.inv);
  unpad_rows(out, buf, nx, px, static_cast<std::size_t>(ny) * nzl);
  return out;
}

Volume<float> spectral_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int ky, int kz, Complex* row)>& spectrum,
                            const std::function<double(double k)>& filter) {
  if (block <= 0 || block % 64 != 0) fail("spectral_slab: block ", block, " is not a positive multiple of 64");
  if (static_cast<long long>(comm.size()) * block < g.nz)
    fail("spectral_slab: block ", block, " on ", comm.size(), " ranks covers only part of ", g.nz, " slices");
  init_fftw_mpi();
  const int nx = g.nx, ny = g.ny, nz_total = g.nz, nkx = nx / 2 + 1, px = 2 * nkx;
  const int nzl = static_cast<int>(slices_of(comm.rank(), nz_total, block));
  const std::ptrdiff_t n[3] = {nz_total, ny, nx}, nc[3] = {nz_total, ny, nkx};
  std::ptrdiff_t local_n0 = 0, z0 = 0;
  const std::ptrdiff_t alloc = fftwf_mpi_local_size_many(3, nc, 1, block, comm, &local_n0, &z0);
  if (local_n0 != nzl || (nzl > 0 && z0 != static_cast<std::ptrdiff_t>(comm.rank()) * block))
    fail("spectral_slab: FFTW-MPI gives rank ", comm.rank(), " slices ", z0, " + ", local_n0, ", not the slab's ",
         nzl); // cannot happen for a valid block: the same distribution by construction
  Volume<float> out;
  out.nx = nx, out.ny = ny, out.nz = nzl, out.voxel_A = g.voxel_A;
  float* buf = aligned_transform_buffer(out, 2 * static_cast<std::size_t>(std::max<std::ptrdiff_t>(alloc, 1)));
  fftwf_complex* spec = reinterpret_cast<fftwf_complex*>(buf);
  PlanPair plans;
  plans.inv = fftwf_mpi_plan_many_dft_c2r(3, n, 1, block, block, spec, buf, comm, FFTW_ESTIMATE);
  if (!boost::mpi::all_reduce(comm, plans.inv != nullptr, std::logical_and<bool>()))
    fail("spectral_slab: FFTW-MPI could not plan the ", nx, " x ", ny, " x ", nz_total, " transform on ",
         comm.size(), " ranks with block ", block);
  Complex* c = reinterpret_cast<Complex*>(buf);
  for (int z = 0; z < nzl; ++z)
    for (int y = 0; y < ny; ++y) spectrum(y, static_cast<int>(z0) + z, c + (static_cast<std::size_t>(z) * ny + y) * nkx);
  weight_spectrum_planes(c, nx, ny, nz_total, z0, local_n0, filter);
  fftwf_execute(plans.inv);
  unpad_rows(out, buf, nx, px, static_cast<std::size_t>(ny) * nzl);
  return out;
}

} // namespace tomosweep
