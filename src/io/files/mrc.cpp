#include "io/files/mrc.hpp"

#include "core/errors.hpp"
#include "io/files/atomic_file.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>
#include <type_traits>

#ifndef TOMOSWEEP_VERSION
#define TOMOSWEEP_VERSION "dev"
#endif

namespace tomosweep {
namespace {

static_assert(std::endian::native == std::endian::little, "the MRC writer assumes a little-endian host");

constexpr std::size_t kHeaderBytes = 1024;
constexpr double kMaxExactFloatInt = 16777216.0; // 2^24

template <class T> void put(std::string& h, std::size_t offset, T v) { std::memcpy(h.data() + offset, &v, sizeof v); }
template <class T> T get(const std::string& h, std::size_t offset, bool swap) {
  T v;
  std::memcpy(&v, h.data() + offset, sizeof v);
  if (swap) {
    char* b = reinterpret_cast<char*>(&v);
    for (std::size_t i = 0; i < sizeof v / 2; ++i) std::swap(b[i], b[sizeof v - 1 - i]);
  }
  return v;
}

template <class T> T byteswap_value(T v) {
  char* b = reinterpret_cast<char*>(&v);
  for (std::size_t i = 0; i < sizeof v / 2; ++i) std::swap(b[i], b[sizeof v - 1 - i]);
  return v;
}

struct Stats {
  float dmin = 0, dmax = 0, dmean = 0, rms = 0;
};

// Statistics of the n values get(i) (as stored), in double: two passes, as the header has always had them.
// Minimum, maximum, mean and RMS deviation in two passes, each with 8 running sums in a fixed pattern (element
// i into sum i mod 8, the 8 added in order at the end), so that the passes are not one long chain of dependent
// additions and they vectorize: the same figures on every run. `finite_at`: the first element that is NaN or
// infinite (n if none), for floating-point data.
template <class Get> Stats stats_of(std::size_t n, Get get, std::size_t& finite_at) {
  Stats s;
  finite_at = n;
  if (n == 0) return s;
  constexpr std::size_t kLanes = 8;
  double lo[kLanes], hi[kLanes], sum[kLanes] = {};
  for (std::size_t l = 0; l < kLanes; ++l) lo[l] = hi[l] = static_cast<double>(get(0));
  bool finite = true;
  const std::size_t whole = n / kLanes * kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    bool ok = true;
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(get(i + l));
      ok &= std::isfinite(d);
      lo[l] = std::min(lo[l], d), hi[l] = std::max(hi[l], d), sum[l] += d;
    }
    finite &= ok;
  }
  for (std::size_t i = whole; i < n; ++i) {
    const double d = static_cast<double>(get(i));
    finite &= std::isfinite(d);
    lo[i - whole] = std::min(lo[i - whole], d), hi[i - whole] = std::max(hi[i - whole], d), sum[i - whole] += d;
  }
  if (!finite) {
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(static_cast<double>(get(i)))) {
        finite_at = i;
        break;
      }
    return s;
  }
  double total = 0, mn = lo[0], mx = hi[0];
  for (std::size_t l = 0; l < kLanes; ++l) total += sum[l], mn = std::min(mn, lo[l]), mx = std::max(mx, hi[l]);
  const double mean = total / static_cast<double>(n);
  double ss[kLanes] = {};
  for (std::size_t i = 0; i < whole; i += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(get(i + l)) - mean;
      ss[l] += d * d;
    }
  for (std::size_t i = whole; i < n; ++i) {
    const double d = static_cast<double>(get(i)) - mean;
    ss[i - whole] += d * d;
  }
  double squares = 0;
  for (std::size_t l = 0; l < kLanes; ++l) squares += ss[l];
  s.dmin = static_cast<float>(mn);
  s.dmax = static_cast<float>(mx);
  s.dmean = static_cast<float>(mean);
  s.rms = static_cast<float>(std::sqrt(squares / static_cast<double>(n)));
  return s;
}

