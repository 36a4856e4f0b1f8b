// io/: structures (PDB, mmCIF, gz, CRLF, NMR, waters, altlocs, C-alpha-only), the structure set of a
// sweep, and pdb: fetching from a local HTTP server on loopback. Every file is written by the test itself.
#include "core/errors.hpp"
#include "expect_error.hpp"
#include "io/files/atomic_file.hpp"
#include "io/structures/fetch.hpp"
#include "io/structures/structure_file.hpp"
#include "io_test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <zlib.h>

using namespace tomosweep;
using namespace io_test;
using test_util::error_of;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- structures

namespace {

// One PDB ATOM/HETATM line in the fixed-column format; name is the 4-column atom name field.
std::string pdb_line(const char* rec, int serial, const char* name, char alt, const char* res, char chain, int seq,
                     double x, double y, double z, double occ, const char* el) {
  char b[100];
  std::snprintf(b, sizeof b, "%-6s%5d %-4s%c%3s %c%4d    %8.3f%8.3f%8.3f%6.2f%6.2f          %2s\n", rec, serial, name,
                alt ? alt : ' ', res, chain, seq, x, y, z, occ, 20.0, el);
  return b;
}

// ALA 1 (CB in two conformations, B the more occupied), GLY 2, a water; ALA and GLY in chain A.
std::string small_pdb() {
  std::string t = "HEADER    TEST\n";
  t += pdb_line("ATOM", 1, " N  ", 0, "ALA", 'A', 1, 0, 0, 0, 1, "N");
  t += pdb_line("ATOM", 2, " CA ", 0, "ALA", 'A', 1, 1.5, 0, 0, 1, "C");
  t += pdb_line("ATOM", 3, " C  ", 0, "ALA", 'A', 1, 2, 1.4, 0, 1, "C");
  t += pdb_line("ATOM", 4, " O  ", 0, "ALA", 'A', 1, 1.3, 2.4, 0, 1, "O");
  t += pdb_line("ATOM", 5, " CB ", 'A', "ALA", 'A', 1, 2, -0.8, 1.2, 0.4, "C");
  t += pdb_line("ATOM", 6, " CB ", 'B', "ALA", 'A', 1, 2, -0.8, -1.2, 0.6, "C");
  t += pdb_line("ATOM", 7, " N  ", 0, "GLY", 'A', 2, 3.3, 1.5, 0, 1, "N");
  t += pdb_line("ATOM", 8, " CA ", 0, "GLY", 'A', 2, 4, 2.7, 0, 1, "C");
  t += pdb_line("ATOM", 9, " C  ", 0, "GLY", 'A', 2, 5.5, 2.5, 0, 1, "C");
  t += pdb_line("ATOM", 10, " O  ", 0, "GLY", 'A', 2, 6, 1.4, 0, 0.5, "O");
  t += pdb_line("HETATM", 11, " O  ", 0, "HOH", 'A', 101, 9, 9, 9, 1, "O");
  return t + "END\n";
}

void write_gz(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
}

int total_implicit_h(const AtomicStructure& s) {
  int n = 0;
  for (const Atom& a : s.atoms) n += a.implicit_h;
  return n;
}

void expect_small_pdb(const AtomicStructure& s, const StructureReadInfo& info) {
  ASSERT_EQ(s.atoms.size(), 9u); // 10 atoms - 1 minor conformer; the water is left out
  EXPECT_EQ(s.chains, std::vector<std::string>{"A"});
  EXPECT_EQ(info.waters_dropped, 1);
  EXPECT_EQ(info.altloc_atoms_dropped, 1);
  const Atom& cb = s.atoms[4];
  EXPECT_EQ(cb.z, 6);
  EXPECT_DOUBLE_EQ(cb.pos_A.z, -1.2); // conformer B (occupancy 0.6) kept
  EXPECT_FLOAT_EQ(cb.occupancy, 1.0f);
  EXPECT_FLOAT_EQ(s.atoms[8].occupancy, 0.5f); // no altloc: occupancy as in the file
  EXPECT_EQ(s.atoms[5].residue, 2);
  // Implicit hydrogens: ALA 5 and GLY 3 inside a chain (gemmi's free-residue counts 7 and 5, minus 2).
  EXPECT_EQ(total_implicit_h(s), 8);
  EXPECT_EQ(info.implicit_h, 8);
  EXPECT_EQ(s.atoms[3].implicit_h, 0); // ALA carbonyl O: C and N atoms take them first
  EXPECT_EQ(s.name, "small");
}

} // namespace

