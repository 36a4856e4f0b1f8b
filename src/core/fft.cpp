#include "core/fft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace tomosweep {
namespace {
// FFTW's planner is not thread-safe; executing plans is.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// Plans are made on SIMD-aligned buffers (FFTW-allocated, or 64-byte aligned in filtered_volume) so that the chosen
// codelets, and hence the rounding, never depend on where std::vector happened to put the data.

// 2D plans with their buffers, kept per thread for the image sizes last used: a tilt series transforms images of
// one size thousands of times. The same FFTW_ESTIMATE plan on the same kind of buffer: the same values as a
// plan made afresh.
struct Plan2 {
  int nx = 0, ny = 0;
  bool inverse = false;
  fftwf_plan plan = nullptr;
  float* real = nullptr;
  fftwf_complex* spec = nullptr;
};

class PlanCache {
public:
  ~PlanCache() {
    for (Plan2& p : plans_) release(p);
  }
  Plan2& get(int nx, int ny, bool inverse) {
    for (Plan2& p : plans_)
      if (p.nx == nx && p.ny == ny && p.inverse == inverse) return p;
    if (plans_.size() == kMax) {
      release(plans_.front());
      plans_.erase(plans_.begin());
    }
    Plan2 p{nx, ny, inverse};
    const std::size_t n = static_cast<std::size_t>(nx) * ny, nk = static_cast<std::size_t>(nx / 2 + 1) * ny;
    p.real = fftwf_alloc_real(n);
    p.spec = fftwf_alloc_complex(nk);
    {
      std::lock_guard lock(planner_mutex());
      p.plan = inverse ? fftwf_plan_dft_c2r_2d(ny, nx, p.spec, p.real, FFTW_ESTIMATE)
                       : fftwf_plan_dft_r2c_2d(ny, nx, p.real, p.spec, FFTW_ESTIMATE);
    }
    plans_.push_back(p);
    return plans_.back();
  }

private:
  static constexpr std::size_t kMax = 6;
  static void release(Plan2& p) {
    {
      std::lock_guard lock(planner_mutex());
      fftwf_destroy_plan(p.plan);
    }
    fftwf_free(p.real);
    fftwf_free(p.spec);
  }
  std::vector<Plan2> plans_;
};

Plan2& plan2(int nx, int ny, bool inverse) {
  thread_local PlanCache cache;
  return cache.get(nx, ny, inverse);
}

} // namespace

Spectrum2 fft_forward(const Image& img) {
  Spectrum2 s;
  s.nx = img.nx;
  s.ny = img.ny;
  const std::size_t nk = static_cast<std::size_t>(s.nkx()) * s.ny;
  if (img.data.empty()) { // FFTW plans nothing for an empty image
    s.data.resize(nk);
    return s;
  }
  Plan2& p = plan2(img.nx, img.ny, false);
  std::copy(img.data.begin(), img.data.end(), p.real);
  fftwf_execute(p.plan);
  const Complex* out = reinterpret_cast<const Complex*>(p.spec);
  s.data.assign(out, out + nk);
  return s;
}

Image fft_inverse(const Spectrum2& s, double pixel_A) {
  Image img(s.nx, s.ny, pixel_A);
  if (img.data.empty()) return img;
  Plan2& p = plan2(s.nx, s.ny, true);
  std::copy(s.data.begin(), s.data.end(), reinterpret_cast<Complex*>(p.spec));
  fftwf_execute(p.plan);
  const float norm = 1.0f / static_cast<float>(img.data.size());
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = p.real[i] * norm;
  return img;
}

