#!/usr/bin/env bash
# Digest of everything tomosweep makes from the repository's own sweep files, to show that a change leaves
# outputs byte for byte as they were: run it with the build before and after, then diff the two digests.
#
#   tools/output_digest.sh BUILD_DIR WORK_DIR > digest.txt
#
# It runs sweeps/quickstart.toml and sweeps/bench/options.toml as corpora on 1 and 2 MPI ranks, simulates job 0
# of each example and bench sweep (and the first wedge-azimuth-45 job of sweeps/paper/wedge.toml) as MRC files,
# and prints the job tables of every sweep. Corpora are digested dataset by dataset (tools/h5digest.py: the
# HDF5 file bytes hold object addresses that may move), job files by their SHA-256. Wall times are left out.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$2
ts=$build/tomosweep
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
rm -rf "$work"
mkdir -p "$work"
cd "$repo"

for sweep in sweeps/quickstart.toml sweeps/bench/options.toml; do
  name=$(basename "$sweep" .toml)
  "$ts" run "$sweep" -o "$work/$name-1.h5" >/dev/null 2>&1
  mpirun -n 2 "$ts" run "$sweep" -o "$work/$name-2.h5" >/dev/null 2>&1
  for n in 1 2; do
    echo "== corpus $sweep on $n rank(s)"
    /usr/bin/python3 tools/h5digest.py "$work/$name-$n.h5"
  done
done

for sweep in sweeps/quickstart.toml sweeps/examples/*.toml sweeps/bench/*.toml sweeps/paper/*.toml; do
  echo "== expand $sweep"
  "$ts" expand "$sweep" --json | sha256sum | cut -c1-16
done

simulate() { # sweep job
  local out=$work/sim-$(basename "$1" .toml)-$2
  "$ts" simulate "$1" --job "$2" --out "$out" >/dev/null 2>&1
  echo "== simulate $1 job $2"
  (cd "$out" && find . -type f | sort | xargs sha256sum | cut -c1-16,65-)
}
for sweep in sweeps/quickstart.toml sweeps/examples/*.toml sweeps/bench/job-400.toml sweeps/bench/thon-rings.toml; do
  simulate "$sweep" 0
done
wedge45=$("$ts" expand sweeps/paper/wedge.toml --json | /usr/bin/python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
print(next(j["job_id"] for j in jobs if j["values"].get("imaging.tilt.axis_azimuth_deg") == 45))')
simulate sweeps/paper/wedge.toml "$wedge45"
