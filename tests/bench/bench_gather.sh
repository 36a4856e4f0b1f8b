#!/bin/sh
# Gather benchmark (issue 11): a real sweep of 12 jobs of about 1.5 s (sweeps/bench/gather-12.toml) on 1 and 2
# ranks. Per run: jobs/min, end-to-end wall, the tail (time from the last stage file's write to the end of the
# run, from file times, so it does not rely on tomosweep's own figures), the gather as tomosweep reports it and
# MB/s of the corpus over it, the peak disk use of work folder + corpus, and the machine load; then the median
# per rank count, and `dd` to the same disk.
# usage: tests/bench/bench_gather.sh BUILD_DIR [SCRATCH_DIR] [REPEATS] [SWEEP]
set -e
build=${1:?usage: bench_gather.sh BUILD_DIR [SCRATCH_DIR] [REPEATS] [SWEEP]}
scratch=${2:-$build/bench_gather_scratch}
repeats=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
sweep=${4:-$here/../../sweeps/bench/gather-12.toml}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$scratch"
results=$scratch/results.txt
: >"$results"

# Largest total size of the files under $1, every 0.1 s until the file $2 exists; written to $3. One process that
# lists the folder itself: a `du` started ten times a second took a few percent of a core, which a 1-rank run
# finds idle and a 2-rank run does not.
watch_disk() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import os, sys, time
folder, stop, out = sys.argv[1:]
def size(path):
    total = 0
    try:
        for e in os.scandir(path):
            try:
                total += size(e.path) if e.is_dir(follow_symlinks=False) else e.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        pass
    return total
peak = 0
while not os.path.exists(stop):
    peak = max(peak, size(folder))
    time.sleep(0.1)
open(out, "w").write(f"{peak}\n")
PY
}

one_run() { # ranks repeat
  n=$1
  dir=$scratch/run
  rm -rf "$dir"
  mkdir -p "$dir"
  rm -f "$scratch/peak" "$scratch/stop"
  watch_disk "$dir" "$scratch/stop" "$scratch/peak" &
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  if ! mpiexec -n "$n" "$build/tomosweep" run "$sweep" -o "$dir/c.h5" --keep-work --log-interval 1000 2>"$scratch/err"
  then
    touch "$scratch/stop" # stop the disk watcher, then report the run's own error
    wait
    echo "bench_gather.sh: the run on $n rank(s) failed:" >&2
    grep 'error' "$scratch/err" | head -3 >&2
    exit 1
  fi
  end=$(date +%s.%N)
  touch "$scratch/stop"
  wait
  peak=$(cat "$scratch/peak")
  last=$(find "$dir/c.h5.work" -name 'job-*.h5' -printf '%T@\n' | sort -n | tail -1)
  bytes=$(stat -c %s "$dir/c.h5")
  summary=$(grep 'wrote' "$scratch/err" | tail -1)
  gather=$(echo "$summary" | sed -n 's/.*gathered in \([0-9.]*\) s.*/\1/p')
  run=$(echo "$summary" | sed -n 's/.* in \([0-9.]*\) s, gathered.*/\1/p')
  jobs=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) jobs (.*/\1/p')
  /usr/bin/python3 - "$n" "$jobs" "$start" "$end" "$last" "$bytes" "$gather" "$run" "$peak" "$load" <<'EOF' | tee -a "$results"
import sys
n, jobs, start, end, last, size, gather, run, peak, load = sys.argv[1:]
wall, tail, mb = float(end) - float(start), float(end) - float(last), int(size) / 1e6
print(f"ranks {n} jobs {jobs} wall {wall:.2f} s e2e {60 * int(jobs) / wall:.1f} jobs/min run-phase "
      f"{60 * int(jobs) / float(run):.1f} jobs/min tail {tail:.2f} s ({100 * tail / wall:.0f}%) gather {gather} s "
      f"({mb / max(float(gather), 1e-3):.0f} MB/s) corpus {mb:.0f} MB disk-peak {int(peak) / int(size):.2f}x "
      f"load {load}")
EOF
  rm -rf "$dir"
}

uptime
for r in $(seq "$repeats"); do
  for n in 1 2; do one_run "$n"; done
done
/usr/bin/python3 - "$results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r[1], []).append(r)
med = {}
for n, rs in sorted(by.items()):
    get = lambda key: statistics.median(float(r[r.index(key) + 1].rstrip("x")) for r in rs)
    med[n] = get("wall")
    print(f"median of {len(rs)}, {n} rank(s): wall {get('wall'):.2f} s, e2e {get('e2e'):.1f} jobs/min, "
          f"tail {get('tail'):.2f} s, gather {get('gather'):.2f} s, disk peak {get('disk-peak'):.2f}x corpus")
if "1" in med and "2" in med:
    print(f"speedup 2 vs 1 rank (end to end, medians): {med['1'] / med['2']:.2f}x")
    # Each round runs 1 rank, then 2: their ratio, round by round, follows the machine's swings less.
    walls = {n: [float(r[r.index("wall") + 1]) for r in rs] for n, rs in by.items()}
    rounds = [a / b for a, b in zip(walls["1"], walls["2"])]
    print(f"speedup round by round: {' '.join(f'{x:.2f}x' for x in rounds)}; median {statistics.median(rounds):.2f}x")
EOF
mb=512
printf 'dd %d MB to the same disk (conv=fsync): ' $mb
dd if=/dev/zero of="$scratch/dd.bin" bs=4M count=$((mb / 4)) conv=fsync 2>&1 | tail -1
rm -f "$scratch/dd.bin"
uptime