void weight_spectrum_planes(Complex* c, int nx, int ny, int nz, std::ptrdiff_t z0, std::ptrdiff_t planes,
                            const std::function<double(double k)>& g) {
  // The weight depends on |k| alone: rows +-fy of planes +-fz share their weights, computed once (the same
  // values: (-f)^2 = f^2 exactly) for each row y <= ny / 2 of each plane pair held here.
  const int nkx = nx / 2 + 1;
  const double norm = 1.0 / (static_cast<double>(nx) * ny * nz);
  std::vector<float> w(nkx);
  const auto row_of = [&](std::ptrdiff_t z, int y) { return c + (static_cast<std::size_t>(z - z0) * ny + y) * nkx; };
  const auto apply = [&](Complex* r) {
    for (int x = 0; x < nkx; ++x) r[x] *= w[x];
  };
  for (std::ptrdiff_t z = z0; z < z0 + planes; ++z) {
    const std::ptrdiff_t mirror = (nz - z) % nz;
    if (mirror < z && mirror >= z0) continue; // done with its mirror plane
    const bool both = mirror != z && mirror >= z0 && mirror < z0 + planes;
    const double fz = static_cast<double>(fft_freq(static_cast<int>(z), nz)) / nz;
    for (int y = 0; y <= ny / 2; ++y) {
      const double fy = static_cast<double>(fft_freq(y, ny)) / ny;
      for (int x = 0; x < nkx; ++x) {
        const double fx = static_cast<double>(x) / nx;
        w[x] = static_cast<float>(g(std::sqrt(fx * fx + fy * fy + fz * fz)) * norm);
      }
      const int ym = (ny - y) % ny;
      apply(row_of(z, y));
      if (ym != y) apply(row_of(z, ym));
      if (both) {
        apply(row_of(mirror, y));
        if (ym != y) apply(row_of(mirror, ym));
      }
    }
  }
}

float* aligned_transform_buffer(Volume<float>& v, std::size_t floats) {
  constexpr std::size_t kAlign = 64 / sizeof(float);
  assign_prefaulted(v.data, floats + kAlign, 0.0f);
  const std::size_t off =
      (kAlign - reinterpret_cast<std::uintptr_t>(v.data.data()) / sizeof(float) % kAlign) % kAlign;
  return v.data.data() + off;
}

void unpad_rows(Volume<float>& v, const float* buf, int nx, int px, std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r)
    std::memmove(v.data.data() + r * nx, buf + r * px, nx * sizeof(float)); // down: never over a row to come
  v.data.resize(static_cast<std::size_t>(nx) * rows);
}

namespace {

void filter_padded(float* buf, int nx, int ny, int nz, const std::function<double(double k)>& g) {
  fftwf_complex* spec = reinterpret_cast<fftwf_complex*>(buf);
  fftwf_plan fwd, inv;
  {
    std::lock_guard lock(planner_mutex());
    fwd = fftwf_plan_dft_r2c_3d(nz, ny, nx, buf, spec, FFTW_ESTIMATE);
    inv = fftwf_plan_dft_c2r_3d(nz, ny, nx, spec, buf, FFTW_ESTIMATE);
  }
  fftwf_execute(fwd);
  weight_spectrum_planes(reinterpret_cast<Complex*>(buf), nx, ny, nz, 0, nz, g);
  fftwf_execute(inv);
  std::lock_guard lock(planner_mutex());
  fftwf_destroy_plan(fwd);
  fftwf_destroy_plan(inv);
}

} // namespace

Volume<float> filtered_volume(const Grid& g, const std::function<void(int y, int z, float* row)>& fill,
                              const std::function<double(double k)>& filter) {
  Volume<float> v;
  v.nx = g.nx, v.ny = g.ny, v.nz = g.nz, v.voxel_A = g.voxel_A;
  if (g.nx <= 0 || g.ny <= 0 || g.nz <= 0) {
    v = Volume<float>(g);
    return v;
  }
  const int nx = g.nx, ny = g.ny, nz = g.nz, px = 2 * (nx / 2 + 1);
  // The buffer starts at the first 64-byte boundary of the storage, as an FFTW-allocated one would (so that
  // FFTW chooses the same codelets); the filtered rows are then moved down to their unpadded places.
  float* buf = aligned_transform_buffer(v, static_cast<std::size_t>(px) * ny * nz);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y) fill(y, z, buf + (static_cast<std::size_t>(z) * ny + y) * px);
  filter_padded(buf, nx, ny, nz, filter);
  unpad_rows(v, buf, nx, px, static_cast<std::size_t>(ny) * nz);
  return v;
}

