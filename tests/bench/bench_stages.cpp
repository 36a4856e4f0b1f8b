// Roofline benchmark of the imaging stages (run on demand; not a test). In one process, on one core:
//   1. the machine: memory bandwidth (STREAM-like copy and triad over 3 x 128 MB) and the peak of the vector
//      multiply-add the projector uses (8-wide, separate multiply and add, as the kernels);
//   2. per stage of a 600 x 600 x 60 job at 13.2 A with 61 tilts (random potential, default imaging): CPU
//      seconds, the bytes it must move to and from memory (compulsory traffic: each input read once, each
//      output written once; working images of one tilt stay in cache), its floating-point operations, and the
//      fraction of its roofline, max(bytes / bandwidth, flops / peak) / time; for the FFT stages also FFTW's own
//      rate on the stage's transform, as tomosweep plans it (FFTW_ESTIMATE) and as FFTW_MEASURE would: the most
//      an FFT-bound stage can reach with that library; for the projection, the rate of its inner operation alone
//      (splat_kernel: the most a voxel-driven projection of this form reaches);
//   3. the scaling table: CPU seconds of the series, tomogram and prior as the voxel count doubles (lateral
//      size x sqrt 2) and as the tilt count doubles (61 -> 121 -> 241 by halving the step).
//   4. ns per draw of the random samplers (uniform, normal, Poisson at 5, 160 and 3000).
// Usage: bench_stages [stages|samplers|scaling|all] [nx ny nz]
// docs/imaging.md (Benchmark) says how to read it.
#include "core/fft.hpp"
#include "core/projector.hpp"
#include "core/rng.hpp"
#include "core/tilt_scheme.hpp"
#include "reconstruct/wbp.hpp"
#include "simulate/ctf.hpp"
#include "simulate/pipeline.hpp"

#include "bench_clock.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace tomosweep;

namespace {

using bench::cpu_now;

// Best of `reps` CPU times of f().
template <class F> double best_of(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const double t0 = cpu_now();
    f();
    best = std::min(best, cpu_now() - t0);
  }
  return best;
}

struct Machine {
  double copy_Bps = 0, triad_Bps = 0, flops = 0;
};

// Bytes per second of c = a (copy: 8 bytes per element) and a = b + s c (triad: 12 bytes per element), arrays
// far larger than the caches; write-allocate traffic is not counted (as STREAM).
Machine measure_bandwidth() {
  const std::size_t n = std::size_t(32) << 20; // 32 M floats = 128 MB per array
  std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 0.5f);
  Machine m;
  const double tc = best_of(5, [&] { std::copy(a.begin(), a.end(), c.begin()); });
  const double tt = best_of(5, [&] {
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 0.5f * c[i];
  });
  m.copy_Bps = 8.0 * n / tc;
  m.triad_Bps = 12.0 * n / tt;
  if (a[n / 2] == 42) std::puts(""); // keep the loops
  return m;
}

typedef float V8 __attribute__((vector_size(32)));
// Independent 8-wide multiply-adds (no FMA, like the projector's kernels), 2 flops per lane each.
[[gnu::target_clones("avx2", "default")]] double peak_kernel(long iters) {
  V8 acc[8], mul;
  for (int k = 0; k < 8; ++k) acc[k] = V8{} + 0.001f * static_cast<float>(k);
  mul = V8{} + 0.999999f;
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < 8; ++k) acc[k] = acc[k] * mul + mul;
  double s = 0;
  for (int k = 0; k < 8; ++k)
    for (int l = 0; l < 8; ++l) s += acc[k][l];
  return s;
}

double measure_flops() {
  const long iters = 50'000'000;
  double sink = 0;
  const double t = best_of(3, [&] { sink += peak_kernel(iters); });
  if (sink == 42) std::puts("");
  return 2.0 * 8 * 8 * static_cast<double>(iters) / t;
}

