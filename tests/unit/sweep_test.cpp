// Sweep expansion, job validation, job table, launcher check, progress text, and the stage -> corpus round
// trip (serial).
#include "expect_error.hpp"
#include "io/structures/structure_file.hpp"
#include "sweep/gather.hpp"
#include "sweep/job_table.hpp"
#include "sweep/mpi_session.hpp"
#include "sweep/progress.hpp"
#include "sweep/run.hpp"
#include "sweep/validate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unistd.h>
#ifdef __linux__
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#endif

using namespace tomosweep;

namespace {

const std::string kBase = R"([run]
seed = 7
replicates = 2
test_replicates = [1]

[model]
box_A = [200, 200, 50]
pixel_size_A = 10.0

[imaging]
defocus_um = 5.0
dose_e_per_A2 = 100
)";

double num(const SweepJob& j, std::size_t axis) { return *setting_number(*j.values[axis]); }

std::string sweep_error(const std::string& text) {
  return test_util::error_of<ConfigError>([&] { parse_sweep(text, "s.toml"); });
}

} // namespace

TEST(sweep, no_sweep_table_is_one_condition) {
  const Sweep s = parse_sweep(kBase, "s.toml");
  EXPECT_EQ(s.mode, "none");
  ASSERT_EQ(s.jobs.size(), 2u);
  EXPECT_EQ(s.jobs[1].job_id, 1u);
  EXPECT_FALSE(s.jobs[0].test_split);
  EXPECT_TRUE(s.jobs[1].test_split);
}

TEST(sweep, grid_is_cartesian_first_axis_slowest) {
  const Sweep s = parse_sweep(kBase + R"(
[sweep]
mode = "grid"
"imaging.defocus_um" = [1, 3]
"imaging.dose_e_per_A2" = { start = 20, stop = 60, step = 20 }
)",
                              "s.toml");
  ASSERT_EQ(s.axes, (std::vector<std::string>{"imaging.defocus_um", "imaging.dose_e_per_A2"}));
  ASSERT_EQ(s.conditions, 6u);
  ASSERT_EQ(s.jobs.size(), 12u);
  // job id = condition * replicates + replicate
  const SweepJob& j5 = s.jobs[5];
  EXPECT_EQ(j5.job_id, 5u);
  EXPECT_EQ(j5.condition, 2u);
  EXPECT_EQ(j5.replicate, 1);
  EXPECT_EQ(num(j5, 0), 1.0);
  EXPECT_EQ(num(j5, 1), 60.0);
  EXPECT_EQ(s.jobs[6].config.imaging.defocus_um, 3.0);
  EXPECT_EQ(s.jobs[6].config.imaging.dose_e_per_A2, 20.0);
  EXPECT_EQ(s.jobs[11].config.imaging.dose_e_per_A2, 60.0);
}

TEST(sweep, zip_pairs_values_and_needs_equal_lengths) {
  const Sweep s = parse_sweep(kBase + R"(
[sweep]
mode = "zip"
"imaging.defocus_um" = [1, 3, 5]
"model.pixel_size_A" = [4.0, 8.0, 16.0]
)",
                              "s.toml");
  ASSERT_EQ(s.conditions, 3u);
  EXPECT_EQ(s.jobs[2].config.imaging.defocus_um, 3.0);
  EXPECT_EQ(s.jobs[2].config.model.pixel_size_A, 8.0);
  EXPECT_EQ(sweep_error(kBase + "[sweep]\nmode = \"zip\"\n\"imaging.defocus_um\" = [1, 3]\n"
                                "\"model.pixel_size_A\" = [4.0]\n"),
            "s.toml:16:24: model.pixel_size_A: zip axes need equal lengths (1 vs 2 for imaging.defocus_um)");
}

