#!/bin/sh
# Sweep benchmarks: coordinator overhead, jobs/min with 1 and 2 ranks, gather throughput against dd.
# usage: tests/bench/bench_sweep.sh BUILD_DIR [SCRATCH_DIR]     (figures go to stdout)
set -e
build=${1:?usage: bench_sweep.sh BUILD_DIR [SCRATCH_DIR]}
scratch=${2:-$build/bench_sweep_scratch}
here=$(cd "$(dirname "$0")" && pwd)
bench=$build/tests/bench/bench_sweep
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$scratch"
for n in 1 2; do mpiexec -n $n "$bench" overhead 20000; done
for n in 1 2; do mpiexec -n $n "$bench" jobs "$here/bench_sweep.toml" "$scratch/jobs.h5" 250 2>/dev/null; done
rm -f "$scratch/jobs.h5"
mpiexec -n 1 "$bench" gather "$scratch/gather" 8 96   # rank 0 absorbs; tests/bench/bench_gather.sh: a real sweep
mb=$(( 8 * 96 * 96 * 96 * 13 / 1000000 ))
printf 'dd: '
dd if=/dev/zero of="$scratch/dd.bin" bs=1M count=$mb conv=fsync 2>&1 | tail -1
rm -f "$scratch/dd.bin"
if [ -x "$build/tomosweep" ] && [ -f "$here/../../sweeps/quickstart.toml" ]; then
  for n in 1 2; do
    start=$(date +%s.%N)
    mpiexec -n $n "$build/tomosweep" run "$here/../../sweeps/quickstart.toml" -o "$scratch/qs.h5" --force 2>&1 | tail -1
    end=$(date +%s.%N)
    echo "quickstart on $n ranks: $(echo "$end - $start" | bc) s wall"
  done
  rm -f "$scratch/qs.h5"
fi
