#include "io/corpus/corpus.hpp"

#include "io/corpus/h5_helpers.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mpi.h>
#include <sstream>
#include <unistd.h>

namespace tomosweep {
namespace {

using h5::Id;

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

std::size_t element_size(ArrayType t) { return t == ArrayType::u8 ? 1 : 4; }

template <class T> void write_stage_array(hid_t f, const char* name, const Volume<T>& v, const std::string& path) {
  if (v.size() == 0) return;
  const hsize_t dims[3] = {static_cast<hsize_t>(v.nz), static_cast<hsize_t>(v.ny), static_cast<hsize_t>(v.nx)};
  Id s = h5::space(H5Screate_simple(3, dims, nullptr), path, "create a dataspace");
  Id d = h5::dataset(H5Dcreate2(f, name, h5::file_type(type_of<T>()), s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path,
                     "create a dataset");
  h5::check_status(H5Dwrite(d, h5::native(type_of<T>()), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data.data()), path,
                   "write a dataset");
  h5::attr_double(d, "voxel_A", v.voxel_A, path);
}

void write_tilts(hid_t f, const char* name, const TiltSeries& s, const std::string& path) {
  std::vector<h5::TiltRow> rows;
  for (const TiltRecord& t : s.tilts)
    rows.push_back({t.angle_deg, t.actual_angle_deg, t.acquisition_index, t.dose_e_per_A2, t.cumulative_dose_e_per_A2,
                    t.defocus_um});
  Id t = h5::tilt_type(path);
  h5::write_table(f, name, t, rows, path);
}

void write_classes(hid_t f, const std::vector<ClassInfo>& classes, const std::string& path) {
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

constexpr const char* kArrayNames[] = {"tomogram",    "prior",        "atlas",        "instances",    "model",
                                       "tilt_series", "prior_series", "tomogram_odd", "tomogram_even"};

bool is_compressed(ArrayType t) { return t != ArrayType::f32; }

Id create_corpus_array(hid_t group, const ArrayInfo& a, const std::string& path) {
  const hsize_t dims[3] = {a.dims[0], a.dims[1], a.dims[2]};
  Id s = h5::space(H5Screate_simple(3, dims, nullptr), path, "create a dataspace");
  Id dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE), path, "create a property list");
  if (dims[0] && dims[1] && dims[2]) {
    // 64^3 chunks suit random patch reads of volumes; tilt series chunk by image.
    const bool stack = a.name == "tilt_series" || a.name == "prior_series";
    const hsize_t chunk[3] = {stack ? 1 : std::min<hsize_t>(dims[0], 64), std::min<hsize_t>(dims[1], stack ? 512 : 64),
                              std::min<hsize_t>(dims[2], stack ? 512 : 64)};
    H5Pset_chunk(dcpl, 3, chunk);
    if (is_compressed(a.type)) {
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 1);
    }
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  }
  Id d = h5::dataset(H5Dcreate2(group, a.name.c_str(), h5::file_type(a.type), s, H5P_DEFAULT, dcpl, H5P_DEFAULT), path,
                     "create a dataset");
  h5::attr_double(d, "voxel_A", a.voxel_A, path);
  return d;
}

std::vector<char> read_stage_array(const StageInfo& job, const ArrayInfo& a) {
  Id f = h5::file(h5::open_quietly(job.path, H5F_ACC_RDONLY), job.path, "open the stage file");
  Id d = h5::dataset(H5Dopen2(f, a.name.c_str(), H5P_DEFAULT), job.path, "open a staged array");
  std::vector<char> buf(a.dims[0] * a.dims[1] * a.dims[2] * element_size(a.type));
  h5::check_status(H5Dread(d, h5::native(a.type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), job.path,
                   "read a staged array");
  return buf;
}

/// Write `buf` (the whole array) chunk by chunk, each from a packed buffer: with the MPI-IO driver a
/// whole-array write of a chunked dataset becomes a strided MPI datatype of short rows, which is several
/// times slower than one contiguous write per chunk.
void write_by_chunks(hid_t d, const ArrayInfo& a, const std::vector<char>& buf, hid_t xfer, const std::string& path) {
  Id dcpl = h5::plist(H5Dget_create_plist(d), path, "read a dataset's properties");
  hsize_t c[3] = {a.dims[0], a.dims[1], a.dims[2]};
  if (H5Pget_layout(dcpl) == H5D_CHUNKED) H5Pget_chunk(dcpl, 3, c);
  const std::size_t es = element_size(a.type);
  const hsize_t n[3] = {a.dims[0], a.dims[1], a.dims[2]};
  std::vector<char> packed(c[0] * c[1] * c[2] * es);
  Id fs = h5::space(H5Dget_space(d), path, "read a dataspace");
  for (hsize_t z0 = 0; z0 < n[0]; z0 += c[0])
    for (hsize_t y0 = 0; y0 < n[1]; y0 += c[1])
      for (hsize_t x0 = 0; x0 < n[2]; x0 += c[2]) {
        const hsize_t start[3] = {z0, y0, x0};
        const hsize_t count[3] = {std::min(c[0], n[0] - z0), std::min(c[1], n[1] - y0), std::min(c[2], n[2] - x0)};
        char* out = packed.data();
        for (hsize_t z = 0; z < count[0]; ++z)
          for (hsize_t y = 0; y < count[1]; ++y, out += count[2] * es)
            std::memcpy(out, buf.data() + (((z0 + z) * n[1] + y0 + y) * n[2] + x0) * es, count[2] * es);
        Id ms = h5::space(H5Screate_simple(3, count, nullptr), path, "create a dataspace");
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
        h5::check_status(H5Dwrite(d, h5::native(a.type), ms, fs, xfer, packed.data()), path, "write a corpus dataset");
      }
}

std::string job_group(std::uint64_t id) { return "/jobs/" + std::to_string(id); }

} // namespace

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
                 const std::string& error, const std::vector<std::string>& outputs, double seconds) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    Id f = h5::file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), tmp, "create the stage file");
    h5::attr_i64(f, "job_id", static_cast<long long>(job_id), tmp);
    h5::attr_i64(f, "replicate", replicate, tmp);
    h5::attr_string(f, "status", result ? "ok" : "failed", tmp);
    h5::attr_string(f, "error", error, tmp);
    h5::attr_double(f, "seconds", seconds, tmp);
    if (result) {
      const JobResult& r = *result;
      if (wants(outputs, "tomogram")) write_stage_array(f, "tomogram", r.tomogram, tmp);
      if (wants(outputs, "prior")) write_stage_array(f, "prior", r.prior, tmp);
      if (wants(outputs, "atlas")) write_stage_array(f, "atlas", r.atlas, tmp);
      if (wants(outputs, "instances")) write_stage_array(f, "instances", r.instances, tmp);
      if (wants(outputs, "model")) write_stage_array(f, "model", r.potential, tmp);
      if (wants(outputs, "tilt_series")) write_stage_array(f, "tilt_series", r.series.images, tmp);
      if (wants(outputs, "prior_series")) write_stage_array(f, "prior_series", r.prior_series.images, tmp);
      if (!r.tomogram_odd.data.empty()) {
        write_stage_array(f, "tomogram_odd", r.tomogram_odd, tmp);
        write_stage_array(f, "tomogram_even", r.tomogram_even, tmp);
      }
      write_tilts(f, "tilts", r.series, tmp);
      write_tilts(f, "prior_tilts", r.prior_series, tmp);
      h5::attr_double(f, "tilt_axis_azimuth_deg", r.series.axis_azimuth_deg, tmp);
      if (wants(outputs, "particles")) {
        std::vector<h5::ParticleRow> rows;
        for (const PlacedParticle& p : r.particles) {
          h5::ParticleRow row{p.instance, p.label, {p.position_A.x, p.position_A.y, p.position_A.z}, {}};
          for (int i = 0; i < 9; ++i) row.rotation[i / 3][i % 3] = p.rotation.m[static_cast<std::size_t>(i)];
          rows.push_back(row);
        }
        Id t = h5::particle_type(tmp);
        h5::write_table(f, "particles", t, rows, tmp);
      }
      write_classes(f, r.classes, tmp);
      std::ostringstream timings;
      for (const StageTiming& s : r.timings) timings << s.stage << '=' << s.seconds << ';';
      h5::attr_string(f, "timings", timings.str(), tmp);
    }
  }
  fsync_path(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = errno_message(path);
    ::unlink(tmp.c_str());
    fail_io("cannot stage job ", job_id, ": ", msg);
  }
  fsync_path(folder_of(path));
}

