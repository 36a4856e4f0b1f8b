#include "core/fft.hpp"
#include "expect_error.hpp"
#include "io/structures/structure_file.hpp"
#include "io_test_util.hpp"
#include "model/ice.hpp"
#include "model_test_helpers.hpp"

#include <cstdio>
#include <cstring>

using namespace tomosweep;
using namespace tomosweep::test;
using test_util::error_of;

TEST(synthetic, deterministic_and_at_requested_mass) {
  const AtomicStructure a = make_synthetic("synthetic:globular?mass_kDa=500");
  const AtomicStructure b = make_synthetic("synthetic:globular?mass_kDa=500");
  ASSERT_EQ(a.atoms.size(), b.atoms.size());
  for (std::size_t i = 0; i < a.atoms.size(); i += 97) EXPECT_EQ(a.atoms[i].pos_A, b.atoms[i].pos_A);
  EXPECT_NEAR(structure_mass_Da(a), 500e3, 0.03 * 500e3);
  EXPECT_TRUE(a.synthetic);
  EXPECT_GT(a.chains.size(), 1u);
  for (const char* kind :
       {"ribosome", "actin-subunit", "cofilactin-subunit", "tubulin-dimer", "tric", "camkii", "channel"})
    EXPECT_NO_THROW(validate_structure(make_synthetic(std::string("synthetic:") + kind)));
  EXPECT_TRUE(is_synthetic("synthetic:ribosome"));
  EXPECT_FALSE(is_synthetic("data/1abc.cif"));
}

TEST(synthetic, unknown_spec_is_one_line_error) {
  EXPECT_EQ(error_of([] { make_synthetic("synthetic:blob"); }),
            "unknown synthetic structure 'synthetic:blob' (known: globular, ribosome, actin-subunit, cofilin, "
            "cofilactin-subunit, tubulin-dimer, tric, camkii, channel)");
  EXPECT_EQ(error_of([] { make_synthetic("synthetic:globular?mass=5"); }),
            "synthetic structure 'synthetic:globular?mass=5': unknown parameter 'mass'");
}

TEST(packing, no_overlaps) {
  const ModelParams p = small_model(0.2);
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 11, 0);
  ASSERT_GT(s.particles.size(), 20u);
  // Every collision cell is claimed by at most one particle, but for rare contacts: placement tests the surface
  // points and a quarter of the interior points, so over seeds 1-12 of this scene 0-2 of some 30 000 cells are
  // shared by two particles (4 in all before synthetic domains filled their overlaps once, 6 after).
  std::map<std::tuple<long, long, long>, std::uint32_t> owner;
  int shared = 0;
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
      shared += !owner.emplace(c, pp.instance).second;
    }
  }
  EXPECT_LE(shared, 2);
  EXPECT_GT(owner.size(), 20000u);
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
  EXPECT_NEAR(gold_potential_V(PotentialMode::form_factor), 29.9, 0.1);
  EXPECT_NEAR(carbon_potential_V(PotentialMode::fast), 8.62, 0.01);
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
  EXPECT_EQ(error_of([&] { build_scene(p, st, 1, 0); }), "structure 'empty.pdb': no atoms");
  st = structures_for(p);
  st["synthetic:cofilin"].atoms[3].z = 0;
  st["synthetic:cofilin"].source = "odd.cif";
  EXPECT_EQ(error_of([&] { build_scene(p, st, 1, 0); }),
            "structure 'odd.cif': unknown element (atomic number 0) at atom 4");

  st = structures_for(p);
  p.box_A = {1200, 1000, 60};
  EXPECT_EQ(
      error_of([&] { build_scene(p, st, 1, 0); }),
      "model.layer[0].particles[0]: particle 'synthetic:globular?mass_kDa=300' (" +
          [&] {
            const AtomicStructure& s = st.at("synthetic:globular?mass_kDa=300");
            double r = 0;
            for (const Atom& a : s.atoms) r = std::max(r, (a.pos_A - structure_centre(s)).length());
            return std::to_string(std::lround(2 * r));
          }() +
          " A across) is larger than the box (60 A)");

  p = small_model(1.5);
  EXPECT_EQ(error_of([&] { build_scene(p, st, 1, 0); }),
            "model.layer[0].max_density: expected a number in [0, 1], got 1.5");

  p = small_model(0.1);
  p.layers[0].particles[1].class_name = "big";
  EXPECT_EQ(error_of([&] { build_scene(p, st, 1, 0); }),
            "model.layer[0].particles[1]: class 'big' is used twice, for 'synthetic:globular?mass_kDa=300' and "
            "'synthetic:cofilin'");
  p = small_model(0.1);
  p.layers[0].particles[0].source = "missing.cif";
  EXPECT_EQ(error_of([&] { build_scene(p, st, 1, 0); }),
            "model.layer[0].particles[0]: structure 'missing.cif' was not loaded");
}

