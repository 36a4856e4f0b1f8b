// RAII HDF5 handles and small attribute/dataset helpers of io/corpus (staging, the corpus writer, reading).
// Errors throw IoError.
#pragma once

#include "core/errors.hpp"
#include "io/corpus/corpus.hpp"
#include "io/files/tilt_table.hpp"

#include <hdf5.h>
#include <sys/statvfs.h>

#include <string>
#include <utility>
#include <vector>

namespace tomosweep::h5 {

/// An HDF5 identifier closed by its close function on destruction.
class Id {
public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Id& operator=(Id&& o) noexcept {
    reset();
    id_ = std::exchange(o.id_, -1);
    close_ = o.close_;
    return *this;
  }
  ~Id() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  operator hid_t() const { return id_; }
  /// Close now and return the close function's status (a full disk shows in a dataset's or file's close).
  herr_t close() {
    const herr_t st = id_ >= 0 && close_ ? close_(id_) : 0;
    id_ = -1;
    return st;
  }

private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

/// The operating system's or MPI's reason inside HDF5's current error stack (e.g. "No space left on device"),
/// as ": REASON", or "" when the stack names none.
inline std::string os_reason(const std::string& path) {
  std::string reason;
  auto walk = [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
    auto& r = *static_cast<std::string*>(out);
    const std::string d = e->desc ? e->desc : "";
    for (const char* key : {"error message = '", "MPI error string is '"}) {
      const auto at = d.find(key);
      if (at == std::string::npos || !r.empty()) continue;
      const auto start = at + std::char_traits<char>::length(key);
      r = d.substr(start, d.find('\'', start) - start);
    }
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &reason);
  // MPI-IO reports no reason to HDF5: a full disk is recognised by the space left beside the file.
  struct statvfs fs {};
  const auto slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (reason.empty() && ::statvfs(folder.c_str(), &fs) == 0 && fs.f_bavail * fs.f_frsize < (1u << 20))
    reason = "No space left on device (" + std::to_string(fs.f_bavail * fs.f_frsize / 1024) + " KiB free)";
  return reason.empty() ? "" : ": " + reason;
}
[[noreturn]] inline void fail_hdf5(const std::string& path, const char* what) {
  throw IoError(path + ": hdf5: cannot " + what + os_reason(path));
}
inline hid_t check(hid_t id, const std::string& path, const char* what) {
  if (id < 0) fail_hdf5(path, what);
  return id;
}
inline void check_status(herr_t st, const std::string& path, const char* what) {
  if (st < 0) fail_hdf5(path, what);
}
/// Write every cached byte of file `f` out (a full disk shows here, not in a silent close).
inline void flush(hid_t f, const std::string& path) { check_status(H5Fflush(f, H5F_SCOPE_GLOBAL), path, "flush the file"); }

inline Id file(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Fclose}; }
/// H5Fopen without HDF5's error stack on stderr: a file that is not HDF5 gets our one-line error only.
inline hid_t open_quietly(const std::string& path, unsigned flags) {
  hid_t id = -1;
  H5E_BEGIN_TRY { id = H5Fopen(path.c_str(), flags, H5P_DEFAULT); }
  H5E_END_TRY;
  return id;
}
inline Id group(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Gclose}; }
inline Id dataset(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Dclose}; }
inline Id space(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Sclose}; }
inline Id type(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Tclose}; }
inline Id plist(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Pclose}; }
inline Id attr(hid_t id, const std::string& path, const char* what) { return {check(id, path, what), H5Aclose}; }

/// Creation properties of class `cls` (H5P_DATASET_CREATE, H5P_GROUP_CREATE) without the object's modification
/// time, which HDF5 records by default: the same content then makes the same bytes, run after run.
inline Id untimed(hid_t cls, const std::string& path) {
  Id p = plist(H5Pcreate(cls), path, "create a property list");
  check_status(H5Pset_obj_track_times(p, false), path, "set a property list");
  return p;
}

/// Memory type of an array element type.
inline hid_t native(ArrayType t) {
  switch (t) {
  case ArrayType::u8:
    return H5T_NATIVE_UINT8;
  case ArrayType::u32:
    return H5T_NATIVE_UINT32;
  default:
    return H5T_NATIVE_FLOAT;
  }
}
/// Little-endian file type of an array element type.
inline hid_t file_type(ArrayType t) {
  switch (t) {
  case ArrayType::u8:
    return H5T_STD_U8LE;
  case ArrayType::u32:
    return H5T_STD_U32LE;
  default:
    return H5T_IEEE_F32LE;
  }
}

