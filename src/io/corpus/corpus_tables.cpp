// The corpus's index (root attributes, /classes, /job_table, per-job tables) and reading a corpus back.
#include "io/corpus/corpus.hpp"

#include "core/system.hpp"
#include "io/corpus/corpus_overview.hpp"
#include "io/corpus/h5_helpers.hpp"
#include "job/settings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <limits>
#include <map>
#include <sstream>
#include <unistd.h>

namespace tomosweep {
namespace {

using h5::Id;

const char* kUnits =
    "lengths and positions in Angstrom; defocus in micrometres, positive = underfocus; dose in e-/A^2; "
    "angles in degrees; voltage in kV; arrays [z][y][x] with x fastest; tomogram and prior are WBP of "
    "electrons per pixel; model is the specimen potential in volts";

/// A compound table built column by column: fixed-size numeric fields and variable-length strings.
class Table {
public:
  explicit Table(const std::string& path) : path_(path) {}
  void add(const std::string& name, hid_t mem_type, std::size_t size) {
    cols_.push_back({name, mem_type, offset_});
    offset_ += size;
  }
  std::size_t row_size() const { return offset_; }
  template <class T> void set(std::vector<char>& buf, std::size_t row, std::size_t col, T v) {
    std::memcpy(buf.data() + row * offset_ + cols_[col].offset, &v, sizeof v);
  }
  void set_str(std::vector<char>& buf, std::size_t row, std::size_t col, std::string s) {
    strings_.push_back(std::move(s));
    set(buf, row, col, strings_.back().c_str());
  }
  void write(hid_t loc, const char* name, const std::vector<char>& buf, std::size_t rows) {
    Id t = h5::type(H5Tcreate(H5T_COMPOUND, offset_), path_, "create a compound type");
    for (const Col& c : cols_) H5Tinsert(t, c.name.c_str(), c.offset, c.type);
    const hsize_t n = rows;
    Id s = h5::space(H5Screate_simple(1, &n, nullptr), path_, "create a dataspace");
    Id dcpl = h5::untimed(H5P_DATASET_CREATE, path_);
    Id d = h5::dataset(H5Dcreate2(loc, name, t, s, H5P_DEFAULT, dcpl, H5P_DEFAULT), path_, "create the job table");
    if (n) h5::check_status(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), path_, "write a table");
  }

private:
  struct Col {
    std::string name;
    hid_t type;
    std::size_t offset;
  };
  std::string path_;
  std::vector<Col> cols_;
  std::size_t offset_ = 0;
  std::deque<std::string> strings_;
};

void write_job_table(hid_t f, const CorpusIndex& index, const std::map<std::uint64_t, const StageInfo*>& staged,
                     const std::string& path) {
  const std::vector<std::string>& columns = corpus_columns(); // settings with a column in every job table
  Id str = h5::vlstr(path);
  Table t(path);
  t.add("job_id", H5T_NATIVE_UINT64, 8);
  t.add("condition", H5T_NATIVE_UINT64, 8);
  t.add("replicate", H5T_NATIVE_INT64, 8);
  t.add("split", str, sizeof(char*));
  t.add("status", str, sizeof(char*));
  t.add("error", str, sizeof(char*));
  for (const char* c : {"nx", "ny", "nz"}) t.add(c, H5T_NATIVE_INT64, 8);
  for (const std::string& c : columns) t.add(c, H5T_NATIVE_DOUBLE, 8);
  std::vector<std::size_t> extra; // axes not among the known columns
  std::vector<bool> numeric;
  for (std::size_t a = 0; a < index.axes.size(); ++a) {
    if (std::find(columns.begin(), columns.end(), index.axes[a]) != columns.end()) continue;
    bool num = true;
    for (const CorpusJobEntry& j : index.jobs)
      if ((*j.values)[a] && !setting_number(*(*j.values)[a])) num = false;
    extra.push_back(a);
    numeric.push_back(num);
    t.add(index.axes[a], num ? H5T_NATIVE_DOUBLE : hid_t(str), num ? 8 : sizeof(char*));
  }
  std::vector<char> buf(t.row_size() * index.jobs.size());
  for (std::size_t r = 0; r < index.jobs.size(); ++r) {
    const CorpusJobEntry& j = index.jobs[r];
    auto it = staged.find(j.job_id);
    const StageInfo* s = it == staged.end() ? nullptr : it->second;
    std::size_t c = 0;
    t.set<std::uint64_t>(buf, r, c++, j.job_id);
    t.set<std::uint64_t>(buf, r, c++, j.condition);
    t.set<std::int64_t>(buf, r, c++, j.replicate);
    t.set_str(buf, r, c++, j.test_split ? "test" : "train");
    t.set_str(buf, r, c++, !s ? "missing" : s->ok ? "ok" : "failed");
    t.set_str(buf, r, c++, s ? s->error : "");
    std::array<std::uint64_t, 3> dims{0, 0, 0};
    if (s)
      for (const ArrayInfo& a : s->arrays)
        if (a.name == "tomogram") dims = a.dims;
    for (int k = 2; k >= 0; --k) t.set<std::int64_t>(buf, r, c++, static_cast<std::int64_t>(dims[k]));
    for (const std::string& k : columns) t.set<double>(buf, r, c++, *known_setting(*j.config, k));
    for (std::size_t e = 0; e < extra.size(); ++e) {
      const auto& v = (*j.values)[extra[e]];
      if (numeric[e])
        t.set<double>(buf, r, c++, v ? *setting_number(*v) : std::numeric_limits<double>::quiet_NaN());
      else
        t.set_str(buf, r, c++, v ? format_setting(*v) : "");
    }
  }
  t.write(f, "job_table", buf, index.jobs.size());
}

template <class T> Volume<T> read_volume(hid_t g, const char* name, const std::string& path) {
  Volume<T> v;
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return v;
  Id d = h5::dataset(H5Dopen2(g, name, H5P_DEFAULT), path, "open a dataset");
  Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
  hsize_t dims[3] = {0, 0, 0};
  if (H5Sget_simple_extent_ndims(s) != 3) fail_io(path, ": ", name, " is not 3-dimensional");
  H5Sget_simple_extent_dims(s, dims, nullptr);
  for (hsize_t n : dims)
    if (n > static_cast<hsize_t>(std::numeric_limits<int>::max()))
      fail_io(path, ": ", name, " has a corrupt size (", dims[0], " x ", dims[1], " x ", dims[2], ")");
  h5::stored_elements(d, s, path, name);
  v = Volume<T>(static_cast<int>(dims[2]), static_cast<int>(dims[1]), static_cast<int>(dims[0]),
                h5::read_attr_double(d, "voxel_A", path));
  ArrayType at = std::is_same_v<T, float>          ? ArrayType::f32
                 : std::is_same_v<T, std::uint8_t> ? ArrayType::u8
                                                   : ArrayType::u32;
  if (v.size())
    h5::check_status(H5Dread(d, h5::native(at), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data.data()), path, "read a dataset");
  return v;
}

std::vector<TiltRecord> read_tilts(hid_t g, const char* name, const std::string& path) {
  std::vector<TiltRecord> out;
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return out;
  Id d = h5::dataset(H5Dopen2(g, name, H5P_DEFAULT), path, "open a table");
  Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
  std::vector<h5::TiltRow> rows(h5::stored_elements(d, s, path, name));
  Id t = h5::tilt_type(path);
  if (!rows.empty()) h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), path, "read a table");
  for (const h5::TiltRow& r : rows) out.push_back(tilt_record(r));
  return out;
}

} // namespace

