#include "core/conventions.hpp"
#include "core/errors.hpp"
#include "io/config_model.hpp"
#include "model/atoms.hpp"
#include "model/packing.hpp"
#include "model/rasterize.hpp"
#include "model/scene.hpp"
#include "model/synthetic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <set>

using namespace tomosweep;

namespace {

#define EXPECT_THROW_MSG(stmt, type, msg)                                                                     \
  do {                                                                                                       \
    try {                                                                                                    \
      stmt;                                                                                                  \
      ADD_FAILURE() << "no exception";                                                                       \
    } catch (const type& e) {                                                                                \
      EXPECT_EQ(std::string(e.what()), msg);                                                                 \
    }                                                                                                        \
  } while (0)

StructureSet structures_for(const ModelParams& p) {
  StructureSet s;
  auto add = [&](const std::string& src) {
    if (!src.empty() && !s.count(src)) s[src] = make_synthetic(src);
  };
  for (const Layer& l : p.layers)
    for (const ParticleSpec& q : l.particles) {
      add(q.source);
      add(q.satellite_source);
      for (const AssemblyMember& m : q.members) add(m.source);
    }
  return s;
}

ParticleSpec spec(const std::string& source, const std::string& class_name, double weight = 1) {
  ParticleSpec s;
  s.source = source;
  s.class_name = class_name;
  s.weight = weight;
  return s;
}

Layer layer(double density, long long attempts, std::vector<ParticleSpec> particles) {
  Layer l;
  l.max_density = density;
  l.max_attempts = attempts;
  l.particles = std::move(particles);
  return l;
}

ModelParams small_model(double density, const std::string& walls = "z") {
  ModelParams p;
  p.box_A = {1200, 1000, 300};
  p.walls = walls;
  p.layers = {layer(density, 4000, {spec("synthetic:globular?mass_kDa=300", "big"), spec("synthetic:cofilin", "small", 2)})};
  return p;
}

std::vector<Vec3> particle_atoms(const PlacedParticle& pp, const StructureSet& st) {
  const AtomicStructure& s = st.at(pp.source);
  const Vec3 c = structure_centre(s);
  std::vector<Vec3> out;
  for (const Atom& a : s.atoms) out.push_back(pp.rotation * (a.pos_A - c) + pp.position_A);
  return out;
}

double total_weight(const AtomicStructure& s) {
  double w = 0;
  for (const Atom& a : s.atoms) w += atom_weight(a);
  return w;
}

} // namespace

TEST(synthetic, deterministic_and_at_requested_mass) {
  const AtomicStructure a = make_synthetic("synthetic:globular?mass_kDa=500");
  const AtomicStructure b = make_synthetic("synthetic:globular?mass_kDa=500");
  ASSERT_EQ(a.atoms.size(), b.atoms.size());
  for (std::size_t i = 0; i < a.atoms.size(); i += 97) EXPECT_EQ(a.atoms[i].pos_A, b.atoms[i].pos_A);
  EXPECT_NEAR(structure_mass_Da(a), 500e3, 0.03 * 500e3);
  EXPECT_TRUE(a.synthetic);
  EXPECT_GT(a.chains.size(), 1u);
  for (const char* kind : {"ribosome", "actin-subunit", "cofilactin-subunit", "tubulin-dimer", "tric", "camkii", "channel"})
    EXPECT_NO_THROW(validate_structure(make_synthetic(std::string("synthetic:") + kind)));
  EXPECT_TRUE(is_synthetic("synthetic:ribosome"));
  EXPECT_FALSE(is_synthetic("data/1abc.cif"));
}

TEST(synthetic, unknown_spec_is_one_line_error) {
  EXPECT_THROW_MSG(make_synthetic("synthetic:blob"), Error,
                   "unknown synthetic structure 'synthetic:blob' (known: globular, ribosome, actin-subunit, cofilin, "
                   "cofilactin-subunit, tubulin-dimer, tric, camkii, channel)");
  EXPECT_THROW_MSG(make_synthetic("synthetic:globular?mass=5"), Error,
                   "synthetic structure 'synthetic:globular?mass=5': unknown parameter 'mass'");
}