/// A variable-length UTF-8 string type (h5py reads it as str).
inline Id vlstr(const std::string& path) {
  Id t = type(H5Tcopy(H5T_C_S1), path, "create a string type");
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

inline void attr_string(hid_t obj, const char* name, const std::string& value, const std::string& path) {
  Id t = vlstr(path);
  Id s = space(H5Screate(H5S_SCALAR), path, "create a dataspace");
  Id a = attr(H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT), path, "create an attribute");
  const char* p = value.c_str();
  check_status(H5Awrite(a, t, &p), path, "write an attribute");
}

inline void attr_strings(hid_t obj, const char* name, const std::vector<std::string>& values, const std::string& path) {
  Id t = vlstr(path);
  const hsize_t n = values.size();
  Id s = space(H5Screate_simple(1, &n, nullptr), path, "create a dataspace");
  Id a = attr(H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT), path, "create an attribute");
  if (values.empty()) return; // an empty list is the empty attribute (HDF5 refuses a write of nothing)
  std::vector<const char*> p;
  for (const std::string& v : values) p.push_back(v.c_str());
  check_status(H5Awrite(a, t, p.data()), path, "write an attribute");
}

template <class T>
void attr_scalar(hid_t obj, const char* name, hid_t file_t, hid_t mem_t, T value, const std::string& path) {
  Id s = space(H5Screate(H5S_SCALAR), path, "create a dataspace");
  Id a = attr(H5Acreate2(obj, name, file_t, s, H5P_DEFAULT, H5P_DEFAULT), path, "create an attribute");
  check_status(H5Awrite(a, mem_t, &value), path, "write an attribute");
}
inline void attr_double(hid_t obj, const char* name, double v, const std::string& path) {
  attr_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, path);
}
inline void attr_i64(hid_t obj, const char* name, long long v, const std::string& path) {
  attr_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, v, path);
}

/// Open attribute `name` of `obj` for reading one value: HDF5 reads every element of an attribute, so one
/// with more than one (a damaged or foreign file) would overrun the caller's single value.
inline Id open_single_attr(hid_t obj, const char* name, const std::string& path) {
  Id a = attr(H5Aopen(obj, name, H5P_DEFAULT), path, (std::string("read attribute ") + name).c_str());
  Id s = space(H5Aget_space(a), path, "read an attribute's dataspace");
  if (H5Sget_simple_extent_npoints(s) != 1) fail_io(path, ": attribute ", name, " is not a single value");
  return a;
}

/// The number of elements of dataset `d` (dataspace `s`), once the file is seen to hold them: the bytes they
/// take must be stored, at most compressed by deflate's largest ratio (1032:1). A damaged dataspace would
/// otherwise make the reader allocate whatever it claims.
inline std::size_t stored_elements(hid_t d, hid_t s, const std::string& path, const char* name) {
  const hssize_t n = H5Sget_simple_extent_npoints(s);
  Id t = type(H5Dget_type(d), path, "read a datatype");
  const double bytes = static_cast<double>(n) * static_cast<double>(H5Tget_size(t));
  if (n < 0 || bytes > 1100.0 * static_cast<double>(H5Dget_storage_size(d)) + 1e6)
    fail_io(path, ": ", name, " is damaged (", n, " elements, ", H5Dget_storage_size(d), " bytes stored)");
  return static_cast<std::size_t>(n);
}

inline std::string read_attr_string(hid_t obj, const char* name, const std::string& path) {
  Id a = open_single_attr(obj, name, path);
  Id ft = type(H5Aget_type(a), path, "read an attribute type");
  // An attribute lives in an object header of at most 64 KB: a longer fixed-length string is damage.
  if (H5Tget_class(ft) != H5T_STRING || H5Tget_size(ft) > 65536)
    fail_io(path, ": attribute ", name, " is not a string");
  if (H5Tis_variable_str(ft) > 0) {
    Id t = vlstr(path);
    char* p = nullptr;
    check_status(H5Aread(a, t, &p), path, "read an attribute");
    std::string out = p ? p : "";
    H5free_memory(p);
    return out;
  }
  std::string out(H5Tget_size(ft), '\0');
  check_status(H5Aread(a, ft, out.data()), path, "read an attribute");
  return out.c_str();
}

