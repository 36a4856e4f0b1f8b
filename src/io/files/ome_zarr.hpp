// OME-Zarr (NGFF 0.4 on Zarr v2) volumes, written without a Zarr library: a group with `.zgroup` and a
// `.zattrs` holding one `multiscales` entry (axes z, y, x in Angstrom), and one array per level ("0", "1",
// ...; each level halves every axis) with a `.zarray` and uncompressed little-endian chunks of 64^3 voxels
// in nested folders ("0/iz/iy/ix", dimension_separator "/"), which is how copick stores tomograms and
// segmentations. Chunks at the edges are padded to the full chunk with 0, as Zarr v2 requires.
// Level k > 0: float volumes are the mean of 2 x 2 x 2 blocks, label volumes take every second voxel
// (labels are never averaged); the scale is voxel_A x 2^k and the translation (2^k - 1) / 2 x voxel_A, so a
// level's voxel centres sit at the centres of the blocks they summarize.
#pragma once

#include "core/volume.hpp"

#include <cstdint>
#include <string>

namespace tomosweep {

/// Write `v` as an OME-Zarr group at `dir` (a folder, created; an existing one is replaced) with `levels`
/// levels (fewer when an axis would drop below 1 voxel). `name` goes into the multiscales entry.
void write_ome_zarr(const std::string& dir, const Volume<float>& v, const std::string& name, int levels = 3);
void write_ome_zarr(const std::string& dir, const Volume<std::uint8_t>& labels, const std::string& name,
                    int levels = 3);

} // namespace tomosweep
