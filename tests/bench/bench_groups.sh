#!/usr/bin/env bash
# Group-size table for one large job (docs/sweep.md, "Rank groups"): the same job on 1, 2, 3 and 4 ranks, each run
# with the --memory-per-rank that makes that group size the smallest that fits, printing wall time, the largest
# peak RSS of any rank, and tomosweep check's estimate per rank. (3 ranks would hold slabs of 2, 1 and 1 chunks:
# no less per rank than 2, so 3 is never the smallest group that fits this job.) Run on demand, on a quiet machine:
#
#   tests/bench/bench_groups.sh BUILD_DIR [WORK_DIR]
#
# The job: sweeps/bench/group-job.toml (a 400 x 400 x 256 voxel cytoplasm-like box, four 64-slice chunks).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
work=${2:-${TMPDIR:-/tmp}/tomosweep-bench-groups}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
sweep=$repo/sweeps/bench/group-job.toml
mkdir -p "$work"
printf '%-6s %-10s %-10s %-16s %-16s\n' ranks budget wall_s peak_rss_MB estimate_MB
for g in 1 2 4; do
  # The budget: just above the group's own estimate (check prints it), below the next smaller group's.
  if [ "$g" = 1 ]; then
    budget=64G
  else
    budget=$(/usr/bin/python3 - "$build/tomosweep" "$sweep" "$g" <<'PY'
import re, subprocess, sys
ts, sweep, g = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Bisect the smallest budget (MB) at which check reports this group size.
lo, hi = 1, 100000
def size(mb):
    out = subprocess.run([ts, "check", sweep, "--memory-per-rank", f"{mb}M"], capture_output=True, text=True).stdout
    if not out.strip():
        return 0  # no group fits
    sizes = [int(x) for x in re.findall(r"on (\d+) ranks?", out.splitlines()[-1])]
    return max(sizes) if sizes else 0
while lo < hi:
    mid = (lo + hi) // 2
    if 0 < size(mid) <= g: hi = mid
    else: lo = mid + 1
print(f"{lo}M")
PY
)
  fi
  est=$("$build/tomosweep" check "$sweep" --memory-per-rank "$budget" | tail -1)
  t0=$(date +%s.%N)
  mpirun -n "$g" /usr/bin/time -f "rss %M" "$build/tomosweep" run "$sweep" -o "$work/g$g.h5" --force \
    --memory-per-rank "$budget" > "$work/g$g.log" 2>&1
  t1=$(date +%s.%N)
  rss=$(grep -o "rss [0-9]*" "$work/g$g.log" | awk '{ if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }')
  printf '%-6s %-10s %-10.2f %-16s %s\n' "$g" "$budget" "$(echo "$t1 - $t0" | bc)" "$rss" "${est#*memory:}"
done
