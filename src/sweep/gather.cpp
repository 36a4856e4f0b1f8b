#include "sweep/gather.hpp"

#include "core/system.hpp"
#include "io/corpus/h5_helpers.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mpi.h>
#include <sstream>

namespace tomosweep {
namespace fs = std::filesystem;
namespace {

using h5::Id;

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

/// Rank 0: the stage info of every job of the sweep, encoded for broadcasting; a problem is agreed on
/// (thrown on every rank) before any collective write starts.
std::vector<StageInfo> list_stages(const MpiSession& mpi, const Sweep& sweep, const std::string& work) {
  std::vector<StageInfo> infos;
  std::string encoded, error;
  if (mpi.rank() == 0) {
    try {
      const auto staged = staged_jobs(work);
      for (const SweepJob& j : sweep.jobs) {
        auto it = staged.find(j.job_id);
        if (it == staged.end()) fail_io(work, ": job ", j.job_id, " was not staged");
        infos.push_back(read_stage_info(it->second));
      }
      encoded = encode_stage_infos(infos);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (!mpi.all_ok(error.empty())) {
    if (mpi.rank() == 0) throw Error(error);
    throw Error("gather failed on rank 0 (see its message)");
  }
  if (mpi.size() > 1) infos = decode_stage_infos(mpi.broadcast(encoded));
  return infos;
}

} // namespace

void remove_work(const std::string& work) {
  std::error_code ec;
  for (const auto& [id, path] : staged_jobs(work)) {
    fs::remove(path, ec);
    fault_point("work-removal");
  }
  fs::remove(work + "/sweep.toml", ec);
  fs::remove(work + "/lock", ec); // held until this process ends; a new run makes its own
  fs::remove(work, ec);           // only if empty
}

std::map<std::uint64_t, std::string> staged_jobs(const std::string& work) {
  std::map<std::uint64_t, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(work, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("job-", 0) != 0 || name.size() < 8 || name.compare(name.size() - 3, 3, ".h5") != 0) continue;
    const std::string digits = name.substr(4, name.size() - 7);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    out[std::stoull(digits)] = e.path().string();
  }
  return out;
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
        h5::check_status(d.close(), tmp_path, "write a corpus dataset");
      }
    }
  }
  h5::flush(f, tmp_path); // collective; a full disk shows here, not in a silent close
}

CorpusIndex corpus_index(const Sweep& sweep) {
  CorpusIndex index{.name = sweep.base.run.name,
                    .sweep_file = sweep.file,
                    .sweep_text = sweep.text,
                    .sweep_mode = sweep.mode,
                    .axes = sweep.axes,
                    .seed = sweep.seed,
                    .sweep_seed = sweep.sweep_seed,
                    .replicates = sweep.replicates,
                    .conditions = sweep.conditions,
                    .jobs = {}};
  for (const SweepJob& j : sweep.jobs)
    index.jobs.push_back({.job_id = j.job_id,
                          .condition = j.condition,
                          .replicate = j.replicate,
                          .test_split = j.test_split,
                          .values = &j.values,
                          .config = &j.config});
  return index;
}

std::size_t gather_corpus(const MpiSession& mpi, const Sweep& sweep, const std::string& work, const std::string& output,
                          bool keep_work) {
  const std::vector<StageInfo> infos = list_stages(mpi, sweep, work);
  fault_point("gather");
  // A failure from here on cannot be agreed on cheaply mid-collective: abort.
  const std::string tmp = output + ".tmp";
  try {
    h5::fatal_error = [&mpi](const std::string& message) { mpi.abort(message); };
    write_corpus_arrays(tmp, infos, mpi.rank(), mpi.size(), mpi.size() > 1);
    h5::fatal_error = nullptr;
    fault_point("arrays-written");
  } catch (const std::exception& e) {
    mpi.abort(e.what());
  }
  mpi.barrier();
  if (mpi.rank() != 0) return 0;
  try {
    finish_corpus(tmp, output, corpus_index(sweep), infos);
  } catch (const std::exception& e) {
    mpi.abort(e.what());
  }
  std::size_t failed = 0;
  for (const StageInfo& s : infos) failed += s.ok ? 0 : 1;
  if (!keep_work) remove_work(work);
  return failed;
}

} // namespace tomosweep
