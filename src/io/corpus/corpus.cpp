#include "io/corpus/corpus.hpp"

#include "core/system.hpp"
#include "io/corpus/h5_helpers.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

namespace tomosweep {
namespace {

// tomosweep reports each HDF5 failure itself, in one line (h5::check): HDF5's own printout of its error stack,
// some 40 lines per rank, is turned off for every program that links the corpus code.
[[maybe_unused]] const bool kHdf5Quiet = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;

using h5::Id;

/// Version of the stage file's array layout: 2 = the corpus's own chunks and filters (earlier stage files,
/// without the attribute, had one chunk per z slice, uncompressed).
constexpr long long kStageLayout = 2;

bool wants(const std::vector<std::string>& outputs, const char* name) {
  return std::find(outputs.begin(), outputs.end(), name) != outputs.end();
}

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

template <class T> constexpr ArrayType type_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return ArrayType::u8;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return ArrayType::u32;
  else
    return ArrayType::f32;
}

/// A corpus array's creation properties, the stage file's and the corpus's alike (the gather copies a stage
/// array's chunks as stored): 64^3 chunks (tilt series: one per image, up to 512 x 512), shuffle + deflate for
/// the label volumes, and a Fletcher-32 checksum per chunk, so that a damaged stage file fails to read
/// (verify_stage) and a damaged corpus too.
h5::Id corpus_array_dcpl(const char* name, ArrayType type, const hsize_t dims[3], const std::string& path) {
  Id dcpl = h5::untimed(H5P_DATASET_CREATE, path);
  const bool stack = std::string(name) == "tilt_series" || std::string(name) == "prior_series";
  const hsize_t chunk[3] = {stack ? 1 : std::min<hsize_t>(dims[0], 64), std::min<hsize_t>(dims[1], stack ? 512 : 64),
                            std::min<hsize_t>(dims[2], stack ? 512 : 64)};
  h5::check_status(H5Pset_chunk(dcpl, 3, chunk), path, "set a chunk size");
  if (type != ArrayType::f32) {
    h5::check_status(H5Pset_shuffle(dcpl), path, "set a shuffle filter");
    h5::check_status(H5Pset_deflate(dcpl, 1), path, "set a deflate filter");
  }
  h5::check_status(H5Pset_fletcher32(dcpl), path, "set a checksum filter");
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  return dcpl;
}

template <class T> void write_stage_array(hid_t f, const char* name, const Volume<T>& v, const std::string& path) {
  if (v.size() == 0) return;
  const hsize_t dims[3] = {static_cast<hsize_t>(v.nz), static_cast<hsize_t>(v.ny), static_cast<hsize_t>(v.nx)};
  Id s = h5::space(H5Screate_simple(3, dims, nullptr), path, "create a dataspace");
  Id dcpl = corpus_array_dcpl(name, type_of<T>(), dims, path);
  Id d = h5::dataset(H5Dcreate2(f, name, h5::file_type(type_of<T>()), s, H5P_DEFAULT, dcpl, H5P_DEFAULT), path,
                     "create a dataset");
  h5::check_status(H5Dwrite(d, h5::native(type_of<T>()), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data.data()), path,
                   "write a dataset");
  h5::attr_double(d, "voxel_A", v.voxel_A, path);
  h5::check_status(d.close(), path, "write a dataset"); // its chunks go to the file here
}

/// A part file's array: the whole volume's dataset (nz_total deep, its chunks and filters), the slab's slices
/// [z0, z0 + v.nz) written.
template <class T>
void write_part_array(hid_t f, const char* name, const Volume<T>& v, int z0, int nz_total, const std::string& path) {
  const hsize_t dims[3] = {static_cast<hsize_t>(nz_total), static_cast<hsize_t>(v.ny), static_cast<hsize_t>(v.nx)};
  Id s = h5::space(H5Screate_simple(3, dims, nullptr), path, "create a dataspace");
  Id dcpl = corpus_array_dcpl(name, type_of<T>(), dims, path);
  Id d = h5::dataset(H5Dcreate2(f, name, h5::file_type(type_of<T>()), s, H5P_DEFAULT, dcpl, H5P_DEFAULT), path,
                     "create a dataset");
  if (v.nz > 0) {
    const hsize_t start[3] = {static_cast<hsize_t>(z0), 0, 0}, count[3] = {static_cast<hsize_t>(v.nz), dims[1], dims[2]};
    h5::check_status(H5Sselect_hyperslab(s, H5S_SELECT_SET, start, nullptr, count, nullptr), path, "select a slab");
    Id m = h5::space(H5Screate_simple(3, count, nullptr), path, "create a dataspace");
    h5::check_status(H5Dwrite(d, h5::native(type_of<T>()), m, s, H5P_DEFAULT, v.data.data()), path,
                     "write a dataset");
  }
  h5::attr_double(d, "voxel_A", v.voxel_A, path);
  h5::check_status(d.close(), path, "write a dataset");
}

void write_tilts(hid_t f, const char* name, const TiltSeries& s, const std::string& path) {
  std::vector<h5::TiltRow> rows;
  for (const TiltRecord& t : s.tilts) rows.push_back(tilt_row(t));
  Id t = h5::tilt_type(path);
  h5::write_table(f, name, t, rows, path);
}


constexpr const char* kArrayNames[] = {"tomogram",    "prior",        "atlas",        "instances",    "model",
                                       "tilt_series", "prior_series", "tomogram_odd", "tomogram_even"};

/// A part file's content, written to `path` and flushed.
void write_part_file(const std::string& path, int part, std::uint64_t job_id, const JobResult& r, int z0,
                     int nz_total, const std::vector<std::string>& outputs) {
  Id f = h5::file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path, "create the stage file");
  h5::attr_i64(f, "job_id", static_cast<long long>(job_id), path);
  h5::attr_i64(f, "part", part, path);
  h5::attr_i64(f, "z0", z0, path);
  h5::attr_i64(f, "z1", z0 + r.potential.nz, path);
  if (wants(outputs, "tomogram")) write_part_array(f, "tomogram", r.tomogram, z0, nz_total, path);
  if (wants(outputs, "prior") && r.prior.nx > 0) write_part_array(f, "prior", r.prior, z0, nz_total, path);
  if (wants(outputs, "atlas")) write_part_array(f, "atlas", r.atlas, z0, nz_total, path);
  if (wants(outputs, "instances")) write_part_array(f, "instances", r.instances, z0, nz_total, path);
  if (wants(outputs, "model")) write_part_array(f, "model", r.potential, z0, nz_total, path);
  if (r.tomogram_odd.nx > 0) {
    write_part_array(f, "tomogram_odd", r.tomogram_odd, z0, nz_total, path);
    write_part_array(f, "tomogram_even", r.tomogram_even, z0, nz_total, path);
  }
  h5::flush(f, path);
}

