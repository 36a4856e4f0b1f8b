// Benchmark: pack and rasterize the crowded "cytoplasm" scene at 600 x 600 x 60 voxels and 13.2 A.
// Prints seconds per stage (not a test: no assertions on time).
//   bench_model [PIXEL_A]               the built-in crowded scene
//   bench_model SWEEP.toml OUT_DIR      the [model] of a sweep file (replicate 0), timed, written as
//                                       OUT_DIR/model.mrc, atlas.mrc, instances.mrc (for tools/slices.py)
#include "io/config/config_file.hpp"
#include "io/files/mrc.hpp"
#include "io/structures/structure_file.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"
#include "model/synthetic.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

using namespace tomosweep;

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
ParticleSpec spec(const std::string& source, const std::string& scheme, double weight, const std::string& preset = "",
                  const std::string& class_name = "") {
  ParticleSpec s;
  s.source = source;
  s.class_name = class_name;
  s.scheme = scheme;
  s.weight = weight;
  if (!preset.empty()) s.filament = filament_preset(preset);
  return s;
}
} // namespace

int from_sweep(const std::string& sweep, const std::string& out) {
  const JobConfig c = load_job_config(sweep);
  auto t0 = std::chrono::steady_clock::now();
  const std::string dir = sweep.find('/') == std::string::npos ? "." : sweep.substr(0, sweep.rfind('/'));
  const StructureSet st = load_structures(model_sources(c.model), dir);
  const double t_struct = since(t0);
  t0 = std::chrono::steady_clock::now();
  const Scene scene = build_scene(c.model, st, c.run.seed, 0);
  const double t_scene = since(t0);
  t0 = std::chrono::steady_clock::now();
  const SpecimenVolumes v = rasterize(scene, st, c.model.pixel_size_A, c.model.potential);
  const double t_raster = since(t0);
  write_mrc(out + "/model.mrc", v.potential);
  write_mrc(out + "/atlas.mrc", v.atlas);
  write_mrc(out + "/instances.mrc", v.instances);
  std::printf("%s: %d x %d x %d at %.1f A, %zu particles, %zu vesicles, %zu beads, carbon %s\n", sweep.c_str(),
              v.potential.nx, v.potential.ny, v.potential.nz, c.model.pixel_size_A, scene.particles.size(),
              scene.vesicles.size(), scene.beads.size(), scene.carbon.present ? "yes" : "no");
  for (std::size_t i = 0; i < scene.layer_density.size(); ++i)
    std::printf("  layer %zu density %.3f (max %.3f)\n", i, scene.layer_density[i], c.model.layers[i].max_density);
  for (const ClassInfo& k : scene.classes)
    std::printf("  label %d  %s  (%s)\n", k.label, k.name.c_str(), k.source.c_str());
  std::printf("  occupied 10 A cells %.3f\n", scene.occupied_fraction);
  std::printf("  structures %.3f s, build_scene %.3f s, rasterize %.3f s\n", t_struct, t_scene, t_raster);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3) return from_sweep(argv[1], argv[2]);
  const double pixel_A = argc > 1 ? std::atof(argv[1]) : 13.2;
  ModelParams p;
  p.box_A = {600 * 13.2, 600 * 13.2, 60 * 13.2};
  p.pixel_size_A = pixel_A;
  p.vesicles = {.count_min = 3, .count_max = 6, .radius_min_A = 200, .radius_max_A = 350};
  Layer big;
  big.max_density = 0.3;
  big.max_attempts = 200000;
  big.particles = {spec("synthetic:ribosome", "single", 3), spec("synthetic:tric", "single", 1),
                   spec("synthetic:globular?mass_kDa=500", "single", 2, "", "complex"),
                   spec("synthetic:tubulin-dimer", "filament", 0.05, "microtubule"),
                   spec("synthetic:actin-subunit", "filament", 0.2, "actin")};
  Layer small;
  small.max_density = 0.1;
  small.max_attempts = 200000;
  small.particles = {spec("synthetic:globular?mass_kDa=50", "single", 1, "", "distractor"),
                     spec("synthetic:cofilin", "single", 1)};
  p.layers = {big, small};

  auto t0 = std::chrono::steady_clock::now();
  StructureSet st;
  for (const Layer& l : p.layers)
    for (const ParticleSpec& s : l.particles)
      if (!st.count(s.source)) st[s.source] = make_synthetic(s.source);
  const double t_struct = since(t0);

  t0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();
  const Scene scene = build_scene(p, st, 1, 0);
  const double t_scene = since(t0), c_scene = double(std::clock() - c0) / CLOCKS_PER_SEC;

  t0 = std::chrono::steady_clock::now();
  c0 = std::clock();
  const SpecimenVolumes v = rasterize(scene, st, pixel_A, PotentialMode::fast);
  const double t_raster = since(t0), c_raster = double(std::clock() - c0) / CLOCKS_PER_SEC;

  double mean = 0;
  for (float x : v.potential.data) mean += x;
  mean /= double(v.potential.size());
  std::printf("cytoplasm %d x %d x %d at %.1f A: %zu particles, %zu vesicles, protein density %.3f + %.3f, "
              "occupied 10 A cells %.3f\n",
              v.potential.nx, v.potential.ny, v.potential.nz, pixel_A, scene.particles.size(), scene.vesicles.size(),
              scene.layer_density[0], scene.layer_density[1], scene.occupied_fraction);
  std::printf("  synthesize structures  %7.3f s (once per run, not per scene)\n", t_struct);
  std::printf("  build_scene (packing)  %7.3f s wall  %7.3f s cpu\n", t_scene, c_scene);
  std::printf("  rasterize (fast mode)  %7.3f s wall  %7.3f s cpu (first touch of %.0f MB included)\n", t_raster,
              c_raster, double(v.potential.size()) * 13 / 1e6);
  std::printf("  pack + rasterize       %7.3f s wall  %7.3f s cpu   mean potential %.3f V\n", t_scene + t_raster,
              c_scene + c_raster, mean);
  return 0;
}
