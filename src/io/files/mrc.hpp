// MRC2014 files (https://www.ccpem.ac.uk/mrc_format/mrc2014.php) and IMOD tilt-angle files.
//
// What tomosweep writes (every kind passes Debian's `mrcfile-validate`, see tests/integration):
//   Volume<float>          mode 2 (float32), ispg 1, mx my mz = nx ny nz.
//   Volume<uint8_t>        labels: mode 0 (MRC2014 says signed int8) when every value is <= 127, which any
//                          atlas with fewer than 128 classes is; otherwise mode 6 (uint16), so no reader
//                          ever sees a negative label.
//   Volume<uint32_t>       instance ids: MRC has no 32-bit integer mode, so mode 2 (float32), exact for ids
//                          up to 2^24 = 16777216 (larger ids are an error).
//   write_mrc_stack        tilt series and other image stacks: mode 2, ispg 0, mz 1 (nz = images).
// Always: little-endian (machine stamp 44 44 00 00), "MAP " stamp, nversion 20140, map order 1 2 3,
// origin 0, cella = n * voxel size (Angstrom; stacks: cella.z = one voxel), exact dmin/dmax and
// dmean/rms (population standard deviation) of the stored values, one label "tomosweep VERSION KIND".
// Files are written to a temporary name and renamed, so no half-written file ever has the final name.
#pragma once

#include "core/volume.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

/// The header fields tomosweep reads and writes (others are zero).
struct MrcHeader {
  int nx = 0, ny = 0, nz = 0;
  int mode = 2;
  int mx = 0, my = 0, mz = 0;
  std::array<float, 3> cella_A{0, 0, 0};
  std::array<int, 3> map_crs{1, 2, 3};
  float dmin = 0, dmax = 0, dmean = 0, rms = 0;
  int ispg = 1;
  int nsymbt = 0; ///< extended header bytes (skipped when reading)
  int nversion = 20140;
  std::array<float, 3> origin_A{0, 0, 0};
  bool has_map_stamp = true;
  bool byte_swapped = false; ///< file was big-endian (read side only)
  std::vector<std::string> labels;
  /// Voxel size in Angstrom: cella.x / mx (1 when mx is 0).
  double voxel_A() const { return mx > 0 ? cella_A[0] / mx : 1.0; }
};

/// Float32 volume, mode 2, ispg 1.
void write_mrc(const std::string& path, const Volume<float>& vol);
/// Label map: mode 0 when all labels <= 127, else mode 6 (uint16).
void write_mrc(const std::string& path, const Volume<std::uint8_t>& labels);
/// Instance map: mode 2 (float32) holding exact integers; ids above 2^24 throw Error.
void write_mrc(const std::string& path, const Volume<std::uint32_t>& instances);
/// Image stack (tilt series): mode 2, ispg 0, mz 1, nz = number of images.
void write_mrc_stack(const std::string& path, const Volume<float>& stack);

/// Header of an MRC file, checked (size, mode, dimensions); throws IoError "PATH: reason".
MrcHeader read_mrc_header(const std::string& path);
/// Any MRC of mode 0 (signed int8), 1 (int16), 2 (float32), 6 (uint16) or 12 (float16) as float32,
/// either byte order; voxel_A from the header. Throws IoError "PATH: reason" for truncated or corrupt files.
Volume<float> read_mrc(const std::string& path);

/// IMOD .tlt / .rawtlt file: one angle (degrees, 3 decimals) per line, in the order given.
void write_tilt_angles(const std::string& path, const std::vector<double>& angles_deg);
/// Read a .tlt / .rawtlt file (one number per line, blank lines ignored).
std::vector<double> read_tilt_angles(const std::string& path);

} // namespace tomosweep