/// Write `path` through a temporary name (fsync'ed, renamed, the folder fsync'ed); `write` makes the file.
template <class F> void write_atomically(const std::string& path, std::uint64_t job_id, F&& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fsync_path(tmp);
  } catch (const IoError& e) {
    ::unlink(tmp.c_str()); // give back what it took (a full disk)
    fail_io("cannot stage job ", job_id, ": ", e.what());
  }
  fault_point("stage-written");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = errno_message(path);
    ::unlink(tmp.c_str());
    fail_io("cannot stage job ", job_id, ": ", msg);
  }
  fsync_path(folder_of(path));
}

/// The stage file's content, written to `path` and flushed.
void write_stage_file(const std::string& path, std::uint64_t job_id, int replicate, const JobResult* result,
                      const std::string& error, const std::vector<std::string>& outputs, double seconds, int parts) {
  Id f = h5::file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path, "create the stage file");
  h5::attr_i64(f, "job_id", static_cast<long long>(job_id), path);
  h5::attr_i64(f, "stage_layout", kStageLayout, path);
  if (parts > 0) h5::attr_i64(f, "parts", parts, path);
  h5::attr_i64(f, "replicate", replicate, path);
  h5::attr_string(f, "status", result ? "ok" : "failed", path);
  h5::attr_string(f, "error", error, path);
  h5::attr_double(f, "seconds", seconds, path);
  if (result) {
    const JobResult& r = *result;
    if (wants(outputs, "tomogram")) write_stage_array(f, "tomogram", r.tomogram, path);
    if (wants(outputs, "prior")) write_stage_array(f, "prior", r.prior, path);
    if (wants(outputs, "atlas")) write_stage_array(f, "atlas", r.atlas, path);
    if (wants(outputs, "instances")) write_stage_array(f, "instances", r.instances, path);
    if (wants(outputs, "model")) write_stage_array(f, "model", r.potential, path);
    if (wants(outputs, "tilt_series")) write_stage_array(f, "tilt_series", r.series.images, path);
    if (wants(outputs, "prior_series")) write_stage_array(f, "prior_series", r.prior_series.images, path);
    if (!r.tomogram_odd.data.empty()) {
      write_stage_array(f, "tomogram_odd", r.tomogram_odd, path);
      write_stage_array(f, "tomogram_even", r.tomogram_even, path);
    }
    write_tilts(f, "tilts", r.series, path);
    write_tilts(f, "prior_tilts", r.prior_series, path);
    h5::attr_double(f, "tilt_axis_azimuth_deg", r.series.axis_azimuth_deg, path);
    if (wants(outputs, "particles")) {
      std::vector<h5::ParticleRow> rows;
      for (const PlacedParticle& p : r.particles) {
        h5::ParticleRow row{p.instance, p.label, {p.position_A.x, p.position_A.y, p.position_A.z},
                            {},         p.group, {p.direction.x, p.direction.y, p.direction.z}};
        for (int i = 0; i < 9; ++i) row.rotation[i / 3][i % 3] = p.rotation.m[static_cast<std::size_t>(i)];
        rows.push_back(row);
      }
      Id t = h5::particle_type(path);
      h5::write_table(f, "particles", t, rows, path);
    }
    h5::write_classes(f, r.classes, path);
    std::ostringstream timings;
    for (const StageTiming& s : r.timings) timings << s.stage << '=' << s.seconds << ';';
    h5::attr_string(f, "timings", timings.str(), path);
  }
  h5::flush(f, path);
}

