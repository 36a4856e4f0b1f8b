#include "model/scene.hpp"

#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "core/rng.hpp"
#include "model/atoms.hpp"
#include "model/ice_surface.hpp"
#include "model/packing.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace tomosweep {

std::string source_stem(const std::string& source) {
  if (source.rfind("synthetic:", 0) == 0) { // "synthetic:globular?mass_kDa=500" -> "globular-500"
    const std::string body = source.substr(10);
    std::string stem = body.substr(0, body.find('?'));
    for (std::size_t eq = body.find('='); eq != std::string::npos; eq = body.find('=', eq + 1))
      stem.append(1, '-').append(body, eq + 1, body.find('&', eq) - eq - 1);
    return stem;
  }
  if (source.rfind("pdb:", 0) == 0) return source.substr(4);
  std::string stem = source.substr(source.find_last_of('/') == std::string::npos ? 0 : source.find_last_of('/') + 1);
  for (const char* ext : {".gz", ".cif", ".mmcif", ".pdb", ".ent"})
    if (stem.size() > std::string(ext).size() && stem.ends_with(ext))
      stem.resize(stem.size() - std::string(ext).size());
  return stem;
}

std::vector<std::string> model_sources(const ModelParams& p) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const Layer& l : p.layers)
    for (const ParticleSpec& s : l.particles) {
      add(s.source);
      if (s.scheme == "cluster") add(s.satellite_source);
      for (const AssemblyMember& m : s.members) add(m.source);
    }
  return out;
}

std::vector<ClassInfo> scene_classes(const ModelParams& p) {
  std::vector<ClassInfo> out;
  auto add = [&](const std::string& name, const std::string& source, const std::string& key) {
    for (const ClassInfo& c : out) {
      if (c.name != name) continue;
      if (c.source != source) fail(key, ": class '", name, "' is used twice, for '", c.source, "' and '", source, "'");
      return;
    }
    out.push_back({int(out.size()) + 1, name, source});
  };
  for (std::size_t l = 0; l < p.layers.size(); ++l)
    for (std::size_t i = 0; i < p.layers[l].particles.size(); ++i) {
      const ParticleSpec& s = p.layers[l].particles[i];
      const std::string key = "model.layer[" + std::to_string(l) + "].particles[" + std::to_string(i) + "]";
      if (s.classes.empty()) add(s.class_name.empty() ? source_stem(s.source) : s.class_name, s.source, key);
      for (const ClassSplit& c : s.classes) add(c.class_name, s.source, key + ".classes");
      if (s.scheme == "cluster" && !s.satellite_source.empty())
        add(source_stem(s.satellite_source), s.satellite_source, key + ".satellite_source");
      for (const AssemblyMember& m : s.members)
        add(m.class_name.empty() ? source_stem(m.source) : m.class_name, m.source, key + ".members");
    }
  if (p.vesicles.count_max > 0) add("membrane", "feature:vesicles", "model.vesicles");
  if (p.carbon.enabled) add("carbon", "feature:carbon", "model.carbon");
  if (p.beads.count > 0) add("gold", "feature:beads", "model.beads");
  if (p.contamination.density_per_um2 > 0) add("contamination", "feature:contamination", "model.contamination");
  if (out.size() > 255) fail("model: ", out.size(), " classes, but the uint8 atlas holds at most 255");
  return out;
}

std::array<std::array<bool, 2>, 3> parse_walls(const std::string& walls) {
  std::array<std::array<bool, 2>, 3> w{};
  int sign = 0; // 0 both faces, -1 minus face, +1 plus face
  for (char c : walls) {
    if (c == '-' || c == '+') {
      sign = c == '-' ? -1 : 1;
      continue;
    }
    if (c < 'x' || c > 'z') fail("model.walls: bad value '", walls, "' (expected faces like \"z\", \"xyz\", \"-z\")");
    const int a = c - 'x';
    if (sign <= 0) w[a][0] = true;
    if (sign >= 0) w[a][1] = true;
    sign = 0;
  }
  return w;
}

