// The conventions of tomosweep, stated once. Tests in tests/unit/core_test.cpp pin them down.
//
// Units
//   lengths: Angstrom (suffix _A); dose: electrons per square Angstrom (_e_per_A2);
//   defocus: micrometres in TOML (_um), positive = underfocus (CTFFIND, RELION, IMOD); Angstrom inside;
//   voltage: kV; spherical aberration: mm in TOML; angles: degrees in TOML (_deg), radians inside (_rad).
//
// Arrays
//   C order [z][y][x], x fastest. Index of (x, y, z) = (z * ny + y) * nx + x.
//   Voxel centres: voxel i of an axis of n voxels sits at (i - (n - 1) / 2) * voxel_A from the volume
//   centre, so the centre of the box is the origin of specimen coordinates for every n, odd or even.
//   Tomograms, priors, atlases and instance maps are XYZ volumes with Z along the beam (IMOD trimvol -rx).
//
// Beam direction
//   The electron source is on the -z side: electrons travel towards +z, through the specimen, to the objective
//   lens and the detector. At underfocus (defocus > 0) the objective is weaker than in focus, so the plane it
//   images sharply lies upstream of the specimen (towards the source); a point's defocus is its distance
//   downstream of that plane. Underfocus therefore grows away from the source, along +z.
//
// Tilt geometry (a right-handed specimen frame x, y, z; beam along +z; tilt angle t; axis azimuth a)
//   The tilt axis lies in the specimen XY plane at azimuth a from +Y towards -X:
//     axis direction d = (-sin a, cos a, 0). At a = 0 the axis is image Y.
//   A point p = (x, y, z) projects to detector coordinates (u, v), both in Angstrom from the image centre:
//     u0 = x cos a + y sin a,   v = -x sin a + y cos a,
//     u  = u0 cos t - z sin t   (IMOD's x' = x cos t - z sin t at a = 0),
//   and its depth along the beam after tilting (downstream, away from the source) is h = u0 sin t + z cos t.
//   Detector column index follows u, row index follows v.
//   Defocus at a point: defocus_A + h, so points farther from the source are more underfocused (a +z slab
//   of the specimen more than a -z slab). At positive tilt the +u (+x) side of the image, whose mid-plane
//   points sit farther downstream (h = u tan t > 0), is more underfocused (IMOD/Dynamo convention).
//
// Randomness
//   Counter-based Philox4x32-10 keyed by (master seed, purpose, id); see core/rng.hpp.
#pragma once

#include <numbers>

namespace tomosweep {

inline constexpr double kPi = std::numbers::pi;
inline constexpr double kDegToRad = kPi / 180.0;
inline constexpr double kRadToDeg = 180.0 / kPi;
inline constexpr double kAngstromPerMicrometre = 1.0e4;
inline constexpr double kAngstromPerMillimetre = 1.0e7;

/// Coordinate (Angstrom, from the volume centre) of voxel index i on an axis of n voxels.
constexpr double voxel_centre_A(int i, int n, double voxel_A) { return (i - 0.5 * (n - 1)) * voxel_A; }
/// Continuous voxel index of coordinate c_A (inverse of voxel_centre_A).
constexpr double voxel_index(double c_A, int n, double voxel_A) { return c_A / voxel_A + 0.5 * (n - 1); }

} // namespace tomosweep