TEST(packing, no_overlaps) {
  const ModelParams p = small_model(0.2);
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 11, 0);
  ASSERT_GT(s.particles.size(), 20u);
  // Every collision cell is claimed by at most one particle.
  std::map<std::tuple<long, long, long>, std::uint32_t> owner;
  std::map<std::string, CollisionShape> shapes;
  for (const PlacedParticle& pp : s.particles) {
    if (!shapes.count(pp.source)) shapes[pp.source] = make_collision_shape(st.at(pp.source));
    std::set<std::tuple<long, long, long>> cells;
    for (const Vec3& a : shapes[pp.source].points) {
      const Vec3 q = pp.rotation * a + pp.position_A;
      cells.insert({long(std::floor((q.x + 600) / kCollisionCell_A)), long(std::floor((q.y + 500) / kCollisionCell_A)),
                    long(std::floor((q.z + 150) / kCollisionCell_A))});
    }
    for (const auto& c : cells) {
      auto [it, added] = owner.emplace(c, pp.instance);
      EXPECT_TRUE(added) << "particles " << it->second << " and " << pp.instance << " overlap";
    }
  }
}

TEST(packing, density_reached_within_tolerance) {
  const ModelParams p = small_model(0.12);
  const Scene s = build_scene(p, structures_for(p), 3, 1);
  ASSERT_EQ(s.layer_density.size(), 1u);
  // Placement stops at the first particle that reaches the target: overshoot < one big particle.
  const double big = 300e3 / kProteinDaPerA3 / (1200.0 * 1000 * 300);
  EXPECT_GE(s.layer_density[0], 0.12);
  EXPECT_LT(s.layer_density[0], 0.12 + 1.05 * big);
}

TEST(packing, walls_hold_and_open_faces_are_crossed) {
  const ModelParams p = small_model(0.2, "z");
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 5, 0);
  for (const PlacedParticle& pp : s.particles)
    for (const Vec3& a : particle_atoms(pp, st)) ASSERT_LE(std::abs(a.z), 150.0 + 4.0);
  // x and y are open: some particle sticks out of the box there.
  bool crosses = false;
  for (const PlacedParticle& pp : s.particles)
    for (const Vec3& a : particle_atoms(pp, st)) crosses = crosses || std::abs(a.x) > 600 || std::abs(a.y) > 500;
  EXPECT_TRUE(crosses);
  const auto w = parse_walls("-z+x");
  EXPECT_TRUE(w[2][0] && !w[2][1] && !w[0][0] && w[0][1] && !w[1][0]);
}

TEST(scene, same_scene_at_any_pixel_size) {
  ModelParams p8 = small_model(0.15), p16 = p8;
  p8.pixel_size_A = 8;
  p16.pixel_size_A = 16;
  const StructureSet st = structures_for(p8);
  const Scene a = build_scene(p8, st, 42, 2), b = build_scene(p16, st, 42, 2);
  ASSERT_EQ(a.particles.size(), b.particles.size());
  for (std::size_t i = 0; i < a.particles.size(); ++i) {
    EXPECT_EQ(a.particles[i].position_A, b.particles[i].position_A);
    EXPECT_EQ(a.particles[i].rotation.m, b.particles[i].rotation.m);
    EXPECT_EQ(a.particles[i].label, b.particles[i].label);
  }
  // Rasterized at both sizes, the particles carry the same integrated potential (no ice).
  Scene c = a;
  c.ice = false;
  c.box_A = {1600, 1600, 480}; // room for the parts that stick out
  const SpecimenVolumes v8 = rasterize(c, st, 8, PotentialMode::fast), v16 = rasterize(c, st, 16, PotentialMode::fast);
  EXPECT_EQ(v8.potential.nx, 200);
  EXPECT_EQ(v16.potential.nz, 30);
  const double i8 = std::accumulate(v8.potential.data.begin(), v8.potential.data.end(), 0.0) * 512;
  const double i16 = std::accumulate(v16.potential.data.begin(), v16.potential.data.end(), 0.0) * 4096;
  EXPECT_NEAR(i8 / i16, 1.0, 1e-4);
}

