// Subcommands of the tomosweep executable. Each takes the arguments after its name (argv[0] is the
// subcommand name) and returns the process exit code; errors are thrown and caught once in main.
#pragma once

namespace tomosweep::cli {

int cmd_run(int argc, char** argv);       // run SWEEP.toml [-o corpus.h5] [--resume] [--work DIR]
int cmd_expand(int argc, char** argv);    // expand SWEEP.toml [--json]
int cmd_inspect(int argc, char** argv);   // inspect corpus.h5 [--json]
int cmd_export(int argc, char** argv);    // export corpus.h5 --job N|all [--to DIR] [--format mrc|copick|relion]
int cmd_check(int argc, char** argv);     // check SWEEP.toml
int cmd_simulate(int argc, char** argv);  // simulate SWEEP.toml [--job N] --out DIR
int cmd_structure(int argc, char** argv); // structure FILE [--pixel-size A]

} // namespace tomosweep::cli
