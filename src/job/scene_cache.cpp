#include "job/scene_cache.hpp"

#include <charconv>
#include <utility>

namespace tomosweep {

const Scene& SceneCache::scene(const std::string& key, const JobConfig& config, const StructureSet& structures,
                               int replicate) {
  std::lock_guard lock(mutex_);
  auto it = scenes_.find(key);
  if (it == scenes_.end()) {
    if (scenes_.size() >= kMaxScenes) scenes_.clear();
    it = scenes_.emplace(key, build_scene(config.model, structures, config.run.seed, replicate)).first;
  }
  return it->second;
}

namespace {
double bytes_of(const SpecimenVolumes& v) {
  return static_cast<double>(v.potential.size()) * sizeof(float) + static_cast<double>(v.atlas.size()) +
         static_cast<double>(v.instances.size()) * sizeof(std::uint32_t);
}
} // namespace

SpecimenVolumes RasterCache::specimen(const std::string& key, const Scene& scene, const StructureSet& structures,
                                      double pixel_size_A, PotentialMode mode, double room, bool texture_thread) {
  std::lock_guard lock(mutex_);
  if (!key_.empty() && key == key_) {
    ++hits_;
    if (bytes_of(kept_) <= room) return kept_;
    key_.clear(); // no room for two copies beside this job: it takes the cached ones
    return std::exchange(kept_, SpecimenVolumes{});
  }
  key_.clear();
  kept_ = SpecimenVolumes{}; // freed before the next scene's volumes are made
  SpecimenVolumes v = rasterize(scene, structures, pixel_size_A, mode, texture_thread);
  if (bytes_of(v) <= room) {
    kept_ = v;
    key_ = key;
  }
  return v;
}

std::string raster_key(const std::string& scene_key, double pixel_size_A, PotentialMode mode) {
  char px[32];
  const auto end = std::to_chars(px, px + sizeof px, pixel_size_A).ptr;
  return scene_key + "|px " + std::string(px, end) + "|mode " + std::to_string(static_cast<int>(mode));
}

} // namespace tomosweep
