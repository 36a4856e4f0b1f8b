#include "job/specimen_terms.hpp"

#include "model/features.hpp"
#include "model/rasterize.hpp"

namespace tomosweep {

void job_specimen_terms(const Scene& scene, const JobConfig& config, double ice_V, JobSpecimenTerms& out) {
  const ImagingParams& im = config.imaging;
  if (scene.ice_surface) out.terms.ice_slab = &scene.ice_slab;
  if (im.gold_absorption_mfp_A > 0 && !scene.beads.empty()) {
    out.gold = gold_fraction(scene, config.model.pixel_size_A);
    out.terms.gold = &out.gold;
    out.terms.gold_excess_V = gold_potential_V(config.model.potential) - ice_V;
  }
  if (im.carbon_absorption_mfp_A > 0 && scene.carbon.present) {
    const CarbonFilm& c = scene.carbon;
    out.terms.carbon = {{c.z_A, c.thickness_A, 0, c.hole_x_A, c.hole_y_A, c.hole_radius_A}};
  }
}

} // namespace tomosweep