struct ClassRow {
  std::int32_t label;
  char* name;
  char* source;
};

std::vector<ClassInfo> h5::read_classes(hid_t f, const std::string& path) {
  std::vector<ClassInfo> out;
  if (H5Lexists(f, "classes", H5P_DEFAULT) <= 0) return out;
  Id d = h5::dataset(H5Dopen2(f, "classes", H5P_DEFAULT), path, "open /classes");
  Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
  Id str = h5::vlstr(path);
  Id t = h5::type(H5Tcreate(H5T_COMPOUND, sizeof(ClassRow)), path, "create a compound type");
  H5Tinsert(t, "label", HOFFSET(ClassRow, label), H5T_NATIVE_INT32);
  H5Tinsert(t, "name", HOFFSET(ClassRow, name), str);
  H5Tinsert(t, "source", HOFFSET(ClassRow, source), str);
  std::vector<ClassRow> rows(h5::stored_elements(d, s, path, "classes"));
  if (rows.empty()) return out;
  h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), path, "read /classes");
  for (const ClassRow& r : rows) out.push_back({r.label, r.name ? r.name : "", r.source ? r.source : ""});
  H5Dvlen_reclaim(t, s, H5P_DEFAULT, rows.data());
  return out;
}

struct CorpusWriter::File {
  Id id;
};

