// tomosweep: parse the subcommand, call it, catch once.
#include "cli/commands.hpp"
#include "cli/isolate.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char* kUsage = R"(tomosweep )" TOMOSWEEP_VERSION R"( - labelled cryo-electron tomography training data

usage: tomosweep <command> [options]     (tomosweep <command> --help for its options)

commands:
  run SWEEP.toml [-o corpus.h5] [--resume] [--force]      run a sweep (alone or under mpirun) into one
                                                          HDF5 corpus; a job over --memory-per-rank runs on
                                                          a group of ranks
  expand SWEEP.toml [--json]                              print the job table, run nothing
  check SWEEP.toml                                        validate every job, estimate memory per job and
                                                          the rank group it needs
  simulate SWEEP.toml [--job N] --out DIR                 run one job, write MRC files (no corpus)
  structure FILE [--pixel-size A]                         how a PDB/mmCIF file is read
  inspect corpus.h5 [--json]                              summary of a corpus (per condition)
  export corpus.h5 --job N|all [--to DIR] [--format F]    jobs as MRC + .tlt + STAR/JSON (F = mrc), a copick
                                                          project (copick) or a RELION-5 set (relion)

Start with:  tomosweep simulate sweeps/quickstart.toml --out one      (one job as MRC files)
             mpirun -n 2 tomosweep run sweeps/quickstart.toml -o quickstart.h5   (a sweep into a corpus)
Units: Angstrom, e-/A^2, defocus in micrometres (positive = underfocus), degrees. See README.md and docs/.
)";

struct Command {
  const char* name;
  int (*fn)(int, char**);
};
constexpr Command kCommands[] = {
    {"run", tomosweep::cli::cmd_run},
    {"expand", tomosweep::cli::cmd_expand},
    {"check", tomosweep::cli::cmd_check},
    {"simulate", tomosweep::cli::cmd_simulate},
    {"structure", tomosweep::cli::cmd_structure},
    {"inspect", tomosweep::cli::cmd_inspect},
    {"export", tomosweep::cli::cmd_export},
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::puts("tomosweep " TOMOSWEEP_VERSION);
    return 0;
  }
  // Volumes and tilt series are large and short-lived: a sweep worker keeps freed memory in the heap for the
  // next job instead of unmapping and faulting it in again (a quarter of the imaging time otherwise). One job
  // (simulate) has no next job: there the big buffers are mapped and returned one by one, so that a freed
  // temporary is not a hole in the heap that the next, slightly larger, volume cannot use (its peak is the
  // job's own).
  // A fixed threshold of 2 MiB there also turns off glibc's sliding one, which rises to the size of each mapped
  // block freed (up to 32 MiB), after which mid-sized buffers (a tilt's images, blocks of rows) fill the heap in
  // an order-dependent way: cytoplasm-600 peaked at 417-453 MiB depending on it, and at 433 MiB with this.
  // Smaller buffers stay in the heap: with glibc's trim threshold of 128 KiB, freeing a tilt's images at the
  // heap's top returned them to the system, and every tilt faulted them in again (actin-temsim: 78,500 page
  // faults and 0.17 s of system time; with 64 MiB kept, 60,500 and 0.12 s, the same peak).
  if (!std::strcmp(argv[1], "run")) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  } else {
    mallopt(M_MMAP_THRESHOLD, 2 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    return tomosweep::cli::report_errors([&] { return c.fn(argc - 1, argv + 1); });
  }
  std::fprintf(stderr, "tomosweep: error: unknown command '%s' (try tomosweep --help)\n", argv[1]);
  return 2;
}
