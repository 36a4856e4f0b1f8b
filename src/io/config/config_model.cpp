#include "io/config/config_model.hpp"

#include "io/config/config_settings.hpp"
#include "model/scene.hpp"

#include <cmath>
#include <map>

namespace tomosweep {
namespace {

/// `key = n` or `key = [lo, hi]` -> (lo, hi).
std::pair<double, double> range(TableReader& t, const std::string& key, std::pair<double, double> def) {
  if (!t.has(key)) return def;
  if (!t.is_array(key)) {
    const double x = t.number(key, def.first);
    return {x, x};
  }
  std::vector<double> v = t.numbers(key, {});
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() != 2 || v[0] > v[1]) {
    t.problem(key, "expected a number or [min, max] with min <= max");
    return def;
  }
  return {v[0], v[1]};
}

FilamentParams read_filament(TableReader& t) {
  FilamentParams f;
  const std::string preset = t.choice("preset", "", {"", "actin", "cofilactin", "microtubule"});
  f = filament_preset(preset);
  f.twist_deg = t.number("twist_deg", f.twist_deg);
  f.rise_A = t.number_in("rise_A", f.rise_A, 1, 1e4);
  f.radius_A = t.number_in("radius_A", f.radius_A, 0, 1e4);
  f.protofilaments = int(t.integer_in("protofilaments", f.protofilaments, 1, 100));
  f.stagger_A = t.number("stagger_A", f.stagger_A);
  f.flexibility_deg = t.number_in("flexibility_deg", f.flexibility_deg, 0, 90);
  f.min_length_A = t.number_in("min_length_A", f.min_length_A, 0, 1e6);
  f.max_length_A = t.number_in("max_length_A", f.max_length_A, 0, 1e6);
  if (f.max_length_A < f.min_length_A) t.problem("max_length_A", "must be at least min_length_A");
  return f;
}

/// `key = [x, y, z]`, a non-zero vector, returned normalised ([0, 0, 0] after a problem).
std::array<double, 3> unit_vector(TableReader& t, const std::string& key) {
  const std::size_t before = t.problems().lines.size();
  const std::array<double, 3> v = t.triple(key, {0, 0, 0});
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (n > 0 && std::isfinite(n)) return {v[0] / n, v[1] / n, v[2] / n};
  if (t.has(key) && t.problems().lines.size() == before) t.problem(key, "expected a non-zero vector [x, y, z]");
  return {0, 0, 0};
}

/// Filament growth axis (direction, direction_spread_deg) and single-particle orientation = { axis,
/// spread_deg }; each only on the schemes it shapes.
void read_direction(TableReader& t, ParticleSpec& s) {
  const bool assembly = s.scheme == "assembly";
  const bool filament = s.scheme == "filament" || s.scheme == "bundle" || (assembly && s.primary_scheme == "filament");
  const bool single = s.scheme == "single" || (assembly && s.primary_scheme == "single");
  if (t.has("direction")) {
    s.direction = unit_vector(t, "direction");
    if (!filament) t.problem("direction", "applies to filament, bundle and assembly (primary = \"filament\") entries");
  }
  s.direction_spread_deg = t.number_in("direction_spread_deg", 0, 0, 180);
  if (t.has("direction_spread_deg") && !t.has("direction")) t.problem("direction_spread_deg", "needs direction");
  if (auto o = t.table("orientation")) {
    if (!single) t.problem("orientation", "applies to single and assembly (primary = \"single\") entries");
    if (!o->has("axis")) o->problem("axis", "missing (the preferred direction of the structure's z axis, [x, y, z])");
    s.orientation_axis = unit_vector(*o, "axis");
    s.orientation_spread_deg = o->number_in("spread_deg", 0, 0, 180);
    o->finish();
  }
}

ParticleSpec read_particle(TableReader& t) {
  ParticleSpec s;
  s.source = t.string("source", "");
  if (s.source.empty()) t.problem("source", "missing (a structure path, \"synthetic:...\" or \"pdb:ID\")");
  s.class_name = t.string("class", "");
  for (TableReader& c : t.tables("classes")) {
    ClassSplit split{c.string("name", ""), c.string("selection", "")};
    if (split.class_name.empty()) c.problem("name", "missing class name");
    if (split.selection.empty()) c.problem("selection", "missing selection (e.g. \"chain A\", \"residues 1-300\")");
    c.finish();
    s.classes.push_back(split);
  }
  s.scheme = t.choice("scheme", "single", {"single", "cluster", "bundle", "filament", "assembly", "membrane"});
  s.weight = t.number_in("weight", 1.0, 0, 1e9);
  if (t.has("count")) {
    const std::size_t before = t.problems().lines.size();
    const auto c = range(t, "count", {-1, -1});
    if (t.problems().lines.size() != before) {
      // range() said what is wrong
    } else if (c.first < 0 || c.second > 1e7 || c.first != std::floor(c.first) || c.second != std::floor(c.second))
      t.problem("count", "expected a whole number of units in [0, 10000000] or [min, max]");
    else
      s.count_min = int(c.first), s.count_max = int(c.second);
    if (t.has("weight")) t.problem("weight", "applies to entries without a count (an entry with a count is placed exactly, whatever the weights)");
  }
  s.region = t.choice("region", "any", {"any", "inside", "outside"});
  const auto sat = range(t, "satellites", {2, 6});
  s.cluster_min = int(sat.first), s.cluster_max = int(sat.second);
  s.cluster_radius_A = t.number_in("cluster_radius_A", 0, 0, 1e5);
  s.satellite_source = t.string("satellite_source", "");
  s.filament = read_filament(t);
  const auto bundle = range(t, "bundle", {2, 5});
  s.bundle_min = int(bundle.first), s.bundle_max = int(bundle.second);
  if (s.bundle_min < 1 || s.bundle_max > 37) t.problem("bundle", "expected 1 to 37 filaments");
  s.bundle_spacing_A = t.number_in("bundle_spacing_A", 0, 0, 1e4);
  s.primary_scheme = t.choice("primary", "single", {"single", "filament"});
  for (TableReader& m : t.tables("members")) {
    AssemblyMember a;
    a.source = m.string("source", "");
    if (a.source.empty()) m.problem("source", "missing member source");
    a.class_name = m.string("class", "");
    a.offset_A = m.triple("offset_A", a.offset_A);
    a.occupancy = m.number_in("occupancy", 1.0, 0, 1);
    a.random_rotation = m.boolean("random_rotation", true);
    m.finish();
    s.members.push_back(a);
  }
  if (s.scheme == "assembly" && s.members.empty()) t.problem("members", "scheme 'assembly' needs members");
  s.membrane_z_A = t.number("membrane_z_A", 0.0);
  read_direction(t, s);
  t.finish();
  return s;
}

} // namespace