namespace {

void write_root_attributes(hid_t f, const CorpusIndex& index, const std::string& p) {
  h5::attr_string(f, "format", kCorpusFormat, p);
  h5::attr_i64(f, "format_version", kCorpusFormatVersion, p);
  h5::attr_string(f, "tool_version", TOMOSWEEP_VERSION, p);
  h5::attr_string(f, "name", index.name, p);
  h5::attr_string(f, "sweep_file", index.sweep_file, p);
  h5::attr_string(f, "sweep_text", index.sweep_text, p);
  h5::attr_string(f, "sweep_mode", index.sweep_mode, p);
  h5::attr_strings(f, "sweep_axes", index.axes, p);
  h5::attr_i64(f, "seed", static_cast<long long>(index.seed), p);
  h5::attr_i64(f, "sweep_seed", static_cast<long long>(index.sweep_seed), p);
  h5::attr_i64(f, "replicates", index.replicates, p);
  h5::attr_i64(f, "conditions", static_cast<long long>(index.conditions), p);
  h5::attr_i64(f, "job_count", static_cast<long long>(index.jobs.size()), p);
  h5::attr_string(f, "axis_order", "zyx", p);
  h5::attr_string(f, "units", kUnits, p);
}

/// Stage array `a` into `to` as stored: the same creation properties, each chunk read raw (filtered, not
/// decoded) and written raw. (H5Ocopy would do the same, but libhdf5 1.10.8 crashes in its clean-up when a
/// write fails, e.g. on a full disk.)
/// A group job's array is in its part files (`parts`, open, with their slices): each chunk is copied from the part
/// that holds its slices.
void copy_array_chunks(hid_t from, hid_t to, const ArrayInfo& a, const std::string& stage, const std::string& p,
                       const std::vector<hid_t>& parts = {}, const std::vector<StagePart>& slabs = {}) {
  std::vector<Id> sources;
  if (parts.empty())
    sources.push_back(h5::dataset(H5Dopen2(from, a.name.c_str(), H5P_DEFAULT), stage, "open a staged array"));
  for (std::size_t k = 0; k < parts.size(); ++k)
    sources.push_back(
        h5::dataset(H5Dopen2(parts[k], a.name.c_str(), H5P_DEFAULT), slabs[k].path, "open a staged array"));
  const Id& src = sources.front();
  Id dcpl = h5::plist(H5Dget_create_plist(src), stage, "read a dataset's properties");
  h5::check_status(H5Pset_obj_track_times(dcpl, false), p, "set a property list"); // whatever the stage recorded
  Id type = h5::type(H5Dget_type(src), stage, "read a datatype");
  Id space = h5::space(H5Dget_space(src), stage, "read a dataspace");
  hsize_t c[3] = {0, 0, 0};
  if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_chunk(dcpl, 3, c) != 3 || !c[0] || !c[1] || !c[2])
    fail_io(stage, ": ", a.name, " is not stored in chunks");
  Id dst = h5::dataset(H5Dcreate2(to, a.name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), p,
                       "create a corpus dataset");
  std::vector<char> buf;
  std::size_t k = 0; // the part that holds slice z
  for (hsize_t z = 0; z < a.dims[0]; z += c[0]) {
    while (k + 1 < slabs.size() && z >= slabs[k].z1) ++k;
    if (!slabs.empty() && (z < slabs[k].z0 || z >= slabs[k].z1 || (slabs[k].z0 % c[0]) != 0))
      fail_io(stage, ": no part holds the chunk of slice ", z, " of ", a.name);
    const Id& from_part = sources[slabs.empty() ? 0 : k];
    const std::string& where = slabs.empty() ? stage : slabs[k].path;
    for (hsize_t y = 0; y < a.dims[1]; y += c[1])
      for (hsize_t x = 0; x < a.dims[2]; x += c[2]) {
        const hsize_t at[3] = {z, y, x};
        hsize_t bytes = 0;
        std::uint32_t filters = 0;
        h5::check_status(H5Dget_chunk_storage_size(from_part, at, &bytes), where, "read a staged chunk's size");
        buf.resize(bytes);
        h5::check_status(H5Dread_chunk(from_part, H5P_DEFAULT, at, &filters, buf.data()), where,
                         "read a staged chunk");
        h5::check_status(H5Dwrite_chunk(dst, H5P_DEFAULT, filters, at, bytes, buf.data()), p, "write a corpus dataset");
      }
  }
  h5::attr_double(dst, "voxel_A", a.voxel_A, p);
  h5::check_status(dst.close(), p, "write a corpus dataset");
}

