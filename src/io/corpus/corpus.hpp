// The corpus (one HDF5 file) and the per-job stage files it is gathered from. Layout in docs/corpus.md.
//
// Stage file: one finished (or failed) job, <work>/job-<id>.h5, written to a temporary name, fsync'ed
// and renamed, so that a stage file under its final name is always complete.
// Gather: every rank creates all datasets (collective metadata), the owner of each job (job position %
// ranks) writes its arrays; atlas and instances are deflate-compressed and so written with collective
// H5Dwrite by all ranks (empty selections on non-owners). Rank 0 then adds the tables and attributes
// serially, fsyncs and renames the file to its final name.
#pragma once

#include "io/sweep_file.hpp"
#include "job/job.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

inline constexpr const char* kCorpusFormat = "tomosweep-corpus";
inline constexpr int kCorpusFormatVersion = 1;

/// The element type of a per-job array.
enum class ArrayType : int { f32 = 0, u8 = 1, u32 = 2 };

/// One per-job array as staged: dataset name (tomogram, prior, atlas, instances, model, tilt_series,
/// prior_series), element type, dims [z][y][x] and voxel size in Angstrom.
struct ArrayInfo {
  std::string name;
  ArrayType type = ArrayType::f32;
  std::array<std::uint64_t, 3> dims{0, 0, 0};
  double voxel_A = 1;
};

/// What a stage file holds, without its arrays.
struct StageInfo {
  std::uint64_t job_id = 0;
  std::string path;
  bool ok = false;
  std::string error;  ///< failure message (failed jobs)
  double seconds = 0; ///< wall time of the job (not part of the compared datasets)
  std::vector<ArrayInfo> arrays;
};

/// Stage file name of a job inside a work directory: "<dir>/job-<id>.h5".
std::string stage_path(const std::string& work_dir, std::uint64_t job_id);

/// Write one job's stage file atomically (temp name, fsync, rename, fsync of the folder). `result` is
/// null for a failed job; `outputs` (run.outputs) selects the arrays and tables kept.
void write_stage(const std::string& path, std::uint64_t job_id, int replicate, const JobResult* result,
                 const std::string& error, const std::vector<std::string>& outputs, double seconds);

/// Read a stage file's status and array shapes; IoError naming the path if it is not a stage file.
StageInfo read_stage_info(const std::string& path);

/// Stage infos as text for broadcasting, and back.
std::string encode_stage_infos(const std::vector<StageInfo>& infos);
std::vector<StageInfo> decode_stage_infos(const std::string& text);

/// Collective over MPI_COMM_WORLD when `parallel` (every rank calls it with the same `jobs`, sorted by job
/// id), else serial: create `tmp_path` and write every job's arrays from its stage file.
void write_corpus_arrays(const std::string& tmp_path, const std::vector<StageInfo>& jobs, int rank, int size,
                         bool parallel);

/// Rank 0 alone, after write_corpus_arrays: add root attributes, /classes, /job_table, per-job particles,
/// tilts and timing attributes, then fsync and rename `tmp_path` to `final_path`.
void finish_corpus(const std::string& tmp_path, const std::string& final_path, const Sweep& sweep,
                   const std::vector<StageInfo>& jobs);

/// Text summary of a corpus (attributes, job counts, classes, arrays of the first job).
std::string corpus_summary(const std::string& path);

/// One job of a corpus read back (arrays present in the file; the others stay empty).
struct CorpusJob {
  std::uint64_t job_id = 0;
  std::string status;
  std::string error;
  JobResult result;
};
CorpusJob read_corpus_job(const std::string& path, std::uint64_t job_id);

/// fsync a file or folder by path (IoError on failure).
void fsync_path(const std::string& path);

} // namespace tomosweep
