#include "reconstruct/sirt.hpp"

#include "core/projector.hpp"

namespace tomosweep {

Volume<float> sirt(const Volume<float>& b, const std::vector<TiltView>& views, const Grid& grid, const ReconParams& p) {
  if (p.sirt_iterations < 0) fail("sirt iterations ", p.sirt_iterations, " must not be negative");
  if (!(p.sirt_relaxation > 0 && p.sirt_relaxation < 2))
    fail("sirt relaxation ", p.sirt_relaxation, " must be in (0, 2)");
  const int nu = b.nx, nv = b.ny;
  // Row sums R = P 1, column sums C = P^T 1.
  Volume<float> row = project(Volume<float>(grid, 1.0f), views, nu, nv);
  Volume<float> col = back_project(Volume<float>(nu, nv, b.nz, grid.voxel_A, 1.0f), views, grid);
  for (float& v : row.data) v = v > 0 ? 1.0f / v : 0.0f;
  for (float& v : col.data) v = v > 0 ? static_cast<float>(p.sirt_relaxation) / v : 0.0f;
  Volume<float> x(grid);
  for (int it = 0; it < p.sirt_iterations; ++it) {
    Volume<float> r = project(x, views, nu, nv);
    for (std::size_t i = 0; i < r.data.size(); ++i) r.data[i] = (b.data[i] - r.data[i]) * row.data[i];
    const Volume<float> g = back_project(r, views, grid);
    for (std::size_t i = 0; i < x.data.size(); ++i) x.data[i] += col.data[i] * g.data[i];
  }
  return x;
}

} // namespace tomosweep
