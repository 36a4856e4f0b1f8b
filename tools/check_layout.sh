#!/usr/bin/env bash
# MPI stays in src/sweep: fail, printing the offending lines, when mpi.h, Boost.MPI, MPI_COMM or an MPI::
# target appears in src/ outside src/sweep/. (Parallel HDF5's headers include mpi.h themselves; that is
# not a use of MPI by the module.)
#
#   tools/check_layout.sh        (from anywhere in the repository)
set -uo pipefail
cd "$(dirname "$0")/.."
hits=$(grep -rnE 'mpi\.h|boost/mpi|\bMPI_COMM|MPI::' src --exclude-dir=sweep)
if [ -n "$hits" ]; then
  echo "MPI outside src/sweep/ (it belongs to the sweep alone):"
  echo "$hits"
  exit 1
fi
echo "layout ok: MPI only in src/sweep/"