TEST(rasterize, integrated_potential_proportional_to_atom_weights) {
  const AtomicStructure s = make_synthetic("synthetic:globular?mass_kDa=200");
  const StructureSet st{{s.source, s}};
  Scene sc;
  sc.box_A = {400, 400, 400};
  sc.ice = false;
  sc.classes = {{1, "g", s.source}};
  sc.particles.push_back({1, 1, s.source, {3.3, -7.1, 5.2}, uniform_rotation(0.3, 0.6, 0.9), "", 1});
  for (double pix : {5.0, 13.2}) {
    const SpecimenVolumes v = rasterize(sc, st, pix, PotentialMode::fast);
    const double integral = std::accumulate(v.potential.data.begin(), v.potential.data.end(), 0.0) * pix * pix * pix;
    EXPECT_NEAR(integral / (kVoltA3PerWeight * total_weight(s)), 1.0, 1e-5) << pix;
  }
  // Form-factor mode: the integral is 47.878 V A^2 x the summed f_e(0).
  double fsum = 0;
  for (const Atom& a : s.atoms) fsum += atom_potential_weight(a, PotentialMode::form_factor);
  const SpecimenVolumes v = rasterize(sc, st, 8, PotentialMode::form_factor);
  const double integral = std::accumulate(v.potential.data.begin(), v.potential.data.end(), 0.0) * 512;
  EXPECT_NEAR(integral / (kVoltA2PerScatteringA * fsum), 1.0, 1e-5);
}

TEST(rasterize, solvent_exclusion_half_voxel_holds_half_the_ice) {
  // One carbon "atom" whose mass fills exactly half of a 10 A voxel at 1.35 g/cm3, at a voxel centre.
  AtomicStructure s;
  s.source = "half";
  s.chains = {"A"};
  Atom a;
  a.z = 6;
  a.occupancy = float(500.0 * kProteinDaPerA3 / element_mass_Da(6));
  s.atoms = {a};
  Scene sc;
  sc.box_A = {50, 50, 50};
  sc.classes = {{1, "half", "half"}};
  sc.particles.push_back({1, 1, "half", {0, 0, 0}, Mat3{}, "", 1});
  const SpecimenVolumes v = rasterize(sc, {{"half", s}}, 10, PotentialMode::fast);
  const double protein_V = kVoltA3PerWeight * atom_weight(a) / 1000.0;
  const double vol = atom_mass_Da(a) / kProteinDaPerA3;
  EXPECT_NEAR(vol, 500.0, 1e-3);
  EXPECT_NEAR(v.potential(2, 2, 2), protein_V + 0.5 * kIceMeanPotentialV, 1e-4);
  EXPECT_NEAR(v.potential(0, 0, 0), kIceMeanPotentialV, 1e-6);
  EXPECT_NEAR(ice_potential_V(PotentialMode::form_factor), 4.57, 0.05);
}

TEST(rasterize, atlas_numbering_stable_and_instances_match) {
  ModelParams p = small_model(0.15);
  p.layers.push_back(layer(0.05, 2000, {spec("synthetic:actin-subunit", "distractor")}));
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 9, 0);
  ASSERT_EQ(s.classes.size(), 3u);
  EXPECT_EQ(s.classes[0].name, "big");
  EXPECT_EQ(s.classes[1].name, "small");
  EXPECT_EQ(s.classes[2].name, "distractor");
  EXPECT_EQ(s.classes[2].label, 3);
  // Weights and seeds do not change the numbering.
  ModelParams q = p;
  q.layers[0].particles[0].weight = 5;
  EXPECT_EQ(build_scene(q, st, 1234, 7).classes[1].name, "small");
  const SpecimenVolumes v = rasterize(s, st, 10, PotentialMode::fast);
  std::map<std::uint32_t, int> label_of;
  for (const PlacedParticle& pp : s.particles) label_of[pp.instance] = pp.label;
  std::size_t labelled = 0;
  for (std::size_t i = 0; i < v.atlas.size(); ++i) {
    if (v.instances.data[i]) {
      EXPECT_EQ(v.atlas.data[i], label_of.at(v.instances.data[i]));
    }
    labelled += v.atlas.data[i] != 0;
  }
  // Labelled fraction is about the packed density (surface voxels partly count).
  const double frac = double(labelled) / v.atlas.size();
  EXPECT_GT(frac, 0.5 * (s.layer_density[0] + s.layer_density[1]));
  EXPECT_LT(frac, 2.0 * (s.layer_density[0] + s.layer_density[1]));
  // The voxel at a particle's centre carries its label.
  const PlacedParticle& pp = s.particles.front();
  const int x = int(std::lround(voxel_index(pp.position_A.x, v.atlas.nx, 10)));
  const int y = int(std::lround(voxel_index(pp.position_A.y, v.atlas.ny, 10)));
  const int z = int(std::lround(voxel_index(pp.position_A.z, v.atlas.nz, 10)));
  EXPECT_EQ(v.atlas(x, y, z), pp.label);
}