StageInfo read_stage_info(const std::string& path) {
  StageInfo info;
  info.path = path;
  Id f = h5::file(h5::open_quietly(path, H5F_ACC_RDONLY), path, "open the stage file");
  {
    Id a = h5::attr(H5Aopen(f, "job_id", H5P_DEFAULT), path, "read attribute job_id (not a stage file)");
    long long id = 0;
    h5::check_status(H5Aread(a, H5T_NATIVE_LLONG, &id), path, "read attribute job_id");
    info.job_id = static_cast<std::uint64_t>(id);
  }
  info.ok = h5::read_attr_string(f, "status", path) == "ok";
  info.error = h5::read_attr_string(f, "error", path);
  info.seconds = h5::read_attr_double(f, "seconds", path);
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
    info.arrays.push_back(a);
  }
  return info;
}

std::string encode_stage_infos(const std::vector<StageInfo>& infos) {
  std::ostringstream os;
  os.precision(17);
  for (const StageInfo& s : infos) {
    std::string err = s.error;
    std::replace(err.begin(), err.end(), '\n', ' ');
    os << "J " << s.job_id << ' ' << s.ok << ' ' << s.seconds << ' ' << s.arrays.size() << ' ' << s.path << '\n'
       << "E " << err << '\n';
    for (const ArrayInfo& a : s.arrays)
      os << "A " << a.name << ' ' << static_cast<int>(a.type) << ' ' << a.dims[0] << ' ' << a.dims[1] << ' '
         << a.dims[2] << ' ' << a.voxel_A << '\n';
  }
  return os.str();
}