/// A staged table (fixed-size rows: tilts, particles), when present, copied by value.
void copy_table(hid_t from, hid_t to, const char* name, const std::string& stage, const std::string& p) {
  if (H5Lexists(from, name, H5P_DEFAULT) <= 0) return;
  Id src = h5::dataset(H5Dopen2(from, name, H5P_DEFAULT), stage, "open a staged table");
  Id type = h5::type(H5Dget_type(src), stage, "read a datatype");
  Id space = h5::space(H5Dget_space(src), stage, "read a dataspace");
  std::vector<char> rows(h5::stored_elements(src, space, stage, name) * H5Tget_size(type));
  if (!rows.empty())
    h5::check_status(H5Dread(src, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), stage, "read a staged table");
  Id dcpl = h5::untimed(H5P_DATASET_CREATE, p);
  Id dst = h5::dataset(H5Dcreate2(to, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), p, "create a table");
  if (!rows.empty())
    h5::check_status(H5Dwrite(dst, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), p, "write a table");
  h5::check_status(dst.close(), p, "write a table");
}

/// Page-cache hints for a file absorbing is done with (nothing happens if it cannot be opened). Its clean pages are
/// given back: absorbing reads each stage file once and writes the corpus once, so without this each job would
/// leave about twice its bytes in the page cache, and each job's writes would need pages the kernel has not used
/// lately: taken from other files' caches on a full machine, or, in a virtual machine whose host takes back free
/// memory, touched anew (about 3 s per GB on the development VM, against 0.3-0.6 s for pages given back a moment
/// before). With `write_out`, its dirty pages start being written now, without waiting for them: the final fsync
/// then finds little left.
void release_pages(const std::string& path, bool write_out) {
#ifdef __linux__
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (write_out) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  ::close(fd);
#else
  (void)path, (void)write_out;
#endif
}

} // namespace