TEST(sweep, one_at_a_time_varies_one_axis_around_the_base) {
  const Sweep s = parse_sweep(kBase + R"(
[sweep]
mode = "one-at-a-time"
"imaging.defocus_um" = [1, 5, 9]
"imaging.tilt.step_deg" = [1, 3]
)",
                              "s.toml");
  // base + defocus 1, 9 (5 is the base's written value) + tilt step 1, 3
  ASSERT_EQ(s.conditions, 5u);
  EXPECT_EQ(s.jobs[0].config.imaging.defocus_um, 5.0);
  EXPECT_EQ(s.jobs[2].config.imaging.defocus_um, 1.0);
  EXPECT_EQ(s.jobs[4].config.imaging.defocus_um, 9.0);
  EXPECT_EQ(s.jobs[6].config.imaging.tilt.step_deg, 1.0);
  EXPECT_EQ(s.jobs[6].config.imaging.defocus_um, 5.0);
  EXPECT_EQ(s.jobs[8].config.imaging.tilt.step_deg, 3.0);
  // the unwritten base tilt step is recorded from the config (a known setting)
  EXPECT_EQ(num(s.jobs[0], 1), 2.0);
}

TEST(sweep, random_draws_are_seeded_and_in_range) {
  const std::string text = kBase + R"(
[sweep]
mode = "random"
draws = 20
seed = 3
"imaging.defocus_um" = { min = 1.0, max = 9.0 }
"imaging.tilt.axis_azimuth_deg" = { min = 0, max = 90 }
"imaging.dose_e_per_A2" = [50, 100]
)";
  const Sweep a = parse_sweep(text, "s.toml"), b = parse_sweep(text, "s.toml");
  ASSERT_EQ(a.jobs.size(), 40u);
  std::set<double> doses;
  for (std::size_t i = 0; i < a.jobs.size(); ++i) {
    const JobConfig& c = a.jobs[i].config;
    EXPECT_EQ(c.imaging.defocus_um, b.jobs[i].config.imaging.defocus_um);
    EXPECT_GE(c.imaging.defocus_um, 1.0);
    EXPECT_LE(c.imaging.defocus_um, 9.0);
    const double az = c.imaging.tilt.axis_azimuth_deg;
    EXPECT_EQ(az, std::floor(az)); // integer bounds draw integers
    doses.insert(c.imaging.dose_e_per_A2);
  }
  EXPECT_EQ(doses, (std::set<double>{50, 100}));
  // both replicates of a condition share the draw
  EXPECT_EQ(a.jobs[0].config.imaging.defocus_um, a.jobs[1].config.imaging.defocus_um);
  EXPECT_NE(a.jobs[0].config.imaging.defocus_um, a.jobs[2].config.imaging.defocus_um);
}

TEST(sweep, dotted_keys_and_nested_tables_name_the_same_axis) {
  const Sweep s = parse_sweep(kBase + "[sweep]\nimaging.tilt.step_deg = [1, 2]\n", "s.toml");
  EXPECT_EQ(s.axes, std::vector<std::string>{"imaging.tilt.step_deg"});
  EXPECT_EQ(s.jobs[2].config.imaging.tilt.step_deg, 2.0);
}

TEST(sweep, override_errors_name_the_sweep_line_and_key) {
  // a wrong type and an unknown key are reported through read_job_config at the axis' value
  const std::string e1 = sweep_error(kBase + "[sweep]\n\"imaging.defocus_um\" = [1, \"far\"]\n");
  EXPECT_NE(e1.find("s.toml:14:28: imaging.defocus_um: expected a number, got a string"), std::string::npos) << e1;
  const std::string e2 = sweep_error(kBase + "[sweep]\n\"imaging.defocus\" = [1, 2]\n");
  EXPECT_EQ(e2, "s.toml:14:22: unknown key 'imaging.defocus'"); // once, not once per value
  EXPECT_EQ(sweep_error(kBase + "[sweep]\nmode = \"lattice\"\n"),
            "s.toml:14:8: sweep.mode: expected one of 'grid', 'zip', 'one-at-a-time', 'random'");
  EXPECT_EQ(sweep_error(kBase + "[sweep]\n\"run.seed\" = [1, 2]\n"),
            "s.toml:14:14: run.seed: [run] and [sweep] settings cannot be swept");
  EXPECT_EQ(sweep_error(kBase + "[sweep]\n\"imaging.defocus_um\" = { start = 1, stop = 0, step = 1 }\n"),
            "s.toml:14:24: imaging.defocus_um: expected step > 0 and stop >= start");
  EXPECT_EQ(sweep_error(kBase + "[sweep]\n\"imaging.defocus_um\" = { min = 1, max = 2 }\n"),
            "s.toml:14:24: imaging.defocus_um: { min, max } ranges need mode = \"random\"");
  EXPECT_EQ(sweep_error(kBase + "[sweep]\nmode = \"random\"\n\"imaging.defocus_um\" = { min = 1, max = 2 }\n"),
            "s.toml:14:8: sweep.draws: mode = \"random\" needs draws = N");
}

