#include "job/specimen_terms.hpp"

#include "model/features.hpp"
#include "model/rasterize.hpp"

namespace tomosweep {

void job_specimen_terms(const Scene& scene, const JobConfig& config, double ice_V, JobSpecimenTerms& out, int bin) {
  const ImagingParams& im = config.imaging;
  if (scene.ice_surface) out.terms.ice_slab = &scene.ice_slab;
  if (im.gold_absorption_mfp_A > 0 && !scene.beads.empty()) {
    const double pA = config.model.pixel_size_A;
    if (bin > 1) { // the fine grid: bin times the coarse grid of the same box (job.cpp's fine_potential)
      Scene fine = scene;
      const auto n = grid_shape(scene.box_A, pA);
      fine.box_A = {n[0] * pA, n[1] * pA, n[2] * pA};
      out.gold = gold_fraction(fine, pA / bin);
    } else {
      out.gold = gold_fraction(scene, pA);
    }
    out.terms.gold = &out.gold;
    out.terms.gold_excess_V = gold_potential_V(config.model.potential) - ice_V;
  }
  if (im.carbon_absorption_mfp_A > 0 && scene.carbon.present) {
    const CarbonFilm& c = scene.carbon;
    out.terms.carbon = {{c.z_A, c.thickness_A, 0, c.hole_x_A, c.hole_y_A, c.hole_radius_A}};
  }
}

} // namespace tomosweep