inline double read_attr_double(hid_t obj, const char* name, const std::string& path) {
  Id a = open_single_attr(obj, name, path);
  double v = 0;
  check_status(H5Aread(a, H5T_NATIVE_DOUBLE, &v), path, "read an attribute");
  return v;
}

/// A corpus opened read-only, its format attribute checked (IoError "PATH: not a tomosweep corpus ...").
Id open_corpus(const std::string& path);
/// /classes of an open corpus or stage file (empty when there is none).
std::vector<ClassInfo> read_classes(hid_t f, const std::string& path);
/// /classes of a stage file or corpus: label, name, source (variable-length strings).
void write_classes(hid_t f, const std::vector<ClassInfo>& classes, const std::string& path);

/// Tilt table row (io/files/tilt_table.hpp) and particle row as stored (compound types built by
/// tilt_type()/particle_type()).
using TiltRow = tomosweep::TiltRow;
struct ParticleRow {
  std::uint32_t instance;
  std::int32_t label;
  double position_A[3];
  double rotation[3][3];
  std::uint32_t group; ///< PlacedParticle::group: the filament, bundle, cluster or assembly (= instance if alone)
  double direction[3]; ///< PlacedParticle::direction: the group's filament start axis (unit), zero if none
};

inline Id tilt_type(const std::string& path) {
  Id t = type(H5Tcreate(H5T_COMPOUND, sizeof(TiltRow)), path, "create a compound type");
  H5Tinsert(t, "angle_deg", HOFFSET(TiltRow, angle_deg), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "actual_angle_deg", HOFFSET(TiltRow, actual_angle_deg), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "acquisition_index", HOFFSET(TiltRow, acquisition_index), H5T_NATIVE_INT32);
  H5Tinsert(t, "dose_e_per_A2", HOFFSET(TiltRow, dose_e_per_A2), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "cumulative_dose_e_per_A2", HOFFSET(TiltRow, cumulative_dose_e_per_A2), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "defocus_um", HOFFSET(TiltRow, defocus_um), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "shift_x_A", HOFFSET(TiltRow, shift_x_A), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "shift_y_A", HOFFSET(TiltRow, shift_y_A), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "rotation_deg", HOFFSET(TiltRow, rotation_deg), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "magnification", HOFFSET(TiltRow, magnification), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "defocus_jitter_um", HOFFSET(TiltRow, defocus_jitter_um), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "axis_offset_deg", HOFFSET(TiltRow, axis_offset_deg), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "motion_x_A", HOFFSET(TiltRow, motion_x_A), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "motion_y_A", HOFFSET(TiltRow, motion_y_A), H5T_NATIVE_DOUBLE);
  return t;
}

inline Id particle_type(const std::string& path) {
  Id t = type(H5Tcreate(H5T_COMPOUND, sizeof(ParticleRow)), path, "create a compound type");
  const hsize_t d3 = 3, d33[2] = {3, 3};
  Id v3 = type(H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &d3), path, "create an array type");
  Id m33 = type(H5Tarray_create2(H5T_NATIVE_DOUBLE, 2, d33), path, "create an array type");
  H5Tinsert(t, "instance", HOFFSET(ParticleRow, instance), H5T_NATIVE_UINT32);
  H5Tinsert(t, "label", HOFFSET(ParticleRow, label), H5T_NATIVE_INT32);
  H5Tinsert(t, "position_A", HOFFSET(ParticleRow, position_A), v3);
  H5Tinsert(t, "rotation", HOFFSET(ParticleRow, rotation), m33);
  H5Tinsert(t, "group", HOFFSET(ParticleRow, group), H5T_NATIVE_UINT32);
  H5Tinsert(t, "direction", HOFFSET(ParticleRow, direction), v3);
  return t;
}

/// Write a 1D table of `rows` (memory type `t`) as dataset `name` under `loc`.
template <class Row>
void write_table(hid_t loc, const char* name, hid_t t, const std::vector<Row>& rows, const std::string& path) {
  const hsize_t n = rows.size();
  Id s = space(H5Screate_simple(1, &n, nullptr), path, "create a dataspace");
  // Packed in the file: no padding bytes, whose contents would be whatever memory held.
  Id packed = type(H5Tcopy(t), path, "copy a type");
  H5Tpack(packed);
  Id dcpl = untimed(H5P_DATASET_CREATE, path);
  Id d = dataset(H5Dcreate2(loc, name, packed, s, H5P_DEFAULT, dcpl, H5P_DEFAULT), path, "create a table");
  if (n) check_status(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), path, "write a table");
}

} // namespace tomosweep::h5