// The projector's inner operation alone, in the best case: a line of 32 voxels (in registers) added, times its two
// weights, into two image lines of 32 floats (load, multiply, add, store, as the forward kernel's axpy) for each
// of 8 views, over image lines that stay in L1 and with no index or bounds work. 4 flops per voxel and view, as
// the projection row counts them: the most a voxel-driven projection of this form reaches on this core.
[[gnu::target_clones("avx2", "default")]] double splat_kernel(long reps, float* img, const float* vol, const int* at) {
  constexpr int kLines = 64, kViews = 8, kLine = 32, kRows = 64;
  for (long r = 0; r < reps; ++r)
    for (int v = 0; v < kLines; ++v) {
      V8 a[4];
      for (int k = 0; k < 4; ++k) std::memcpy(&a[k], vol + v * kLine + 8 * k, sizeof(V8));
      for (int t = 0; t < kViews; ++t) {
        float* p = img + (std::size_t(t) * kRows + at[(v + t) % kLines]) * kLine;
        const V8 w0 = V8{} + 0.25f, w1 = V8{} + 0.75f;
        for (int k = 0; k < 4; ++k) {
          V8 x, y;
          std::memcpy(&x, p + 8 * k, sizeof(V8));
          std::memcpy(&y, p + kLine + 8 * k, sizeof(V8));
          x = x + w0 * a[k];
          y = y + w1 * a[k];
          std::memcpy(p + 8 * k, &x, sizeof(V8));
          std::memcpy(p + kLine + 8 * k, &y, sizeof(V8));
        }
      }
    }
  return img[5];
}

double splat_ceiling() {
  std::vector<float> img(8 * 65 * 32, 0.0f), vol(64 * 32, 1e-6f);
  std::vector<int> at(64);
  for (int i = 0; i < 64; ++i) at[i] = (7 * i) % 63; // rows 0..62: the second line stays inside the view's 64
  const long reps = 20000;
  double sink = 0;
  const double t = best_of(5, [&] { sink += splat_kernel(reps, img.data(), vol.data(), at.data()); });
  if (sink == 42) std::puts("");
  return 4.0 * 64 * 8 * 32 * static_cast<double>(reps) / t;
}

double fft_flops(double n) { return 2.5 * n * std::log2(std::max(n, 2.0)); } // one real transform of n points

void row(const char* stage, double s, double bytes, double flops, const Machine& m) {
  const double t_mem = bytes / m.triad_Bps, t_fl = flops / m.flops;
  const double roof = std::max(t_mem, t_fl);
  std::printf("%-26s %8.3f s %9.1f MB %7.2f GB/s %8.2f Gflop %6.2f Gflop/s  %-7s %5.1f%%\n", stage, s, bytes / 1e6,
              bytes / s / 1e9, flops / 1e9, flops / s / 1e9, t_mem >= t_fl ? "memory" : "compute",
              100 * roof / s);
}

// FFTW's own rate on one of a stage's transforms: a forward and an inverse real transform of nx x ny (x nz), out
// of place in 2D (as the CTF's plan cache) and in place in 3D (as the prior), planned with `flags`; Gflop/s
// counting fft_flops per transform, best of `reps`. What an FFT-bound stage can reach at most with that planner.
double fftw_rate(int nx, int ny, int nz, unsigned flags, int reps) {
  const std::size_t n = std::size_t(nx) * ny * nz, nk = std::size_t(nx / 2 + 1) * ny * nz;
  float* real = fftwf_alloc_real(2 * nk);
  fftwf_complex* spec = nz == 1 ? fftwf_alloc_complex(nk) : reinterpret_cast<fftwf_complex*>(real);
  fftwf_plan fwd, inv;
  if (nz == 1) {
    fwd = fftwf_plan_dft_r2c_2d(ny, nx, real, spec, flags);
    inv = fftwf_plan_dft_c2r_2d(ny, nx, spec, real, flags);
  } else {
    fwd = fftwf_plan_dft_r2c_3d(nz, ny, nx, real, spec, flags);
    inv = fftwf_plan_dft_c2r_3d(nz, ny, nx, spec, real, flags);
  }
  for (std::size_t i = 0; i < 2 * nk; ++i) real[i] = static_cast<float>(std::sin(0.001 * double(i)));
  const double t = best_of(reps, [&] {
    fftwf_execute(fwd);
    fftwf_execute(inv);
  });
  fftwf_destroy_plan(fwd);
  fftwf_destroy_plan(inv);
  if (nz == 1) fftwf_free(spec);
  fftwf_free(real);
  return 2 * fft_flops(double(n)) / t;
}

void fft_ceiling(const char* what, int nx, int ny, int nz, const Machine& m) {
  const int reps = nz == 1 ? 20 : 3;
  const double est = fftw_rate(nx, ny, nz, FFTW_ESTIMATE, reps), meas = fftw_rate(nx, ny, nz, FFTW_MEASURE, reps);
  std::printf("  %-24s FFTW alone: %.1f Gflop/s planned as tomosweep plans (FFTW_ESTIMATE, %.0f%% of the peak), "
              "%.1f Gflop/s with FFTW_MEASURE (%.0f%%)\n",
              what, est / 1e9, 100 * est / m.flops, meas / 1e9, 100 * meas / m.flops);
}

