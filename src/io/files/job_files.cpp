#include "io/files/job_files.hpp"

#include "io/files/atomic_file.hpp"
#include "io/files/mrc.hpp"
#include "io/files/particles_file.hpp"
#include "io/files/tilt_table.hpp"

#include <filesystem>
#include <sstream>

namespace tomosweep {
namespace {

} // namespace

void write_series_files(const std::string& dir, const std::string& stem, const TiltSeries& s) {
  if (s.tilts.empty()) return;
  if (s.images.size()) write_mrc_stack(dir + "/" + stem + ".mrc", s.images);
  std::vector<double> nominal, actual;
  for (const TiltRecord& t : s.tilts) {
    nominal.push_back(t.angle_deg);
    actual.push_back(t.actual_angle_deg);
  }
  write_tilt_angles(dir + "/" + stem + ".rawtlt", nominal);
  write_tilt_angles(dir + "/" + stem + ".tlt", actual);
  write_file_atomically(dir + "/" + stem + ".tsv", tilt_table_tsv(s.tilts));
}

namespace {

/// classes.tsv: background, then one line per class.
std::string classes_tsv(const std::vector<ClassInfo>& classes) {
  std::ostringstream os;
  os << "# label\tname\tsource\n0\tbackground\t-\n";
  for (const ClassInfo& c : classes) os << c.label << '\t' << c.name << '\t' << c.source << '\n';
  return os.str();
}

template <class T> void write_if_any(const std::string& path, const Volume<T>& v) {
  if (v.size()) write_mrc(path, v);
}

} // namespace

void write_specimen_files(const std::string& dir, const Volume<float>& potential, const Volume<std::uint8_t>& atlas,
                          const Volume<std::uint32_t>& instances) {
  write_if_any(dir + "/model.mrc", potential);
  write_if_any(dir + "/atlas.mrc", atlas);
  write_if_any(dir + "/instances.mrc", instances);
}

void write_tomogram_files(const std::string& dir, const JobResult& r) {
  write_if_any(dir + "/tomogram.mrc", r.tomogram);
  write_if_any(dir + "/tomogram_odd.mrc", r.tomogram_odd);
  write_if_any(dir + "/tomogram_even.mrc", r.tomogram_even);
}

void write_prior_and_tables(const std::string& dir, const JobResult& r, const std::string& tomo_name) {
  write_if_any(dir + "/prior.mrc", r.prior);
  write_series_files(dir, "prior_series", r.prior_series);
  write_file_atomically(dir + "/classes.tsv", classes_tsv(r.classes));
  const ParticleTableInfo table = particle_table_info(r.tomogram, tomo_name);
  write_particles_star(dir + "/particles.star", r.particles, r.classes, table);
  write_particles_json(dir + "/particles.json", r.particles, r.classes, table);
}

void write_job_files(const std::string& dir, const JobResult& r, const std::string& tomo_name, bool with_series) {
  std::filesystem::create_directories(dir);
  write_specimen_files(dir, r.potential, r.atlas, r.instances);
  write_tomogram_files(dir, r);
  if (with_series) write_series_files(dir, "tilt_series", r.series);
  write_prior_and_tables(dir, r, tomo_name);
}

} // namespace tomosweep