CorpusWriter::CorpusWriter(std::string tmp_path) : path_(std::move(tmp_path)), file_(std::make_unique<File>()) {
  file_->id = h5::file(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path_, "create the corpus");
  Id gcpl = h5::untimed(H5P_GROUP_CREATE, path_);
  Id g = h5::group(H5Gcreate2(file_->id, "jobs", H5P_DEFAULT, gcpl, H5P_DEFAULT), path_, "create /jobs");
}

CorpusWriter::~CorpusWriter() = default;

StageInfo CorpusWriter::absorb(const std::string& stage, const CorpusJobEntry& j) {
  StageInfo s = read_stage_info(stage);
  if (s.job_id != j.job_id) fail_io(stage, ": stage file of job ", s.job_id, ", expected job ", j.job_id);
  const std::string& p = path_;
  Id sf = h5::file(h5::open_quietly(stage, H5F_ACC_RDONLY), stage, "open the stage file");
  Id gcpl = h5::untimed(H5P_GROUP_CREATE, p);
  Id g = h5::group(
      H5Gcreate2(file_->id, ("/jobs/" + std::to_string(j.job_id)).c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), p,
      "create a job group");
  h5::attr_string(g, "status", s.ok ? "ok" : "failed", p);
  h5::attr_string(g, "error", s.error, p);
  h5::attr_i64(g, "replicate", j.replicate, p);
  h5::attr_i64(g, "condition", static_cast<long long>(j.condition), p);
  h5::attr_string(g, "split", j.test_split ? "test" : "train", p);
  if (s.ok) {
    h5::attr_double(g, "tilt_axis_azimuth_deg", h5::read_attr_double(sf, "tilt_axis_azimuth_deg", stage), p);
    // The stage file holds its arrays in the corpus's layout: their chunks are copied as stored.
    std::vector<Id> parts;
    std::vector<hid_t> part_ids;
    for (const StagePart& part : s.parts) {
      parts.push_back(h5::file(h5::open_quietly(part.path, H5F_ACC_RDONLY), part.path, "open the stage file"));
      part_ids.push_back(parts.back());
    }
    for (const ArrayInfo& a : s.arrays) {
      if (std::find(s.part_arrays.begin(), s.part_arrays.end(), a.name) != s.part_arrays.end())
        copy_array_chunks(sf, g, a, stage, p, part_ids, s.parts);
      else
        copy_array_chunks(sf, g, a, stage, p);
    }
    for (const char* t : {"tilts", "prior_tilts", "particles"}) copy_table(sf, g, t, stage, p);
  }
  g.reset();
  h5::flush(file_->id, p);
  // The stage file (fsync'ed when staged) is not read again; the corpus's pages written back since the last job are
  // not either.
  release_pages(stage, false);
  for (const StagePart& part : s.parts) release_pages(part.path, false);
  release_pages(p, true);
  return s;
}

void CorpusWriter::finish(const std::string& final_path, const CorpusIndex& index, const std::vector<StageInfo>& jobs) {
  const std::string& p = path_;
  write_root_attributes(file_->id, index, p);
  std::map<std::uint64_t, const StageInfo*> staged;
  for (const StageInfo& s : jobs) staged[s.job_id] = &s;
  write_job_table(file_->id, index, staged, p);
  for (const auto& [id, s] : staged) // the classes are the same for every job: the first ok job's
    if (s->ok) {
      Id sf = h5::file(h5::open_quietly(s->path, H5F_ACC_RDONLY), s->path, "open the stage file");
      if (H5Lexists(sf, "classes", H5P_DEFAULT) > 0) h5::write_classes(file_->id, h5::read_classes(sf, s->path), p);
      break;
    }
  h5::flush(file_->id, p);
  h5::check_status(file_->id.close(), p, "close the corpus");
  fault_point("corpus-tables");
  fsync_path(p);
  if (std::rename(p.c_str(), final_path.c_str()) != 0) fail_io("cannot write ", errno_message(final_path));
  fault_point("corpus-renamed");
  const auto slash = final_path.find_last_of('/');
  fsync_path(slash == std::string::npos ? "." : slash == 0 ? "/" : final_path.substr(0, slash));
}

