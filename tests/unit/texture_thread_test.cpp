// tomosweep simulate makes granular ice's texture on a second thread while the particles are splatted
// (rasterize's texture_thread): the same volumes as one thread. Also in the ThreadSanitizer pass (tools/test.sh).
#include "model/ice.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"

#include <gtest/gtest.h>

using namespace tomosweep;

namespace {

Scene textured_scene() {
  Scene sc;
  sc.box_A = {400, 360, 200};
  sc.carbon.present = true; // something to rasterize beside the ice: a film with a hole
  sc.carbon.thickness_A = 40;
  sc.carbon.z_A = -60;
  sc.carbon.hole_radius_A = 100;
  sc.ice_texture = IceTexture::granular;
  sc.seed = 11, sc.replicate = 2;
  return sc;
}

} // namespace

TEST(texture_thread, gives_the_volumes_of_one_thread) {
  const Scene sc = textured_scene();
  for (const PotentialMode mode : {PotentialMode::fast, PotentialMode::form_factor}) {
    const SpecimenVolumes one = rasterize(sc, {}, 4, mode);
    const SpecimenVolumes two = rasterize(sc, {}, 4, mode, true);
    ASSERT_EQ(one.potential.nx, 100);
    EXPECT_EQ(one.potential.data, two.potential.data);
    EXPECT_EQ(one.atlas.data, two.atlas.data);
    EXPECT_EQ(one.instances.data, two.instances.data);
    // The texture is in both: without it the potential differs.
    Scene plain = sc;
    plain.ice_texture = IceTexture::none;
    EXPECT_NE(rasterize(plain, {}, 4, mode, true).potential.data, two.potential.data);
  }
}

TEST(texture_thread, a_slab_still_needs_the_textures_slab) {
  const Scene sc = textured_scene();
  try {
    rasterize_slab(sc, {}, 4, PotentialMode::fast, 0, 10, nullptr, true);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "model.ice_texture = \"granular\" on a slab of the volume needs the texture's slab");
  }
}