TEST(model_errors, bad_input_is_one_line_error_naming_the_key) {
  ModelParams p = small_model(0.1);
  StructureSet st = structures_for(p);
  AtomicStructure empty;
  empty.source = "empty.pdb";
  st["synthetic:cofilin"] = empty;
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error, "structure 'empty.pdb': no atoms");
  st = structures_for(p);
  st["synthetic:cofilin"].atoms[3].z = 0;
  st["synthetic:cofilin"].source = "odd.cif";
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error, "structure 'odd.cif': unknown element (atomic number 0) at atom 4");

  st = structures_for(p);
  p.box_A = {1200, 1000, 60};
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error,
                   "model.layer[0].particles[0]: particle 'synthetic:globular?mass_kDa=300' (" +
                       [&] {
                         const AtomicStructure& s = st.at("synthetic:globular?mass_kDa=300");
                         double r = 0;
                         for (const Atom& a : s.atoms) r = std::max(r, (a.pos_A - structure_centre(s)).length());
                         return std::to_string(std::lround(2 * r));
                       }() + " A across) is larger than the box (60 A)");

  p = small_model(1.5);
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error, "model.layer[0].max_density: expected a number in [0, 1], got 1.5");

  p = small_model(0.1);
  p.layers[0].particles[1].class_name = "big";
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error,
                   "model.layer[0].particles[1]: class 'big' is used twice, for 'synthetic:globular?mass_kDa=300' and "
                   "'synthetic:cofilin'");
  p = small_model(0.1);
  p.layers[0].particles[0].source = "missing.cif";
  EXPECT_THROW_MSG(build_scene(p, st, 1, 0), Error, "model.layer[0].particles[0]: structure 'missing.cif' was not loaded");
}

namespace {
std::vector<std::string> config_problems(const std::string& text) {
  toml::table root = parse_toml(text, "job.toml");
  Problems problems;
  TableReader top(root, "job.toml", "", problems);
  if (auto m = top.table("model")) read_model(*m);
  return problems.lines;
}
} // namespace

