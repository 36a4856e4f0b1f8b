// One job's results as files for IMOD, napari and pickers (simulate and export share this).
#pragma once

#include "job/job.hpp"

#include <string>

namespace tomosweep {

/// Write every non-empty array of `r` into `dir` as MRC (model, tomogram, prior, tomogram_odd/even, atlas,
/// instances, tilt_series, prior_series), the series' .rawtlt (nominal angles), .tlt (angles used,
/// including simulated errors) and .tsv (per-tilt metadata), classes.tsv, particles.star and
/// particles.json. `tomo_name` names the tomogram in the particle tables.
/// `with_series` false: leave out the tilt series' files (written before with write_series_files).
void write_job_files(const std::string& dir, const JobResult& r, const std::string& tomo_name,
                     bool with_series = true);

/// A series' files in `dir`: STEM.mrc (when it has images), STEM.rawtlt, STEM.tlt and STEM.tsv.
void write_series_files(const std::string& dir, const std::string& stem, const TiltSeries& s);

} // namespace tomosweep
