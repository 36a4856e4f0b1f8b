// Errors caught once, and readers of untrusted corpus files run in a child process.
#pragma once

#include <functional>
#include <string>

namespace tomosweep::cli {

/// Call `body` and turn what it throws into one line on stderr and exit code 1 (2 for an unknown command is
/// main's). ConfigError lines are printed by MPI rank 0 alone: every rank reads the same file.
int report_errors(const std::function<int()>& body);

/// Run `body` (under report_errors) in a forked child process and return its exit code. libhdf5 1.10 can
/// crash on a damaged file inside its own parsing (docs/reliability.md); when the child dies of a signal,
/// the parent prints one line naming `file` and the signal, and returns 1. Output written before the crash
/// (stdout, files) stays; the child's stderr is passed on when it ends normally. Only for commands that run
/// alone: never under MPI.
int run_isolated(const std::string& file, const std::function<int()>& body);

/// Inside run_isolated's body: the child may use `seconds` more CPU time from now on (RLIMIT_CPU), after which
/// the parent reports a loop on damaged metadata. Damaged files can make libhdf5 loop forever; a stalled file
/// system uses no CPU time and is waited for.
void allow_cpu_seconds(double seconds);

} // namespace tomosweep::cli