TEST(sweep, validation_checks_replicate_0_of_each_condition_and_names_file_job_and_condition) {
  const Sweep s = parse_sweep(kBase + R"(
[[model.layer]]
particles = [{ source = "synthetic:globular?mass_kDa=2000" }]

[sweep]
"imaging.defocus_um" = [1, 3]
)",
                              "s.toml");
  EXPECT_EQ(first_replicates(s), (std::vector<std::size_t>{0, 2}));
  const StructureSet structures = load_structures(sweep_sources(s), ".");
  const std::string e = test_util::error_of([&] { validate_jobs(s, {2}, structures); });
  EXPECT_EQ(e.rfind("s.toml: job 2 (condition 1): model.layer[0].particles[0]: particle ", 0), 0u) << e;
  EXPECT_NE(e.find("is larger than the box (50 A)"), std::string::npos) << e;
}

TEST(sweep, job_table_text_and_json) {
  const Sweep s = parse_sweep(kBase + "[sweep]\n\"imaging.defocus_um\" = [1, 3]\n", "s.toml");
  const std::string text = job_table_text(s);
  EXPECT_NE(text.find("# s.toml: mode grid, 2 conditions x 2 replicates = 4 jobs"), std::string::npos) << text;
  EXPECT_NE(text.find("3    1          1          test   3"), std::string::npos) << text;
  const std::string json = job_table_json(s);
  EXPECT_NE(json.find("{\"job_id\": 3, \"condition\": 1, \"replicate\": 1, \"split\": \"test\", "
                      "\"values\": {\"imaging.defocus_um\": 3}}"),
            std::string::npos)
      << json;
}