std::string make_header(int nx, int ny, int nz, int mode, double voxel_A, bool stack, const Stats& st,
                        const std::string& kind) {
  std::string h(kHeaderBytes, '\0');
  put<std::int32_t>(h, 0, nx);
  put<std::int32_t>(h, 4, ny);
  put<std::int32_t>(h, 8, nz);
  put<std::int32_t>(h, 12, mode);
  // nxstart, nystart, nzstart = 0 (offsets 16..27)
  const int mz = stack ? 1 : nz;
  put<std::int32_t>(h, 28, nx);
  put<std::int32_t>(h, 32, ny);
  put<std::int32_t>(h, 36, mz);
  put<float>(h, 40, static_cast<float>(nx * voxel_A));
  put<float>(h, 44, static_cast<float>(ny * voxel_A));
  put<float>(h, 48, static_cast<float>(mz * voxel_A));
  put<float>(h, 52, 90.0f);
  put<float>(h, 56, 90.0f);
  put<float>(h, 60, 90.0f);
  put<std::int32_t>(h, 64, 1);
  put<std::int32_t>(h, 68, 2);
  put<std::int32_t>(h, 72, 3);
  put<float>(h, 76, st.dmin);
  put<float>(h, 80, st.dmax);
  put<float>(h, 84, st.dmean);
  put<std::int32_t>(h, 88, stack ? 0 : 1);
  put<std::int32_t>(h, 92, 0);      // nsymbt: no extended header
  put<std::int32_t>(h, 108, 20140); // nversion
  // origin (196..207) = 0
  std::memcpy(h.data() + 208, "MAP ", 4);
  const unsigned char stamp[4] = {0x44, 0x44, 0x00, 0x00};
  std::memcpy(h.data() + 212, stamp, 4);
  put<float>(h, 216, st.rms);
  put<std::int32_t>(h, 220, 1);
  std::string label = std::string("tomosweep ") + TOMOSWEEP_VERSION + " " + kind;
  label.resize(80, ' ');
  std::memcpy(h.data() + 224, label.data(), 80);
  return h;
}

void check_shape(const std::string& path, int nx, int ny, int nz) {
  if (nx <= 0 || ny <= 0 || nz <= 0) fail_io("cannot write ", path, ": empty volume ", nx, " x ", ny, " x ", nz);
}

// An MRC file of the n = nx ny nz values get(i), converted to Stored as they are written (a chunk at a time:
// no converted copy of the whole volume is made); with `stored`, the values already as Stored in memory, written
// from there.
template <class Stored, class Get>
void write_any(const std::string& path, int nx, int ny, int nz, double voxel_A, int mode, bool stack, Get get,
               const std::string& kind, const Stored* stored = nullptr) {
  check_shape(path, nx, ny, nz);
  if (!(voxel_A > 0) || !std::isfinite(voxel_A))
    fail_io("cannot write ", path, ": voxel size ", voxel_A, " A is not positive");
  const std::size_t n = static_cast<std::size_t>(nx) * ny * nz;
  std::size_t i = n;
  const Stats stats = stats_of(n, get, i);
  if (i < n) { // NaN or infinity is always an upstream bug, and it would make the header statistics meaningless.
    const std::size_t x = i % nx, y = i / nx % ny, z = i / (static_cast<std::size_t>(nx) * ny);
    fail_io("cannot write ", path, ": value ", get(i), " at voxel (", x, ", ", y, ", ", z, ") is not finite");
  }
  const std::string header = make_header(nx, ny, nz, mode, voxel_A, stack, stats, kind);
  AtomicFileWriter file(path, kHeaderBytes + n * sizeof(Stored));
  file.append(header);
  if (stored) { // the values as they are in memory: no converted copy
    file.append(stored, n * sizeof(Stored));
    file.commit();
    return;
  }
  constexpr std::size_t kChunk = 1 << 18;
  std::vector<Stored> chunk(std::min(n, kChunk));
  for (std::size_t i0 = 0; i0 < n; i0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - i0);
    for (std::size_t i = 0; i < m; ++i) chunk[i] = static_cast<Stored>(get(i0 + i));
    file.append(chunk.data(), m * sizeof(Stored));
  }
  file.commit();
}

template <class Stored> void write_data(const std::string& path, const Volume<Stored>& v, int mode, bool stack,
                                        const std::string& kind) {
  const Stored* d = v.data.data();
  write_any<Stored>(path, v.nx, v.ny, v.nz, v.voxel_A, mode, stack, [d](std::size_t i) { return d[i]; }, kind, d);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  const int exp = (h >> 10) & 0x1f;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) { // zero or subnormal
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  std::uint32_t bits;
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | (static_cast<std::uint32_t>(exp - 15 + 127) << 23) | (mant << 13);
  return std::bit_cast<float>(bits);
}