TEST(config_model, reads_layers_features_and_presets) {
  toml::table root = parse_toml(R"([model]
box_A = [2000, 2000, 400]
walls = "-z"
vesicles = { count = [1, 3], radius_A = [200, 300] }
beads = { count = 4 }
carbon = { thickness_A = 120 }
[[model.layer]]
max_density = 0.3
[[model.layer.particles]]
source = "synthetic:cofilactin-subunit"
scheme = "filament"
preset = "cofilactin"
min_length_A = 300
classes = [{ name = "actin", selection = "chain A" }, { name = "cofilin", selection = "chain B" }]
[[model.layer.particles]]
source = "synthetic:ribosome"
satellites = 3
scheme = "cluster"
)",
                                "job.toml");
  Problems problems;
  TableReader top(root, "job.toml", "", problems);
  auto mt = top.table("model");
  ModelParams p = read_model(*mt);
  EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.lines[0]);
  EXPECT_EQ(p.box_A[2], 400);
  EXPECT_EQ(p.walls, "-z");
  EXPECT_EQ(p.vesicles.count_min, 1);
  EXPECT_EQ(p.vesicles.count_max, 3);
  EXPECT_EQ(p.vesicles.radius_max_A, 300);
  EXPECT_EQ(p.beads.count, 4);
  EXPECT_EQ(p.beads.radius_A, 50);
  EXPECT_TRUE(p.carbon.enabled);
  EXPECT_EQ(p.carbon.thickness_A, 120);
  ASSERT_EQ(p.layers.size(), 1u);
  const ParticleSpec& f = p.layers[0].particles[0];
  EXPECT_EQ(f.filament.twist_deg, -162.0);
  EXPECT_EQ(f.filament.rise_A, 24.0);
  EXPECT_EQ(f.filament.min_length_A, 300);
  ASSERT_EQ(f.classes.size(), 2u);
  EXPECT_EQ(f.classes[1].class_name, "cofilin");
  EXPECT_EQ(p.layers[0].particles[1].cluster_min, 3);
  EXPECT_EQ(p.layers[0].particles[1].cluster_max, 3);
  const auto classes = scene_classes(p);
  ASSERT_EQ(classes.size(), 6u);
  EXPECT_EQ(classes[0].name, "actin");
  EXPECT_EQ(classes[2].name, "ribosome");
  EXPECT_EQ(classes[3].name, "membrane");
  EXPECT_EQ(classes[4].name, "carbon");
  EXPECT_EQ(classes[5].name, "gold");
}

