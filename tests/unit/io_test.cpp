// io/: MRC files, tilt-angle files and particle tables. Every file is written by the test itself.
#include "core/errors.hpp"
#include "core/rng.hpp"
#include "expect_error.hpp"
#include "io/files/atomic_file.hpp"
#include "io/files/mrc.hpp"
#include "io/files/particles_file.hpp"
#include "io_test_util.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

using namespace tomosweep;
using namespace io_test;
using test_util::error_of;
namespace fs = std::filesystem;

namespace {

template <class T> T raw(const std::string& bytes, std::size_t off) {
  T v;
  std::memcpy(&v, bytes.data() + off, sizeof v);
  return v;
}

} // namespace

// ---------------------------------------------------------------- MRC

TEST(mrc, float_round_trip_with_header_fields) {
  Volume<float> v(5, 4, 3, 2.5);
  for (std::size_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<float>(i) * 0.5f - 7.0f;
  const std::string p = tmp("f.mrc");
  write_mrc(p, v);
  const Volume<float> r = read_mrc(p);
  EXPECT_EQ(r.nx, 5);
  EXPECT_EQ(r.ny, 4);
  EXPECT_EQ(r.nz, 3);
  EXPECT_DOUBLE_EQ(r.voxel_A, 2.5);
  EXPECT_EQ(r.data, v.data);

  const std::string b = read_file_bytes(p);
  ASSERT_EQ(b.size(), 1024u + 60 * 4);
  EXPECT_EQ(raw<std::int32_t>(b, 12), 2);      // mode
  EXPECT_EQ(raw<std::int32_t>(b, 36), 3);      // mz
  EXPECT_FLOAT_EQ(raw<float>(b, 40), 12.5f);   // cella.x = 5 * 2.5
  EXPECT_FLOAT_EQ(raw<float>(b, 48), 7.5f);    // cella.z
  EXPECT_EQ(raw<std::int32_t>(b, 64), 1);      // mapc
  EXPECT_EQ(raw<std::int32_t>(b, 68), 2);      // mapr
  EXPECT_EQ(raw<std::int32_t>(b, 72), 3);      // maps
  EXPECT_EQ(raw<std::int32_t>(b, 88), 1);      // ispg: volume
  EXPECT_EQ(raw<std::int32_t>(b, 108), 20140); // nversion
  EXPECT_EQ(b.substr(208, 4), "MAP ");
  EXPECT_EQ(static_cast<unsigned char>(b[212]), 0x44); // little-endian stamp
  EXPECT_EQ(static_cast<unsigned char>(b[213]), 0x44);
  EXPECT_FLOAT_EQ(raw<float>(b, 196), 0.0f); // origin
  EXPECT_EQ(raw<std::int32_t>(b, 220), 1);   // nlabl
  EXPECT_EQ(b.substr(224, 10), "tomosweep ");
}

TEST(mrc, statistics_match_closed_form) {
  // Values 0..n-1: mean (n-1)/2, population variance (n^2-1)/12.
  Volume<float> v(4, 3, 2, 1.0);
  for (std::size_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<float>(i);
  const std::string p = tmp("stats.mrc");
  write_mrc(p, v);
  const MrcHeader h = read_mrc_header(p);
  const double n = 24;
  EXPECT_EQ(h.dmin, 0.0f);
  EXPECT_EQ(h.dmax, 23.0f);
  EXPECT_FLOAT_EQ(h.dmean, static_cast<float>((n - 1) / 2));
  EXPECT_FLOAT_EQ(h.rms, static_cast<float>(std::sqrt((n * n - 1) / 12)));
}

TEST(mrc, labels_are_mode_0_and_read_back) {
  Volume<std::uint8_t> v(3, 2, 2, 10.0);
  for (std::size_t i = 0; i < v.size(); ++i) v.data[i] = static_cast<std::uint8_t>(i % 4);
  const std::string p = tmp("labels.mrc");
  write_mrc(p, v);
  const MrcHeader h = read_mrc_header(p);
  EXPECT_EQ(h.mode, 0);
  EXPECT_EQ(h.dmax, 3.0f);
  EXPECT_EQ(read_file_bytes(p).size(), 1024u + 12);
  const Volume<float> r = read_mrc(p);
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(r.data[i], v.data[i]);
  EXPECT_DOUBLE_EQ(r.voxel_A, 10.0);
}

TEST(mrc, labels_above_127_are_mode_6) {
  Volume<std::uint8_t> v(2, 2, 1, 1.0);
  v.data = {0, 1, 200, 255};
  const std::string p = tmp("labels6.mrc");
  write_mrc(p, v);
  EXPECT_EQ(read_mrc_header(p).mode, 6);
  EXPECT_EQ(read_mrc(p).data, (std::vector<float>{0, 1, 200, 255}));
}

TEST(mrc, instances_are_exact_float32) {
  Volume<std::uint32_t> v(2, 1, 2, 3.0);
  v.data = {0, 1, 70000, 16777216};
  const std::string p = tmp("inst.mrc");
  write_mrc(p, v);
  EXPECT_EQ(read_mrc_header(p).mode, 2);
  EXPECT_EQ(read_mrc(p).data, (std::vector<float>{0, 1, 70000, 16777216}));
  v.data[0] = 16777217;
  EXPECT_EQ(error_of([&] { write_mrc(tmp("inst2.mrc"), v); }),
            "cannot write " + tmp("inst2.mrc") +
                ": instance id 16777217 exceeds 16777216, the largest integer float32 holds exactly");
}

TEST(mrc, stack_is_ispg_0_mz_1) {
  Volume<float> s(4, 4, 7, 5.0, 1.5f);
  const std::string p = tmp("stack.mrc");
  write_mrc_stack(p, s);
  const MrcHeader h = read_mrc_header(p);
  EXPECT_EQ(h.ispg, 0);
  EXPECT_EQ(h.mz, 1);
  EXPECT_EQ(h.nz, 7);
  EXPECT_FLOAT_EQ(h.cella_A[2], 5.0f);
  EXPECT_DOUBLE_EQ(h.voxel_A(), 5.0);
  EXPECT_EQ(h.rms, 0.0f);
  EXPECT_EQ(read_mrc(p).data, s.data);
}

TEST(mrc, reads_int16_uint16_and_big_endian) {
  // Hand-made files: mode 1 little-endian, and the same volume big-endian.
  Volume<float> ref(2, 1, 1, 1.0);
  write_mrc(tmp("base.mrc"), ref);
  std::string b = read_file_bytes(tmp("base.mrc"));
  b.resize(1024);
  std::int32_t mode = 1;
  std::memcpy(b.data() + 12, &mode, 4);
  const std::int16_t vals[2] = {-300, 1200};
  b.append(reinterpret_cast<const char*>(vals), 4);
  write_file_atomically(tmp("i16.mrc"), b);
  EXPECT_EQ(read_mrc(tmp("i16.mrc")).data, (std::vector<float>{-300, 1200}));

  std::string be = b;
  for (std::size_t off = 0; off < 224; off += 4)
    if (off < 208 || off >= 216) std::swap(be[off], be[off + 3]), std::swap(be[off + 1], be[off + 2]);
  be[212] = 0x11;
  be[213] = 0x11;
  for (std::size_t off = 1024; off < be.size(); off += 2) std::swap(be[off], be[off + 1]);
  write_file_atomically(tmp("be.mrc"), be);
  const MrcHeader h = read_mrc_header(tmp("be.mrc"));
  EXPECT_TRUE(h.byte_swapped);
  EXPECT_EQ(read_mrc(tmp("be.mrc")).data, (std::vector<float>{-300, 1200}));
}

TEST(mrc, truncated_and_corrupt_files_give_exact_errors) {
  Volume<float> v(4, 4, 4, 1.0);
  write_mrc(tmp("t.mrc"), v);
  std::string b = read_file_bytes(tmp("t.mrc"));
  write_file_atomically(tmp("trunc.mrc"), b.substr(0, 1024 + 100));
  EXPECT_EQ(error_of<IoError>([&] { read_mrc(tmp("trunc.mrc")); }),
            tmp("trunc.mrc") + ": truncated mrc file (1124 bytes, header says 1280)");
  write_file_atomically(tmp("short.mrc"), b.substr(0, 500));
  EXPECT_EQ(error_of([&] { read_mrc(tmp("short.mrc")); }),
            tmp("short.mrc") + ": truncated mrc header (500 of 1024 bytes)");
  std::string bad = b;
  std::int32_t mode = 4;
  std::memcpy(bad.data() + 12, &mode, 4);
  write_file_atomically(tmp("mode4.mrc"), bad);
  EXPECT_EQ(error_of([&] { read_mrc(tmp("mode4.mrc")); }),
            tmp("mode4.mrc") + ": unsupported mrc mode 4 (tomosweep reads modes 0, 1, 2, 6, 12)");
  std::int32_t nx = -3;
  bad = b;
  std::memcpy(bad.data(), &nx, 4);
  write_file_atomically(tmp("neg.mrc"), bad);
  EXPECT_EQ(error_of([&] { read_mrc(tmp("neg.mrc")); }), tmp("neg.mrc") + ": corrupt mrc header (size -3 x 4 x 4)");
  EXPECT_EQ(error_of([&] { read_mrc(tmp("missing.mrc")); }), tmp("missing.mrc") + ": No such file or directory");
}

TEST(mrc, write_is_atomic_and_leaves_no_temporary) {
  const std::string p = tmp("atomic.mrc");
  write_mrc(p, Volume<float>(2, 2, 2, 1.0, 3.0f));
  write_mrc(p, Volume<float>(3, 2, 2, 1.0, 4.0f));
  EXPECT_EQ(read_mrc(p).nx, 3);
  for (const auto& e : fs::directory_iterator(tmp_dir()))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_EQ(error_of([] { write_mrc("/nonexistent-dir/x.mrc", Volume<float>(1, 1, 1, 1.0)); }),
            "cannot write /nonexistent-dir/x.mrc: No such file or directory");
}

TEST(mrc, non_finite_values_are_refused) {
  Volume<float> v(3, 2, 2, 1.0);
  v(2, 1, 1) = std::nanf("");
  EXPECT_EQ(error_of([&] { write_mrc(tmp("nan.mrc"), v); }),
            "cannot write " + tmp("nan.mrc") + ": value nan at voxel (2, 1, 1) is not finite");
  EXPECT_FALSE(fs::exists(tmp("nan.mrc")));
  EXPECT_EQ(error_of([] { write_mrc(tmp("e.mrc"), Volume<float>(0, 2, 2, 1.0)); }),
            "cannot write " + tmp("e.mrc") + ": empty volume 0 x 2 x 2");
}

TEST(mrc, tilt_angles_round_trip) {
  const std::vector<double> a{-60, -58.5, 0, 0.125, 60};
  write_tilt_angles(tmp("s.tlt"), a);
  EXPECT_EQ(read_file_bytes(tmp("s.tlt")), "  -60.000\n  -58.500\n    0.000\n    0.125\n   60.000\n");
  EXPECT_EQ(read_tilt_angles(tmp("s.tlt")), a);
}

// ---------------------------------------------------------------- particle tables

namespace {

// RELION's Euler_angles2matrix (src/euler.cpp), written out independently of core/geometry.
Mat3 relion_matrix(double rot_deg, double tilt_deg, double psi_deg) {
  const double d = 3.14159265358979323846 / 180;
  const double ca = std::cos(rot_deg * d), sa = std::sin(rot_deg * d), cb = std::cos(tilt_deg * d),
               sb = std::sin(tilt_deg * d), cg = std::cos(psi_deg * d), sg = std::sin(psi_deg * d);
  const double cc = cb * ca, cs = cb * sa, sc = sb * ca, ss = sb * sa;
  Mat3 a;
  a.m = {cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb, -sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb, sc, ss, cb};
  return a;
}

std::vector<PlacedParticle> two_particles() {
  PlacedParticle a;
  a.instance = 1;
  a.label = 1;
  a.source = "synthetic:ribosome";
  a.rotation = axis_angle({0, 0, 1}, 0.3);
  PlacedParticle b;
  b.instance = 2;
  b.label = 2;
  b.source = "structures/actin.cif";
  b.position_A = {-100, 50, 25};
  b.rotation = axis_angle(Vec3{1, 2, 3}.normalized(), 1.1);
  a.group = 1;
  b.group = 7; // a filament group with its start axis
  b.direction = {0.6, 0, -0.8};
  return {a, b};
}
std::vector<ClassInfo> two_classes() { return {{1, "ribosome", "synthetic:ribosome"}, {2, "actin", "x.cif"}}; }

std::vector<std::vector<std::string>> star_rows(const std::string& text, std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  bool in_loop = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line == "loop_") {
      in_loop = true;
      continue;
    }
    if (!in_loop) continue;
    std::istringstream ls(line);
    std::string w;
    if (line[0] == '_') {
      ls >> w;
      labels.push_back(w);
      continue;
    }
    std::vector<std::string> row;
    while (ls >> w) row.push_back(w);
    rows.push_back(row);
  }
  return rows;
}

std::vector<double> numbers_after(const std::string& text, std::size_t pos, int n) {
  std::vector<double> out;
  while (static_cast<int>(out.size()) < n) {
    pos = text.find_first_of("-0123456789", pos);
    std::size_t used = 0;
    out.push_back(std::stod(text.substr(pos), &used));
    pos += used;
  }
  return out;
}

} // namespace

