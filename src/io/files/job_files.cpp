#include "io/files/job_files.hpp"

#include "io/files/mrc.hpp"
#include "io/files/particles_file.hpp"

#include <filesystem>
#include <fstream>

namespace tomosweep {
namespace {

void write_series(const std::string& dir, const std::string& stem, const TiltSeries& s) {
  if (s.tilts.empty()) return;
  if (s.images.size()) write_mrc_stack(dir + "/" + stem + ".mrc", s.images);
  std::vector<double> nominal, actual;
  for (const TiltRecord& t : s.tilts) {
    nominal.push_back(t.angle_deg);
    actual.push_back(t.actual_angle_deg);
  }
  write_tilt_angles(dir + "/" + stem + ".rawtlt", nominal);
  write_tilt_angles(dir + "/" + stem + ".tlt", actual);
  std::ofstream meta(dir + "/" + stem + ".tsv");
  meta << "# index\tangle_deg\tactual_angle_deg\tacquisition_index\tdose_e_per_A2\tcumulative_dose_e_per_A2"
          "\tdefocus_um\n";
  for (std::size_t i = 0; i < s.tilts.size(); ++i) {
    const TiltRecord& t = s.tilts[i];
    meta << i << '\t' << t.angle_deg << '\t' << t.actual_angle_deg << '\t' << t.acquisition_index << '\t'
         << t.dose_e_per_A2 << '\t' << t.cumulative_dose_e_per_A2 << '\t' << t.defocus_um << '\n';
  }
  if (!meta) fail_io(dir, "/", stem, ".tsv: cannot write");
}

template <class T> void write_if_any(const std::string& path, const Volume<T>& v) {
  if (v.size()) write_mrc(path, v);
}

} // namespace

void write_job_files(const std::string& dir, const JobResult& r, const std::string& tomo_name) {
  std::filesystem::create_directories(dir);
  write_if_any(dir + "/model.mrc", r.potential);
  write_if_any(dir + "/tomogram.mrc", r.tomogram);
  write_if_any(dir + "/prior.mrc", r.prior);
  write_if_any(dir + "/tomogram_odd.mrc", r.tomogram_odd);
  write_if_any(dir + "/tomogram_even.mrc", r.tomogram_even);
  write_if_any(dir + "/atlas.mrc", r.atlas);
  write_if_any(dir + "/instances.mrc", r.instances);
  write_series(dir, "tilt_series", r.series);
  write_series(dir, "prior_series", r.prior_series);
  {
    std::ofstream classes(dir + "/classes.tsv");
    classes << "# label\tname\tsource\n0\tbackground\t-\n";
    for (const ClassInfo& c : r.classes) classes << c.label << '\t' << c.name << '\t' << c.source << '\n';
    if (!classes) fail_io(dir, "/classes.tsv: cannot write");
  }
  const ParticleTableInfo table = particle_table_info(r.tomogram, tomo_name);
  write_particles_star(dir + "/particles.star", r.particles, r.classes, table);
  write_particles_json(dir + "/particles.json", r.particles, r.classes, table);
}

} // namespace tomosweep
