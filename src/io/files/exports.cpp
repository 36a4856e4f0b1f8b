#include "io/files/exports.hpp"

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "core/geometry.hpp"
#include "io/files/atomic_file.hpp"
#include "io/files/mrc.hpp"
#include "io/files/ome_zarr.hpp"
#include "io/files/particles_file.hpp"
#include "io/structures/fetch.hpp"
#include "io/structures/structure_file.hpp"
#include "model/atoms.hpp"
#include "model/scene.hpp"
#include "model/synthetic.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace tomosweep {
namespace {

namespace fs = std::filesystem;

std::string num(const char* f, double v) { return format_number(f, v); }

/// "pdb:1ABC" -> "1ABC"; a file whose stem is a PDB entry id (digit + 3 letters or digits) -> that id upper-case.
std::string pdb_id_of(const std::string& source) {
  std::string s = source.substr(0, source.find('?'));
  if (is_pdb_source(s)) s = s.substr(4);
  else if (!is_synthetic(s)) {
    s = fs::path(s).filename().string();
    s = s.substr(0, s.find('.'));
  } else
    return "";
  if (s.size() != 4 || !std::isdigit(static_cast<unsigned char>(s[0]))) return "";
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";
    c = char(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

/// Radius (A) of the sphere holding the structure's protein volume (mass at 1.35 g/cm^3), if it can be read
/// without a download.
std::optional<double> structure_radius(const std::string& source, const std::string& dir) {
  const std::string path = source.substr(0, source.find('?'));
  if (is_pdb_source(source)) return std::nullopt;
  if (!is_synthetic(source) && !fs::exists(fs::path(dir) / path) && !fs::exists(path)) return std::nullopt;
  try {
    const StructureSet set = load_structures({source}, dir);
    const double volume_A3 = structure_mass_Da(set.begin()->second) * 1.66054 / 1.35;
    return std::cbrt(3 * volume_A3 / (4 * kPi));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// A distinct colour per label (RGBA).
std::string colour(int label) {
  static const int palette[][3] = {{230, 25, 75},  {60, 180, 75},  {0, 130, 200},  {245, 130, 48},
                                   {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60},
                                   {250, 190, 212}, {0, 128, 128}, {170, 110, 40}, {128, 0, 0}};
  const int* c = palette[(label > 0 ? label - 1 : 0) % 12];
  char b[32];
  std::snprintf(b, sizeof b, "[%d, %d, %d, 255]", c[0], c[1], c[2]);
  return b;
}

std::string spacing_name(double voxel_A) { return num("%.3f", voxel_A); }

} // namespace

std::string copick_name(const std::string& s) {
  std::string o = s;
  for (char& c : o)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  return o.empty() ? "object" : o;
}

std::vector<ExportObject> export_objects(const std::vector<ClassInfo>& classes, const JobConfig& config,
                                         const std::string& structure_dir, std::vector<std::string>* unread) {
  std::vector<ExportObject> out;
  for (const ClassInfo& c : classes) {
    ExportObject o{c, copick_name(c.name), true, std::nullopt, ""};
    if (c.source.rfind("feature:", 0) == 0) {
      o.is_particle = c.source == "feature:beads";
      if (o.is_particle) o.radius_A = config.model.beads.radius_A;
    } else {
      o.pdb_id = pdb_id_of(c.source);
      o.radius_A = structure_radius(c.source, structure_dir);
      if (!o.radius_A && unread) unread->push_back(c.source);
    }
    out.push_back(o);
  }
  return out;
}

// ---- copick ----

CopickExport::CopickExport(std::string dir, std::vector<ExportObject> objects, CopickExportOptions options)
    : dir_(std::move(dir)), objects_(std::move(objects)), options_(std::move(options)) {
  for (const std::string* id : {&options_.user_id, &options_.session_id})
    if (id->empty() || copick_name(*id) != *id || id->find('_') != std::string::npos)
      fail("copick user and session ids take letters, digits, '-' and '.', got '", *id, "'");
  fs::create_directories(dir_);
}

void CopickExport::add(const std::string& run_name, const JobResult& r, const JobConfig& config) {
  const std::string run = dir_ + "/ExperimentRuns/" + run_name;
  const double voxel = r.tomogram.voxel_A;
  const std::string spacing = run + "/VoxelSpacing" + spacing_name(voxel);
  fs::create_directories(spacing);
  const std::string method(name_of(config.reconstruction.method));
  if (r.tomogram.size()) write_ome_zarr(spacing + "/" + method + ".zarr", r.tomogram, run_name + " " + method);
  if (r.prior.size()) write_ome_zarr(spacing + "/prior.zarr", r.prior, run_name + " prior");
  std::vector<ClassInfo> classes; // a pick file per structure class (features have no particle rows)
  for (const ExportObject& o : objects_)
    if (o.cls.source.rfind("feature:", 0) != 0) classes.push_back({o.cls.label, o.name, o.cls.source});
  fs::create_directories(run + "/Picks");
  write_copick_picks(run + "/Picks", r.particles, classes, particle_table_info(r.tomogram, run_name), options_.user_id,
                     options_.session_id);
  if (r.atlas.size()) {
    fs::create_directories(run + "/Segmentations");
    write_ome_zarr(run + "/Segmentations/" + spacing_name(voxel) + "_" + options_.user_id + "_" + options_.session_id +
                       "_atlas-multilabel.zarr",
                   r.atlas, run_name + " atlas");
  }
  runs_.push_back(run_name);
  bool known = false;
  for (double s : spacings_) known = known || s == voxel;
  if (!known) spacings_.push_back(voxel);
}

void CopickExport::finish() {
  std::string o = "{\n  \"config_type\": \"filesystem\",\n  \"name\": " + json_quote(options_.project_name) +
                  ",\n  \"description\": " + json_quote(options_.description) + ",\n  \"version\": \"0.2.0\",\n" +
                  "  \"pickable_objects\": [";
  for (std::size_t i = 0; i < objects_.size(); ++i) {
    const ExportObject& b = objects_[i];
    o += std::string(i ? ",\n" : "\n") + "    {\"name\": " + json_quote(b.name) +
         ", \"is_particle\": " + (b.is_particle ? "true" : "false") + ", \"label\": " + std::to_string(b.cls.label) +
         ", \"color\": " + colour(b.cls.label);
    if (b.radius_A) o += ", \"radius\": " + num("%.1f", *b.radius_A);
    if (!b.pdb_id.empty()) o += ", \"pdb_id\": " + json_quote(b.pdb_id);
    o += ", \"metadata\": {\"tomosweep_source\": " + json_quote(b.cls.source) + "}}";
  }
  o += objects_.empty() ? "],\n" : "\n  ],\n";
  o += "  \"user_id\": " + json_quote(options_.user_id) + ",\n  \"session_id\": " + json_quote(options_.session_id) +
       ",\n";
  o += "  \"overlay_root\": " + json_quote("local://" + fs::absolute(dir_).lexically_normal().string()) +
       ",\n  \"overlay_fs_args\": {\"auto_mkdir\": true},\n  \"static_root\": null,\n  \"runs\": [";
  for (std::size_t i = 0; i < runs_.size(); ++i) o += (i ? ", " : "") + json_quote(runs_[i]);
  o += "],\n  \"voxel_spacings\": [";
  for (std::size_t i = 0; i < spacings_.size(); ++i) o += (i ? ", " : "") + num("%.3f", spacings_[i]);
  o += "]\n}\n";
  write_file_atomically(dir_ + "/copick_config.json", o);
}

// ---- RELION ----

RelionExport::RelionExport(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ + "/tilt_series");
  fs::create_directories(dir_ + "/tomograms");
}

namespace {

/// The per-tilt table of one series: block data_<name>, one row per image in stack order (ascending angle).
std::string tilt_series_star(const std::string& name, const TiltSeries& s, const ImagingParams& im,
                             const std::string& stack) {
  std::string o = "# version 50001\n# tomosweep tilt series: nominal and actual (as acquired) geometry, "
                  "acquisition residuals per tilt\n\ndata_" +
                  name + "\n\nloop_\n";
  std::vector<std::string> labels;
  if (!stack.empty()) labels.push_back("_rlnMicrographName");
  for (const char* l : {"_rlnTomoNominalStageTiltAngle", "_rlnTomoNominalTiltAxisAngle", "_rlnMicrographPreExposure",
                        "_rlnDefocusU", "_rlnDefocusV", "_rlnDefocusAngle", "_rlnTomoXTilt", "_rlnTomoYTilt",
                        "_rlnTomoZRot", "_rlnTomoXShiftAngst", "_rlnTomoYShiftAngst", "_tomosweepMagnification",
                        "_tomosweepDose", "_tomosweepMotionXAngst", "_tomosweepMotionYAngst"})
    labels.push_back(l);
  for (std::size_t i = 0; i < labels.size(); ++i) o += labels[i] + " #" + std::to_string(i + 1) + "\n";
  const double astig_A = im.astigmatism_um * 1e4;
  for (std::size_t i = 0; i < s.tilts.size(); ++i) {
    const TiltRecord& t = s.tilts[i];
    if (!stack.empty()) o += std::to_string(i + 1) + "@" + stack + " ";
    o += num("%.3f", t.angle_deg) + " " + num("%.3f", s.axis_azimuth_deg) + " " +
         num("%.4f", t.cumulative_dose_e_per_A2) + " " + num("%.2f", t.defocus_um * 1e4 + 0.5 * astig_A) + " " +
         num("%.2f", t.defocus_um * 1e4 - 0.5 * astig_A) + " " + num("%.3f", im.astigmatism_angle_deg) + " 0 " +
         num("%.4f", t.actual_angle_deg) + " " +
         num("%.4f", s.axis_azimuth_deg + t.axis_offset_deg + t.rotation_deg) + " " + num("%.3f", t.shift_x_A) + " " +
         num("%.3f", t.shift_y_A) + " " + num("%.6f", t.magnification) + " " + num("%.4f", t.dose_e_per_A2) + " " +
         num("%.3f", t.motion_x_A) + " " + num("%.3f", t.motion_y_A) + "\n";
  }
  return o;
}

std::string loop_header(const std::string& block, std::initializer_list<const char*> labels) {
  std::string o = "data_" + block + "\n\nloop_\n";
  int i = 0;
  for (const char* l : labels) o += std::string(l) + " #" + std::to_string(++i) + "\n";
  return o;
}

} // namespace

bool RelionExport::add(const std::string& name, const JobResult& r, const JobConfig& config) {
  const bool images = r.series.images.size() > 0;
  const std::string stack = images ? "tilt_series/" + name + ".mrcs" : "";
  if (images) write_mrc_stack(dir_ + "/" + stack, r.series.images);
  write_file_atomically(dir_ + "/tilt_series/" + name + ".star",
                        tilt_series_star(name, r.series, config.imaging, stack));
  const std::string tomogram = "tomograms/" + name + ".mrc";
  if (r.tomogram.size()) write_mrc(dir_ + "/" + tomogram, r.tomogram);
  const ImagingParams& im = config.imaging;
  const double px = r.tomogram.voxel_A;
  const int group = ++optics_groups_;
  const std::string optics = "optics" + std::to_string(group);
  tomogram_rows_ += star_quote(name) + " " + num("%.2f", im.voltage_kV) + " " + num("%.3f", im.cs_mm) + " " +
                    num("%.4f", im.amplitude_contrast) + " " + num("%.4f", px) + " -1 " + optics + " " +
                    num("%.4f", px) + " " + star_quote("tilt_series/" + name + ".star") + " 1 " +
                    std::to_string(r.tomogram.nx) + " " + std::to_string(r.tomogram.ny) + " " +
                    std::to_string(r.tomogram.nz) + " " + star_quote(r.tomogram.size() ? tomogram : "") + "\n";
  optics_rows_ += std::to_string(group) + " " + optics + " " + num("%.3f", im.cs_mm) + " " +
                  num("%.2f", im.voltage_kV) + " " + num("%.4f", im.amplitude_contrast) + " " + num("%.4f", px) + "\n";
  for (const PlacedParticle& p : r.particles) {
    const auto e = euler_zyz_deg(p.rotation.transposed());
    particle_rows_ += star_quote(name) + " " + star_quote(name + "/" + std::to_string(p.instance)) + " " +
                      std::to_string(group) + " " + num("%.3f", p.position_A.x) + " " + num("%.3f", p.position_A.y) +
                      " " + num("%.3f", p.position_A.z) + " " + num("%.4f", e[0]) + " " + num("%.4f", e[1]) + " " +
                      num("%.4f", e[2]) + " " + std::to_string(p.label) + " " + std::to_string(p.group) + "\n";
  }
  return images;
}

void RelionExport::finish() {
  write_file_atomically(
      dir_ + "/tomograms.star",
      "# version 50001\n# tomosweep: one tomogram per exported job (docs/formats.md, RELION-5)\n\n" +
          loop_header("global", {"_rlnTomoName", "_rlnVoltage", "_rlnSphericalAberration", "_rlnAmplitudeContrast",
                                 "_rlnMicrographOriginalPixelSize", "_rlnTomoHand", "_rlnOpticsGroupName",
                                 "_rlnTomoTiltSeriesPixelSize", "_rlnTomoTiltSeriesStarFile",
                                 "_rlnTomoTomogramBinning", "_rlnTomoSizeX", "_rlnTomoSizeY", "_rlnTomoSizeZ",
                                 "_rlnTomoReconstructedTomogram"}) +
          tomogram_rows_);
  write_file_atomically(
      dir_ + "/particles.star",
      "# version 50001\n# tomosweep particles: centred coordinates in Angstrom from the tomogram centre; angles as "
      "in docs/formats.md\n\n" +
          loop_header("optics", {"_rlnOpticsGroup", "_rlnOpticsGroupName", "_rlnSphericalAberration", "_rlnVoltage",
                                 "_rlnAmplitudeContrast", "_rlnTomoTiltSeriesPixelSize"}) +
          optics_rows_ + "\n" +
          loop_header("particles", {"_rlnTomoName", "_rlnTomoParticleName", "_rlnOpticsGroup",
                                    "_rlnCenteredCoordinateXAngst", "_rlnCenteredCoordinateYAngst",
                                    "_rlnCenteredCoordinateZAngst", "_rlnAngleRot", "_rlnAngleTilt", "_rlnAnglePsi",
                                    "_rlnClassNumber", "_rlnHelicalTubeID"}) +
          particle_rows_);
  write_file_atomically(dir_ + "/optimisation_set.star", "# version 50001\n\ndata_\n\n_rlnTomoParticlesFile "
                                                         "particles.star\n_rlnTomoTomogramsFile tomograms.star\n");
}

} // namespace tomosweep