TEST(rasterize, form_factor_b_blur_keeps_integral_and_lowers_peak) {
  const AtomicStructure s = make_synthetic("synthetic:cofilin");
  const StructureSet st{{s.source, s}};
  Scene sc;
  sc.box_A = {120, 120, 120};
  sc.ice = false;
  sc.classes = {{1, "c", s.source}};
  sc.particles.push_back({1, 1, s.source, {0, 0, 0}, Mat3{}, "", 1});
  double fsum = 0;
  for (const Atom& a : s.atoms) fsum += atom_potential_weight(a, PotentialMode::form_factor);
  double peak[2];
  for (int i = 0; i < 2; ++i) {
    sc.b_factor_A2 = i ? 300 : 0;
    const SpecimenVolumes v = rasterize(sc, st, 2, PotentialMode::form_factor);
    const double integral = std::accumulate(v.potential.data.begin(), v.potential.data.end(), 0.0) * 8;
    EXPECT_NEAR(integral / (kVoltA2PerScatteringA * fsum), 1.0, 1e-5);
    peak[i] = *std::max_element(v.potential.data.begin(), v.potential.data.end());
  }
  EXPECT_LT(peak[1], 0.9 * peak[0]);
}

TEST(rasterize, class_volumes_sum_to_the_particle_potential) {
  const ModelParams p = small_model(0.1);
  const StructureSet st = structures_for(p);
  Scene s = build_scene(p, st, 21, 0);
  s.ice = false;
  const SpecimenVolumes all = rasterize(s, st, 12, PotentialMode::fast);
  const Volume<float> big = rasterize_class(s, st, 12, PotentialMode::fast, 1);
  const Volume<float> small = rasterize_class(s, st, 12, PotentialMode::fast, 2);
  ASSERT_TRUE(big.same_shape(all.potential));
  double worst = 0;
  for (std::size_t i = 0; i < big.size(); ++i)
    worst = std::max(worst, std::abs(double(big.data[i]) + small.data[i] - all.potential.data[i]));
  EXPECT_LT(worst, 1e-4);
  EXPECT_GT(*std::max_element(small.data.begin(), small.data.end()), 1.0f);
}

TEST(packing, single_face_wall_holds_and_other_face_is_open) {
  ModelParams p = small_model(0.2, "-z");
  const StructureSet st = structures_for(p);
  const Scene s = build_scene(p, st, 6, 0);
  double lowest = 1e9, highest = -1e9;
  for (const PlacedParticle& pp : s.particles)
    for (const Vec3& a : particle_atoms(pp, st)) lowest = std::min(lowest, a.z), highest = std::max(highest, a.z);
  EXPECT_GE(lowest, -150.0 - 4.0);
  EXPECT_GT(highest, 150.0); // particles cross the open top face
}

// ---- Calibrated contrast (issue 8): protein, ice and lipid per potential mode. ----