TEST(config_model, errors_name_file_line_and_key) {
  auto lines = config_problems("[model]\nwals = \"z\"\n[[model.layer]]\nmax_density = 1.5\nparticles = [{ source = \"a.cif\" }]\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:4:15: model.layer[0].max_density: expected a number in [0, 1], got 1.5");
  EXPECT_EQ(lines[1], "job.toml:2:1: unknown key 'model.wals'");
  lines = config_problems("[model]\n[[model.layer]]\nparticles = [{ source = \"a.cif\", class = \"x\" },\n"
                          "  { source = \"b.cif\", class = \"x\" }]\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "job.toml:4:31: model.layer[0].particles[1].class: class 'x' is used twice, for 'a.cif' and 'b.cif'");
  lines = config_problems("[model]\nbox_A = [1, 2]\npotential = \"exact\"\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:2:9: model.box_A: expected 3 numbers, got 2");
  EXPECT_EQ(lines[1], "job.toml:3:13: model.potential: expected one of 'fast', 'form-factor', got 'exact'");
}

TEST(schemes, filament_has_preset_twist_and_rise) {
  ModelParams p;
  p.box_A = {3000, 3000, 400};
  ParticleSpec f = spec("synthetic:actin-subunit", "actin");
  f.scheme = "filament";
  f.filament = filament_preset("actin");
  f.filament.flexibility_deg = 0;
  f.filament.min_length_A = 800;
  p.layers = {layer(0.01, 500, {f})};
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 2, 0);
  ASSERT_GE(s.particles.size(), std::size_t(800 / 27.3));
  int checked = 0;
  for (std::size_t i = 1; i < s.particles.size(); ++i) {
    const PlacedParticle &a = s.particles[i - 1], &b = s.particles[i];
    if (a.group != b.group) continue;
    const Vec3 axis{a.rotation(0, 2), a.rotation(1, 2), a.rotation(2, 2)};
    EXPECT_NEAR((b.position_A - a.position_A).dot(axis), 27.3, 1e-9);
    const Mat3 rel = a.rotation.transposed() * b.rotation; // rotation about local z by the twist
    EXPECT_NEAR(std::atan2(rel(1, 0), rel(0, 0)) * kRadToDeg, -166.15, 1e-9);
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

TEST(schemes, microtubule_ring_and_lumen_members) {
  ModelParams p;
  p.box_A = {3000, 3000, 600};
  ParticleSpec mt = spec("synthetic:tubulin-dimer", "tubulin");
  mt.scheme = "assembly";
  mt.primary_scheme = "filament";
  mt.filament = filament_preset("microtubule");
  mt.filament.flexibility_deg = 0;
  AssemblyMember lumen;
  lumen.source = "synthetic:cofilin";
  lumen.class_name = "lumen";
  lumen.occupancy = 0.5;
  mt.members = {lumen};
  p.layers = {layer(0.02, 300, {mt})};
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 4, 0);
  int tubulin = 0, members = 0;
  for (const PlacedParticle& pp : s.particles) (pp.label == 1 ? tubulin : members)++;
  ASSERT_GT(tubulin, 13 * 10);
  EXPECT_EQ(tubulin % 13, 0);
  const int rings = tubulin / 13;
  EXPECT_GT(members, rings / 5); // occupancy 0.5, minus members that collide
  EXPECT_LT(members, rings);
  // Each ring: 13 subunits 105 A from the axis through the first subunit's frame.
  const PlacedParticle& a = s.particles[0];
  const Vec3 axis{a.rotation(0, 2), a.rotation(1, 2), a.rotation(2, 2)};
  const Vec3 radial{a.rotation(0, 0), a.rotation(1, 0), a.rotation(2, 0)};
  const Vec3 centre = a.position_A - 105.0 * radial;
  for (int k = 1; k < 13; ++k) {
    const Vec3 d = s.particles[k].position_A - centre;
    const Vec3 perp = d - d.dot(axis) * axis;
    EXPECT_NEAR(perp.length(), 105.0, 1e-6);
    EXPECT_NEAR(d.dot(axis), 9.2 * k, 1e-6);
  }
}

TEST(schemes, vesicle_regions_and_membrane_proteins) {
  ModelParams p;
  p.box_A = {2400, 2400, 800};
  p.vesicles = {.count_min = 3, .count_max = 3, .radius_min_A = 250, .radius_max_A = 330, .bilayer_A = 40, .sphericity = 0.7};
  ParticleSpec in = spec("synthetic:cofilin", "inner"), out = spec("synthetic:actin-subunit", "outer"),
               mem = spec("synthetic:channel", "channel");
  in.region = "inside";
  out.region = "outside";
  mem.scheme = "membrane";
  p.layers = {layer(0.004, 3000, {mem}), layer(0.01, 20000, {in, out})};
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 8, 0);
  ASSERT_EQ(s.vesicles.size(), 3u);
  EXPECT_EQ(s.classes.back().name, "membrane");
  int n_in = 0, n_out = 0, n_mem = 0;
  for (const PlacedParticle& pp : s.particles) {
    bool inside = false;
    for (const Vesicle& v : s.vesicles) inside = inside || v.signed_distance(pp.position_A) < 0;
    if (pp.label == 2) {
      EXPECT_TRUE(inside);
      ++n_in;
    }
    if (pp.label == 3) {
      EXPECT_FALSE(inside);
      ++n_out;
    }
    if (pp.label != 1) continue;
    ++n_mem;
    // The structure's z = 0 plane (bilayer mid-plane of synthetic:channel) sits on a vesicle surface and
    // atoms lie on both sides of it: the protein crosses the bilayer.
    const AtomicStructure& ch = st.at(pp.source);
    const Vec3 c = structure_centre(ch);
    const Vec3 mid = pp.rotation * Vec3{0, 0, -c.z} + pp.position_A;
    const Vesicle* host = nullptr;
    for (const Vesicle& v : s.vesicles)
      if (std::abs(v.signed_distance(mid)) < 1.0) host = &v;
    ASSERT_NE(host, nullptr);
    int below = 0, above = 0;
    for (const Vec3& a : particle_atoms(pp, st)) (host->signed_distance(a) < 0 ? below : above)++;
    EXPECT_GT(below, 100);
    EXPECT_GT(above, 100);
  }
  EXPECT_GT(n_in, 3) << s.layer_density[0] << " " << s.layer_density[1] << " " << s.particles.size();
  EXPECT_GT(n_out, 3);
  EXPECT_GT(n_mem, 3);
  // The bilayer shows up in the atlas and the potential has the two head-group peaks.
  const SpecimenVolumes v = rasterize(s, st, 12, PotentialMode::fast);
  EXPECT_NE(std::count(v.atlas.data.begin(), v.atlas.data.end(), std::uint8_t(s.membrane_label)), 0);
}

