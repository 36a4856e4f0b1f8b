// 3D Fourier filtering of a volume held in z slabs by a group of MPI ranks (FFTW3-MPI, single precision): the
// group version of reconstruct's bandlimited_prior, for volumes too large for one rank. MPI stays in the .cpp.
#pragma once

#include "core/fft.hpp"
#include "core/volume.hpp"
#include "reconstruct/params.hpp"

#include <functional>

namespace boost::mpi {
class communicator;
}

namespace tomosweep {

/// bandlimited_prior (reconstruct/wbp.hpp) of a potential held in z slabs by the ranks of `comm`: rank k holds
/// slices [k * block, min(nz_total, (k + 1) * block)) in `slab` (nx x ny x its slices, voxel_A of the grid).
/// Collective over comm. Returns this rank's slab of the prior (same shape as `slab`). FFTW3-MPI, single precision.
///
/// `block` is a positive multiple of 64 with block * comm.size() >= nz_total; ranks past the end hold 0 slices
/// (but the same nx, ny). Every rank checks the inputs of all ranks (one all-gather first), so that a bad input
/// makes every rank throw the same one-line Error rather than some of them wait in a collective. The values are
/// those of bandlimited_prior of the whole volume to single-precision rounding (FFTW-MPI's plans differ from the
/// serial ones). Memory: the slab and FFTW's local buffer, which becomes the returned slab's storage.
/// Threads: it plans FFTW transforms, which core/fft.cpp's planner lock does not cover: no other thread of the
/// process may plan FFTW transforms meanwhile (rank 0's coordinator thread plans none).
Volume<float> bandlimited_prior_slab(const boost::mpi::communicator& comm, const Volume<float>& slab, int nz_total,
                                     int block, double ice_V, const ReconParams& p);

/// filtered_volume (core/fft.hpp) of a volume on `g` held in z slabs as above (rank k: slices [k * block, ...)):
/// `fill(y, z, row)` makes row y of slice z (z in the whole volume; only this rank's slices are asked for), the
/// periodic 3D transform is multiplied by filter(|k|) (cycles per voxel) and inverted. Collective over comm;
/// returns this rank's slab.
Volume<float> filtered_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int y, int z, float* row)>& fill,
                            const std::function<double(double k)>& filter);

/// spectral_volume (core/fft.hpp) over the slabs: `spectrum(ky, kz, row)` is asked for this rank's planes kz (its
/// slab's slice numbers), the terms are multiplied by filter(|k|) / (nx ny nz) and inverted. Collective over
/// comm; returns this rank's slab.
Volume<float> spectral_slab(const boost::mpi::communicator& comm, const Grid& g, int block,
                            const std::function<void(int ky, int kz, Complex* row)>& spectrum,
                            const std::function<double(double k)>& filter);

} // namespace tomosweep
