#!/usr/bin/env bash
# Quick start: install dependencies, build, and run the quick-start sweep on 2 MPI ranks into quickstart.h5.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
ranks=${RANKS:-2}
out=${OUT:-quickstart.h5}
mpirun -n "$ranks" build/tomosweep run sweeps/quickstart.toml -o "$out" --force
build/tomosweep inspect "$out"