std::vector<StageInfo> decode_stage_infos(const std::string& text) {
  std::vector<StageInfo> out;
  std::istringstream is(text);
  std::string line;
  while (std::getline(is, line)) {
    if (line.rfind("J ", 0) == 0) {
      std::istringstream ls(line.substr(2));
      StageInfo s;
      std::size_t n = 0;
      ls >> s.job_id >> s.ok >> s.seconds >> n;
      ls.get();
      std::getline(ls, s.path);
      out.push_back(s);
    } else if (line.rfind("E ", 0) == 0 && !out.empty()) {
      out.back().error = line.substr(2);
    } else if (line.rfind("A ", 0) == 0 && !out.empty()) {
      std::istringstream ls(line.substr(2));
      ArrayInfo a;
      int t = 0;
      ls >> a.name >> t >> a.dims[0] >> a.dims[1] >> a.dims[2] >> a.voxel_A;
      a.type = static_cast<ArrayType>(t);
      out.back().arrays.push_back(a);
    }
  }
  return out;
}

void write_corpus_arrays(const std::string& tmp_path, const std::vector<StageInfo>& jobs, int rank, int size,
                         bool parallel) {
  Id fapl = h5::plist(H5Pcreate(H5P_FILE_ACCESS), tmp_path, "create a property list");
  if (parallel) {
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    H5Pset_coll_metadata_write(fapl, true);
  }
  Id f = h5::file(H5Fcreate(tmp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), tmp_path, "create the corpus");
  {
    Id g = h5::group(H5Gcreate2(f, "jobs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), tmp_path, "create /jobs");
    for (const StageInfo& j : jobs) {
      Id jg = h5::group(H5Gcreate2(f, job_group(j.job_id).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), tmp_path,
                        "create a job group");
      for (const ArrayInfo& a : j.arrays) create_corpus_array(jg, a, tmp_path);
    }
  }
  Id collective = h5::plist(H5Pcreate(H5P_DATASET_XFER), tmp_path, "create a property list");
  if (parallel) H5Pset_dxpl_mpio(collective, H5FD_MPIO_COLLECTIVE);
  // Independent writes first (every rank busy at once), then the collective ones: interleaving them
  // job by job would make every rank wait for the slowest at each job.
  for (const bool compressed_pass : {false, true}) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const bool mine = static_cast<int>(i % static_cast<std::size_t>(size)) == rank;
      for (const ArrayInfo& a : jobs[i].arrays) {
        const bool compressed = parallel && is_compressed(a.type);
        const bool empty = a.dims[0] * a.dims[1] * a.dims[2] == 0;
        if (compressed != compressed_pass || empty || (!mine && !compressed)) continue;
        const std::string name = job_group(jobs[i].job_id) + "/" + a.name;
        Id d = h5::dataset(H5Dopen2(f, name.c_str(), H5P_DEFAULT), tmp_path, "open a corpus dataset");
        const hid_t xfer = compressed ? hid_t(collective) : H5P_DEFAULT;
        if (mine && parallel && !compressed) {
          write_by_chunks(d, a, read_stage_array(jobs[i], a), xfer, tmp_path);
        } else if (mine) {
          const std::vector<char> buf = read_stage_array(jobs[i], a);
          h5::check_status(H5Dwrite(d, h5::native(a.type), H5S_ALL, H5S_ALL, xfer, buf.data()), tmp_path,
                           "write a corpus dataset");
        } else {
          Id fs = h5::space(H5Dget_space(d), tmp_path, "read a dataspace");
          H5Sselect_none(fs);
          const hsize_t one = 1;
          Id ms = h5::space(H5Screate_simple(1, &one, nullptr), tmp_path, "create a dataspace");
          H5Sselect_none(ms);
          char dummy[4] = {};
          h5::check_status(H5Dwrite(d, h5::native(a.type), ms, fs, xfer, dummy), tmp_path, "write a corpus dataset");
        }
      }
    }
  }
}

} // namespace tomosweep