namespace {

// Heavy atoms (C, N, O, S) of each amino acid in a chain; the reader adds the hydrogens.
struct Heavy {
  const char* name;
  int c, n, o, s;
};
constexpr Heavy kResidues[] = {{"ALA", 3, 1, 1, 0}, {"ARG", 6, 4, 1, 0},  {"ASN", 4, 2, 2, 0}, {"ASP", 4, 1, 3, 0},
                               {"CYS", 3, 1, 1, 1}, {"GLN", 5, 2, 2, 0},  {"GLU", 5, 1, 3, 0}, {"GLY", 2, 1, 1, 0},
                               {"HIS", 6, 3, 1, 0}, {"ILE", 6, 1, 1, 0},  {"LEU", 6, 1, 1, 0}, {"LYS", 6, 2, 1, 0},
                               {"MET", 5, 1, 1, 1}, {"PHE", 9, 1, 1, 0},  {"PRO", 5, 1, 1, 0}, {"SER", 3, 1, 2, 0},
                               {"THR", 4, 1, 2, 0}, {"TRP", 11, 2, 1, 0}, {"TYR", 9, 1, 2, 0}, {"VAL", 5, 1, 1, 0}};
constexpr const char* kOneLetter = "ARNDCQEGHILKMFPSTWYV";

std::string pdb_atom(int serial, const char* name, const char* res, int seq, double x, const char* el) {
  char b[100];
  std::snprintf(b, sizeof b, "%-6s%5d %-4s %3s %c%4d    %8.3f%8.3f%8.3f%6.2f%6.2f          %2s\n", "ATOM", serial, name,
                res, 'A', seq, x, 0.0, 0.0, 1.0, 20.0, el);
  return b;
}

// Hen egg-white lysozyme (129 residues) as a test-written PDB: all heavy atoms, or C-alpha atoms only.
AtomicStructure lysozyme(bool c_alpha_only) {
  const std::string seq = "KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDGRTPGSRNLCNIPCSALLSSDITASV"
                          "NCAKKIVSDGNGMNAWVAWRNRCKGTDVQAWIRGCRL";
  std::string t;
  int serial = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    const Heavy& r = kResidues[std::strchr(kOneLetter, seq[i]) - kOneLetter];
    const int res = int(i) + 1;
    const double x = 3.8 * double(i);
    t += pdb_atom(++serial, "CA", r.name, res, x, "C");
    if (c_alpha_only) continue;
    for (int k = 1; k < r.c; ++k) t += pdb_atom(++serial, k == 1 ? "C" : "CB", r.name, res, x + 0.1 * k, "C");
    for (int k = 0; k < r.n; ++k) t += pdb_atom(++serial, k == 0 ? "N" : "NZ", r.name, res, x - 0.1 * k, "N");
    for (int k = 0; k < r.o; ++k) t += pdb_atom(++serial, k == 0 ? "O" : "OG", r.name, res, x + 0.05 * k, "O");
    for (int k = 0; k < r.s; ++k) t += pdb_atom(++serial, "SG", r.name, res, x + 0.2, "S");
  }
  const std::string path = io_test::tmp(c_alpha_only ? "lysozyme_ca.pdb" : "lysozyme.pdb");
  io_test::write_text(path, t + "END\n");
  return read_structure(path);
}

double summed_weight(const AtomicStructure& s, PotentialMode mode) {
  double w = 0;
  for (const Atom& a : s.atoms) w += atom_potential_weight(a, mode);
  return w;
}

} // namespace

TEST(contrast, protein_minus_ice_per_mode) {
  // Protein at 1.35 g/cm3 minus ice (0.0314 H2O/A^3). Form-factor (isolated atoms, Mott-Bethe): lysozyme
  // 7.88 V (its neutral formula by hand: 7.86 V) against ice's 4.572 V, 3.31 V of contrast; fast (electron
  // counts scaled to ice = 4.5 V, CTS's weights): 1.72 V. The synthetic stand-ins: 3.42 V and 1.75 V.
  const AtomicStructure s = lysozyme(false), g = make_synthetic("synthetic:globular?mass_kDa=200");
  const PotentialMode ff = PotentialMode::form_factor, fast = PotentialMode::fast;
  // f_e(0) of International Tables C 4.3.2.2 (sum of a_i), and carbon's f-weighted b (blur of form-factor mode).
  const std::map<int, double> f0{{1, 0.5288}, {6, 2.5088}, {7, 2.2135}, {8, 1.9834}, {15, 5.4876}, {16, 5.1604}};
  for (auto [z, f] : f0) EXPECT_NEAR(scattering_f0_A(z), f, 1e-4) << z;
  EXPECT_NEAR(form_factor_b_A2(6), 17.06, 0.01);
  EXPECT_NEAR(ice_potential_V(ff), 4.572, 0.002);
  EXPECT_NEAR(ice_potential_V(fast), 4.5, 1e-9);
  EXPECT_NEAR(protein_potential_V(s, ff) - ice_potential_V(ff), 3.31, 0.02);
  EXPECT_NEAR(protein_potential_V(s, fast) - ice_potential_V(fast), 1.72, 0.02);
  EXPECT_NEAR(protein_potential_V(g, ff) - ice_potential_V(ff), 3.42, 0.02);
  EXPECT_NEAR(protein_potential_V(g, fast) - ice_potential_V(fast), 1.75, 0.02);
  // Rasterized: a voxel filled by protein holds no ice, so its potential is the protein's. A 40 A cube of
  // 2 A cells, each holding lysozyme's elements (hydrogens included) in its proportions at 1.35 g/cm3.
  std::map<int, double> count;
  double mass = 0;
  for (const Atom& a : s.atoms) count[a.z] += 1, count[1] += a.implicit_h, mass += atom_mass_Da(a);
  const double per_cell = 8 * kProteinDaPerA3; // Da in a 2 A cell
  AtomicStructure cube;
  cube.source = "cube";
  cube.chains = {"A"};
  for (int z = 0; z < 20; ++z)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 20; ++x)
        for (auto [el, n] : count) {
          Atom a;
          a.pos_A = {2.0 * x, 2.0 * y, 2.0 * z};
          a.z = std::uint8_t(el);
          a.occupancy = float(n * per_cell / mass);
          cube.atoms.push_back(a);
        }
  Scene sc;
  sc.box_A = {80, 80, 80};
  sc.classes = {{1, "cube", "cube"}};
  sc.particles.push_back({1, 1, "cube", {0, 0, 0}, Mat3{}, "", 1});
  for (PotentialMode m : {ff, fast}) {
    const SpecimenVolumes v = rasterize(sc, {{"cube", cube}}, 10, m);
    EXPECT_NEAR(v.potential(0, 0, 0), ice_potential_V(m), 1e-5);
    EXPECT_NEAR(v.potential(4, 4, 4) - v.potential(0, 0, 0), protein_potential_V(s, m) - ice_potential_V(m), 0.01);
  }
}

