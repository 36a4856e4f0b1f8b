#!/usr/bin/env bash
# The whole test suite: install dependencies, check the module layout, then build and run ctest twice, in Release (build/) and under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/), and the MPI coordinator tests (label tsan) under ThreadSanitizer
# (build-tsan/, only what they need is built). SANITIZE=0 skips both sanitizer passes, TSAN=0 the ThreadSanitizer one.
# The Slurm test (label slurm, cluster/test-slurm.sh) runs in the Release pass only.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/check_layout.sh  # MPI stays in src/sweep/ (docs/layout.md)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# As root, with the packages just installed, the Slurm test (cluster/test-slurm.sh) must run, not skip.
[ "$(id -u)" != 0 ] || export TOMOSWEEP_REQUIRE_SLURM=1
jobs=${JOBS:-$(nproc)}

BUILD_DIR=build tools/build.sh -DTOMOSWEEP_WERROR=ON
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [ "${SANITIZE:-1}" != 0 ]; then
  # OpenMPI's own allocations are reported as leaks by LeakSanitizer; leaks are not what this pass checks.
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo tools/build.sh -DTOMOSWEEP_SANITIZE=ON -DTOMOSWEEP_BENCHMARKS=OFF
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 1200 -LE "slow|study|slurm"
fi

if [ "${SANITIZE:-1}" != 0 ] && [ "${TSAN:-1}" != 0 ]; then
  # Rank 0's coordinator thread beside its own jobs, on 1, 2 and 3 ranks (docs/reliability.md), and simulate's writer
  # thread (background_writer_test), its granular ice texture thread (texture_thread_test) and its imaging and
  # back-projection threads (imaging_threads_test); Open MPI's own
  # races are suppressed by tests/mpi/tsan.supp, which tests/CMakeLists.txt passes in TSAN_OPTIONS.
  BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo TARGETS="fake_sweep background_writer_test texture_thread_test imaging_threads_test" tools/build.sh -DTOMOSWEEP_SANITIZE=thread \
    -DTOMOSWEEP_BENCHMARKS=OFF
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 600 -L tsan
fi
