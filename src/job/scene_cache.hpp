// The scenes a rank has built, so that the imaging conditions of one replicate share one packing.
// The caller names each scene by a key that holds everything the scene depends on (the sweep makes it
// from the replicate and the swept model settings); the cache builds a scene the first time its key is
// asked for and keeps at most kMaxScenes, dropping them all when full.
#pragma once

#include "job/job_config.hpp"
#include "model/rasterize.hpp"
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

/// The specimen volumes a rank rasterized last, so that the imaging conditions of one scene (defocus, dose, tilts,
/// ...) share one rasterization: each job gets a copy (9 bytes per voxel, a fraction of a second less than
/// rasterizing again). The key names everything the volumes depend on besides the structures: the scene's key, the
/// pixel size and the potential mode (raster_key). One entry: a sweep hands a rank the jobs of one scene in a row
/// (JobPicker). Thread-safe.
class RasterCache {
public:
  /// rasterize(scene, structures, pixel_size_A, mode, texture_thread), from the cache when `key` is the last one
  /// asked for. The volumes stay cached only if they take at most `room` bytes (what the rank's memory budget leaves
  /// beside the job asking: a second copy of them lives as long as the job).
  SpecimenVolumes specimen(const std::string& key, const Scene& scene, const StructureSet& structures,
                           double pixel_size_A, PotentialMode mode, double room, bool texture_thread = false);
  /// Times a job's volumes came from the cache (for tests and benchmarks).
  std::size_t hits() const { return hits_; }

private:
  std::string key_; ///< of kept_; empty: nothing kept
  SpecimenVolumes kept_;
  std::size_t hits_ = 0;
  std::mutex mutex_;
};

/// RasterCache's key of a scene's volumes: the scene's key, the pixel size (its shortest round-trip text) and the
/// potential mode.
std::string raster_key(const std::string& scene_key, double pixel_size_A, PotentialMode mode);

} // namespace tomosweep