int bytes_per_voxel(int mode) {
  switch (mode) {
  case 0:
    return 1;
  case 1:
    return 2;
  case 2:
    return 4;
  case 6:
    return 2;
  case 12:
    return 2;
  default:
    return 0;
  }
}

MrcHeader parse_header(const std::string& path, const std::string& h, std::uint64_t file_size) {
  MrcHeader m;
  if (h.size() < kHeaderBytes) fail_io(path, ": truncated mrc header (", h.size(), " of 1024 bytes)");
  // Byte order: the machine stamp, or failing that a plausible mode/nx.
  const auto st0 = static_cast<unsigned char>(h[212]);
  bool swap = st0 == 0x11;
  if (st0 != 0x44 && st0 != 0x11) {
    const auto mode_le = get<std::int32_t>(h, 12, false);
    swap = mode_le < 0 || mode_le > 0xffff;
  }
  m.byte_swapped = swap;
  m.nx = get<std::int32_t>(h, 0, swap);
  m.ny = get<std::int32_t>(h, 4, swap);
  m.nz = get<std::int32_t>(h, 8, swap);
  m.mode = get<std::int32_t>(h, 12, swap);
  m.mx = get<std::int32_t>(h, 28, swap);
  m.my = get<std::int32_t>(h, 32, swap);
  m.mz = get<std::int32_t>(h, 36, swap);
  for (int i = 0; i < 3; ++i) {
    m.cella_A[i] = get<float>(h, 40 + 4 * i, swap);
    m.map_crs[i] = get<std::int32_t>(h, 64 + 4 * i, swap);
    m.origin_A[i] = get<float>(h, 196 + 4 * i, swap);
  }
  m.dmin = get<float>(h, 76, swap);
  m.dmax = get<float>(h, 80, swap);
  m.dmean = get<float>(h, 84, swap);
  m.ispg = get<std::int32_t>(h, 88, swap);
  m.nsymbt = get<std::int32_t>(h, 92, swap);
  m.nversion = get<std::int32_t>(h, 108, swap);
  m.has_map_stamp = h.compare(208, 4, "MAP ") == 0;
  m.rms = get<float>(h, 216, swap);
  const int nlabl = std::clamp(get<std::int32_t>(h, 220, swap), 0, 10);
  for (int i = 0; i < nlabl; ++i) {
    std::string l = h.substr(224 + 80 * static_cast<std::size_t>(i), 80);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\0')) l.pop_back();
    m.labels.push_back(l);
  }

  if (m.nx <= 0 || m.ny <= 0 || m.nz <= 0)
    fail_io(path, ": corrupt mrc header (size ", m.nx, " x ", m.ny, " x ", m.nz, ")");
  const int bpv = bytes_per_voxel(m.mode);
  if (bpv == 0) fail_io(path, ": unsupported mrc mode ", m.mode, " (tomosweep reads modes 0, 1, 2, 6, 12)");
  if (m.nsymbt < 0) fail_io(path, ": corrupt mrc header (nsymbt ", m.nsymbt, ")");
  if (!(m.map_crs[0] == 1 && m.map_crs[1] == 2 && m.map_crs[2] == 3) && !(m.map_crs == std::array{0, 0, 0}))
    fail_io(path, ": unsupported mrc axis order ", m.map_crs[0], " ", m.map_crs[1], " ", m.map_crs[2],
            " (tomosweep reads 1 2 3)");
  // Three dimensions below 2^31 can overflow 64 bits: such a header is corrupt, whatever the file's size.
  const std::uint64_t slice_bytes = static_cast<std::uint64_t>(m.nx) * static_cast<std::uint64_t>(m.ny) * bpv;
  if (slice_bytes > (std::numeric_limits<std::uint64_t>::max() - kHeaderBytes - (1ull << 31)) / m.nz)
    fail_io(path, ": corrupt mrc header (size ", m.nx, " x ", m.ny, " x ", m.nz, ")");
  const std::uint64_t need = kHeaderBytes + static_cast<std::uint64_t>(m.nsymbt) + slice_bytes * m.nz;
  if (file_size < need) fail_io(path, ": truncated mrc file (", file_size, " bytes, header says ", need, ")");
  return m;
}

std::uint64_t file_size_of(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) fail_io(errno_message(path));
  if (S_ISDIR(sb.st_mode)) fail_io(path, ": is a directory");
  return static_cast<std::uint64_t>(sb.st_size);
}

