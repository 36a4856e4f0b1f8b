#!/usr/bin/env bash
# Before/after timing of `tomosweep simulate` (issue 12's whole-process figures): runs job 0 of SWEEP.toml with
# each of the given tomosweep executables in turn, RUNS rounds, alternating so that a busy spell of the machine
# falls on all of them alike, and prints per executable the median, least and most wall time, the median CPU
# (user + system) and the largest peak memory (MiB), all from /usr/bin/time, files included.
#
#   tests/bench/ab_simulate.sh RUNS SWEEP.toml TOMOSWEEP_A [TOMOSWEEP_B ...]
#
# ON_CORE=N pins every run to core N (taskset): the one-core figures; unset, runs may use every core they are
# allowed (tomosweep simulate then makes its projections, imaging and back projection on two threads).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: ab_simulate.sh RUNS SWEEP.toml TOMOSWEEP_A [TOMOSWEEP_B ...]" >&2
  exit 2
fi
runs=$1 sweep=$2
shift 2
[ -x /usr/bin/time ] || { echo "ab_simulate.sh: needs /usr/bin/time (Debian package time)" >&2; exit 1; }
[ -f "$sweep" ] || { echo "ab_simulate.sh: $sweep: no such file" >&2; exit 1; }
for exe in "$@"; do [ -x "$exe" ] || { echo "ab_simulate.sh: $exe is not an executable" >&2; exit 1; }; done
pin=()
[ -n "${ON_CORE:-}" ] && pin=(taskset -c "$ON_CORE")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for ((r = 1; r <= runs; r++)); do
  i=0
  for exe in "$@"; do
    rm -rf "$work/out"
    if ! "${pin[@]}" /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$exe" simulate "$sweep" --out "$work/out" \
      >/dev/null 2>"$work/err"; then
      echo "ab_simulate.sh: $exe failed:" >&2
      tail -3 "$work/err" >&2
      exit 1
    fi
    echo "$(tail -1 "$work/time")" >>"$work/times.$i"
    i=$((i + 1))
  done
done

echo "$runs alternating runs of $sweep${ON_CORE:+ on core $ON_CORE}; load now $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
for exe in "$@"; do
  /usr/bin/python3 - "$exe" "$work/times.$i" <<'EOF'
import statistics, sys
exe, path = sys.argv[1:]
rows = [list(map(float, line.split())) for line in open(path)]
wall = [r[0] for r in rows]
cpu = [r[1] + r[2] for r in rows]
peak = max(r[3] for r in rows) / 1024
print(f"{exe}: wall median {statistics.median(wall):.2f} s (least {min(wall):.2f}, most {max(wall):.2f}), "
      f"CPU median {statistics.median(cpu):.2f} s, peak {peak:.1f} MiB")
EOF
  i=$((i + 1))
done
