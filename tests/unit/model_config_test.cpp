#include "model_test_helpers.hpp"

using namespace tomosweep;
using namespace tomosweep::test;

namespace {
std::vector<std::string> config_problems(const std::string& text) {
  toml::table root = parse_toml(text, "job.toml");
  Problems problems;
  TableReader top(root, "job.toml", "", problems);
  if (auto m = top.table("model")) read_model(*m);
  return problems.lines;
}

/// The [model] table of a job file's text, which must read without a problem.
ModelParams model_of(const std::string& text) {
  toml::table root = parse_toml(text, "job.toml");
  Problems problems;
  TableReader top(root, "job.toml", "", problems);
  auto model = top.table("model");
  ModelParams p = read_model(*model);
  EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.lines[0]);
  return p;
}
} // namespace

TEST(config_model, reads_layers_features_and_presets) {
  ModelParams p = model_of(R"([model]
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
)");
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
  EXPECT_EQ(source_stem("synthetic:globular?mass_kDa=500&domains=3"), "globular-500-3");
  EXPECT_EQ(source_stem("data/1abc.cif.gz"), "1abc");
  EXPECT_EQ(source_stem("pdb:4V6X"), "4V6X");
  EXPECT_EQ(classes[3].name, "membrane");
  EXPECT_EQ(classes[4].name, "carbon");
  EXPECT_EQ(classes[5].name, "gold");
}

TEST(config_model, errors_name_file_line_and_key) {
  auto lines = config_problems(
      "[model]\nwals = \"z\"\n[[model.layer]]\nmax_density = 1.5\nparticles = [{ source = \"a.cif\" }]\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:4:15: model.layer[0].max_density: expected a number in [0, 1], got 1.5");
  EXPECT_EQ(lines[1], "job.toml:2:1: unknown key 'model.wals'");
  lines = config_problems("[model]\n[[model.layer]]\nparticles = [{ source = \"a.cif\", class = \"x\" },\n"
                          "  { source = \"b.cif\", class = \"x\" }]\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "job.toml:4:31: model.layer[0].particles[1].class: class 'x' is used twice, for 'a.cif' and 'b.cif'");
  lines = config_problems("[model]\nbox_A = [1, 2]\npotential = \"exact\"\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:2:9: model.box_A: expected 3 numbers, got 2");
  EXPECT_EQ(lines[1], "job.toml:3:13: model.potential: expected one of 'fast', 'form-factor', got 'exact'");
}

TEST(config_model, ice_surface_and_contamination_tables) {
  const ModelParams p = model_of(R"([model]
box_A = [2000, 2000, 500]
beads = { count = 1 }
[model.ice_surface]
thickness_A = 400
roughness_A = 15
correlation_A = 800
gradient_A_per_um = -30
[model.contamination]
density_per_um2 = 2.5
radius_A = [80, 150]
material = "hydrocarbon"
)");
  EXPECT_EQ(p.ice_surface.thickness_A, 400);
  EXPECT_EQ(p.ice_surface.roughness_A, 15);
  EXPECT_EQ(p.ice_surface.correlation_A, 800);
  EXPECT_EQ(p.ice_surface.gradient_A_per_um, -30);
  EXPECT_EQ(p.ice_surface.modes, 64);
  EXPECT_TRUE(p.ice_surface.enabled());
  EXPECT_EQ(p.contamination.density_per_um2, 2.5);
  EXPECT_EQ(p.contamination.radius_min_A, 80);
  EXPECT_EQ(p.contamination.radius_max_A, 150);
  EXPECT_EQ(p.contamination.material, ContaminationMaterial::hydrocarbon);
  const auto classes = scene_classes(p);
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].name, "gold");
  EXPECT_EQ(classes[1].name, "contamination");
  // Defaults: both off.
  EXPECT_FALSE(ModelParams{}.ice_surface.enabled());
  EXPECT_EQ(ModelParams{}.contamination.density_per_um2, 0);
  auto lines = config_problems("[model.ice_surface]\nroughnes_A = 3\ncorrelation_A = 0\n[model.contamination]\n"
                               "radius_A = [90, 10]\nmaterial = \"soot\"\ndensity_per_um2 = \"many\"\n");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "job.toml:3:17: model.ice_surface.correlation_A: expected a number in [1, 1e+07], got 0");
  EXPECT_EQ(lines[1], "job.toml:2:1: unknown key 'model.ice_surface.roughnes_A'");
  EXPECT_EQ(lines[2], "job.toml:7:19: model.contamination.density_per_um2: expected a number, got a string");
  EXPECT_EQ(lines[3], "job.toml:5:12: model.contamination.radius_A: expected a number or [min, max] with min <= max");
  EXPECT_EQ(lines[4], "job.toml:6:12: model.contamination.material: expected one of 'ice', 'hydrocarbon', got 'soot'");
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
  p.vesicles = {
      .count_min = 3, .count_max = 3, .radius_min_A = 250, .radius_max_A = 330, .bilayer_A = 40, .sphericity = 0.7};
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
  const int x = int(std::lround(voxel_index(b.centre_A.x, 200, 10))),
            y = int(std::lround(voxel_index(b.centre_A.y, 200, 10))),
            z = int(std::lround(voxel_index(b.centre_A.z, 40, 10)));
  EXPECT_NEAR(v.potential(x, y, z), gold_potential_V(PotentialMode::fast), 1e-3);
  EXPECT_EQ(v.atlas(x, y, z), s.gold_label);
}