ModelParams read_model(TableReader& t) {
  ModelParams p;
  p.box_A = t.triple("box_A", p.box_A);
  for (double b : p.box_A)
    if (!(b > 0)) t.problem("box_A", "expected positive lengths");
  read_field(t, model_fields(), "pixel_size_A", p);
  p.walls = t.string("walls", p.walls);
  try {
    parse_walls(p.walls);
  } catch (const Error&) {
    t.problem("walls", "expected faces like \"z\", \"xyz\", \"-z+x\" or \"\", got '" + p.walls + "'");
  }
  read_fields(t, model_fields(), p, "ice", "b_factor_A2");
  if (auto c = t.table("carbon")) {
    p.carbon.enabled = c->boolean("enabled", true);
    p.carbon.thickness_A = c->number_in("thickness_A", p.carbon.thickness_A, 0, 1e5);
    p.carbon.hole_radius_A = c->number_in("hole_radius_A", p.carbon.hole_radius_A, 0, 1e7);
    p.carbon.offset_z_A = c->number("z_A", p.carbon.offset_z_A);
    c->finish();
  }
  if (auto v = t.table("vesicles")) {
    const auto count = range(*v, "count", {0, 0});
    p.vesicles.count_min = int(count.first), p.vesicles.count_max = int(count.second);
    if (count.first < 0 || count.second > 10000) v->problem("count", "expected 0 to 10000 vesicles");
    const auto radius = range(*v, "radius_A", {p.vesicles.radius_min_A, p.vesicles.radius_max_A});
    p.vesicles.radius_min_A = radius.first, p.vesicles.radius_max_A = radius.second;
    if (radius.first <= 0) v->problem("radius_A", "expected positive radii");
    p.vesicles.bilayer_A = v->number_in("bilayer_A", p.vesicles.bilayer_A, 10, 200);
    p.vesicles.sphericity = v->number_in("sphericity", p.vesicles.sphericity, 0, 1);
    v->finish();
  }
  if (auto b = t.table("beads")) {
    p.beads.count = int(b->integer_in("count", p.beads.count, 0, 100000));
    p.beads.radius_A = b->number_in("radius_A", p.beads.radius_A, 1, 1e4);
    b->finish();
  }
  if (auto s = t.table("ice_surface")) {
    IceSurfaceParams& i = p.ice_surface;
    i.thickness_A = s->number_in("thickness_A", i.thickness_A, 0, 1e6);
    i.roughness_A = s->number_in("roughness_A", i.roughness_A, 0, 1e5);
    i.correlation_A = s->number_in("correlation_A", i.correlation_A, 1, 1e7);
    i.gradient_A_per_um = s->number_in("gradient_A_per_um", i.gradient_A_per_um, -1e5, 1e5);
    i.modes = int(s->integer_in("modes", i.modes, 1, 4096));
    s->finish();
  }
  if (auto c = t.table("contamination")) {
    ContaminationParams& k = p.contamination;
    k.density_per_um2 = c->number_in("density_per_um2", k.density_per_um2, 0, 1e4);
    const auto radius = range(*c, "radius_A", {k.radius_min_A, k.radius_max_A});
    k.radius_min_A = radius.first, k.radius_max_A = radius.second;
    if (radius.first <= 0) c->problem("radius_A", "expected positive radii");
    k.material = c->choice("material", "ice", {"ice", "hydrocarbon"}) == "hydrocarbon"
                     ? ContaminationMaterial::hydrocarbon
                     : ContaminationMaterial::ice;
    c->finish();
  }
  std::map<std::string, std::string> class_source; // a class name names one source
  auto check_class = [&](TableReader& r, const std::string& key, const std::string& name, const std::string& source) {
    auto [it, added] = class_source.emplace(name, source);
    if (!added && it->second != source)
      r.problem(key, "class '" + name + "' is used twice, for '" + it->second + "' and '" + source + "'");
  };
  for (TableReader& l : t.tables("layer")) {
    Layer layer;
    layer.max_density = l.number_in("max_density", layer.max_density, 0, 1);
    layer.max_attempts = l.integer_in("max_attempts", layer.max_attempts, 0, 1000000000LL);
    for (TableReader& pr : l.tables("particles")) {
      ParticleSpec s = read_particle(pr);
      if (s.classes.empty())
        check_class(pr, "class", s.class_name.empty() ? source_stem(s.source) : s.class_name, s.source);
      for (const ClassSplit& c : s.classes) check_class(pr, "classes", c.class_name, s.source);
      for (const AssemblyMember& m : s.members)
        check_class(pr, "members", m.class_name.empty() ? source_stem(m.source) : m.class_name, m.source);
      layer.particles.push_back(std::move(s));
    }
    if (layer.particles.empty()) l.problem("particles", "a layer needs at least one particle");
    bool all_counted = !layer.particles.empty();
    for (const ParticleSpec& s : layer.particles) all_counted = all_counted && s.count_min >= 0;
    if (all_counted && l.has("max_density"))
      l.problem("max_density", "every particle entry of this layer has a count: max_density would fill nothing");
    l.finish();
    p.layers.push_back(std::move(layer));
  }
  t.finish();
  return p;
}

} // namespace tomosweep