TEST(contrast, c_alpha_only_model_carries_the_full_atom_potential) {
  const AtomicStructure full = lysozyme(false), ca = lysozyme(true);
  ASSERT_EQ(ca.atoms.size(), 129u);
  ASSERT_GT(full.atoms.size(), 900u);
  // Fast mode counts electrons: the pseudo-atoms carry them exactly (up to rounding per residue).
  EXPECT_NEAR(summed_weight(ca, PotentialMode::fast) / summed_weight(full, PotentialMode::fast), 1.0, 0.005);
  // Form-factor mode: electrons x the f_e(0) per electron of ubiquitin; lysozyme's composition differs a little.
  EXPECT_NEAR(summed_weight(ca, PotentialMode::form_factor) / summed_weight(full, PotentialMode::form_factor), 1.0,
              0.02);
  // Not the C atom's f_e(0) plus hydrogens: that would be about 30 % too much.
  double naive = 0;
  for (const Atom& a : ca.atoms) naive += scattering_f0_A(a.z) + a.implicit_h * scattering_f0_A(1);
  EXPECT_GT(naive / summed_weight(full, PotentialMode::form_factor), 1.2);
  // Rasterized, the integrals agree the same way.
  for (PotentialMode m : {PotentialMode::fast, PotentialMode::form_factor}) {
    double integral[2];
    for (int k = 0; k < 2; ++k) {
      const AtomicStructure& s = k ? ca : full;
      Scene sc;
      sc.box_A = {600, 60, 60};
      sc.ice = false;
      sc.classes = {{1, "lys", s.source}};
      sc.particles.push_back({1, 1, s.source, {0, 0, 0}, Mat3{}, "", 1});
      const SpecimenVolumes v = rasterize(sc, {{s.source, s}}, 10, m);
      integral[k] = std::accumulate(v.potential.data.begin(), v.potential.data.end(), 0.0) * 1000;
    }
    EXPECT_NEAR(integral[1] / integral[0], 1.0, 0.02);
  }
}

TEST(contrast, lipid_profile_follows_the_mode) {
  // Hydrocarbon core: CH2 at 0.29 e/A^3; head-group peak: C10H18NO8P at 0.45 e/A^3.
  // Fast: 14.33 V A^3 per electron. Form-factor: 47.878 V A^2 x f_e(0) per electron (CH2: 3.566 A / 8 e;
  // head group: 58.17 A / 164 e).
  EXPECT_NEAR(lipid_tail_potential_V(PotentialMode::fast), 4.156, 0.002);
  EXPECT_NEAR(lipid_head_potential_V(PotentialMode::fast), 6.449, 0.002);
  EXPECT_NEAR(lipid_tail_potential_V(PotentialMode::form_factor), 6.19, 0.01);
  EXPECT_NEAR(lipid_head_potential_V(PotentialMode::form_factor), 7.64, 0.01);
  for (PotentialMode m : {PotentialMode::fast, PotentialMode::form_factor}) {
    // Mid-plane: the core; head-group centres (+-15 A in a 40 A bilayer): the peak; outside: nothing.
    EXPECT_NEAR(bilayer_potential_V(0, 40, m), lipid_tail_potential_V(m), 1e-3);
    EXPECT_NEAR(bilayer_potential_V(15, 40, m), lipid_head_potential_V(m), 1e-9);
    EXPECT_NEAR(bilayer_potential_V(-15, 40, m), lipid_head_potential_V(m), 1e-9);
    EXPECT_EQ(bilayer_potential_V(22, 40, m), 0.0);
  }
}