std::string read_prefix(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_io(errno_message(path));
  std::string buf(n, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(n));
  buf.resize(static_cast<std::size_t>(in.gcount()));
  return buf;
}

} // namespace

void write_mrc(const std::string& path, const Volume<float>& vol) { write_data(path, vol, 2, false, "volume"); }

void write_mrc(const std::string& path, const Volume<std::uint8_t>& labels) {
  std::uint8_t hi = 0;
  for (std::uint8_t v : labels.data) hi = std::max(hi, v);
  const std::uint8_t* d = labels.data.data();
  if (hi <= 127)
    write_any<std::int8_t>(path, labels.nx, labels.ny, labels.nz, labels.voxel_A, 0, false,
                           [d](std::size_t i) { return static_cast<std::int8_t>(d[i]); }, "labels");
  else
    write_any<std::uint16_t>(path, labels.nx, labels.ny, labels.nz, labels.voxel_A, 6, false,
                             [d](std::size_t i) { return static_cast<std::uint16_t>(d[i]); }, "labels");
}

void write_mrc(const std::string& path, const Volume<std::uint32_t>& instances) {
  for (std::uint32_t id : instances.data)
    if (id > kMaxExactFloatInt)
      fail_io("cannot write ", path, ": instance id ", id,
              " exceeds 16777216, the largest integer float32 holds exactly");
  const std::uint32_t* d = instances.data.data();
  write_any<float>(path, instances.nx, instances.ny, instances.nz, instances.voxel_A, 2, false,
                   [d](std::size_t i) { return static_cast<float>(d[i]); }, "instances");
}

void write_mrc_stack(const std::string& path, const Volume<float>& stack) {
  write_data(path, stack, 2, true, "image stack");
}

MrcHeader read_mrc_header(const std::string& path) {
  const std::uint64_t size = file_size_of(path);
  return parse_header(path, read_prefix(path, kHeaderBytes), size);
}

Volume<float> read_mrc(const std::string& path) {
  const MrcHeader m = read_mrc_header(path);
  Volume<float> v(m.nx, m.ny, m.nz, m.voxel_A());
  const std::size_t n = v.data.size();
  float* dst = v.data.data();
  const std::uint64_t offset = kHeaderBytes + static_cast<std::uint64_t>(m.nsymbt);
  if (m.mode == 2 && !m.byte_swapped) { // the common case: straight into the volume
    read_file_exactly(path, offset, dst, n * sizeof(float));
    return v;
  }
  std::string raw(n * static_cast<std::size_t>(bytes_per_voxel(m.mode)), '\0');
  read_file_exactly(path, offset, raw.data(), raw.size());
  const char* src = raw.data();
  const bool sw = m.byte_swapped;
  // One tight loop per mode: this runs at memory speed for the common float32 case.
  auto convert = [&](auto tag, auto to_float) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      T x;
      std::memcpy(&x, src + i * sizeof(T), sizeof(T));
      if (sw) x = byteswap_value(x);
      dst[i] = to_float(x);
    }
  };
  switch (m.mode) {
  case 0:
    convert(std::int8_t{}, [](std::int8_t x) { return static_cast<float>(x); });
    break;
  case 1:
    convert(std::int16_t{}, [](std::int16_t x) { return static_cast<float>(x); });
    break;
  case 2:
    convert(std::uint32_t{}, [](std::uint32_t x) { return std::bit_cast<float>(x); });
    break;
  case 6:
    convert(std::uint16_t{}, [](std::uint16_t x) { return static_cast<float>(x); });
    break;
  case 12:
    convert(std::uint16_t{}, [](std::uint16_t x) { return half_to_float(x); });
    break;
  }
  return v;
}

void write_tilt_angles(const std::string& path, const std::vector<double>& angles_deg) {
  std::string out;
  char line[64];
  for (double a : angles_deg) {
    if (!std::isfinite(a)) fail_io("cannot write ", path, ": tilt angle ", a, " is not finite");
    std::snprintf(line, sizeof line, "%9.3f\n", a);
    out += line;
  }
  write_file_atomically(path, out);
}

std::vector<double> read_tilt_angles(const std::string& path) {
  std::istringstream in(read_file_bytes(path));
  std::vector<double> out;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream ls(line);
    double a;
    if (!(ls >> a)) fail_io(path, ":", lineno, ": not a tilt angle: '", line, "'");
    out.push_back(a);
  }
  return out;
}

} // namespace tomosweep