CorpusJob read_corpus_job(const std::string& path, std::uint64_t job_id) {
  Id f = h5::file(h5::open_quietly(path, H5F_ACC_RDONLY), path, "open the corpus");
  const std::string name = "/jobs/" + std::to_string(job_id);
  if (H5Lexists(f, "jobs", H5P_DEFAULT) <= 0 || H5Lexists(f, name.c_str(), H5P_DEFAULT) <= 0)
    fail_io(path, ": no job ", job_id, " in the corpus");
  Id g = h5::group(H5Gopen2(f, name.c_str(), H5P_DEFAULT), path, "open a job group");
  CorpusJob out;
  out.job_id = job_id;
  out.status = h5::read_attr_string(g, "status", path);
  out.error = h5::read_attr_string(g, "error", path);
  JobResult& r = out.result;
  r.job_id = job_id;
  r.tomogram = read_volume<float>(g, "tomogram", path);
  r.prior = read_volume<float>(g, "prior", path);
  r.tomogram_odd = read_volume<float>(g, "tomogram_odd", path);
  r.tomogram_even = read_volume<float>(g, "tomogram_even", path);
  r.atlas = read_volume<std::uint8_t>(g, "atlas", path);
  r.instances = read_volume<std::uint32_t>(g, "instances", path);
  r.potential = read_volume<float>(g, "model", path);
  r.series.images = read_volume<float>(g, "tilt_series", path);
  r.prior_series.images = read_volume<float>(g, "prior_series", path);
  r.series.tilts = read_tilts(g, "tilts", path);
  r.prior_series.tilts = read_tilts(g, "prior_tilts", path);
  if (H5Aexists(g, "tilt_axis_azimuth_deg") > 0)
    r.series.axis_azimuth_deg = h5::read_attr_double(g, "tilt_axis_azimuth_deg", path);
  r.classes = h5::read_classes(f, path);
  if (H5Lexists(g, "particles", H5P_DEFAULT) > 0) {
    Id d = h5::dataset(H5Dopen2(g, "particles", H5P_DEFAULT), path, "open a table");
    Id s = h5::space(H5Dget_space(d), path, "read a dataspace");
    std::vector<h5::ParticleRow> rows(h5::stored_elements(d, s, path, "particles"));
    Id t = h5::particle_type(path);
    if (!rows.empty())
      h5::check_status(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), path, "read a table");
    std::map<int, std::string> sources;
    for (const ClassInfo& c : r.classes) sources[c.label] = c.source;
    for (const h5::ParticleRow& row : rows) {
      PlacedParticle p;
      p.instance = row.instance;
      p.label = row.label;
      p.source = sources[row.label];
      p.position_A = {row.position_A[0], row.position_A[1], row.position_A[2]};
      for (int i = 0; i < 9; ++i) p.rotation.m[static_cast<std::size_t>(i)] = row.rotation[i / 3][i % 3];
      p.group = row.group;
      p.direction = {row.direction[0], row.direction[1], row.direction[2]};
      r.particles.push_back(p);
    }
  }
  return out;
}

h5::Id h5::open_corpus(const std::string& path) {
  h5::Id f = h5::file(h5::open_quietly(path, H5F_ACC_RDONLY), path, "open the corpus");
  if (H5Aexists(f, "format") <= 0 || h5::read_attr_string(f, "format", path) != kCorpusFormat)
    fail_io(path, ": not a tomosweep corpus (no format attribute '", kCorpusFormat, "')");
  return f;
}

std::string corpus_sweep_text(const std::string& path) {
  h5::Id f = h5::open_corpus(path);
  return h5::read_attr_string(f, "sweep_text", path);
}

std::string corpus_summary(const std::string& path) { return corpus_overview_text(read_corpus_overview(path)); }

} // namespace tomosweep