FilamentParams filament_preset(const std::string& name) {
  FilamentParams f;
  f.preset = name;
  if (name == "actin") {
    f.twist_deg = -166.15, f.rise_A = 27.3, f.radius_A = 25;
  } else if (name == "cofilactin") {
    f.twist_deg = -162.0, f.rise_A = 24.0, f.radius_A = 25;
  } else if (name == "microtubule") { // 13 protofilaments of tubulin dimers, 85 A per ring, 3-start stagger
    f.twist_deg = 0, f.rise_A = 85.0, f.radius_A = 105, f.protofilaments = 13, f.stagger_A = 9.2;
    f.flexibility_deg = 0.2, f.min_length_A = 1000;
  } else if (!name.empty()) {
    fail("unknown filament preset '", name, "' (expected actin, cofilactin, microtubule)");
  }
  return f;
}

namespace {

/// The least protein volume of one unit of an entry (A^3): one structure, or a filament of min_length_A (a bundle
/// of bundle_min of them).
double unit_volume_A3(const ParticleSpec& s, const StructureSet& structures) {
  const double v = structure_mass_Da(structures.at(s.source)) * 1.66054 / 1.35;
  if (s.scheme != "filament" && s.scheme != "bundle" && !(s.scheme == "assembly" && s.primary_scheme == "filament"))
    return v;
  const double steps = std::max(1.0, std::ceil(s.filament.min_length_A / s.filament.rise_A));
  return v * steps * std::max(1, s.filament.protofilaments) * (s.scheme == "bundle" ? s.bundle_min : 1);
}

/// Counted entries whose least protein volume exceeds the box cannot be placed: say so before any job runs.
void check_counted_volume(const ModelParams& p, const Layer& layer, const std::string& lk,
                          const StructureSet& structures) {
  const double box = p.box_A[0] * p.box_A[1] * p.box_A[2];
  double need = 0;
  for (const ParticleSpec& s : layer.particles)
    if (s.count_min > 0) need += s.count_min * unit_volume_A3(s, structures);
  if (need > box)
    fail(lk, ": the counted particles need at least ", std::lround(need / 1e6), " nm^3 of protein, more than the box (",
         std::lround(box / 1e6), " nm^3)");
}

} // namespace

void validate_model(const ModelParams& p, const StructureSet& structures) {
  for (int a = 0; a < 3; ++a)
    if (!(p.box_A[a] > 0)) fail("model.box_A: expected positive lengths, got ", p.box_A[a]);
  parse_walls(p.walls);
  const double min_box = std::min({p.box_A[0], p.box_A[1], p.box_A[2]});
  auto check_source = [&](const std::string& source, const std::string& key, bool subunit) {
    auto it = structures.find(source);
    if (it == structures.end()) fail(key, ": structure '", source, "' was not loaded");
    validate_structure(it->second);
    if (subunit) return;
    const Vec3 c = structure_centre(it->second);
    double r = 0;
    for (const Atom& at : it->second.atoms) r = std::max(r, (at.pos_A - c).length());
    if (2 * r > min_box)
      fail(key, ": particle '", source, "' (", std::lround(2 * r), " A across) is larger than the box (", min_box,
           " A)");
  };
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    const Layer& layer = p.layers[l];
    const std::string lk = "model.layer[" + std::to_string(l) + "]";
    if (!(layer.max_density >= 0 && layer.max_density <= 1))
      fail(lk, ".max_density: expected a number in [0, 1], got ", layer.max_density);
    for (std::size_t i = 0; i < layer.particles.size(); ++i) {
      const ParticleSpec& s = layer.particles[i];
      const std::string key = lk + ".particles[" + std::to_string(i) + "]";
      check_source(s.source, key, s.scheme == "filament" || s.scheme == "bundle");
      if (s.scheme == "membrane" && p.vesicles.count_max <= 0)
        fail(key, ": scheme 'membrane' needs vesicles (model.vesicles.count)");
      if (s.region != "any" && p.vesicles.count_max <= 0)
        fail(key, ": region '", s.region, "' needs vesicles (model.vesicles.count)");
      if (s.cluster_min < 0 || s.cluster_max < s.cluster_min)
        fail(key, ".satellites: expected 0 <= min <= max, got [", s.cluster_min, ", ", s.cluster_max, "]");
      if (s.bundle_min < 1 || s.bundle_max < s.bundle_min || s.bundle_max > 37)
        fail(key, ".bundle: expected 1 <= min <= max <= 37, got [", s.bundle_min, ", ", s.bundle_max, "]");
      if (!(s.filament.rise_A > 0)) fail(key, ".rise_A: expected a positive number, got ", s.filament.rise_A);
      if (!s.satellite_source.empty()) check_source(s.satellite_source, key + ".satellite_source", false);
      for (const AssemblyMember& m : s.members) check_source(m.source, key + ".members", false);
      for (const ClassSplit& c : s.classes)
        select_atoms(structures.at(s.source), c.selection, key + ".classes." + c.class_name);
      if (s.count_min >= 0 && s.count_max < s.count_min)
        fail(key, ".count: expected 0 <= min <= max, got [", s.count_min, ", ", s.count_max, "]");
    }
    check_counted_volume(p, layer, lk, structures);
  }
  scene_classes(p);
}

