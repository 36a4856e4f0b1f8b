#include "core/fft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace tomosweep {
namespace {
// FFTW's planner is not thread-safe; executing plans is.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// Plans are made on FFTW-allocated (SIMD-aligned) buffers so that the chosen codelets, and hence the
// rounding, never depend on where std::vector happened to put the data.
struct RealBuf {
  float* p;
  explicit RealBuf(std::size_t n) : p(fftwf_alloc_real(n)) {}
  ~RealBuf() { fftwf_free(p); }
  RealBuf(const RealBuf&) = delete;
  RealBuf& operator=(const RealBuf&) = delete;
};
struct ComplexBuf {
  fftwf_complex* p;
  explicit ComplexBuf(std::size_t n) : p(fftwf_alloc_complex(n)) {}
  ~ComplexBuf() { fftwf_free(p); }
  ComplexBuf(const ComplexBuf&) = delete;
  ComplexBuf& operator=(const ComplexBuf&) = delete;
  Complex* c() { return reinterpret_cast<Complex*>(p); }
};

template <class MakePlan> void run_plan(MakePlan&& make) {
  fftwf_plan plan;
  {
    std::lock_guard lock(planner_mutex());
    plan = make();
  }
  fftwf_execute(plan);
  std::lock_guard lock(planner_mutex());
  fftwf_destroy_plan(plan);
}
} // namespace

Spectrum2 fft_forward(const Image& img) {
  Spectrum2 s;
  s.nx = img.nx;
  s.ny = img.ny;
  const std::size_t n = img.data.size(), nk = static_cast<std::size_t>(s.nkx()) * s.ny;
  RealBuf in(n);
  ComplexBuf out(nk);
  std::copy(img.data.begin(), img.data.end(), in.p);
  run_plan([&] { return fftwf_plan_dft_r2c_2d(img.ny, img.nx, in.p, out.p, FFTW_ESTIMATE); });
  s.data.assign(out.c(), out.c() + nk);
  return s;
}

Image fft_inverse(const Spectrum2& s, double pixel_A) {
  Image img(s.nx, s.ny, pixel_A);
  ComplexBuf in(s.data.size());
  RealBuf out(img.data.size());
  std::copy(s.data.begin(), s.data.end(), in.c());
  run_plan([&] { return fftwf_plan_dft_c2r_2d(s.ny, s.nx, in.p, out.p, FFTW_ESTIMATE); });
  const float norm = 1.0f / static_cast<float>(img.data.size());
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = out.p[i] * norm;
  return img;
}

void filter_volume(Volume<float>& v, const std::function<double(double k)>& g) {
  const int nx = v.nx, ny = v.ny, nz = v.nz, nkx = nx / 2 + 1, px = 2 * nkx;
  if (v.data.empty()) return;
  RealBuf buf(static_cast<std::size_t>(px) * ny * nz);
  auto row = [&](int y, int z) { return buf.p + (static_cast<std::size_t>(z) * ny + y) * px; };
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y) std::copy_n(v.data.data() + v.index(0, y, z), nx, row(y, z));
  fftwf_complex* spec = reinterpret_cast<fftwf_complex*>(buf.p);
  fftwf_plan fwd, inv;
  {
    std::lock_guard lock(planner_mutex());
    fwd = fftwf_plan_dft_r2c_3d(nz, ny, nx, buf.p, spec, FFTW_ESTIMATE);
    inv = fftwf_plan_dft_c2r_3d(nz, ny, nx, spec, buf.p, FFTW_ESTIMATE);
  }
  fftwf_execute(fwd);
  const double norm = 1.0 / (static_cast<double>(nx) * ny * nz);
  Complex* c = reinterpret_cast<Complex*>(buf.p);
  for (int z = 0; z < nz; ++z) {
    const double fz = static_cast<double>(fft_freq(z, nz)) / nz;
    for (int y = 0; y < ny; ++y) {
      const double fy = static_cast<double>(fft_freq(y, ny)) / ny;
      Complex* r = c + (static_cast<std::size_t>(z) * ny + y) * nkx;
      for (int x = 0; x < nkx; ++x) {
        const double fx = static_cast<double>(x) / nx;
        r[x] *= static_cast<float>(g(std::sqrt(fx * fx + fy * fy + fz * fz)) * norm);
      }
    }
  }
  fftwf_execute(inv);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y) std::copy_n(row(y, z), nx, v.data.data() + v.index(0, y, z));
  std::lock_guard lock(planner_mutex());
  fftwf_destroy_plan(fwd);
  fftwf_destroy_plan(inv);
}

void filter_rows(float* rows, int n, int count, const std::vector<float>& weights) {
  if (count <= 0 || n <= 0) return;
  const int nk = n / 2 + 1;
  RealBuf buf(n);
  ComplexBuf spec(nk);
  fftwf_plan fwd, inv;
  {
    std::lock_guard lock(planner_mutex());
    fwd = fftwf_plan_dft_r2c_1d(n, buf.p, spec.p, FFTW_ESTIMATE);
    inv = fftwf_plan_dft_c2r_1d(n, spec.p, buf.p, FFTW_ESTIMATE);
  }
  const float norm = 1.0f / static_cast<float>(n);
  for (int r = 0; r < count; ++r) {
    float* row = rows + static_cast<std::size_t>(r) * n;
    std::copy(row, row + n, buf.p);
    fftwf_execute(fwd);
    for (int k = 0; k < nk; ++k) spec.c()[k] *= weights[k] * norm;
    fftwf_execute(inv);
    std::copy(buf.p, buf.p + n, row);
  }
  {
    std::lock_guard lock(planner_mutex());
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
  }
}

} // namespace tomosweep