TEST(contrast, synthetic_domains_fill_their_overlaps_once) {
  // Domains of a synthetic structure overlap (attached at 0.75 of their summed radii); atoms fill an overlap
  // once, so no region holds twice the protein density. At 10 A (about 30 heavy atoms a voxel) the potential
  // inside then stays near the mean inner potential: 95th percentile 1.27-1.32 x, maximum 1.5-1.6 x (when
  // overlaps were filled twice: 1.9-2.5 x and 3-4 x). The layout is scaled up to keep the requested mass.
  for (const char* src : {"synthetic:globular?mass_kDa=500", "synthetic:ribosome"}) {
    const AtomicStructure s = make_synthetic(src);
    Scene sc;
    sc.box_A = {400, 400, 400};
    sc.classes = {{1, "g", s.source}};
    sc.particles.push_back({1, 1, s.source, {0, 0, 0}, Mat3{}, "", 1});
    const SpecimenVolumes v = rasterize(sc, {{s.source, s}}, 10, PotentialMode::form_factor);
    std::vector<float> inside;
    for (std::size_t i = 0; i < v.potential.size(); ++i)
      if (v.atlas.data[i] == 1) inside.push_back(v.potential.data[i]);
    ASSERT_GT(inside.size(), 100u) << src;
    std::sort(inside.begin(), inside.end());
    const double mip = protein_potential_V(s, PotentialMode::form_factor);
    EXPECT_LT(inside[inside.size() * 95 / 100], 1.4 * mip) << src;
    EXPECT_LT(inside.back(), 1.75 * mip) << src;
  }
  EXPECT_NEAR(structure_mass_Da(make_synthetic("synthetic:globular?mass_kDa=500")), 500e3, 0.03 * 500e3);
  EXPECT_NEAR(structure_mass_Da(make_synthetic("synthetic:ribosome")), 2.5e6, 0.03 * 2.5e6);
}

namespace {
struct Band {
  double got = 0, want = 0; ///< variance of the band-filtered field, and its expectation (V^2)
  double modes = 0;         ///< DFT modes in the band
};
// The part of v in the band lo <= |k| < hi (cycles per voxel): its variance, and the expectation from the
// texture's power spectrum (the sum over the band's modes of ice_texture_power, over the voxel count).
Band band_variance(const Volume<float>& v, double lo, double hi, double ice_V) {
  Volume<float> b = v;
  filter_volume(b, [&](double k) { return k >= lo && k < hi ? 1.0 : 0.0; });
  Band r;
  for (float x : b.data) r.got += double(x) * x;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const double k =
            std::sqrt(std::pow(double(fft_freq(x, v.nx)) / v.nx, 2) + std::pow(double(fft_freq(y, v.ny)) / v.ny, 2) +
                      std::pow(double(fft_freq(z, v.nz)) / v.nz, 2));
        if (k >= lo && k < hi) r.want += ice_texture_power(k / v.voxel_A, v.voxel_A, ice_V), r.modes += 1;
      }
  r.got /= double(b.size()), r.want /= double(b.size());
  return r;
}
} // namespace

TEST(ice_texture, structure_factor_and_form_factor_model) {
  EXPECT_NEAR(water_structure_factor(0), 0.062, 1e-3);  // rho kT kappa_T of water at 298 K
  EXPECT_NEAR(water_structure_factor(2.0), 1.39, 0.01); // first peak
  EXPECT_NEAR(water_structure_factor(20.0), 1.0, 1e-6); // uncorrelated molecules far out
  EXPECT_LT(water_structure_factor(1.0), water_structure_factor(1.5));
  EXPECT_NEAR(water_form_factor_shape(0), 1.0, 1e-12);
  EXPECT_NEAR(water_form_factor_shape(0.5), 0.566, 0.01); // O + 2 H at d = 2 A
  // Voxel of 3 A: 0.848 molecules; the DC power is S(0) x the Poisson variance ice_V^2 / n.
  EXPECT_NEAR(ice_texture_power(0, 3, 4.5), 0.062 * 4.5 * 4.5 / (0.0314 * 27), 1e-3);
}

