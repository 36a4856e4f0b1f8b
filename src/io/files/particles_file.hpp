// Particle tables for pickers and subtomogram averaging: RELION STAR and copick-style JSON.
//
// Positions: a particle at specimen coordinates p (Angstrom, box centre = origin, conventions.hpp) sits at
// continuous voxel index i = p / pixel + (n - 1) / 2 of the tomogram, so voxel 0's centre is 0.
//   STAR:  _rlnCoordinateX/Y/Z = i (pixels), and RELION 5's _rlnCenteredCoordinateX/Y/ZAngst = p (Angstrom
//          from the tomogram centre, which is tomosweep's specimen origin).
//   JSON:  location = i * pixel_size_A (Angstrom from voxel 0's centre, copick's convention).
// Orientation: PlacedParticle::rotation R maps the structure (reference) frame into the tomogram.
//   STAR:  _rlnAngleRot/Tilt/Psi are RELION's ZYZ angles whose matrix (RELION's Euler_angles2matrix) equals
//          R, i.e. euler_zyz_deg(R^T): RELION's matrices rotate the particle onto the reference, so the
//          angles describe the inverse of R in the active convention of core/geometry.
//   JSON:  transformation_ = [[R, 0], [0 0 0 1]] (row-major 4x4, rotation only; location holds position).
// Group: PlacedParticle::group (the filament, bundle, cluster or assembly; = instance if alone) and its
// direction (the filaments' start axis, unit, specimen frame; 0 0 0 when the group has no filament).
//   STAR:  _rlnHelicalTubeID = group, _tomosweepGroupDirectionX/Y/Z = direction (RELION keeps unknown labels).
//   JSON:  "group" and "direction": [x, y, z] on each point (not in the copick pick files).
#pragma once

#include "core/volume.hpp"
#include "model/particles.hpp"

#include <string>
#include <vector>

namespace tomosweep {

/// The tomogram the table refers to.
struct ParticleTableInfo {
  double pixel_size_A = 10.0;                 ///< tomogram voxel size, Angstrom
  int nx = 0, ny = 0, nz = 0;                 ///< tomogram size, voxels
  std::string tomo_name = "tomogram";         ///< _rlnTomoName / copick run name
  std::string tomogram_file = "tomogram.mrc"; ///< _rlnMicrographName
};

/// The table info of a tomogram: its voxel size and shape, with the given names.
template <class T>
ParticleTableInfo particle_table_info(const Volume<T>& tomogram, std::string tomo_name = "tomogram",
                                      std::string tomogram_file = "tomogram.mrc") {
  return {tomogram.voxel_A, tomogram.nx, tomogram.ny, tomogram.nz, std::move(tomo_name), std::move(tomogram_file)};
}

/// RELION STAR text: a comment listing classes, then "data_particles" with one row per particle.
std::string particles_star(const std::vector<PlacedParticle>& particles, const std::vector<ClassInfo>& classes,
                           const ParticleTableInfo& info);
/// copick-style JSON text: classes, then points with location (A), transformation_, instance_id, class.
std::string particles_json(const std::vector<PlacedParticle>& particles, const std::vector<ClassInfo>& classes,
                           const ParticleTableInfo& info);

/// copick pick files, one per class, named USER_SESSION_CLASS.json in `dir` (copick's
/// ExperimentRuns/RUN/Picks layout): pickable_object_name, user_id, session_id, run_name, unit, points with
/// location (A), transformation_, instance_id, score. Returns the paths written.
std::vector<std::string> write_copick_picks(const std::string& dir, const std::vector<PlacedParticle>& particles,
                                            const std::vector<ClassInfo>& classes, const ParticleTableInfo& info,
                                            const std::string& user_id = "tomosweep",
                                            const std::string& session_id = "0");

/// Text helpers shared by the table writers: printf of one number without "-0.000", a JSON string literal, and a
/// STAR word (quoted when it holds blanks or quotes, "" when empty).
std::string format_number(const char* printf_format, double v);
std::string json_quote(const std::string& s);
std::string star_quote(const std::string& s);

/// Write particles_star(...) / particles_json(...) atomically to `path`.
void write_particles_star(const std::string& path, const std::vector<PlacedParticle>& particles,
                          const std::vector<ClassInfo>& classes, const ParticleTableInfo& info);
void write_particles_json(const std::string& path, const std::vector<PlacedParticle>& particles,
                          const std::vector<ClassInfo>& classes, const ParticleTableInfo& info);

} // namespace tomosweep
