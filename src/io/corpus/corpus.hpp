// The corpus (one HDF5 file) and the per-job stage files it is gathered from. Layout in docs/corpus.md.
//
// Stage file: one finished (or failed) job, <work>/job-<id>.h5, written to a temporary name, fsync'ed
// and renamed, so that a stage file under its final name is always complete.
// Gather: the arrays are written by every rank at once (sweep/gather.hpp); rank 0 then adds the tables and
// attributes serially (finish_corpus), fsyncs and renames the file to its final name.
#pragma once

#include "io/config/overrides.hpp"
#include "job/job.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tomosweep {

inline constexpr const char* kCorpusFormat = "tomosweep-corpus";
inline constexpr int kCorpusFormatVersion = 1;

/// The element type of a per-job array.
enum class ArrayType : int { f32 = 0, u8 = 1, u32 = 2 };
/// Bytes per element of an array type.
constexpr std::size_t element_size(ArrayType t) { return t == ArrayType::u8 ? 1 : 4; }

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

/// Read a whole stage file back, every array's checksums included (they are Fletcher-32 per z slice); IoError
/// naming the path and the damaged part for a truncated or corrupt file.
void verify_stage(const std::string& path);

/// One job as the sweep expanded it: a row of /job_table and its job group's attributes. `values` and
/// `config` point into the caller's sweep, which outlives finish_corpus.
struct CorpusJobEntry {
  std::uint64_t job_id = 0;
  std::size_t condition = 0;
  int replicate = 0;
  bool test_split = false;
  const std::vector<std::optional<SettingValue>>* values = nullptr; ///< value of each axis (nullopt: default)
  const JobConfig* config = nullptr;                                ///< the job's settings
};

/// What a corpus records of the sweep it was run from: root attributes and /job_table.
struct CorpusIndex {
  std::string name;       ///< run.name
  std::string sweep_file; ///< path as given
  std::string sweep_text;
  std::string sweep_mode;
  std::vector<std::string> axes; ///< swept setting paths, in file order
  std::uint64_t seed = 1, sweep_seed = 1;
  int replicates = 1;
  std::size_t conditions = 1;
  std::vector<CorpusJobEntry> jobs; ///< ordered by job id
};

/// Rank 0 alone, after the arrays are written (sweep/gather.hpp): add root attributes, /classes,
/// /job_table, per-job particles, tilts and timing attributes, then fsync and rename `tmp_path` to
/// `final_path`.
void finish_corpus(const std::string& tmp_path, const std::string& final_path, const CorpusIndex& index,
                   const std::vector<StageInfo>& jobs);

/// Text summary of a corpus (attributes, job counts, classes, arrays of the first job).
std::string corpus_summary(const std::string& path);

/// The sweep text a corpus was run from (root attribute sweep_text); IoError if `path` is not a corpus.
std::string corpus_sweep_text(const std::string& path);

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
