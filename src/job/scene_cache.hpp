// The scenes a rank has built, so that the imaging conditions of one replicate share one packing.
// The caller names each scene by a key that holds everything the scene depends on (the sweep makes it
// from the replicate and the swept model settings); the cache builds a scene the first time its key is
// asked for and keeps at most kMaxScenes, dropping them all when full.
#pragma once

#include "job/job_config.hpp"
#include "model/scene.hpp"

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace tomosweep {

class SceneCache {
public:
  /// The scene of `key`, built by build_scene(config.model, structures, config.run.seed, replicate) if it
  /// is not cached. Thread-safe.
  const Scene& scene(const std::string& key, const JobConfig& config, const StructureSet& structures, int replicate);

  static constexpr std::size_t kMaxScenes = 16;

private:
  std::map<std::string, Scene> scenes_;
  std::mutex mutex_;
};

} // namespace tomosweep