namespace {

/// Whether a sphere (centre c, radius r) lies between the ice surfaces above and below its centre (always true
/// without model.ice_surface: the walls keep it in the box).
bool inside_ice(const Scene& scene, Vec3 c, double r) {
  if (!scene.ice_surface) return true;
  return c.z - r >= scene.ice_slab.bottom_A(c.x, c.y) && c.z + r <= scene.ice_slab.top_A(c.x, c.y);
}

/// Contamination blobs: Poisson(density x area) per surface (top, then bottom), centres uniform in x and y and on
/// the surface, radii uniform; marked solid so particles keep clear of them.
void place_contamination(const ModelParams& p, Rng& rng, CollisionGrid& grid, Scene& scene) {
  const ContaminationParams& c = p.contamination;
  if (!(c.density_per_um2 > 0)) return;
  scene.contamination_material = c.material;
  const double area_um2 = p.box_A[0] * p.box_A[1] / 1e8;
  for (int surface = 0; surface < 2; ++surface) {
    const std::uint64_t n = rng.poisson(c.density_per_um2 * area_um2);
    for (std::uint64_t k = 0; k < n; ++k) {
      const double x = rng.uniform(-0.5, 0.5) * p.box_A[0], y = rng.uniform(-0.5, 0.5) * p.box_A[1];
      const double r = rng.uniform(c.radius_min_A, c.radius_max_A);
      const double z = surface == 0 ? scene.ice_slab.top_A(x, y) : scene.ice_slab.bottom_A(x, y);
      const Bead b{{x, y, z}, r};
      scene.contamination.push_back(b);
      const Vec3 ext{r + 10, r + 10, r + 10};
      grid.mark_where([&](Vec3 q) { return (q - b.centre_A).length() < r + 9; }, false, b.centre_A - ext,
                      b.centre_A + ext);
    }
  }
}

/// Mark the collision cells outside the ice (beyond either surface) solid, so particles stay in the ice.
void mark_vacuum(const Scene& scene, CollisionGrid& grid) {
  const auto& box = scene.box_A;
  const double c = kCollisionCell_A, x0 = 0.5 * c - 0.5 * box[0], y0 = 0.5 * c - 0.5 * box[1];
  const int nx = std::max(1, int(std::ceil(box[0] / c))), ny = std::max(1, int(std::ceil(box[1] / c)));
  const IceSlab& s = scene.ice_slab;
  const std::vector<float> top = s.top.on_grid(x0, y0, c, nx, ny), bottom = s.bottom.on_grid(x0, y0, c, nx, ny);
  auto at = [&](const std::vector<float>& t, Vec3 q) {
    const int i = std::clamp(int(std::lround((q.x - x0) / c)), 0, nx - 1);
    const int j = std::clamp(int(std::lround((q.y - y0) / c)), 0, ny - 1);
    return double(t[std::size_t(j) * nx + i]);
  };
  // Only the bands that the surfaces reach: below the highest point of the bottom, above the lowest of the top.
  double bottom_max = -1e300, top_min = 1e300;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double w = s.slope * (x0 + i * c), tb = top[std::size_t(j) * nx + i], bb = bottom[std::size_t(j) * nx + i];
      top_min = std::min(top_min, s.half_thickness_A + w + tb),
      bottom_max = std::max(bottom_max, -s.half_thickness_A - w + bb);
    }
  auto vacuum = [&](Vec3 q) {
    return q.z > s.half_thickness_A + s.slope * q.x + at(top, q) ||
           q.z < -s.half_thickness_A - s.slope * q.x + at(bottom, q);
  };
  const Vec3 lo{-0.5 * box[0], -0.5 * box[1], -0.5 * box[2]}, hi{0.5 * box[0], 0.5 * box[1], 0.5 * box[2]};
  grid.mark_where(vacuum, false, lo, {hi.x, hi.y, std::min(hi.z, bottom_max + c)});
  grid.mark_where(vacuum, false, {lo.x, lo.y, std::max(lo.z, top_min - c)}, hi);
}

