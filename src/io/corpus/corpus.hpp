// The corpus (one HDF5 file) and the per-job stage files it is gathered from. Layout in docs/corpus.md.
//
// Stage file: one finished (or failed) job, <work>/job-<id>.h5, written to a temporary name, fsync'ed
// and renamed, so that a stage file under its final name is always complete.
// Stage files hold their arrays in the corpus's own layout (chunks, filters), so the gather copies them chunk
// for chunk as stored (CorpusWriter::absorb), as soon as each job is staged; finish() adds the index, fsyncs and
// renames the file to its final name.
#pragma once

#include "io/config/overrides.hpp"
#include "job/job.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tomosweep {

inline constexpr const char* kCorpusFormat = "tomosweep-corpus";
inline constexpr int kCorpusFormatVersion = 2;

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

/// One part file of a job run on a rank group: the slices [z0, z1) of its volume arrays.
struct StagePart {
  std::string path;
  std::uint64_t z0 = 0, z1 = 0;
};

/// What a stage file holds, without its arrays.
struct StageInfo {
  std::uint64_t job_id = 0;
  std::string path;
  bool ok = false;
  std::string error;   ///< failure message (failed jobs)
  double seconds = 0;  ///< wall time of the job (a measurement: not in the corpus, in OUTPUT.timings.tsv)
  std::string timings; ///< "stage=seconds;..." of an ok job (likewise)
  std::vector<ArrayInfo> arrays;
  std::vector<StagePart> parts;          ///< a group job's part files (empty: the stage file holds every array)
  std::vector<std::string> part_arrays; ///< the arrays (among `arrays`) that the parts hold
};

/// Stage file name of a job inside a work directory: "<dir>/job-<id>.h5".
std::string stage_path(const std::string& work_dir, std::uint64_t job_id);

/// Write one job's stage file atomically (temp name, fsync, rename, fsync of the folder). `result` is
/// null for a failed job; `outputs` (run.outputs) selects the arrays and tables kept.
/// `parts` > 0: a group job whose volume arrays are in that many part files (write_stage_part), written before.
void write_stage(const std::string& path, std::uint64_t job_id, int replicate, const JobResult* result,
                 const std::string& error, const std::vector<std::string>& outputs, double seconds, int parts = 0);

/// Part `part` of a group job's stage file: "<dir>/job-<id>.part-<part>.h5".
std::string stage_part_path(const std::string& stage, int part);

/// Write rank `part`'s slab of a group job's volume arrays (those of `outputs` among tomogram, prior, atlas,
/// instances, model, and the half tomograms when present): `slab` holds the slices [z0, z0 + their depth) of
/// volumes nz_total deep. Each array is the whole volume's dataset (its chunks and filters) with only the slab's
/// chunks written (z0 and the depth are multiples of the 64-slice chunk but at the end), so that the gather copies
/// them as stored. Atomic, like write_stage; write the parts before the stage file (write_stage with `parts`).
void write_stage_part(const std::string& stage, int part, std::uint64_t job_id, const JobResult& slab, int z0,
                      int nz_total, const std::vector<std::string>& outputs);

/// Remove a stage file and its part files (no error if missing).
void remove_stage(const std::string& stage);

/// Read a stage file's status and array shapes; IoError naming the path if it is not a stage file.
StageInfo read_stage_info(const std::string& path);

/// Read a whole stage file back, every array's checksums included (they are Fletcher-32 per z slice); IoError
/// naming the path and the damaged part for a truncated or corrupt file.
void verify_stage(const std::string& path);

/// One job as the sweep expanded it: a row of /job_table and its job group's attributes. `values` and
/// `config` point into the caller's sweep, which outlives the CorpusWriter that uses them.
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

/// The corpus under its temporary name while a sweep runs, written by one process (sweep rank 0; HDF5 is not
/// thread-safe, so by one thread): each staged job is absorbed into it as soon as it is staged, and finish()
/// adds the index and gives the file its final name. A file left by a killed run is not trusted: a new writer
/// truncates it, and the stage files, kept until the corpus is complete, are absorbed again.
class CorpusWriter {
public:
  /// Create (truncate) `tmp_path`.
  explicit CorpusWriter(std::string tmp_path);
  ~CorpusWriter();
  CorpusWriter(const CorpusWriter&) = delete;
  CorpusWriter& operator=(const CorpusWriter&) = delete;

  /// Copy the stage file `stage` of job `job` into /jobs/<id>: its arrays and tables as stored (no decoding,
  /// no recompression) and the group's attributes; flush, and start writing the file's new bytes to disk.
  /// Returns what the stage holds.
  StageInfo absorb(const std::string& stage, const CorpusJobEntry& job);

  /// Once every job of `index` is absorbed (`jobs`: their stage infos): root attributes, /classes (from the
  /// first ok job's stage file) and /job_table, then flush, fsync and rename to `final_path`. The writer is
  /// closed afterwards.
  void finish(const std::string& final_path, const CorpusIndex& index, const std::vector<StageInfo>& jobs);

  const std::string& path() const { return path_; }

private:
  struct File;
  std::string path_;
  std::unique_ptr<File> file_;
};

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