Volume<float> spectral_volume(const Grid& g, const std::function<void(int ky, int kz, Complex* row)>& spectrum,
                              const std::function<double(double k)>& filter) {
  Volume<float> v;
  v.nx = g.nx, v.ny = g.ny, v.nz = g.nz, v.voxel_A = g.voxel_A;
  if (g.nx <= 0 || g.ny <= 0 || g.nz <= 0) {
    v = Volume<float>(g);
    return v;
  }
  const int nx = g.nx, ny = g.ny, nz = g.nz, nkx = nx / 2 + 1, px = 2 * nkx;
  float* buf = aligned_transform_buffer(v, static_cast<std::size_t>(px) * ny * nz);
  Complex* spec = reinterpret_cast<Complex*>(buf);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y) spectrum(y, z, spec + (static_cast<std::size_t>(z) * ny + y) * nkx);
  weight_spectrum_planes(spec, nx, ny, nz, 0, nz, filter);
  fftwf_plan inv;
  {
    std::lock_guard lock(planner_mutex());
    inv = fftwf_plan_dft_c2r_3d(nz, ny, nx, reinterpret_cast<fftwf_complex*>(buf), buf, FFTW_ESTIMATE);
  }
  fftwf_execute(inv);
  {
    std::lock_guard lock(planner_mutex());
    fftwf_destroy_plan(inv);
  }
  unpad_rows(v, buf, nx, px, static_cast<std::size_t>(ny) * nz);
  return v;
}

void filter_volume(Volume<float>& v, const std::function<double(double k)>& g) {
  if (v.data.empty()) return;
  const auto copy = [&v](int y, int z, float* row) { std::copy_n(v.data.data() + v.index(0, y, z), v.nx, row); };
  v = filtered_volume(v.grid(), copy, g);
}

void filter_rows(float* rows, int n, int count, const std::vector<float>& weights) {
  if (count <= 0 || n <= 0) return;
  RowFilter(n, weights).apply(rows, count);
}

RowFilter::RowFilter(int n, std::vector<float> weights)
    : n_(n), weights_(std::move(weights)), buf_(fftwf_alloc_real(std::max(n, 1))),
      spec_(fftwf_alloc_complex(std::max(n, 1) / 2 + 1)) {
  std::lock_guard lock(planner_mutex());
  auto* spec = static_cast<fftwf_complex*>(spec_);
  fwd_ = fftwf_plan_dft_r2c_1d(n, buf_, spec, FFTW_ESTIMATE);
  inv_ = fftwf_plan_dft_c2r_1d(n, spec, buf_, FFTW_ESTIMATE);
}

RowFilter::~RowFilter() {
  {
    std::lock_guard lock(planner_mutex());
    fftwf_destroy_plan(static_cast<fftwf_plan>(fwd_));
    fftwf_destroy_plan(static_cast<fftwf_plan>(inv_));
  }
  fftwf_free(buf_);
  fftwf_free(spec_);
}

void RowFilter::apply(float* rows, int count) {
  const int n = n_, nk = n / 2 + 1;
  const float norm = 1.0f / static_cast<float>(n);
  Complex* spec = static_cast<Complex*>(spec_);
  for (int r = 0; r < count; ++r) {
    float* row = rows + static_cast<std::size_t>(r) * n;
    std::copy(row, row + n, buf_);
    fftwf_execute(static_cast<fftwf_plan>(fwd_));
    for (int k = 0; k < nk; ++k) spec[k] *= weights_[k] * norm;
    fftwf_execute(static_cast<fftwf_plan>(inv_));
    std::copy(buf_, buf_ + n, row);
  }
}

} // namespace tomosweep