TEST(structure, pdb_waters_altlocs_and_implicit_hydrogens) {
  write_text(tmp("small.pdb"), small_pdb());
  StructureReadInfo info;
  const AtomicStructure s = read_structure(tmp("small.pdb"), &info);
  expect_small_pdb(s, info);
  EXPECT_EQ(info.models, 1);
  EXPECT_EQ(s.source, tmp("small.pdb"));
}

TEST(structure, gzipped_and_crlf_read_the_same) {
  const std::string text = small_pdb();
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  fs::create_directories(tmp("gz"));
  fs::create_directories(tmp("crlf"));
  write_gz(tmp("gz/small.pdb.gz"), text);
  write_text(tmp("crlf/small.pdb"), crlf);
  StructureReadInfo a, b;
  expect_small_pdb(read_structure(tmp("gz/small.pdb.gz"), &a), a);
  expect_small_pdb(read_structure(tmp("crlf/small.pdb"), &b), b);
  // gzip is recognised by its magic bytes, not the name
  fs::copy_file(tmp("gz/small.pdb.gz"), tmp("gz/small.pdb"));
  StructureReadInfo c;
  expect_small_pdb(read_structure(tmp("gz/small.pdb"), &c), c);
  const std::string gz = read_file_bytes(tmp("gz/small.pdb.gz"));
  write_text(tmp("gz/cut.pdb.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_EQ(error_of([] { read_structure(tmp("gz/cut.pdb.gz")); }), tmp("gz/cut.pdb.gz") + ": truncated gzip data");
}

namespace {
std::string cif_atom(int id, const char* el, const char* name, const char* res, const char* chain, int seq, double x,
                     double y, double z, int model) {
  char b[200];
  std::snprintf(b, sizeof b, "ATOM %d %s %s . %s %s 1 %d %.3f %.3f %.3f 1.00 10.0 %d %s %d\n", id, el, name, res, chain,
                seq, x, y, z, seq, chain, model);
  return b;
}
std::string cif_header() {
  return "data_test\nloop_\n_atom_site.group_PDB\n_atom_site.id\n_atom_site.type_symbol\n"
         "_atom_site.label_atom_id\n_atom_site.label_alt_id\n_atom_site.label_comp_id\n"
         "_atom_site.label_asym_id\n_atom_site.label_entity_id\n_atom_site.label_seq_id\n"
         "_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.occupancy\n"
         "_atom_site.B_iso_or_equiv\n_atom_site.auth_seq_id\n_atom_site.auth_asym_id\n"
         "_atom_site.pdbx_PDB_model_num\n";
}
} // namespace

TEST(structure, mmcif_nmr_first_model_with_explicit_hydrogens) {
  std::string t = cif_header();
  for (int model = 1; model <= 3; ++model) {
    const double dx = 10.0 * (model - 1);
    int id = 100 * model;
    t += cif_atom(++id, "N", "N", "GLY", "B", 1, dx, 0, 0, model);
    t += cif_atom(++id, "C", "CA", "GLY", "B", 1, dx + 1.5, 0, 0, model);
    t += cif_atom(++id, "H", "HA2", "GLY", "B", 1, dx + 1.8, 1, 0, model);
    t += cif_atom(++id, "H", "H", "GLY", "B", 1, dx - 0.5, 0.8, 0, model);
    t += cif_atom(++id, "C", "C", "GLY", "B", 1, dx + 2, -1.4, 0, model);
  }
  write_text(tmp("nmr.cif"), t);
  StructureReadInfo info;
  const AtomicStructure s = read_structure(tmp("nmr.cif"), &info);
  EXPECT_EQ(info.models, 3);
  ASSERT_EQ(s.atoms.size(), 5u);
  for (const Atom& a : s.atoms) EXPECT_LT(a.pos_A.x, 5.0); // model 1 only
  EXPECT_EQ(info.explicit_h, 2);
  EXPECT_EQ(total_implicit_h(s), 0); // the file has hydrogens: none added
  EXPECT_EQ(s.atoms[2].z, 1);
  EXPECT_EQ(s.chains, std::vector<std::string>{"B"});
  EXPECT_EQ(info.notes.front(), tmp("nmr.cif") + ": 3 models, using the first");
  // gzipped mmCIF, CRLF inside
  std::string crlf;
  for (char c : t) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_gz(tmp("nmr.cif.gz"), crlf);
  EXPECT_EQ(read_structure(tmp("nmr.cif.gz")).atoms.size(), 5u);
}

TEST(structure, c_alpha_only_residues_carry_the_residue) {
  std::string t;
  t += pdb_line("ATOM", 1, " CA ", 0, "ALA", 'A', 1, 0, 0, 0, 1, "C");
  t += pdb_line("ATOM", 2, " CA ", 0, "GLY", 'A', 2, 3.8, 0, 0, 1, "C");
  t += pdb_line("ATOM", 3, " CA ", 0, "TRP", 'A', 3, 7.6, 0, 0, 1, "C");
  write_text(tmp("ca.pdb"), t + "END\n");
  StructureReadInfo info;
  const AtomicStructure s = read_structure(tmp("ca.pdb"), &info);
  ASSERT_EQ(s.atoms.size(), 3u);
  EXPECT_EQ(info.pseudo_residues, 3);
  // ALA in a chain is C3H5NO = 38 electrons; GLY C2H3NO = 30.
  EXPECT_EQ(s.atoms[0].z + s.atoms[0].implicit_h, 38);
  EXPECT_EQ(s.atoms[1].z + s.atoms[1].implicit_h, 30);
  EXPECT_EQ(s.atoms[2].z + s.atoms[2].implicit_h, 98); // TRP C11H10N2O
}

TEST(structure, errors_name_the_file) {
  EXPECT_EQ(error_of<IoError>([] { read_structure(tmp("nope.pdb")); }),
            tmp("nope.pdb") + ": No such file or directory");
  write_text(tmp("empty.pdb"), "");
  EXPECT_EQ(error_of([] { read_structure(tmp("empty.pdb")); }), tmp("empty.pdb") + ": no atoms");
  write_text(tmp("header.pdb"), "HEADER    NOTHING\nEND\n");
  EXPECT_EQ(error_of([] { read_structure(tmp("header.pdb")); }), tmp("header.pdb") + ": no atoms");
  write_text(tmp("water.pdb"), pdb_line("HETATM", 1, " O  ", 0, "HOH", 'W', 1, 0, 0, 0, 1, "O") + "END\n");
  EXPECT_EQ(error_of([] { read_structure(tmp("water.pdb")); }), tmp("water.pdb") + ": no atoms besides waters");
  write_text(tmp("unk.pdb"), pdb_line("HETATM", 1, " QQ ", 0, "UNK", 'A', 7, 0, 0, 0, 1, "QQ") + "END\n");
  EXPECT_EQ(error_of([] { read_structure(tmp("unk.pdb")); }),
            tmp("unk.pdb") + ": unknown element of atom 'QQ' in residue UNK 7 of chain A");
  EXPECT_EQ(error_of([] { read_structure(tmp_dir()); }), tmp_dir() + ": is a directory");
  write_text(tmp("junk.cif"), "data_x\nloop_\n_a.b\n'unterminated\n");
  EXPECT_EQ(error_of([] { read_structure(tmp("junk.cif")); }).rfind(tmp("junk.cif") + ": cannot read structure: ", 0),
            0u);
}

TEST(structure, load_structures_resolves_paths_against_the_sweep_folder) {
  fs::create_directories(tmp("sweep/structures"));
  write_text(tmp("sweep/structures/small.pdb"), small_pdb());
  const StructureSet set = load_structures({"structures/small.pdb", "structures/small.pdb"}, tmp("sweep"));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.at("structures/small.pdb").source, "structures/small.pdb");
  EXPECT_EQ(set.at("structures/small.pdb").atoms.size(), 9u);
  EXPECT_EQ(error_of([] { load_structures({"structures/none.cif"}, tmp("sweep")); }),
            tmp("sweep/structures/none.cif") + ": No such file or directory");
  const StructureSet syn = load_structures({"synthetic:globular?mass_kDa=20"}, tmp("sweep"));
  EXPECT_TRUE(syn.at("synthetic:globular?mass_kDa=20").synthetic);
  EXPECT_EQ(syn.at("synthetic:globular?mass_kDa=20").source, "synthetic:globular?mass_kDa=20");
  EXPECT_EQ(resolve_structure_path("/abs/x.pdb", "/base"), "/abs/x.pdb");
  EXPECT_EQ(resolve_structure_path("../x.pdb", "/base/sweeps"), "/base/x.pdb");
}

TEST(structure, biological_assembly_from_remark_350) {
  std::string t = "REMARK 350 BIOMOLECULE: 1\n"
                  "REMARK 350 APPLY THE FOLLOWING TO CHAINS: A\n"
                  "REMARK 350   BIOMT1   1  1.000000  0.000000  0.000000        0.00000\n"
                  "REMARK 350   BIOMT2   1  0.000000  1.000000  0.000000        0.00000\n"
                  "REMARK 350   BIOMT3   1  0.000000  0.000000  1.000000        0.00000\n"
                  "REMARK 350   BIOMT1   2 -1.000000  0.000000  0.000000       40.00000\n"
                  "REMARK 350   BIOMT2   2  0.000000 -1.000000  0.000000        0.00000\n"
                  "REMARK 350   BIOMT3   2  0.000000  0.000000  1.000000        0.00000\n";
  t += pdb_line("ATOM", 1, " CA ", 0, "ALA", 'A', 1, 1, 2, 3, 1, "C");
  t += pdb_line("ATOM", 2, " CA ", 0, "GLY", 'A', 2, 4, 2, 3, 1, "C");
  fs::create_directories(tmp("asm"));
  write_text(tmp("asm/dimer.pdb"), t + "END\n");
  EXPECT_EQ(read_structure(tmp("asm/dimer.pdb")).atoms.size(), 2u);
  const AtomicStructure s = read_structure(tmp("asm/dimer.pdb"), StructureReadOptions{"1"});
  ASSERT_EQ(s.atoms.size(), 4u);
  EXPECT_EQ(s.chains.size(), 2u);
  EXPECT_DOUBLE_EQ(s.atoms[2].pos_A.x, 39.0); // -x + 40
  EXPECT_DOUBLE_EQ(s.atoms[2].pos_A.y, -2.0);
  EXPECT_EQ(error_of([] { read_structure(tmp("asm/dimer.pdb"), StructureReadOptions{"7"}); }),
            tmp("asm/dimer.pdb") + ": assembly '7': wrong assembly name, use one of: 1");
  const StructureSet set = load_structures({"dimer.pdb?assembly=1", "dimer.pdb"}, tmp("asm"));
  EXPECT_EQ(set.at("dimer.pdb?assembly=1").atoms.size(), 4u);
  EXPECT_EQ(set.at("dimer.pdb?assembly=1").name, "dimer-assembly1");
  EXPECT_EQ(set.at("dimer.pdb").atoms.size(), 2u);
  EXPECT_EQ(error_of([] { load_structures({"dimer.pdb?copies=2"}, tmp("asm")); }),
            "dimer.pdb?copies=2: unknown structure option 'copies=2' (known: assembly=ID)");
}

// gemmi builds an assembly on a neighbour grid over all copies: what it cannot build is an error first.
TEST(structure, assembly_limits) {
  auto biomt = [](int n, double dx) {
    char b[512];
    std::snprintf(b, sizeof b,
                  "REMARK 350   BIOMT1 %3d  1.000000  0.000000  0.000000 %14.5f\n"
                  "REMARK 350   BIOMT2 %3d  0.000000  1.000000  0.000000 %14.5f\n"
                  "REMARK 350   BIOMT3 %3d  0.000000  0.000000  1.000000 %14.5f\n",
                  n, dx, n, dx, n, dx);
    return std::string(b);
  };
  const std::string head = "REMARK 350 BIOMOLECULE: 1\nREMARK 350 APPLY THE FOLLOWING TO CHAINS: A\n";
  const std::string atom = pdb_line("ATOM", 1, " CA ", 0, "ALA", 'A', 1, 1, 2, 3, 1, "C") + "END\n";
  fs::create_directories(tmp("asm"));
  write_text(tmp("asm/far.pdb"), head + biomt(1, 0) + biomt(2, 5000) + atom);
  EXPECT_EQ(error_of([] { read_structure(tmp("asm/far.pdb"), StructureReadOptions{"1"}); }),
            tmp("asm/far.pdb") +
                ": assembly '1' spans 5000 x 5000 x 5000 A, more than tomosweep builds (the volume of a "
                "1200 A cube)");
  write_text(tmp("asm/other-chain.pdb"),
             "REMARK 350 BIOMOLECULE: 1\nREMARK 350 APPLY THE FOLLOWING TO CHAINS: B\n" + biomt(1, 0) + atom);
  EXPECT_EQ(error_of([] { read_structure(tmp("asm/other-chain.pdb"), StructureReadOptions{"1"}); }),
            tmp("asm/other-chain.pdb") + ": assembly '1' has no atoms (its operators apply to no chain of the file)");
}

// ---------------------------------------------------------------- fetch

namespace {

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// `python3 -m http.server` on 127.0.0.1 serving `dir`, stopped (by its pid) when this goes out of scope.
struct LocalHttpServer {
  pid_t pid = -1;
  int port = 0;
  explicit LocalHttpServer(const std::string& dir) {
    port = free_loopback_port();
    const std::string port_s = std::to_string(port);
    pid = ::fork();
    if (pid == 0) {
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execl("/usr/bin/python3", "python3", "-m", "http.server", port_s.c_str(), "--bind", "127.0.0.1", "--directory",
              dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !port_open(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~LocalHttpServer() { stop(); }
};

} // namespace

TEST(fetch, downloads_into_cache_over_loopback_and_reuses_it) {
  fs::create_directories(tmp("www"));
  write_text(tmp("www/1ABC.pdb"), small_pdb());
  LocalHttpServer server(tmp("www"));
  ASSERT_TRUE(port_open(server.port)) << "python3 -m http.server did not start";
  FetchOptions opt;
  opt.url_template = "http://127.0.0.1:" + std::to_string(server.port) + "/{id}.pdb";
  opt.cache_dir = tmp("cache");
  opt.timeout_s = 10;
  const std::string path = fetch_pdb("pdb:1abc", opt);
  EXPECT_EQ(path, tmp("cache/1ABC.pdb"));
  EXPECT_EQ(read_file_bytes(path), small_pdb());
  EXPECT_EQ(read_structure(path).atoms.size(), 9u);

  const std::string url404 = "http://127.0.0.1:" + std::to_string(server.port) + "/9XYZ.pdb";
  EXPECT_EQ(error_of([&] { fetch_pdb("pdb:9xyz", opt); }),
            "pdb:9xyz: cannot download " + url404 + ": http 404 file not found: download it manually and use its path");

  // load_structures takes the url and cache from the environment.
  ::setenv("TOMOSWEEP_PDB_URL", opt.url_template.c_str(), 1);
  ::setenv("TOMOSWEEP_CACHE", tmp("cache_env").c_str(), 1);
  const StructureSet set = load_structures({"pdb:1abc"}, "/nowhere");
  ::unsetenv("TOMOSWEEP_PDB_URL");
  ::unsetenv("TOMOSWEEP_CACHE");
  EXPECT_EQ(set.at("pdb:1abc").atoms.size(), 9u);
  EXPECT_EQ(set.at("pdb:1abc").source, "pdb:1abc");
  EXPECT_TRUE(fs::exists(tmp("cache_env/1ABC.pdb")));

  server.stop();
  EXPECT_EQ(fetch_pdb("pdb:1ABC", opt), path); // cached: no network needed
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port) + "/2DEF.pdb";
  EXPECT_EQ(error_of([&] { fetch_pdb("pdb:2def", opt); }),
            "pdb:2def: cannot download " + url + ": cannot connect to 127.0.0.1:" + std::to_string(server.port) +
                " (connection refused; no network?): download it manually and use its path");
}

TEST(fetch, https_and_bad_ids_give_one_line_errors) {
  FetchOptions opt;
  opt.cache_dir = tmp("cache2");
  EXPECT_EQ(error_of([&] { fetch_pdb("pdb:1abc", opt); }),
            "pdb:1abc: no network/TLS support for https: download https://files.rcsb.org/download/1ABC.cif.gz "
            "manually and use its path, or save it as " +
                tmp("cache2/1ABC.cif.gz") + " (or set TOMOSWEEP_PDB_URL to an http:// mirror)");
  EXPECT_EQ(error_of([&] { fetch_pdb("pdb:abc", opt); }),
            "pdb:abc: not a pdb entry id (expected 4 characters like pdb:1abc)");
  // A file saved by hand into the cache is used without any download.
  fs::create_directories(tmp("cache2"));
  write_text(tmp("cache2/1ABC.cif.gz"), "x");
  EXPECT_EQ(fetch_pdb("pdb:1abc", opt), tmp("cache2/1ABC.cif.gz"));
  EXPECT_TRUE(is_pdb_source("pdb:1abc"));
  EXPECT_FALSE(is_pdb_source("structures/pdb:1abc"));
}
