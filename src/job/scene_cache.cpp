#include "job/scene_cache.hpp"

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

} // namespace tomosweep