TEST(particles, star_round_trip_pixels_and_relion_angles) {
  ParticleTableInfo info{10.0, 41, 31, 11, "TS_01", "TS_01.mrc"};
  const auto parts = two_particles();
  write_particles_star(tmp("p.star"), parts, two_classes(), info);
  const std::string text = read_file_bytes(tmp("p.star"));
  EXPECT_NE(text.find("\ndata_particles\n"), std::string::npos);
  std::vector<std::string> labels;
  const auto rows = star_rows(text, labels);
  ASSERT_EQ(labels,
            (std::vector<std::string>{"_rlnTomoName", "_rlnMicrographName", "_rlnCoordinateX", "_rlnCoordinateY",
                                      "_rlnCoordinateZ", "_rlnAngleRot", "_rlnAngleTilt", "_rlnAnglePsi",
                                      "_rlnClassNumber", "_rlnCenteredCoordinateXAngst", "_rlnCenteredCoordinateYAngst",
                                      "_rlnCenteredCoordinateZAngst", "_rlnHelicalTubeID", "_tomosweepGroupDirectionX",
                                      "_tomosweepGroupDirectionY", "_tomosweepGroupDirectionZ"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "TS_01");
  EXPECT_EQ(rows[0][2], "20.000"); // box centre = voxel (n-1)/2
  EXPECT_EQ(rows[0][3], "15.000");
  EXPECT_EQ(rows[0][4], "5.000");
  EXPECT_EQ(rows[1][2], "10.000"); // -100 A / 10 A + 20
  EXPECT_EQ(rows[1][3], "20.000");
  EXPECT_EQ(rows[1][4], "7.500");
  EXPECT_EQ(rows[1][8], "2");
  EXPECT_EQ(rows[1][9], "-100.000");
  EXPECT_EQ(rows[1][10], "50.000");
  EXPECT_EQ(rows[1][11], "25.000");
  EXPECT_EQ(rows[0][12], "1");
  EXPECT_EQ((std::vector<std::string>{rows[0][13], rows[0][14], rows[0][15]}),
            (std::vector<std::string>{"0.000000", "0.000000", "0.000000"})); // no filament: zero
  EXPECT_EQ(rows[1][12], "7");
  EXPECT_EQ((std::vector<double>{std::stod(rows[1][13]), std::stod(rows[1][14]), std::stod(rows[1][15])}),
            (std::vector<double>{0.6, 0, -0.8}));
  for (std::size_t k = 0; k < 2; ++k) {
    const Mat3 a = relion_matrix(std::stod(rows[k][5]), std::stod(rows[k][6]), std::stod(rows[k][7]));
    for (int i = 0; i < 9; ++i) EXPECT_NEAR(a.m[i], parts[k].rotation.m[i], 1e-4) << k << " " << i;
  }
}

TEST(particles, json_locations_transformations_and_classes) {
  ParticleTableInfo info{10.0, 41, 31, 11, "TS_01", "TS_01.mrc"};
  const auto parts = two_particles();
  write_particles_json(tmp("p.json"), parts, two_classes(), info);
  const std::string text = read_file_bytes(tmp("p.json"));
  const auto second = text.find("\"instance_id\": 2");
  ASSERT_NE(second, std::string::npos);
  const auto loc = text.rfind("\"location\"", second);
  EXPECT_EQ(numbers_after(text, loc, 3), (std::vector<double>{100, 200, 75})); // Angstrom from voxel 0
  const auto m = numbers_after(text, text.find("\"transformation_\"", loc), 16);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(m[4 * r + c], parts[1].rotation(r, c), 1e-8);
  EXPECT_EQ(m[15], 1.0);
  EXPECT_EQ(m[3], 0.0);
  EXPECT_NE(text.find("\"class\": \"actin\", \"group\": 7, \"direction\": [0.600000, 0.000000, -0.800000], "
                      "\"score\": 1.0}"),
            std::string::npos);
  EXPECT_NE(text.find("{\"label\": 1, \"name\": \"ribosome\", \"source\": \"synthetic:ribosome\"}"), std::string::npos);
  // Valid JSON for Python's parser too.
  const std::string cmd = "/usr/bin/python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
                          "p=d['points']; sys.exit(0 if len(p)==2 and p[1]['group']==7 and "
                          "p[1]['direction']==[0.6, 0.0, -0.8] and p[0]['direction']==[0, 0, 0] else 1)\" " +
                          tmp("p.json");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(particles, copick_pick_files_one_per_class) {
  ParticleTableInfo info{10.0, 41, 31, 11, "TS_01", "TS_01.mrc"};
  fs::create_directories(tmp("picks"));
  const auto paths = write_copick_picks(tmp("picks"), two_particles(), two_classes(), info);
  ASSERT_EQ(paths,
            (std::vector<std::string>{tmp("picks/tomosweep_0_ribosome.json"), tmp("picks/tomosweep_0_actin.json")}));
  const std::string cmd =
      "/usr/bin/python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); p=d['points']; "
      "sys.exit(0 if d['pickable_object_name']=='actin' and len(p)==1 and p[0]['instance_id']==2 and "
      "p[0]['location']=={'x':100.0,'y':200.0,'z':75.0} and d['unit']=='angstrom' else 1)\" " +
      paths[1];
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(particles, table_info_from_a_tomogram) {
  const ParticleTableInfo i = particle_table_info(Volume<float>(41, 31, 11, 7.5), "TS_02", "t.mrc");
  EXPECT_EQ(i.nx, 41);
  EXPECT_EQ(i.ny, 31);
  EXPECT_EQ(i.nz, 11);
  EXPECT_DOUBLE_EQ(i.pixel_size_A, 7.5);
  EXPECT_EQ(i.tomo_name, "TS_02");
  EXPECT_EQ(i.tomogram_file, "t.mrc");
}

TEST(particles, unknown_label_is_an_error) {
  auto parts = two_particles();
  parts[1].label = 7;
  EXPECT_EQ(error_of([&] { particles_star(parts, two_classes(), ParticleTableInfo{}); }),
            "particle table: particle 2 has label 7, which is no class");
}

TEST(particles_file, format_number_writes_what_printf_writes) {
  // format_number takes the fast path (std::to_chars) for "%.Nf" and "%.Ng": the characters must be printf's,
  // rounding ties and large, tiny and negative values included; "-0.000" loses its sign.
  Rng r(8, Purpose::test, 0);
  std::vector<double> values{0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.0005, -0.0004, 0.125, 1e-320, 1e300, -1e22, 123456789.0};
  for (int i = 0; i < 3000; ++i) values.push_back((r.uniform() - 0.5) * std::pow(10.0, r.uniform(-12, 12)));
  for (const char* f : {"%.3f", "%.4f", "%.6f", "%.9f", "%.6g", "%.10g", "%.17g", "%.0f"})
    for (double v : values) {
      char b[512];
      std::snprintf(b, sizeof b, f, v);
      std::string want = b;
      if (want[0] == '-' && want.find_first_not_of("-0.") == std::string::npos) want.erase(0, 1);
      ASSERT_EQ(format_number(f, v), want) << f << " of " << v;
    }
  EXPECT_EQ(format_number("%.3f", -0.0001), "0.000");
  EXPECT_EQ(format_number("%8.2f", 3.14159), "    3.14"); // other formats: snprintf
}
