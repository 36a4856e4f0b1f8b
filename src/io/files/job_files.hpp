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

/// Parts of write_job_files, for a caller that writes them as they become final (tomosweep simulate):
/// model.mrc, atlas.mrc and instances.mrc (those not empty);
void write_specimen_files(const std::string& dir, const Volume<float>& potential, const Volume<std::uint8_t>& atlas,
                          const Volume<std::uint32_t>& instances);
/// tomogram.mrc, tomogram_odd.mrc and tomogram_even.mrc (those not empty);
void write_tomogram_files(const std::string& dir, const JobResult& r);
/// prior.mrc, the prior series' files, classes.tsv, particles.star and particles.json.
void write_prior_and_tables(const std::string& dir, const JobResult& r, const std::string& tomo_name);

/// A series' files in `dir`: STEM.mrc (when it has images), STEM.rawtlt, STEM.tlt and STEM.tsv.
void write_series_files(const std::string& dir, const std::string& stem, const TiltSeries& s);

} // namespace tomosweep