TEST(config_model, example_sweeps_parse_and_build) {
  const std::string dir = std::string(__FILE__).substr(0, std::string(__FILE__).rfind("/tests/")) + "/sweeps/examples/";
  for (const char* name : {"actin-filaments.toml", "camkii-domains.toml", "cytoplasm.toml", "clusters.toml"}) {
    const toml::table root = parse_toml_file(dir + name);
    Problems problems;
    TableReader top(root, name, "", problems);
    auto mt = top.table("model");
    ASSERT_TRUE(mt.has_value()) << name;
    ModelParams p = read_model(*mt);
    EXPECT_TRUE(problems.empty()) << name << ": " << (problems.empty() ? "" : problems.lines[0]);
    // Build a small version of each specimen: same mix, smaller box and budget.
    p.box_A = {1500, 1500, std::min(p.box_A[2], 500.0)};
    for (Layer& l : p.layers) l.max_attempts = std::min(l.max_attempts, 300LL);
    StructureSet st;
    for (const std::string& s : model_sources(p)) st[s] = make_synthetic(s);
    const Scene s = build_scene(p, st, 1, 0);
    EXPECT_FALSE(s.particles.empty()) << name;
  }
}

TEST(config_model, direction_and_orientation_entries) {
  const ModelParams p = model_of(R"([model]
[[model.layer]]
particles = [{ source = "synthetic:actin-subunit", scheme = "bundle", direction = [0, 2, 0], direction_spread_deg = 10 },
  { source = "synthetic:ribosome", orientation = { axis = [3, 0, 4], spread_deg = 20 } }]
)");
  const ParticleSpec &b = p.layers[0].particles[0], &r = p.layers[0].particles[1];
  EXPECT_EQ(b.direction, (std::array<double, 3>{0, 1, 0})); // normalised
  EXPECT_EQ(b.direction_spread_deg, 10);
  EXPECT_EQ(r.orientation_axis, (std::array<double, 3>{0.6, 0, 0.8}));
  EXPECT_EQ(r.orientation_spread_deg, 20);
  EXPECT_EQ(r.direction, (std::array<double, 3>{0, 0, 0})); // default: random
  const std::string head = "[model]\n[[model.layer]]\n[[model.layer.particles]]\nsource = \"a.cif\"\n";
  auto lines = config_problems(head + "scheme = \"filament\"\ndirection = [0, 0, 0]\ndirection_spread_deg = -1\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:6:13: model.layer[0].particles[0].direction: expected a non-zero vector [x, y, z]");
  EXPECT_EQ(lines[1],
            "job.toml:7:24: model.layer[0].particles[0].direction_spread_deg: expected a number in [0, 180], got -1");
  lines = config_problems(head + "direction = [1, 0]\ndirection_spread_deg = 5\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "job.toml:5:13: model.layer[0].particles[0].direction: expected 3 numbers, got 2");
  EXPECT_EQ(lines[1], "job.toml:5:13: model.layer[0].particles[0].direction: applies to filament, bundle and "
                      "assembly (primary = \"filament\") entries");
  lines = config_problems(head + "scheme = \"cluster\"\norientation = { spread_deg = 200, spin = 1 }\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "job.toml:6:15: model.layer[0].particles[0].orientation: applies to single and assembly "
                      "(primary = \"single\") entries");
  EXPECT_EQ(lines[1], "job.toml:6:15: model.layer[0].particles[0].orientation.axis: missing (the preferred "
                      "direction of the structure's z axis, [x, y, z])");
  EXPECT_EQ(lines[2], "job.toml:6:30: model.layer[0].particles[0].orientation.spread_deg: expected a number in "
                      "[0, 180], got 200");
  EXPECT_EQ(lines[3], "job.toml:6:35: unknown key 'model.layer[0].particles[0].orientation.spin'");
}

namespace {
/// Angle (degrees, sign-free) between the principal axis of points and v.
double principal_axis_angle_deg(const std::vector<Vec3>& pts, Vec3 v) {
  Vec3 c;
  for (const Vec3& q : pts) c = c + (1.0 / double(pts.size())) * q;
  Vec3 a = pts.back() - pts.front(); // power iteration on the scatter matrix
  for (int it = 0; it < 200; ++it) {
    Vec3 n;
    for (const Vec3& q : pts) n = n + (q - c).dot(a) * (q - c);
    a = n.normalized();
  }
  return std::acos(std::min(1.0, std::abs(a.dot(v.normalized())))) * kRadToDeg;
}

/// Subunit positions of each filament group of a scene.
std::map<std::uint32_t, std::vector<Vec3>> group_points(const Scene& s) {
  std::map<std::uint32_t, std::vector<Vec3>> g;
  for (const PlacedParticle& pp : s.particles) g[pp.group].push_back(pp.position_A);
  return g;
}

ModelParams filament_model(std::array<double, 3> direction, double spread_deg, double flexibility_deg) {
  ModelParams p;
  p.box_A = {3000, 3000, 400};
  ParticleSpec f = spec("synthetic:actin-subunit", "actin");
  f.scheme = "filament";
  f.filament = filament_preset("actin");
  f.filament.flexibility_deg = flexibility_deg;
  f.filament.min_length_A = 800;
  f.direction = direction;
  f.direction_spread_deg = spread_deg;
  p.layers = {layer(0.02, 1500, {f})};
  return p;
}
} // namespace

TEST(schemes, filaments_grow_along_the_chosen_direction) {
  // Spread 0, stiff: every filament's axis (principal axis of its subunit positions) is parallel to x, and
  // the table records x as the group's direction.
  ModelParams p = filament_model({1, 0, 0}, 0, 0);
  const StructureSet st = structures_for(p);
  Scene s = build_scene(p, st, 3, 0);
  auto groups = group_points(s);
  ASSERT_GE(groups.size(), 3u);
  for (const auto& [g, pts] : groups) EXPECT_LT(principal_axis_angle_deg(pts, {1, 0, 0}), 0.5) << g;
  for (const PlacedParticle& pp : s.particles) EXPECT_NEAR((pp.direction - Vec3{1, 0, 0}).length(), 0, 1e-12);
  // Flexible (1 deg per subunit): the axis wanders from x like a random walk, well within 3 sqrt(steps) deg.
  p = filament_model({1, 0, 0}, 0, 1);
  s = build_scene(p, st, 3, 0);
  groups = group_points(s);
  ASSERT_GE(groups.size(), 3u);
  for (const auto& [g, pts] : groups) EXPECT_LT(principal_axis_angle_deg(pts, {1, 0, 0}), 3 * std::sqrt(pts.size()));
  // Spread 30 about y: every start axis is within 30 deg of y, not all on it; stiff filaments follow it.
  p = filament_model({0, 1, 0}, 30, 0);
  s = build_scene(p, st, 3, 0);
  double widest = 0;
  for (const PlacedParticle& pp : s.particles) {
    const double a = std::acos(std::min(1.0, pp.direction.y)) * kRadToDeg;
    EXPECT_LE(a, 30 + 1e-9);
    widest = std::max(widest, a);
    EXPECT_NEAR((pp.rotation * Vec3{0, 0, 1} - pp.direction).length(), 0, 1e-9);
  }
  EXPECT_GT(widest, 10);
  for (const auto& [g, pts] : group_points(s)) EXPECT_LT(principal_axis_angle_deg(pts, {0, 1, 0}), 30.5) << g;
}

TEST(schemes, single_particles_take_the_preferred_orientation) {
  ModelParams p;
  p.box_A = {1500, 1500, 400};
  ParticleSpec r = spec("synthetic:globular?mass_kDa=200", "g");
  r.orientation_axis = {0, 0, 1};
  p.layers = {layer(0.05, 300, {r})};
  const StructureSet st = structures_for(p);
  Scene s = build_scene(p, st, 6, 0);
  ASSERT_GE(s.particles.size(), 10u);
  std::set<long> spins;
  for (const PlacedParticle& pp : s.particles) {
    EXPECT_NEAR((pp.rotation * Vec3{0, 0, 1} - Vec3{0, 0, 1}).length(), 0, 1e-12); // z column = the axis
    spins.insert(std::lround(std::atan2(pp.rotation(1, 0), pp.rotation(0, 0)) * kRadToDeg));
    EXPECT_EQ(pp.direction.length(), 0); // no filament
  }
  EXPECT_GE(spins.size(), s.particles.size() / 2); // spin about the axis is random
  p.layers[0].particles[0].orientation_axis = {1 / std::sqrt(2.0), 1 / std::sqrt(2.0), 0};
  p.layers[0].particles[0].orientation_spread_deg = 20;
  s = build_scene(p, st, 6, 0);
  double widest = 0;
  for (const PlacedParticle& pp : s.particles) {
    const double a = std::acos(std::min(1.0, (pp.rotation * Vec3{0, 0, 1}).dot(Vec3{1, 1, 0}.normalized())));
    EXPECT_LE(a * kRadToDeg, 20 + 1e-9);
    widest = std::max(widest, a * kRadToDeg);
  }
  EXPECT_GT(widest, 8);
}

TEST(config_model, count_entries) {
  const ModelParams p = model_of(R"([model]
[[model.layer]]
particles = [{ source = "synthetic:ribosome", count = 12 }, { source = "synthetic:cofilin", count = [3, 5] },
  { source = "synthetic:tric", weight = 2 }]
)");
  const auto& q = p.layers[0].particles;
  EXPECT_EQ(q[0].count_min, 12);
  EXPECT_EQ(q[0].count_max, 12);
  EXPECT_EQ(q[1].count_min, 3);
  EXPECT_EQ(q[1].count_max, 5);
  EXPECT_EQ(q[2].count_min, -1); // no count: fills by weight up to max_density
  const std::string head = "[model]\n[[model.layer]]\n";
  auto lines = config_problems(head + "particles = [{ source = \"a.cif\", count = 2.5 }, { source = \"b.cif\", "
                                      "count = [4, 1] }, { source = \"c.cif\", count = 3, weight = 2 }]\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "job.toml:3:42: model.layer[0].particles[0].count: expected a whole number of units in "
                      "[0, 10000000] or [min, max]");
  EXPECT_EQ(lines[1], "job.toml:3:77: model.layer[0].particles[1].count: expected a number or [min, max] with "
                      "min <= max");
  EXPECT_EQ(lines[2], "job.toml:3:127: model.layer[0].particles[2].weight: applies to entries without a count (an "
                      "entry with a count is placed exactly, whatever the weights)");
  lines = config_problems(head + "max_density = 0.2\nparticles = [{ source = \"a.cif\", count = 2 }]\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "job.toml:3:15: model.layer[0].max_density: every particle entry of this layer has a count: "
                      "max_density would fill nothing");
}