TEST(sweep, dispatch_order_puts_expensive_jobs_first) {
  const Sweep s = parse_sweep(kBase + "[sweep]\n\"model.pixel_size_A\" = [10.0, 5.0, 20.0]\n", "s.toml");
  const auto order = dispatch_order(s, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(order, (std::vector<std::size_t>{2, 3, 0, 1, 4, 5}));
}

TEST(sweep, dispatch_affinity_names_scenes_and_cost_tiers) {
  // Pixel size and defocus do not change a scene: the scenes are the replicates; the tiers are the pixel sizes.
  const Sweep s = parse_sweep(kBase + "[sweep]\n\"model.pixel_size_A\" = [10.0, 5.0]\n\"imaging.defocus_um\" = [3, 4]\n",
                              "s.toml");
  const auto order = dispatch_order(s, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(order, (std::vector<std::size_t>{4, 5, 6, 7, 0, 1, 2, 3}));
  const JobAffinity a = dispatch_affinity(s, order);
  EXPECT_EQ(a.scene, (std::vector<int>{0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(a.tier, (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1}));
  // A swept model setting other than the pixel size makes scenes of its own.
  const Sweep d = parse_sweep(kBase + "[sweep]\n\"model.ice_surface.roughness_A\" = [10, 20]\n", "d.toml");
  const auto dorder = dispatch_order(d, {0, 1, 2, 3});
  EXPECT_EQ(dispatch_affinity(d, dorder).scene, (std::vector<int>{0, 1, 2, 3}));
}

namespace {
/// Who gets which job when `ranks` ask in turn (rank 0, 1, ..., 0, 1, ...): the job's scene per rank.
std::vector<std::vector<int>> picks(const std::vector<std::size_t>& order, const JobAffinity& a, int ranks,
                                    std::vector<std::size_t>* handed = nullptr) {
  JobPicker picker(order, a, ranks);
  std::vector<std::vector<int>> got(static_cast<std::size_t>(ranks));
  std::size_t index = 0;
  for (int r = 0; picker.next(r, index); r = (r + 1) % ranks) {
    const auto pos = static_cast<std::size_t>(std::find(order.begin(), order.end(), index) - order.begin());
    got[static_cast<std::size_t>(r)].push_back(a.scene.size() != order.size() ? static_cast<int>(index) : a.scene[pos]);
    if (handed) handed->push_back(index);
  }
  return got;
}
} // namespace

TEST(sweep, job_picker_keeps_a_rank_on_its_scene_within_a_cost_tier) {
  // 3 conditions x 4 replicates in condition-major order: scenes 0 1 2 3 0 1 2 3 0 1 2 3.
  const std::vector<std::size_t> order{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  JobAffinity a{{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, std::vector<int>(12, 0)};
  std::vector<std::size_t> handed;
  EXPECT_EQ(picks(order, a, 2, &handed),
            (std::vector<std::vector<int>>{{0, 0, 0, 2, 2, 2}, {1, 1, 1, 3, 3, 3}}));
  std::sort(handed.begin(), handed.end());
  EXPECT_EQ(handed, order); // each job once
  // Without affinity, or with a malformed one, jobs go out in order.
  EXPECT_EQ(picks(order, {}, 2), (std::vector<std::vector<int>>{{0, 2, 4, 6, 8, 10}, {1, 3, 5, 7, 9, 11}}));
  EXPECT_EQ(picks(order, JobAffinity{{0, 1}, {0, 0}}, 2),
            (std::vector<std::vector<int>>{{0, 2, 4, 6, 8, 10}, {1, 3, 5, 7, 9, 11}}));
  // A more expensive tier goes first even when a rank's scene has cheaper jobs left: rank 0's scene 0 comes
  // back only in tier 1, so it takes scene 1's job of tier 0 first.
  JobAffinity t{{0, 1, 0, 1}, {0, 0, 1, 1}};
  EXPECT_EQ(picks({0, 1, 2, 3}, t, 1), (std::vector<std::vector<int>>{{0, 1, 1, 0}}));
  // With more ranks than scenes, ranks share a scene rather than wait.
  JobAffinity one{{0, 0, 0, 0}, {0, 0, 0, 0}};
  EXPECT_EQ(picks({0, 1, 2, 3}, one, 3), (std::vector<std::vector<int>>{{0, 0}, {0}, {0}}));
}

namespace {
/// An EnvGetter that reads `env` (as it is when called).
EnvGetter env_of(const std::map<std::string, std::string>& env) {
  return [&env](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}
} // namespace

TEST(sweep, launcher_size_mismatch_is_an_error) {
  std::map<std::string, std::string> env{{"SLURM_STEP_NUM_TASKS", "4"}};
  const EnvGetter get = env_of(env);
  EXPECT_EQ(launcher_size_problem(1, get),
            "the launcher started 4 tasks (SLURM_STEP_NUM_TASKS=4) but mpi sees 1 rank: tomosweep was started "
            "without mpi support in the launcher (with srun use --mpi=pmix, or use mpirun)");
  EXPECT_EQ(launcher_size_problem(4, get), "");
  env["OMPI_COMM_WORLD_SIZE"] = "2"; // mpirun's promise wins
  EXPECT_EQ(launcher_size_problem(2, get), "");
  env.clear();
  EXPECT_EQ(launcher_size_problem(3, get), "");
}

TEST(sweep, open_mpi_is_asked_for_ob1_only_when_every_rank_is_on_this_node) {
  std::map<std::string, std::string> env;
  const EnvGetter get = env_of(env);
  EXPECT_EQ(one_node_pml(get), "ob1"); // no launcher: one rank
  env = {{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}};
  EXPECT_EQ(one_node_pml(get), "ob1");
  env["OMPI_COMM_WORLD_LOCAL_SIZE"] = "2"; // mpirun over two nodes
  EXPECT_EQ(one_node_pml(get), "");
  env = {{"PMIX_RANK", "0"}, {"SLURM_STEP_NUM_NODES", "1"}};
  EXPECT_EQ(one_node_pml(get), "ob1");
  env["SLURM_STEP_NUM_NODES"] = "3";
  EXPECT_EQ(one_node_pml(get), "");
  env = {{"PMIX_RANK", "0"}}; // a launcher that does not say how many nodes
  EXPECT_EQ(one_node_pml(get), "");
  env = {{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}, {"OMPI_MCA_pml", "ucx"}};
  EXPECT_EQ(one_node_pml(get), ""); // the user's choice stays
}

TEST(sweep, progress_line) {
  EXPECT_EQ(Progress::line(10, 40, 1, 120.0, 10), "10/40 done, 1 failed, 5.0 jobs/min, 6:00 left");
  EXPECT_EQ(Progress::line(40, 40, 0, 60.0, 30), "40/40 done, 0 failed, 30.0 jobs/min, 0:00 left");
}

TEST(corpus, stage_and_gather_round_trip) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tomosweep_corpus_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Sweep s = parse_sweep(kBase + "[sweep]\n\"imaging.defocus_um\" = [1, 3]\n", "s.toml");
  JobResult r;
  r.tomogram = Volume<float>(5, 4, 3, 10.0);
  for (std::size_t i = 0; i < r.tomogram.size(); ++i) r.tomogram.data[i] = 0.5f * static_cast<float>(i);
  r.atlas = Volume<std::uint8_t>(5, 4, 3, 10.0, 2);
  r.instances = Volume<std::uint32_t>(5, 4, 3, 10.0, 7);
  r.series.tilts = {{.angle_deg = -3, .actual_angle_deg = -3}, {.angle_deg = 3, .actual_angle_deg = 3.1}};
  r.classes = {{1, "actin", "builtin:actin"}, {2, "ribo", "r.cif"}};
  PlacedParticle p;
  p.instance = 7;
  p.label = 2;
  p.position_A = {1, 2, 3};
  p.group = 5;
  p.direction = {0, 0.6, 0.8};
  r.particles = {p};
  const std::vector<std::string> outputs{"tomogram", "atlas", "instances", "particles"};
  const std::string out = (dir / "corpus.h5").string();
  const CorpusIndex index = corpus_index(s);
  std::vector<StageInfo> infos;
  {
    CorpusWriter writer(out + ".tmp");
    for (std::size_t i : {2, 0, 3, 1}) { // absorbed in the order jobs finish, not by id
      const SweepJob& j = s.jobs[i];
      const std::string path = stage_path(dir.string(), j.job_id);
      if (j.job_id == 2)
        write_stage(path, j.job_id, j.replicate, nullptr, "boom: job two", outputs, 0.1);
      else
        write_stage(path, j.job_id, j.replicate, &r, "", outputs, 0.1);
      infos.push_back(writer.absorb(path, index.jobs[i]));
    }
    EXPECT_FALSE(infos[0].ok);
    EXPECT_EQ(infos[0].error, "boom: job two");
    ASSERT_EQ(infos[1].arrays.size(), 3u);
    EXPECT_EQ(infos[1].arrays[0].dims, (std::array<std::uint64_t, 3>{3, 4, 5}));
    EXPECT_EQ(infos[1].arrays[1].type, ArrayType::u8);
    EXPECT_EQ(test_util::error_of<IoError>([&] { writer.absorb(stage_path(dir.string(), 0), index.jobs[1]); }),
              stage_path(dir.string(), 0) + ": stage file of job 0, expected job 1");
    writer.finish(out, index, infos);
  }
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  const CorpusJob j1 = read_corpus_job(out, 1);
  EXPECT_EQ(j1.status, "ok");
  EXPECT_EQ(j1.result.tomogram.data, r.tomogram.data);
  EXPECT_EQ(j1.result.atlas.data, r.atlas.data);
  EXPECT_EQ(j1.result.instances.data, r.instances.data);
  EXPECT_EQ(j1.result.tomogram.voxel_A, 10.0);
  ASSERT_EQ(j1.result.series.tilts.size(), 2u);
  EXPECT_EQ(j1.result.series.tilts[1].actual_angle_deg, 3.1);
  ASSERT_EQ(j1.result.particles.size(), 1u);
  EXPECT_EQ(j1.result.particles[0].source, "r.cif");
  EXPECT_EQ(j1.result.particles[0].position_A.z, 3.0);
  EXPECT_EQ(j1.result.particles[0].group, 5u); // the group id and its direction round-trip through the corpus
  EXPECT_EQ(j1.result.particles[0].direction.y, 0.6);
  EXPECT_EQ(j1.result.particles[0].direction.z, 0.8);
  ASSERT_EQ(j1.result.classes.size(), 2u);
  EXPECT_EQ(read_corpus_job(out, 2).error, "boom: job two");
  const std::string summary = corpus_summary(out);
  EXPECT_NE(summary.find("jobs: 4, 1 failed, 3 ok"), std::string::npos) << summary;
  EXPECT_NE(summary.find("job 2: boom: job two"), std::string::npos) << summary;
  EXPECT_EQ(test_util::error_of<IoError>([&] { read_corpus_job(out, 99); }), out + ": no job 99 in the corpus");
  fs::remove_all(dir);
}

#ifdef __linux__
namespace {
/// Pages of `path` in the page cache (mincore of a mapping); -1 if it cannot be told.
long resident_pages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  long pages = -1;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const long page = ::sysconf(_SC_PAGESIZE);
    const std::size_t n = static_cast<std::size_t>((st.st_size + page - 1) / page);
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    std::vector<unsigned char> in(n);
    if (map != MAP_FAILED && ::mincore(map, static_cast<std::size_t>(st.st_size), in.data()) == 0)
      pages = std::count_if(in.begin(), in.end(), [](unsigned char c) { return (c & 1) != 0; });
    if (map != MAP_FAILED) ::munmap(map, static_cast<std::size_t>(st.st_size));
  }
  ::close(fd);
  return pages;
}
} // namespace

// Absorbing a stage file gives its pages in the page cache back (they are not read again), so that a sweep's page
// cache does not grow by the stage files' bytes.
TEST(corpus, absorbing_gives_the_stage_files_pages_back) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tomosweep_cache_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Sweep s = parse_sweep(kBase, "s.toml");
  JobResult r;
  r.tomogram = Volume<float>(64, 64, 64, 10.0);
  for (std::size_t i = 0; i < r.tomogram.size(); ++i) r.tomogram.data[i] = static_cast<float>(i % 1000);
  const std::string stage = stage_path(dir.string(), s.jobs[0].job_id);
  write_stage(stage, s.jobs[0].job_id, 0, &r, "", {"tomogram"}, 0.1);
  const long before = resident_pages(stage);
  if (before < 200) { // a file system that keeps no page cache of its own, or drops it at once
    fs::remove_all(dir);
    GTEST_SKIP() << "the stage file has " << before << " pages in the page cache after writing";
  }
  {
    CorpusWriter writer((dir / "corpus.h5.tmp").string());
    const StageInfo info = writer.absorb(stage, corpus_index(s).jobs[0]);
    ASSERT_TRUE(info.ok);
  }
  EXPECT_LT(resident_pages(stage), before / 10) << "of " << before;
  fs::remove_all(dir);
}
#endif

#ifdef TOMOSWEEP_SOURCE_DIR
TEST(sweep, paper_sweeps_expand) {
  const std::string dir = TOMOSWEEP_SOURCE_DIR "/sweeps/paper/";
  const std::map<std::string, std::size_t> jobs{
      {"defocus.toml", 5 * 4},
      {"dose.toml", 6 * 4},
      {"pixel-size.toml", 6 * 4},
      {"tilt-increment.toml", 5 * 4},
      {"wedge.toml", 7 * 4},
      // base + every value except the base's own (defocus 5, dose 100, pixel 10, step 2, azimuth 0)
      {"filaments-all.toml", (1 + 4 + 5 + 5 + 4 + 6) * 4},
      {"camkii-all.toml", (1 + 4 + 5 + 5 + 4 + 6) * 4},
      {"training.toml", 200 * 2}};
  for (const auto& [file, n] : jobs) {
    const Sweep s = load_sweep(dir + file);
    EXPECT_EQ(s.jobs.size(), n) << file;
    EXPECT_TRUE(s.jobs.back().test_split) << file;
  }
  const Sweep p = load_sweep(dir + "pixel-size.toml");
  EXPECT_EQ(p.jobs[0].config.model.pixel_size_A, 4.0);
  EXPECT_EQ(p.jobs[0].config.imaging.defocus_um, 5.0);
}
#endif
