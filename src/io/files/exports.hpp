// Corpus jobs as projects for the tools people annotate and average with (docs/formats.md, "Exports"):
//   copick: a filesystem project (copick_config.json; ExperimentRuns/RUN/VoxelSpacingX.XXX/ with the tomogram
//           and prior as OME-Zarr; Picks/USER_SESSION_OBJECT.json per class; Segmentations/ with the atlas as a
//           multilabel OME-Zarr).
//   relion: a RELION-5 tomography set (tomograms.star, tilt_series/RUN.star with the per-tilt acquisition,
//           tomograms/RUN.mrc, particles.star with centred Angstrom coordinates, optimisation_set.star).
// Jobs are added one at a time (a job's arrays are large); finish() writes the project-wide files.
#pragma once

#include "job/job.hpp"
#include "job/job_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tomosweep {

/// One atlas class as a copick pickable object.
struct ExportObject {
  ClassInfo cls;                  ///< label and name as in the corpus
  std::string name;               ///< copick-safe name: letters, digits, '-' and '.' (others become '-')
  bool is_particle = true;        ///< false for the features membrane and carbon (segmentation only)
  std::optional<double> radius_A; ///< sphere of the structure's protein volume (beads: their radius)
  std::string pdb_id;             ///< from a "pdb:ID" source or a file named like a PDB entry ("1abc.cif"), else ""
};

/// The objects of a corpus's classes: radii from the structures (synthetic ones are made, files read relative to
/// `structure_dir`, pdb: sources only from the local cache, never fetched); a structure that cannot be read
/// gets no radius, and its name is added to `unread`.
std::vector<ExportObject> export_objects(const std::vector<ClassInfo>& classes, const JobConfig& config,
                                         const std::string& structure_dir, std::vector<std::string>* unread = nullptr);

/// A copick-safe name (see ExportObject::name).
std::string copick_name(const std::string& s);

struct CopickExportOptions {
  std::string project_name = "tomosweep";
  std::string description;
  std::string user_id = "tomosweep";
  std::string session_id = "0";
};

class CopickExport {
public:
  CopickExport(std::string dir, std::vector<ExportObject> objects, CopickExportOptions options);
  /// One run: ExperimentRuns/<run_name>/ with the job's volumes, picks and segmentation.
  void add(const std::string& run_name, const JobResult& r, const JobConfig& config);
  /// copick_config.json (pickable objects, runs, roots).
  void finish();

private:
  std::string dir_;
  std::vector<ExportObject> objects_;
  CopickExportOptions options_;
  std::vector<std::string> runs_;
  std::vector<double> spacings_;
};

class RelionExport {
public:
  explicit RelionExport(std::string dir);
  /// One tilt series and tomogram: tilt_series/<run_name>.star (+ .mrcs when the corpus holds the images),
  /// tomograms/<run_name>.mrc, its rows of tomograms.star and particles.star. Returns false when the job has no
  /// tilt images (the tilt-series STAR then has no image names).
  bool add(const std::string& run_name, const JobResult& r, const JobConfig& config);
  /// tomograms.star, particles.star and optimisation_set.star.
  void finish();

private:
  std::string dir_;
  std::string tomogram_rows_, particle_rows_, optics_rows_;
  int optics_groups_ = 0;
};

} // namespace tomosweep