Volume<float> random_volume(int nx, int ny, int nz, double voxel_A) {
  Volume<float> v(nx, ny, nz, voxel_A);
  Rng rng(1, Purpose::test, 0);
  for (float& x : v.data) x = static_cast<float>(4.5 + rng.uniform(-1, 1));
  return v;
}

ImagingParams imaging(double step_deg) {
  ImagingParams p;
  p.tilt.min_deg = -60, p.tilt.max_deg = 60, p.tilt.step_deg = step_deg;
  return p;
}

void stages(int nx, int ny, int nz, const Machine& m) {
  const double voxel_A = 13.2;
  const Volume<float> v = random_volume(nx, ny, nz, voxel_A);
  const ImagingParams p = imaging(2);
  const TiltSeries plan = plan_series(p.tilt, p.dose_e_per_A2, p.defocus_um, 1, 0);
  const std::array<int, 2> det = detector_shape(v.grid(), plan.views);
  const double N = static_cast<double>(v.size()), nt = static_cast<double>(plan.views.size());
  const double M = double(det[0]) * det[1], S = M * nt;
  std::printf("\nstages of a %d x %d x %d job at %.1f A, %d tilts, detector %d x %d (CPU s, best of 3)\n", nx, ny, nz,
              voxel_A, int(nt), det[0], det[1]);
  std::printf("%-26s %10s %12s %12s %13s %14s  %-7s %6s\n", "stage", "time", "bytes", "bytes/s", "flops", "flops/s",
              "bound", "roof");

  const double t_proj = best_of(3, [&] { (void)project(v, plan.views, det[0], det[1]); });
  // Read the volume; the stack is zeroed, read and written by the block scatter. 4 flops per voxel and view.
  row("projection", t_proj, 4 * N + 12 * S, 4 * N * nt, m);
  const double splat = splat_ceiling();
  std::printf("  %-24s %.1f Gflop/s (%.0f%% of the peak): two 32-float multiply-adds and stores per voxel line "
              "and view, image lines in L1, no index work\n",
              "splat alone:", splat / 1e9, 100 * splat / m.flops);

  TiltSeries series;
  const double t_series = best_of(3, [&] { series = simulate_series(v, p, nz * voxel_A, 1, 0); });
  // Beyond the projection: per tilt the phase image in and the counts out (cached between); FFTs: one forward
  // and one inverse per defocus strip of the CTF.
  double copies = 0;
  const Ctf ctf = ctf_from(p, voxel_A);
  for (const TiltView& w : series.views) copies += plan_ctf_strips(ctf, det[0], w.defocus_A, w.tilt_rad).copies;
  row("imaging (CTF, counts)", t_series - t_proj, 8 * S, fft_flops(M) * (nt + copies), m);
  std::printf("%-26s %8.3f s   (%.1f CTF strips per tilt)\n", "  tilt series in all", t_series, copies / nt);
  char size[48];
  std::snprintf(size, sizeof size, "%d x %d:", det[0], det[1]);
  fft_ceiling(size, det[0], det[1], 1, m);

  const double t_tomo = best_of(3, [&] { (void)reconstruct_tomogram(series, v.grid(), ReconParams{}); });
  // Read the series, write the volume (zeroed, then added to once per block); rows filtered at twice their length.
  row("tomogram (filter + BP)", t_tomo, 4 * S + 12 * N, 4 * N * nt + 2 * fft_flops(2.0 * det[0]) * det[1] * nt, m);

  const double t_prior = best_of(3, [&] { (void)bandlimited_prior(v, 4.5, ReconParams{}); });
  // Read the potential, the padded buffer in and out of each of the two 3D transforms (out of cache: at least
  // one pass each way), write the prior.
  row("prior (3D FFT filter)", t_prior, 4 * N + 4 * 4 * N + 4 * N, 2 * fft_flops(N), m);
  std::snprintf(size, sizeof size, "%d x %d x %d:", nx, ny, nz);
  fft_ceiling(size, nx, ny, nz, m);

  const double t_noise = best_of(3, [&] {
    // The series' counting: poisson_pixels image by image (mean 3000 everywhere).
    const std::size_t m = std::size_t(det[0]) * det[1];
    std::vector<float> img(m);
    double s = 0;
    for (int t = 0; t < int(nt); ++t) {
      std::fill(img.begin(), img.end(), 3000.0f);
      poisson_pixels(img.data(), img.data(), m, 1, Purpose::test, t);
      s += img[t];
    }
    if (s == 42) std::puts("");
  });
  std::printf("%-26s %8.3f s   (%.1f ns per pixel; integer and transcendental work, no roofline)\n",
              "  Poisson counts alone", t_noise, 1e9 * t_noise / S);
}