TEST(schemes, class_split_cluster_and_bundle) {
  ModelParams p;
  p.box_A = {2000, 2000, 500};
  ParticleSpec cam = spec("synthetic:camkii", "");
  cam.classes = {{"kinase", "residues 1-300"}, {"hub", "residues 340-478"}};
  ParticleSpec cl = spec("synthetic:globular?mass_kDa=100", "seed");
  cl.scheme = "cluster";
  cl.cluster_min = cl.cluster_max = 4;
  ParticleSpec bu = spec("synthetic:actin-subunit", "actin");
  bu.scheme = "bundle";
  bu.filament = filament_preset("actin");
  bu.filament.min_length_A = 300;
  bu.bundle_min = bu.bundle_max = 3;
  p.layers = {layer(0.01, 200, {cam}), layer(0.01, 200, {cl}), layer(0.01, 300, {bu})};
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 5, 0);
  ASSERT_EQ(s.classes.size(), 4u);
  EXPECT_EQ(s.classes[0].name, "kinase");
  EXPECT_EQ(s.classes[1].name, "hub");
  // Split particles come in pairs sharing a pose; their atoms partition the structure.
  const PlacedParticle &k = s.particles[0], &h = s.particles[1];
  EXPECT_EQ(k.selection, "residues 1-300");
  EXPECT_EQ(h.selection, "residues 340-478");
  EXPECT_EQ(k.position_A, h.position_A);
  EXPECT_EQ(k.group, h.group);
  const AtomicStructure& c = st.at("synthetic:camkii");
  const auto mk = select_atoms(c, k.selection, "k"), mh = select_atoms(c, h.selection, "h");
  for (std::size_t i = 0; i < c.atoms.size(); ++i) EXPECT_NE(mk[i], mh[i]);
  const SpecimenVolumes v = rasterize(s, st, 8, PotentialMode::fast);
  EXPECT_NE(std::count(v.atlas.data.begin(), v.atlas.data.end(), std::uint8_t(1)), 0);
  EXPECT_NE(std::count(v.atlas.data.begin(), v.atlas.data.end(), std::uint8_t(2)), 0);
  // Clusters: satellites share the seed's group; bundles: 3 filaments per step in one group.
  std::map<std::uint32_t, int> group_size;
  for (const PlacedParticle& pp : s.particles)
    if (pp.label == 3) group_size[pp.group]++;
  ASSERT_FALSE(group_size.empty());
  for (auto [g, n] : group_size) EXPECT_GE(n, 2);
  group_size.clear();
  for (const PlacedParticle& pp : s.particles)
    if (pp.label == 4) group_size[pp.group]++;
  ASSERT_FALSE(group_size.empty());
  for (auto [g, n] : group_size) EXPECT_EQ(n % 3, 0);
}

TEST(features, carbon_edge_and_gold_beads) {
  ModelParams p;
  p.box_A = {2000, 2000, 400};
  p.carbon = {.enabled = true, .thickness_A = 150, .hole_radius_A = 10000, .offset_z_A = 0};
  p.beads = {.count = 3, .radius_A = 50};
  const Scene s = build_scene(p, {}, 3, 0);
  ASSERT_EQ(s.beads.size(), 3u);
  const SpecimenVolumes v = rasterize(s, {}, 10, PotentialMode::fast);
  // Carbon covers part of the field, not all of it: the hole edge crosses the box.
  const auto n_carbon = std::count(v.atlas.data.begin(), v.atlas.data.end(), std::uint8_t(s.carbon_label));
  const double carbon_frac = double(n_carbon) / (200.0 * 200.0 * 15.0);
  EXPECT_GT(carbon_frac, 0.1);
  EXPECT_LT(carbon_frac, 0.9);
  // A bead's centre voxel holds gold potential.
  const Bead& b = s.beads[0];
  const int x = int(std::lround(voxel_index(b.centre_A.x, 200, 10))), y = int(std::lround(voxel_index(b.centre_A.y, 200, 10))),
            z = int(std::lround(voxel_index(b.centre_A.z, 40, 10)));
  EXPECT_NEAR(v.potential(x, y, z), gold_potential_V(), 1e-3);
  EXPECT_EQ(v.atlas(x, y, z), s.gold_label);
}
