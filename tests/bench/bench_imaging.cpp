// Imaging benchmark: projection and back projection of a 600 x 600 x 60 volume over 61 and 179 tilts
// (voxel-projections per CPU second), and the full noisy series + prior series + both reconstructions.
// Usage: bench_imaging [nx ny nz [all|proj|pipeline]]
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/pipeline.hpp"

#include "bench_clock.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tomosweep;

namespace {
using bench::cpu_now;
using bench::seconds_since;
} // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 4 ? argv[4] : "all";
  const int nx = argc > 3 ? std::atoi(argv[1]) : 600, ny = argc > 3 ? std::atoi(argv[2]) : 600,
            nz = argc > 3 ? std::atoi(argv[3]) : 60;
  const double voxel_A = 13.2;
  Volume<float> v(nx, ny, nz, voxel_A);
  Rng rng(1, Purpose::test, 0);
  for (float& x : v.data) x = static_cast<float>(4.5 + rng.uniform(-1, 1));
  const double voxels = static_cast<double>(v.size());
  std::printf("volume %d x %d x %d at %.1f A (%.1f M voxels)\n", nx, ny, nz, voxel_A, voxels / 1e6);

  struct Case {
    const char* name;
    TiltParams tilts;
    double azimuth_deg;
  };
  const Case cases[] = {{"61 tilts", TiltParams{}, 0.0},
                        {"179 tilts", TiltParams{.min_deg = -89, .max_deg = 89, .step_deg = 1}, 0.0},
                        {"61 tilts, azimuth 30", TiltParams{}, 30.0}};
  for (const auto& [name, tp, az] : cases) {
    if (what == "pipeline" || what == "noisy") break;
    if (what == "fast" && az != 0) break;
    TiltParams t = tp;
    t.axis_azimuth_deg = az;
    const std::vector<TiltView> views = plan_series(t, 100, 5, 1, 0).nominal_views;
    const double vp = voxels * static_cast<double>(views.size());
    auto t0 = cpu_now();
    const Volume<float> s = project(v, views, nx, ny);
    const double tp_s = seconds_since(t0);
    t0 = cpu_now();
    const Volume<float> b = back_project(s, views, v.grid());
    const double tb_s = seconds_since(t0);
    std::printf("%-22s project %6.3f s (%6.2f G voxel-projections/s)   back project %6.3f s (%6.2f G/s)\n", name, tp_s,
                vp / tp_s / 1e9, tb_s, vp / tb_s / 1e9);
  }

  if (what == "proj" || what == "fast") return 0;
  ImagingParams p;
  auto t0 = cpu_now();
  const TiltSeries noisy = simulate_series(v, p, nz * voxel_A, 1, 0);
  const double t_noisy = seconds_since(t0);
  if (what == "noisy") {
    std::printf("noisy series (61) %.3f s\n", t_noisy);
    return 0;
  }
  t0 = cpu_now();
  const Volume<float> tomo = reconstruct_tomogram(noisy, v.grid(), ReconParams{});
  const double t_tomo = seconds_since(t0);
  t0 = cpu_now();
  const TiltSeries ideal = simulate_ideal_series(v, p, TiltParams{.min_deg = -89, .max_deg = 89, .step_deg = 1});
  const double t_ideal = seconds_since(t0);
  t0 = cpu_now();
  const Volume<float> prior = reconstruct_tomogram(ideal, v.grid(), ReconParams{});
  const double t_prior = seconds_since(t0);
  std::printf("noisy series (61) %.3f s, tomogram %.3f s, ideal series (179) %.3f s, prior %.3f s, total %.3f s\n",
              t_noisy, t_tomo, t_ideal, t_prior, t_noisy + t_tomo + t_ideal + t_prior);
  std::printf("checksum %g %g\n", static_cast<double>(tomo.data[tomo.size() / 2]),
              static_cast<double>(prior.data[prior.size() / 2]));
  return 0;
}