TEST(ice_texture, variance_and_spectrum_follow_the_model) {
  const Grid g{32, 32, 32, 2.0};
  const double ice_V = 4.5;
  const Volume<float> t = ice_texture(g, ice_V, 7, 1);
  // The whole band (the voxel variance), a low band (S ~ 0.1) and a high band (S ~ 0.8 to 1.4): each within
  // 4 standard errors of a variance estimated from `modes` DFT modes (sqrt(2 / modes) relative).
  const Band all = band_variance(t, 0.0, 1.0, ice_V), low = band_variance(t, 0.02, 0.2, ice_V),
             high = band_variance(t, 0.5, 0.9, ice_V);
  for (const Band& b : {all, low, high}) EXPECT_NEAR(b.got / b.want, 1, 4 * std::sqrt(2 / b.modes)) << b.modes;
  // Per mode, the power rises from S ~ 0.1 to the peak: the spectrum's shape, not only its integral.
  EXPECT_GT(high.got / high.modes, 3 * low.got / low.modes);
  // Deterministic per (seed, replicate), independent across replicates.
  EXPECT_EQ(ice_texture(g, ice_V, 7, 1).data, t.data);
  const Volume<float> other = ice_texture(g, ice_V, 7, 2);
  double dot = 0, norm = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    dot += double(t.data[i]) * other.data[i], norm += double(t.data[i]) * t.data[i];
  EXPECT_LT(std::abs(dot / norm), 0.05);
}

TEST(ice_texture, spectrum_is_that_of_real_white_noise) {
  // The half spectrum's rows are Hermitian in the planes kx = 0 and nx / 2 (real where a term is its own mirror),
  // and unfiltered it inverts to white noise of variance 1 per voxel, for even and odd sizes alike.
  for (const Grid g : {Grid{16, 12, 10, 3.0}, Grid{17, 15, 13, 3.0}, Grid{15, 16, 9, 3.0}}) {
    const IceTextureField f = ice_texture_field(g, 4.5, 11, 2);
    const int nkx = g.nx / 2 + 1;
    std::vector<Complex> spec(std::size_t(nkx) * g.ny * g.nz);
    auto at = [&](int kx, int ky, int kz) -> Complex& { return spec[(std::size_t(kz) * g.ny + ky) * nkx + kx]; };
    for (int kz = 0; kz < g.nz; ++kz)
      for (int ky = 0; ky < g.ny; ++ky) f.spectrum(ky, kz, &at(0, ky, kz));
    std::vector<int> planes{0};
    if (g.nx % 2 == 0) planes.push_back(nkx - 1);
    for (int kx : planes)
      for (int kz = 0; kz < g.nz; ++kz)
        for (int ky = 0; ky < g.ny; ++ky) {
          const Complex a = at(kx, ky, kz), b = at(kx, (g.ny - ky) % g.ny, (g.nz - kz) % g.nz);
          ASSERT_EQ(a, std::conj(b)) << g.nx << " x " << g.ny << " x " << g.nz << ": " << kx << " " << ky << " " << kz;
        }
    const Volume<float> w = spectral_volume(g, f.spectrum, [](double) { return 1.0; });
    double s = 0, s2 = 0;
    for (float v : w.data) s += v, s2 += double(v) * v;
    const double n = double(w.size()), mean = s / n, var = s2 / n - mean * mean;
    EXPECT_NEAR(var, 1.0, 4 * std::sqrt(2 / n)) << g.nx << " x " << g.ny << " x " << g.nz;
    // The same seed and replicate give the same rows in any order.
    std::vector<Complex> again(static_cast<std::size_t>(nkx));
    f.spectrum(3, g.nz - 1, again.data());
    for (int kx = 0; kx < nkx; ++kx) ASSERT_EQ(again[kx], at(kx, 3, g.nz - 1));
  }
}

TEST(ice_texture, rasterized_ice_carries_the_texture_times_the_free_fraction) {
  // A carbon film filling the lower half of the box holds no ice, hence no texture; above it the ice is the
  // mean level plus the texture of (seed, replicate).
  Scene sc;
  sc.box_A = {40, 40, 40};
  sc.carbon.present = true;
  sc.carbon.thickness_A = 20;
  sc.carbon.z_A = -10;
  sc.carbon.hole_radius_A = 0;
  sc.ice_texture = IceTexture::granular;
  sc.seed = 5, sc.replicate = 3;
  const SpecimenVolumes v = rasterize(sc, {}, 4, PotentialMode::fast);
  const Volume<float> t = ice_texture(v.potential.grid(), kIceMeanPotentialV, 5, 3);
  sc.ice_texture = IceTexture::none;
  const SpecimenVolumes flat = rasterize(sc, {}, 4, PotentialMode::fast);
  double top = 0;
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) {
      EXPECT_NEAR(v.potential(x, y, 1), flat.potential(x, y, 1), 1e-5); // inside the carbon
      EXPECT_NEAR(v.potential(x, y, 8) - flat.potential(x, y, 8), t(x, y, 8), 1e-5);
      top += std::abs(t(x, y, 8));
    }
  EXPECT_GT(top / 100, 0.1); // volts: the texture is there
}

