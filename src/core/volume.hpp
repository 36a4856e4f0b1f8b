// Volumes and images: dense arrays in C order [z][y][x] with a voxel size in Angstrom.
#pragma once

#include "core/errors.hpp"
#include "core/system.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tomosweep {

/// The shape of a volume (voxels along x, y, z) and its cubic voxel size (Angstrom), e.g. the grid a tomogram
/// is reconstructed on.
struct Grid {
  int nx = 0, ny = 0, nz = 0;
  double voxel_A = 1.0;
};

/// v = n copies of `fill`, its pages mapped in at once before they are written (prefault_for_write).
template <class T> void assign_prefaulted(std::vector<T>& v, std::size_t n, T fill) {
  v.clear();
  v.reserve(n);
  prefault_for_write(v.data(), n * sizeof(T));
  v.assign(n, fill);
}

/// A 3D array, x fastest, with cubic voxels of voxel_A Angstrom. Specimen coordinates of voxel centres
/// follow voxel_centre_A() in conventions.hpp (the box centre is the origin).
template <class T> struct Volume {
  int nx = 0, ny = 0, nz = 0;
  double voxel_A = 1.0;
  std::vector<T> data;

  Volume() = default;
  Volume(int nx_, int ny_, int nz_, double voxel_A_, T fill = T{}) : nx(nx_), ny(ny_), nz(nz_), voxel_A(voxel_A_) {
    if (nx < 0 || ny < 0 || nz < 0) fail("negative volume size ", nx, " x ", ny, " x ", nz);
    assign_prefaulted(data, static_cast<std::size_t>(nx) * ny * nz, fill);
  }
  explicit Volume(const Grid& g, T fill = T{}) : Volume(g.nx, g.ny, g.nz, g.voxel_A, fill) {}
  Grid grid() const { return {nx, ny, nz, voxel_A}; }
  std::size_t size() const { return data.size(); }
  std::size_t index(int x, int y, int z) const {
    return (static_cast<std::size_t>(z) * ny + y) * static_cast<std::size_t>(nx) + x;
  }
  T& operator()(int x, int y, int z) { return data[index(x, y, z)]; }
  const T& operator()(int x, int y, int z) const { return data[index(x, y, z)]; }
  T* slice(int z) { return data.data() + static_cast<std::size_t>(z) * ny * nx; }
  const T* slice(int z) const { return data.data() + static_cast<std::size_t>(z) * ny * nx; }
  template <class U> bool same_shape(const Volume<U>& o) const { return nx == o.nx && ny == o.ny && nz == o.nz; }
};

/// A 2D image is a volume with nz = 1; a tilt series is a stack with nz = number of tilts.
template <class T> using Stack = Volume<T>;

struct Image {
  int nx = 0, ny = 0;
  double pixel_A = 1.0;
  std::vector<float> data;

  Image() = default;
  Image(int nx_, int ny_, double pixel_A_, float fill = 0.0f) : nx(nx_), ny(ny_), pixel_A(pixel_A_) {
    if (nx < 0 || ny < 0) fail("negative image size ", nx, " x ", ny);
    data.assign(static_cast<std::size_t>(nx) * ny, fill);
  }
  float& operator()(int x, int y) { return data[static_cast<std::size_t>(y) * nx + x]; }
  float operator()(int x, int y) const { return data[static_cast<std::size_t>(y) * nx + x]; }
};

/// Copy image i of a stack out, and put one back.
Image stack_image(const Volume<float>& stack, int i);
void set_stack_image(Volume<float>& stack, int i, const Image& img);

} // namespace tomosweep
