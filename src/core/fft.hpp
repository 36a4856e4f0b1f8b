// Thin FFTW wrapper (single precision, FFTW_ESTIMATE plans: results never depend on timing).
// Frequency layout is FFTW's r2c half-plane: for an image of nx x ny, the spectrum has (nx/2+1) x ny
// complex values; column kx in [0, nx/2], row ky in [0, ny) with ky > ny/2 meaning ky - ny.
// Forward transforms are unnormalised; inverse transforms divide by the number of pixels, so
// inverse(forward(x)) == x.
#pragma once

#include "core/volume.hpp"

#include <complex>
#include <cstddef>
#include <functional>
#include <vector>

namespace tomosweep {

using Complex = std::complex<float>;

struct Spectrum2 {
  int nx = 0, ny = 0;        ///< real-space size
  std::vector<Complex> data; ///< (nx/2+1) * ny values, kx fastest
  int nkx() const { return nx / 2 + 1; }
  Complex& operator()(int kx, int ky) { return data[static_cast<std::size_t>(ky) * nkx() + kx]; }
};

Spectrum2 fft_forward(const Image& img);
/// Inverse transform into an image with the given pixel size.
Image fft_inverse(const Spectrum2& s, double pixel_A);

/// Signed frequency index of FFT bin i of an n-point transform: i for i <= n/2, else i - n.
inline int fft_freq(int i, int n) { return i <= n / 2 ? i : i - n; }

/// Apply a real radial-in-2D filter f(kx_cycles_per_A, ky_cycles_per_A) to an image.
template <class F> Image filter_image(const Image& img, F&& f) {
  Spectrum2 s = fft_forward(img);
  const double dkx = 1.0 / (img.nx * img.pixel_A), dky = 1.0 / (img.ny * img.pixel_A);
  for (int ky = 0; ky < s.ny; ++ky)
    for (int kx = 0; kx < s.nkx(); ++kx) s(kx, ky) *= static_cast<float>(f(kx * dkx, fft_freq(ky, img.ny) * dky));
  return fft_inverse(s, img.pixel_A);
}

/// In-place real 3D filtering of a volume by a function of the frequency's magnitude:
/// v <- F^-1[g(|k|) . F[v]], |k| = sqrt(kx^2 + ky^2 + kz^2) in cycles/voxel (0 to sqrt(3)/2). One FFTW r2c
/// and one c2r transform, in place in a buffer of 2 (nx/2 + 1) ny nz floats (the volume's size plus its row
/// padding), planned with FFTW_ESTIMATE.
void filter_volume(Volume<float>& v, const std::function<double(double k)>& g);

/// Multiply planes [z0, z0 + planes) of the half spectrum of an nx x ny x nz volume (`c` holds those planes,
/// (nx/2+1) x ny values each, kx fastest) by g(|k|) / (nx ny nz), |k| the 3D frequency in cycles per voxel: the
/// weighting of filter_volume, for the planes one rank of a group holds (sweep/group_fft.hpp).
void weight_spectrum_planes(Complex* c, int nx, int ny, int nz, std::ptrdiff_t z0, std::ptrdiff_t planes,
                            const std::function<double(double k)>& g);

/// `v`'s storage made an in-place transform buffer of `floats` floats (zeros) from its first 64-byte boundary, as an
/// FFTW-allocated one would start (so that FFTW chooses the same codelets); returns the buffer.
float* aligned_transform_buffer(Volume<float>& v, std::size_t floats);
/// The `rows` rows of `buf` (inside v's storage, px floats apart) moved down to nx floats each: v's storage then
/// holds rows x nx values, unpadded.
void unpad_rows(Volume<float>& v, const float* buf, int nx, int px, std::size_t rows);

/// filter_volume of the volume on grid `g` whose rows fill(y, z, row) writes (nx floats each; called for z, then
/// y, in increasing order), made in the returned volume's own storage: one buffer of the padded size instead of
/// a volume and a buffer. The values are those of filter_volume.
Volume<float> filtered_volume(const Grid& g, const std::function<void(int y, int z, float* row)>& fill,
                              const std::function<double(double k)>& filter);

/// The real volume on grid `g` whose half spectrum (FFTW's r2c layout: kx = 0..nx/2 of row ky of plane kz)
/// spectrum(ky, kz, row) writes, each term times filter(|k|) (cycles per voxel) / (nx ny nz), inverted (c2r),
/// made in the returned volume's own storage. The spectrum is that of a real volume where it is Hermitian in the
/// planes kx = 0 and (nx even) nx / 2; spectrum is called for kz, then ky, in increasing order.
Volume<float> spectral_volume(const Grid& g, const std::function<void(int ky, int kz, Complex* row)>& spectrum,
                              const std::function<double(double k)>& filter);

/// In-place real 1D filtering of many rows of length n (used by weighted back projection):
/// each row is transformed, multiplied by weights[k] for k in [0, n/2], and transformed back.
void filter_rows(float* rows, int n, int count, const std::vector<float>& weights);

/// filter_rows with its plans and buffers made once, for callers that filter rows a few at a time (each row
/// gives the same values as through filter_rows).
class RowFilter {
public:
  RowFilter(int n, std::vector<float> weights);
  ~RowFilter();
  RowFilter(const RowFilter&) = delete;
  RowFilter& operator=(const RowFilter&) = delete;
  int n() const { return n_; }
  void apply(float* rows, int count);

private:
  int n_;
  std::vector<float> weights_;
  float* buf_;
  void* spec_;
  void* fwd_;
  void* inv_;
};

} // namespace tomosweep