namespace {
/// Units (groups) per class label of a scene.
std::map<int, std::set<std::uint32_t>> groups_per_label(const Scene& s) {
  std::map<int, std::set<std::uint32_t>> out;
  for (const PlacedParticle& p : s.particles) out[p.label].insert(p.group);
  return out;
}
} // namespace

TEST(packing, counts_are_exact_per_entry_and_deterministic) {
  ModelParams p;
  p.box_A = {1500, 1500, 400};
  ParticleSpec big = spec("synthetic:globular?mass_kDa=300", "big");
  big.count_min = big.count_max = 9;
  ParticleSpec cl = spec("synthetic:cofilin", "clustered");
  cl.scheme = "cluster";
  cl.count_min = 2, cl.count_max = 4;
  ParticleSpec fil = spec("synthetic:actin-subunit", "actin");
  fil.scheme = "filament";
  fil.filament = filament_preset("actin");
  fil.filament.min_length_A = 300, fil.filament.max_length_A = 600;
  fil.count_min = fil.count_max = 3;
  ParticleSpec fill = spec("synthetic:globular?mass_kDa=100", "filler");
  p.layers = {layer(0.02, 4000, {big, cl, fil, fill})};
  const StructureSet st = structures_for(p);
  std::set<std::size_t> cluster_counts;
  for (int replicate = 0; replicate < 4; ++replicate) {
    const Scene s = build_scene(p, st, 11, replicate);
    auto g = groups_per_label(s);
    EXPECT_EQ(g[1].size(), 9u);                        // singles: one group per particle
    EXPECT_GE(g[2].size(), 2u);                        // clusters: units are clusters (seed + satellites)
    EXPECT_LE(g[2].size(), 4u);
    cluster_counts.insert(g[2].size());
    EXPECT_EQ(g[3].size(), 3u);                        // filaments: units are filaments, not subunits
    EXPECT_GT(std::count_if(s.particles.begin(), s.particles.end(), [](auto& q) { return q.label == 3; }), 3);
    EXPECT_GT(g[4].size(), 0u);                        // the entry without a count still fills by density
    const Scene again = build_scene(p, st, 11, replicate);
    ASSERT_EQ(again.particles.size(), s.particles.size());
    for (std::size_t i = 0; i < s.particles.size(); ++i)
      EXPECT_EQ(again.particles[i].position_A, s.particles[i].position_A);
  }
  EXPECT_GT(cluster_counts.size(), 1u); // [2, 4] is drawn per scene
}

TEST(packing, count_not_reached_is_one_line_error) {
  ModelParams p;
  p.box_A = {400, 400, 150};
  ParticleSpec a = spec("synthetic:globular?mass_kDa=60", "small");
  a.count_min = a.count_max = 200;
  p.layers = {layer(0.4, 3000, {a})};
  const StructureSet st = structures_for(p);
  const std::string e = error_of([&] { build_scene(p, st, 3, 0); });
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(e.rfind("model.layer[0].particles[0] (synthetic:globular?mass_kDa=60): count 200 asked, ", 0), 0u) << e;
  EXPECT_NE(e.find(" placed in 3000 attempts"), std::string::npos) << e;
  a.count_min = a.count_max = 700; // more protein than the box holds: refused before packing
  p.layers = {layer(0.4, 3000, {a})};
  EXPECT_EQ(error_of([&] { validate_model(p, st); }),
            "model.layer[0]: the counted particles need at least 52 nm^3 of protein, more than the box (24 nm^3)");
}