void place_features(const ModelParams& p, Rng& rng, CollisionGrid& grid, Scene& scene) {
  const auto& box = p.box_A;
  const Vec3 lo{-0.5 * box[0], -0.5 * box[1], -0.5 * box[2]}, hi{0.5 * box[0], 0.5 * box[1], 0.5 * box[2]};
  if (p.carbon.enabled) { // the hole's edge crosses the field within the middle half of the box
    CarbonFilm& c = scene.carbon;
    c.present = true;
    c.thickness_A = p.carbon.thickness_A;
    c.z_A = p.carbon.offset_z_A;
    c.hole_radius_A = p.carbon.hole_radius_A;
    const double phi = 2 * kPi * rng.uniform();
    const double d = c.hole_radius_A + rng.uniform(-0.25, 0.25) * std::min(box[0], box[1]);
    c.hole_x_A = -d * std::cos(phi);
    c.hole_y_A = -d * std::sin(phi);
    grid.mark_where([&](Vec3 q) { return std::hypot(q.x - c.hole_x_A, q.y - c.hole_y_A) > c.hole_radius_A - 5; }, false,
                    {lo.x, lo.y, c.z_A - 0.5 * c.thickness_A - 5}, {hi.x, hi.y, c.z_A + 0.5 * c.thickness_A + 5});
  }
  const VesicleParams& vp = p.vesicles;
  const int nves = vp.count_max > 0 ? int(vp.count_min + rng.below(std::max(0, vp.count_max - vp.count_min) + 1)) : 0;
  for (int k = 0, tries = 0; k < nves && tries < 1000 * std::max(1, nves); ++tries) {
    Vesicle v;
    v.radius_A = rng.uniform(vp.radius_min_A, vp.radius_max_A);
    v.bilayer_A = vp.bilayer_A;
    v.centre_A = {rng.uniform(lo.x, hi.x), rng.uniform(lo.y, hi.y), rng.uniform(lo.z, hi.z)};
    for (int a = 0; a < 3; ++a) {
      v.axes[a] = Vec3{rng.normal(), rng.normal(), rng.normal()}.normalized();
      v.amp[a] = 0.15 * (1 - vp.sphericity) * rng.uniform(-1, 1);
    }
    const double outer = v.max_radius() + 0.5 * v.bilayer_A;
    if (!grid.inside_walls(v.centre_A, outer) || !inside_ice(scene, v.centre_A, outer)) continue;
    bool clash =
        scene.carbon.present && std::abs(v.centre_A.z - scene.carbon.z_A) < outer + 0.5 * scene.carbon.thickness_A;
    for (const Vesicle& o : scene.vesicles)
      clash = clash || (o.centre_A - v.centre_A).length() < outer + o.max_radius() + 0.5 * o.bilayer_A + 20;
    if (clash) continue;
    scene.vesicles.push_back(v);
    const Vec3 ext{outer + 10, outer + 10, outer + 10};
    grid.mark_where([&](Vec3 q) { return std::abs(v.signed_distance(q)) < 0.5 * v.bilayer_A + 9; }, true,
                    v.centre_A - ext, v.centre_A + ext);
    ++k;
  }
  for (int k = 0, tries = 0; k < p.beads.count && tries < 1000 * p.beads.count; ++tries) {
    Bead b{{rng.uniform(lo.x, hi.x), rng.uniform(lo.y, hi.y), rng.uniform(lo.z, hi.z)}, p.beads.radius_A};
    if (!grid.inside_walls(b.centre_A, b.radius_A) || !inside_ice(scene, b.centre_A, b.radius_A)) continue;
    bool clash = false;
    for (const Vesicle& v : scene.vesicles)
      clash = clash || std::abs(v.signed_distance(b.centre_A)) < b.radius_A + v.bilayer_A;
    for (const Bead& o : scene.beads)
      clash = clash || (o.centre_A - b.centre_A).length() < o.radius_A + b.radius_A + 10;
    if (scene.carbon.present &&
        std::abs(b.centre_A.z - scene.carbon.z_A) < b.radius_A + 0.5 * scene.carbon.thickness_A &&
        std::hypot(b.centre_A.x - scene.carbon.hole_x_A, b.centre_A.y - scene.carbon.hole_y_A) >
            scene.carbon.hole_radius_A - b.radius_A)
      clash = true;
    if (clash) continue;
    scene.beads.push_back(b);
    const Vec3 ext{b.radius_A + 10, b.radius_A + 10, b.radius_A + 10};
    grid.mark_where([&](Vec3 q) { return (q - b.centre_A).length() < b.radius_A + 9; }, false, b.centre_A - ext,
                    b.centre_A + ext);
    ++k;
  }
}

} // namespace