/// The arrays of kArrayNames that an open stage (or part) file holds.
void read_arrays(hid_t f, const std::string& path, std::vector<ArrayInfo>& out) {
  for (const char* name : kArrayNames) {
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) continue;
    Id d = h5::dataset(H5Dopen2(f, name, H5P_DEFAULT), path, "open a staged array");
    Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
    Id t = h5::type(H5Dget_type(d), path, "read a datatype");
    ArrayInfo a{.name = name};
    hsize_t dims[3] = {0, 0, 0};
    if (H5Sget_simple_extent_ndims(s) != 3) fail_io(path, ": ", name, " is not 3-dimensional");
    H5Sget_simple_extent_dims(s, dims, nullptr);
    a.dims = {dims[0], dims[1], dims[2]};
    if (H5Tget_class(t) == H5T_FLOAT)
      a.type = ArrayType::f32;
    else
      a.type = H5Tget_size(t) == 1 ? ArrayType::u8 : ArrayType::u32;
    a.voxel_A = h5::read_attr_double(d, "voxel_A", path);
    out.push_back(a);
  }
}

} // namespace

void h5::write_classes(hid_t f, const std::vector<ClassInfo>& classes, const std::string& path) {
  struct Row {
    std::int32_t label;
    const char* name;
    const char* source;
  };
  Id s = h5::vlstr(path);
  Id t = h5::type(H5Tcreate(H5T_COMPOUND, sizeof(Row)), path, "create a compound type");
  H5Tinsert(t, "label", HOFFSET(Row, label), H5T_NATIVE_INT32);
  H5Tinsert(t, "name", HOFFSET(Row, name), s);
  H5Tinsert(t, "source", HOFFSET(Row, source), s);
  std::vector<Row> rows;
  for (const ClassInfo& c : classes) rows.push_back({c.label, c.name.c_str(), c.source.c_str()});
  h5::write_table(f, "classes", t, rows, path);
}

