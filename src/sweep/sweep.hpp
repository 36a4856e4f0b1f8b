// Sweep files: base settings plus a [sweep] table of axes, expanded into a table of jobs.
//
// [sweep]
// mode = "grid" | "zip" | "one-at-a-time" | "random"      (default "grid")
// draws = N, seed = S                                      (random only; seed defaults to run.seed)
// "imaging.defocus_um" = [1, 3, 5]                         an axis: any scalar setting path, a list ...
// "imaging.dose_e_per_A2" = { start = 20, stop = 100, step = 40 }   ... or an inclusive range
// "imaging.tilt.step_deg" = { min = 1, max = 5 }           random only: uniform draw (integers if both are)
//
// Conditions: grid = cartesian product, first axis (in file order) slowest; zip = i-th value of every
// axis; one-at-a-time = condition 0 is the base, then each axis value in turn with the others at the
// base (values equal to the base's written value are skipped); random = `draws` conditions, draw d using
// Rng(seed, Purpose::sweep, d) over the axes in file order (lists: uniform choice).
// Job id = condition * replicates + replicate; ids are stable for a given sweep file.
// Every job's overrides are applied to its own parse of the file and read with read_job_config, so each
// override is type- and range-checked like a written setting, with its line in the message.
#pragma once

#include "io/config/overrides.hpp"
#include "job/job_config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tomosweep {

struct SweepJob {
  std::uint64_t job_id = 0;
  std::size_t condition = 0;
  int replicate = 0;
  bool test_split = false;                         ///< replicate listed in run.test_replicates
  std::vector<std::optional<SettingValue>> values; ///< effective value of each axis (nullopt: default)
  JobConfig config;                                ///< base settings with this job's overrides
};

struct Sweep {
  std::string file;             ///< path as given
  std::string text;             ///< the file's text (stored in the corpus)
  std::string mode = "none";    ///< none (no [sweep] table) | grid | zip | one-at-a-time | random
  std::uint64_t seed = 1;       ///< run.seed
  std::uint64_t sweep_seed = 1; ///< seed of random draws
  int replicates = 1;
  std::vector<std::string> axes; ///< swept setting paths, in file order
  std::size_t conditions = 1;
  JobConfig base;
  std::vector<SweepJob> jobs; ///< ordered by job id
};

/// Parse and expand sweep text; throws ConfigError listing every problem (one per line) of every job.
Sweep parse_sweep(const std::string& text, const std::string& file);
/// Read and expand a sweep file (IoError if unreadable).
Sweep load_sweep(const std::string& path);

/// Every structure source any job of the sweep names (model_sources of each job), first appearance order.
std::vector<std::string> sweep_sources(const Sweep& sweep);

/// The folder relative structure paths of a sweep file are read from: the file's folder ("." if none).
std::string sweep_folder(const std::string& sweep_path);

} // namespace tomosweep