Scene build_scene(const ModelParams& p, const StructureSet& structures, std::uint64_t seed, int replicate) {
  validate_model(p, structures);
  Scene scene;
  scene.box_A = p.box_A;
  scene.ice = p.ice;
  scene.ice_texture = p.ice_texture;
  scene.seed = seed;
  scene.replicate = replicate;
  scene.b_factor_A2 = p.b_factor_A2;
  scene.classes = scene_classes(p);
  for (const ClassInfo& c : scene.classes) {
    if (c.name == "membrane" && c.source == "feature:vesicles") scene.membrane_label = c.label;
    if (c.name == "carbon" && c.source == "feature:carbon") scene.carbon_label = c.label;
    if (c.name == "gold" && c.source == "feature:beads") scene.gold_label = c.label;
    if (c.name == "contamination" && c.source == "feature:contamination") scene.contamination_label = c.label;
  }
  scene.ice_surface = p.ice_surface.enabled();
  scene.ice_slab = make_ice_slab(p.ice_surface, p.box_A, seed, replicate);
  CollisionGrid grid(p.box_A, parse_walls(p.walls));
  Rng feature_rng(seed, Purpose::features, std::uint64_t(replicate));
  place_features(p, feature_rng, grid, scene);
  place_contamination(p, feature_rng, grid, scene);
  if (scene.ice_surface) mark_vacuum(scene, grid);
  Rng rng(seed, Purpose::scene, std::uint64_t(replicate));
  pack_layers(p, structures, grid, rng, scene);
  scene.occupied_fraction = grid.occupied_fraction();
  return scene;
}

} // namespace tomosweep