// A rank group rasterizes a slab per rank (sweep/group_job.hpp): rasterize_slab must give rasterize()'s slices bit
// for bit (particles cut by a slab face, blurred in form-factor mode; carbon, vesicles, beads; rough ice surfaces),
// and granular ice needs the texture's slab.
TEST(rasterize, slab_equals_the_slices_of_the_whole) {
  ModelParams p = small_model(0.2);
  p.box_A = {400, 400, 320};
  p.carbon.enabled = true;
  p.carbon.thickness_A = 60;
  p.carbon.hole_radius_A = 120;
  p.vesicles.count_min = p.vesicles.count_max = 1;
  p.vesicles.radius_min_A = p.vesicles.radius_max_A = 80;
  p.beads.count = 2;
  p.ice_surface.thickness_A = 250;
  p.ice_surface.roughness_A = 15;
  p.ice_texture = IceTexture::none;
  const StructureSet st = structures_for(p);
  Scene s = build_scene(p, st, 5, 0);
  for (const PotentialMode mode : {PotentialMode::fast, PotentialMode::form_factor}) {
    const SpecimenVolumes whole = rasterize(s, st, 10, mode);
    ASSERT_EQ(whole.potential.nz, 32);
    for (const auto& [z0, z1] : {std::pair{0, 13}, std::pair{13, 14}, std::pair{14, 32}}) {
      const SpecimenVolumes slab = rasterize_slab(s, st, 10, mode, z0, z1);
      const std::size_t plane = static_cast<std::size_t>(whole.potential.nx) * whole.potential.ny;
      ASSERT_EQ(slab.potential.nz, z1 - z0);
      EXPECT_TRUE(std::equal(slab.potential.data.begin(), slab.potential.data.end(),
                             whole.potential.data.begin() + static_cast<std::ptrdiff_t>(plane * z0)));
      EXPECT_TRUE(std::equal(slab.atlas.data.begin(), slab.atlas.data.end(),
                             whole.atlas.data.begin() + static_cast<std::ptrdiff_t>(plane * z0)));
      EXPECT_TRUE(std::equal(slab.instances.data.begin(), slab.instances.data.end(),
                             whole.instances.data.begin() + static_cast<std::ptrdiff_t>(plane * z0)));
    }
  }
  s.ice_texture = IceTexture::granular;
  EXPECT_EQ(test_util::error_of([&] { rasterize_slab(s, st, 10, PotentialMode::fast, 0, 13); }),
            "model.ice_texture = \"granular\" on a slab of the volume needs the texture's slab");
  // With the texture thread too (tests/unit/texture_thread_test.cpp has the whole volume).
  EXPECT_EQ(test_util::error_of([&] { rasterize_slab(s, st, 10, PotentialMode::fast, 0, 13, nullptr, true); }),
            "model.ice_texture = \"granular\" on a slab of the volume needs the texture's slab");
}

TEST(packing, vector_and_scalar_grid_kernels_agree) {
  // fits and mark, 4 points at a time (AVX2 where the CPU has it) and one at a time: the same answers and the same
  // marked cells, over poses that cross the open faces, hit the walls, and meet solid and membrane cells.
  const std::array<double, 3> box{1200, 1000, 300};
  const auto walls = parse_walls("-z+x");
  CollisionGrid vec(box, walls), one(box, walls);
  for (CollisionGrid* g : {&vec, &one})
    g->mark_where([](Vec3 q) { return std::abs(q.length() - 250) < 15; }, true, {-300, -300, -300}, {300, 300, 300});
  const CollisionShape shapes[] = {make_collision_shape(make_synthetic("synthetic:globular?mass_kDa=300")),
                                   make_collision_shape(make_synthetic("synthetic:cofilin"))};
  Rng rng(7, Purpose::structure, 0);
  int placed = 0, refused = 0, walled = 0, crossing = 0;
  for (int t = 0; t < 4000; ++t) {
    const CollisionShape& s = shapes[t % 2];
    const Vec3 pos{rng.uniform(-0.6, 0.6) * box[0], rng.uniform(-0.6, 0.6) * box[1], rng.uniform(-0.6, 0.6) * box[2]};
    const Mat3 r = uniform_rotation(rng.uniform(), rng.uniform(), rng.uniform());
    for (bool ignore_membrane : {false, true}) {
      const bool a = vec.fits(s, r, pos, ignore_membrane);
      ASSERT_EQ(a, one.fits(s, r, pos, ignore_membrane, CollisionGrid::Kernel::scalar)) << "pose " << t;
    }
    if (!vec.inside_walls(pos, s.radius_A)) ++walled;
    if (!vec.fits(s, r, pos)) {
      ++refused;
      continue;
    }
    vec.mark(s, r, pos);
    one.mark(s, r, pos, CollisionGrid::Kernel::scalar);
    ++placed;
    crossing += std::abs(pos.x) + s.radius_A > 600 || std::abs(pos.y) + s.radius_A > 500;
  }
  EXPECT_TRUE(vec == one);
  EXPECT_GT(placed, 100);
  EXPECT_GT(refused, 1000);
  EXPECT_GT(walled, 500);
  EXPECT_GT(crossing, 10);
  EXPECT_GT(vec.occupied_fraction(), 0.1);
}