std::string stage_path(const std::string& work_dir, std::uint64_t job_id) {
  return work_dir + "/job-" + std::to_string(job_id) + ".h5";
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io("cannot sync ", errno_message(path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail_io("cannot sync ", errno_message(path));
}

void write_stage(const std::string& path, std::uint64_t job_id, int replicate, const JobResult* result,
                 const std::string& error, const std::vector<std::string>& outputs, double seconds, int parts) {
  write_atomically(path, job_id, [&](const std::string& tmp) {
    write_stage_file(tmp, job_id, replicate, result, error, outputs, seconds, parts);
  });
}

std::string stage_part_path(const std::string& stage, int part) {
  const std::string base = stage.size() > 3 && stage.compare(stage.size() - 3, 3, ".h5") == 0
                               ? stage.substr(0, stage.size() - 3)
                               : stage;
  return base + ".part-" + std::to_string(part) + ".h5";
}

void write_stage_part(const std::string& stage, int part, std::uint64_t job_id, const JobResult& slab, int z0,
                      int nz_total, const std::vector<std::string>& outputs) {
  write_atomically(stage_part_path(stage, part), job_id, [&](const std::string& tmp) {
    write_part_file(tmp, part, job_id, slab, z0, nz_total, outputs);
  });
}

void remove_stage(const std::string& stage) {
  ::unlink(stage.c_str());
  for (int k = 0;; ++k)
    if (::unlink(stage_part_path(stage, k).c_str()) != 0 && errno == ENOENT) break;
}

StageInfo read_stage_info(const std::string& path) {
  StageInfo info;
  info.path = path;
  Id f = h5::file(h5::open_quietly(path, H5F_ACC_RDONLY), path, "open the stage file");
  {
    if (H5Aexists(f, "job_id") <= 0) fail_io(path, ": hdf5: cannot read attribute job_id (not a stage file)");
    Id a = h5::open_single_attr(f, "job_id", path);
    long long id = 0;
    h5::check_status(H5Aread(a, H5T_NATIVE_LLONG, &id), path, "read attribute job_id");
    info.job_id = static_cast<std::uint64_t>(id);
  }
  if (H5Aexists(f, "stage_layout") <= 0)
    fail_io(path, ": a stage file of an older tomosweep (its arrays are not in the corpus layout)");
  info.ok = h5::read_attr_string(f, "status", path) == "ok";
  info.error = h5::read_attr_string(f, "error", path);
  info.seconds = h5::read_attr_double(f, "seconds", path);
  if (info.ok) info.timings = h5::read_attr_string(f, "timings", path);
  long long parts = 0;
  if (H5Aexists(f, "parts") > 0) {
    Id a = h5::open_single_attr(f, "parts", path);
    h5::check_status(H5Aread(a, H5T_NATIVE_LLONG, &parts), path, "read attribute parts");
    if (parts < 1 || parts > 1 << 20) fail_io(path, ": attribute parts is ", parts);
  }
  read_arrays(f, path, info.arrays);
  std::uint64_t next_z = 0;
  for (int k = 0; k < parts; ++k) {
    StagePart part{stage_part_path(path, k)};
    Id pf = h5::file(h5::open_quietly(part.path, H5F_ACC_RDONLY), part.path, "open the stage file");
    long long z[2] = {0, 0};
    for (int e = 0; e < 2; ++e) {
      Id a = h5::open_single_attr(pf, e == 0 ? "z0" : "z1", part.path);
      h5::check_status(H5Aread(a, H5T_NATIVE_LLONG, &z[e]), part.path, "read a slab's bounds");
    }
    if (z[0] < 0 || z[1] < z[0] || static_cast<std::uint64_t>(z[0]) != next_z)
      fail_io(part.path, ": slices ", z[0], " to ", z[1], " do not follow the part before (slice ", next_z, ")");
    part.z0 = static_cast<std::uint64_t>(z[0]), part.z1 = static_cast<std::uint64_t>(z[1]);
    next_z = part.z1;
    std::vector<ArrayInfo> arrays;
    read_arrays(pf, part.path, arrays);
    if (k == 0) {
      for (const ArrayInfo& a : arrays) info.part_arrays.push_back(a.name);
      info.arrays.insert(info.arrays.end(), arrays.begin(), arrays.end());
    } else if (arrays.size() != info.part_arrays.size()) {
      fail_io(part.path, ": holds ", arrays.size(), " arrays, part 0 holds ", info.part_arrays.size());
    }
    info.parts.push_back(part);
  }
  for (const ArrayInfo& a : info.arrays)
    if (!info.parts.empty() && std::find(info.part_arrays.begin(), info.part_arrays.end(), a.name) !=
                                   info.part_arrays.end() && a.dims[0] != next_z)
      fail_io(path, ": its parts hold ", next_z, " slices of ", a.name, ", which has ", a.dims[0]);
  return info;
}

void verify_stage(const std::string& path) {
  const StageInfo info = read_stage_info(path);
  Id f = h5::file(h5::open_quietly(path, H5F_ACC_RDONLY), path, "open the stage file");
  std::vector<Id> parts;
  for (const StagePart& p : info.parts)
    parts.push_back(h5::file(h5::open_quietly(p.path, H5F_ACC_RDONLY), p.path, "open the stage file"));
  for (const ArrayInfo& a : info.arrays) {
    const bool in_parts =
        std::find(info.part_arrays.begin(), info.part_arrays.end(), a.name) != info.part_arrays.end();
    for (std::size_t k = 0; k < (in_parts ? parts.size() : 1); ++k) {
      const std::string& where = in_parts ? info.parts[k].path : path;
      Id d = h5::dataset(H5Dopen2(in_parts ? hid_t(parts[k]) : hid_t(f), a.name.c_str(), H5P_DEFAULT), where,
                         "open a staged array");
      const hsize_t z0 = in_parts ? info.parts[k].z0 : 0, z1 = in_parts ? info.parts[k].z1 : a.dims[0];
      if (z1 == z0) continue;
      const hsize_t start[3] = {z0, 0, 0}, count[3] = {z1 - z0, a.dims[1], a.dims[2]};
      Id fs = h5::space(H5Dget_space(d), where, "read a dataspace");
      h5::check_status(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr), where,
                       "select a slab");
      Id ms = h5::space(H5Screate_simple(3, count, nullptr), where, "create a dataspace");
      std::vector<char> buf(count[0] * count[1] * count[2] * element_size(a.type));
      herr_t rc = -1;
      H5E_BEGIN_TRY { rc = H5Dread(d, h5::native(a.type), ms, fs, H5P_DEFAULT, buf.data()); }
      H5E_END_TRY;
      if (rc < 0) fail_io(where, ": ", a.name, " cannot be read (damaged: checksum or size)");
    }
  }
}

} // namespace tomosweep
