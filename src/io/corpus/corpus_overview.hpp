// What a corpus holds, as values: provenance, the job table with each job's swept values, classes and the
// arrays of one job. `tomosweep inspect` (text and --json) and `tomosweep export --job all` read it.
#pragma once

#include "model/particles.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tomosweep {

/// One row of /job_table: the fixed columns and the job's value of every swept axis as text ("" when the
/// base file does not write it; numbers as written by %.10g).
struct CorpusJobRow {
  std::uint64_t job_id = 0, condition = 0;
  std::int64_t replicate = 0;
  std::string split, status, error;
  std::array<std::int64_t, 3> size_xyz{0, 0, 0};
  std::vector<std::string> values; ///< one per CorpusOverview::axes
};

struct CorpusOverview {
  std::string path;
  long long format_version = 0;
  std::string tool_version, name, sweep_file, sweep_text, sweep_mode;
  std::vector<std::string> axes; ///< swept setting paths, file order
  std::vector<bool> axis_numeric; ///< per axis: a number column (else text)
  long long replicates = 1, conditions = 1;
  std::vector<ClassInfo> classes;
  std::vector<CorpusJobRow> jobs; ///< sorted by job id
  struct Array {
    std::string name;
    std::array<std::uint64_t, 3> dims{0, 0, 0}; ///< [z][y][x] or [tilts][v][u]
  };
  std::int64_t first_ok = -1;  ///< job whose arrays are listed (-1: none ok)
  std::vector<Array> arrays;   ///< arrays of job first_ok
};

/// Read a corpus's overview; IoError naming the path if it is not a corpus.
CorpusOverview read_corpus_overview(const std::string& path);

/// Text summary: provenance, job counts, classes, one line per condition (swept values, jobs ok/failed,
/// train/test), the arrays of the first ok job, failures.
std::string corpus_overview_text(const CorpusOverview& o);
/// The same as one JSON object (docs/corpus.md, "inspect").
std::string corpus_overview_json(const CorpusOverview& o);

} // namespace tomosweep