// ns per draw of each sampler the imaging uses (one core, best of 3 over 2^23 draws).
void samplers() {
  const std::size_t n = std::size_t(1) << 23;
  auto per = [&](const char* what, auto&& draw) {
    double sink = 0;
    const double t = best_of(3, [&] {
      Rng rng(1, Purpose::test, 0);
      for (std::size_t i = 0; i < n; ++i) sink += double(draw(rng));
    });
    std::printf("%-34s %7.2f ns per draw%s\n", what, 1e9 * t / double(n), sink == 42 ? " " : "");
  };
  std::printf("\nsamplers (best of 3 over 2^23 draws, one core)\n");
  per("next_u32", [](Rng& r) { return r.next_u32(); });
  per("uniform", [](Rng& r) { return r.uniform(); });
  per("normal (polar)", [](Rng& r) { return r.normal(); });
  per("normal_ziggurat", [](Rng& r) { return r.normal_ziggurat(); });
  per("poisson(5)", [](Rng& r) { return r.poisson(5); });
  per("poisson(160)", [](Rng& r) { return r.poisson(160); });
  per("poisson(3000)", [](Rng& r) { return r.poisson(3000); });
  // Images: poisson_pixels over a 512 x 512 image of one mean, 32 times.
  for (double lambda : {5.0, 160.0, 3000.0}) {
    const std::size_t m = 512 * 512;
    std::vector<float> lam(m, float(lambda)), out(m);
    const double t = best_of(3, [&] {
      for (int rep = 0; rep < 32; ++rep) poisson_pixels(lam.data(), out.data(), m, 1, Purpose::test, rep);
    });
    char what[64];
    std::snprintf(what, sizeof what, "poisson_pixels(%g) per pixel", lambda);
    std::printf("%-34s %7.2f ns per draw%s\n", what, 1e9 * t / double(32 * m), out[7] == -1 ? " " : "");
  }
}

void scaling(const Machine&) {
  std::printf("\nscaling (CPU s, one run each): voxels doubling at 61 tilts, then tilts doubling at 600 x 600 x 60\n");
  std::printf("%-18s %6s %10s %10s %10s %10s %14s\n", "volume", "tilts", "series", "tomogram", "prior", "total",
              "ns/voxel-view");
  struct Case {
    int n, nz;
    double step;
  };
  const Case cases[] = {{150, 60, 2}, {212, 60, 2}, {300, 60, 2}, {424, 60, 2}, {600, 60, 2}, {848, 60, 2},
                        {600, 60, 4}, {600, 60, 1}, {600, 60, 0.5}};
  for (const Case& c : cases) {
    const Volume<float> v = random_volume(c.n, c.n, c.nz, 13.2);
    const ImagingParams p = imaging(c.step);
    double t0 = cpu_now();
    const TiltSeries s = simulate_series(v, p, c.nz * 13.2, 1, 0);
    const double ts = cpu_now() - t0;
    t0 = cpu_now();
    (void)reconstruct_tomogram(s, v.grid(), ReconParams{});
    const double tt = cpu_now() - t0;
    t0 = cpu_now();
    (void)bandlimited_prior(v, 4.5, ReconParams{});
    const double tp = cpu_now() - t0;
    const double vv = double(v.size()) * double(s.tilts.size());
    char name[32];
    std::snprintf(name, sizeof name, "%d x %d x %d", c.n, c.n, c.nz);
    std::printf("%-18s %6zu %10.3f %10.3f %10.3f %10.3f %14.2f\n", name, s.tilts.size(), ts, tt, tp, ts + tt + tp,
                1e9 * (ts + tt) / vv);
  }
}

} // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  const int nx = argc > 4 ? std::atoi(argv[2]) : 600, ny = argc > 4 ? std::atoi(argv[3]) : 600,
            nz = argc > 4 ? std::atoi(argv[4]) : 60;
  Machine m = measure_bandwidth();
  m.flops = measure_flops();
  std::printf("machine (one core): copy %.2f GB/s, triad %.2f GB/s, 8-wide multiply-add peak %.2f Gflop/s\n",
              m.copy_Bps / 1e9, m.triad_Bps / 1e9, m.flops / 1e9);
  if (what == "stages" || what == "all") stages(nx, ny, nz, m);
  if (what == "samplers" || what == "all") samplers();
  if (what == "scaling" || what == "all") scaling(m);
  return 0;
}
