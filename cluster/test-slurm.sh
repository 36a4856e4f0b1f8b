#!/usr/bin/env bash
# cluster/slurm.sh on a real, single-node Slurm started here from the Debian packages (slurmctld, slurmd, munged run
# directly, no systemd; everything under a temporary folder, SLURM_CONF exported):
#   - srun --mpi=pmix (the script's default) and LAUNCHER=mpirun with FORCE=1 over a file in the corpus's place;
#   - an array job, one sweep per task (%a in SWEEP and OUTPUT);
#   - a run on a node whose configured memory (1 GB) is below tasks x 4 GB: the script asks for no memory;
#   - a resubmission while the first run still runs (suspended with scontrol suspend, so that it still runs however
#     fast this machine is): refused by tomosweep's work-folder lock, in one line, naming a pid of the first job;
#   - that run resumed, then cancelled with scancel, and finished by a resubmission chained to it with
#     --dependency=afterany and --export=ALL,RESUME=1;
#   - every corpus identical to the first (tests/mpi/compare_corpora.py); dash -n of slurm.sh and pbs.sh (no bash
#     arrays: an empty "${a[@]}" fails under set -u in bash before 4.4).
# Every daemon started here is stopped by its pid at exit, after the jobs are cancelled. Needs root and 2 cores.
#
# usage: cluster/test-slurm.sh TOMOSWEEP OUT_DIR
#        TOMOSWEEP_SLURM_RUN='srun -n 2 --mpi=pmix hostname' cluster/test-slurm.sh TOMOSWEEP OUT_DIR   (a command of
#        your own on this Slurm, in OUT_DIR, instead of the tests; everything is stopped when it ends)
# Exit 77 (ctest: skipped) when Slurm cannot run here (packages missing, not root, daemons do not start), unless
# TOMOSWEEP_REQUIRE_SLURM=1 (tools/test.sh sets it: CI installs the packages, so there a skip is a failure).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 TOMOSWEEP OUT_DIR" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
exe=$(readlink -f "$1")
out=$(mkdir -p "$2" && cd "$2" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
start_time=$SECONDS

say() { echo "test-slurm: $*" >&2; }
fail() { say "error: $*"; exit 1; }
skip() {
  say "skipped: $*"
  [ "${TOMOSWEEP_REQUIRE_SLURM:-0}" = 1 ] && fail "Slurm is required here (TOMOSWEEP_REQUIRE_SLURM=1)"
  exit 77
}

for c in munged mungekey munge slurmctld slurmd sbatch srun squeue scancel scontrol sinfo mpirun; do
  command -v "$c" > /dev/null || skip "no $c (tools/install-deps.sh installs slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || skip "needs root (slurmd starts the jobs as their user)"
[ "$(nproc)" -ge 2 ] || skip "needs 2 cores (two jobs run at once)"

# A Slurm job of the caller's (a CI runner inside a Slurm allocation) must not leak into ours.
for v in $(env | sed -n 's/^\(SLURM_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export TOMOSWEEP=$exe  # cluster/slurm.sh runs it; sbatch passes the whole environment on (--export=ALL)

tmp=$(mktemp -d /tmp/tomosweep-slurm.XXXXXX)
chmod 755 "$tmp"  # munged wants every folder above its socket searchable by all
pids=()
failed_logs() {
  for f in "$tmp"/munged.log "$tmp"/slurmctld.log "$tmp"/slurmd.log; do
    if [ -s "$f" ]; then echo "--- $f (last lines)"; tail -n 15 "$f"; fi
  done >&2
}
cleanup() {
  local rc=$? pid i
  trap - EXIT
  # The jobs first: a job's slurmstepd outlives slurmd.
  if [ -n "${SLURM_CONF:-}" ] && squeue -h > /dev/null 2>&1; then
    scancel --full $(squeue -h -o %i) 2> /dev/null || true
    for ((i = 0; i < 100; i++)); do
      [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
      sleep 0.1
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2> /dev/null || continue
    for ((n = 0; n < 50; n++)); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || failed_logs
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "error: interrupted"; exit 1' INT TERM
# A watchdog ends the test (cleanup included) before ctest's timeout would kill it without one.
(
  trap 'kill "$nap" 2> /dev/null; exit 0' TERM
  sleep "${TOMOSWEEP_SLURM_TIMEOUT:-240}" &
  nap=$!
  wait "$nap"
  say "error: timed out after ${TOMOSWEEP_SLURM_TIMEOUT:-240} s"
  kill -TERM $$
) &
pids+=($!)

# --- munge: its own key and socket
mungekey -c -k "$tmp/munge.key" 2> /dev/null || dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
munged -F --force --socket="$tmp/munge.sock" --key-file="$tmp/munge.key" --log-file="$tmp/munged.log" \
  --pid-file="$tmp/munged.pid" --seed-file="$tmp/munged.seed" > /dev/null 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do
  munge -S "$tmp/munge.sock" -n > /dev/null 2>&1 && break
  sleep 0.1
done
munge -S "$tmp/munge.sock" -n > /dev/null 2>&1 || { failed_logs; skip "munged did not start"; }

# --- slurm.conf: one node (this host, its cores), two free ports, state and spool in $tmp, no cgroups
ports=$(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
read -r ctld_port slurmd_port <<< "$ports"
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" << EOF
ClusterName=tomosweep-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=600
# 1 GB: less than the old script's --mem-per-cpu=4G x 2 tasks, as on the small node of issue 11
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -i > "$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D > "$tmp/slurmd.out" 2>&1 &
pids+=($!)
for ((i = 0; i < 300; i++)); do
  [ "$(sinfo -h -o %T 2> /dev/null)" = idle ] && break
  sleep 0.1
done
[ "$(sinfo -h -o %T 2> /dev/null)" = idle ] || { failed_logs; skip "slurmctld/slurmd did not start (sinfo: $(sinfo -h 2>&1))"; }
say "Slurm up in $((SECONDS - start_time)) s: $(sinfo -h -o '%P %D %c %T')"
srun --mpi=list 2>&1 | grep -qw pmix || fail "srun offers no pmix plugin (slurm-wlm-basic-plugins, libpmix2)"
if [ -n "${TOMOSWEEP_SLURM_RUN:-}" ]; then  # by hand: a command on this Slurm instead of the tests
  (cd "$out" && bash -c "$TOMOSWEEP_SLURM_RUN")
  exit
fi

# --- helpers
state() { scontrol show job -o "$1" | sed -n 's/.* JobState=\([A-Z_]*\) .*/\1/p'; }
exit_code() { scontrol show job -o "$1" | sed -n 's/.* ExitCode=\([0-9:]*\) .*/\1/p'; }
wait_state() { # JOB STATE... [timeout 120 s]: until the job is in one of the states
  local id=$1 s
  shift
  for ((i = 0; i < 1200; i++)); do
    s=$(state "$id")
    for want in "$@"; do [ "$s" = "$want" ] && return 0; done
    sleep 0.1
  done
  fail "job $id: state $s, waited for $*"
}
wait_done() { # JOB: until it ended; its state
  wait_state "$1" COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY
  state "$1"
}
submit() { # NAME sbatch-options... -- slurm.sh arguments: the job id; the log is OUT/NAME.log
  local name=$1
  shift
  rm -f "$out/$name.log"
  sbatch --parsable --chdir="$out" --output="$out/$name.log" --job-name="$name" "$@"
}
expect_ok() { # JOB NAME CORPUS JOBS
  local s
  s=$(wait_done "$1")
  [ "$s" = COMPLETED ] || fail "$2: job $1 $s (exit $(exit_code "$1")): $(cat "$out/$2.log")"
  grep -q "wrote $3: $4 jobs (0 failed)" "$out/$2.log" || fail "$2: no summary line: $(cat "$out/$2.log")"
  say "$2: ok ($((SECONDS - start_time)) s)"
}
staged() { ls "$1" 2> /dev/null | grep -c '^job-[0-9]*\.h5$' || true; }

# --- the sweep: 12 jobs of about half a second of CPU each (imaging at 5 A, binned to 10 A)
write_sweep() { # FILE SEED REPLICATES DEFOCUS-LIST
  cat > "$1" << EOF
[run]
name = "slurm-test"
seed = $2
replicates = $3
outputs = ["tomogram", "prior", "atlas", "instances", "particles"]

[model]
box_A = [800, 800, 200]
pixel_size_A = 10.0

[[model.layer]]
max_density = 0.2
particles = [{ source = "synthetic:globular?mass_kDa=60", class = "complex" }]

[imaging]
dose_e_per_A2 = 60
acquisition_binning = 2
tilt = { min_deg = -60, max_deg = 60, step_deg = 2 }

[prior]
tilt = { min_deg = -60, max_deg = 60, step_deg = 10 }

[sweep]
"imaging.defocus_um" = [$4]
EOF
}
jobs=12
write_sweep "$out/sweep.toml" 5 3 "1.5, 2.5, 3.5, 4.5"
write_sweep "$out/part-0.toml" 6 1 "2.0, 4.0"
write_sweep "$out/part-1.toml" 7 1 "3.0, 5.0"
rm -rf "$out"/*.h5 "$out"/*.h5.work "$out"/*.h5.tmp
slurm_sh=$repo/cluster/slurm.sh

if command -v dash > /dev/null; then
  dash -n "$slurm_sh" && dash -n "$repo/cluster/pbs.sh" || fail "slurm.sh or pbs.sh is not plain POSIX shell"
fi
if sbatch --test-only -n 2 --mem-per-cpu=4G --wrap true > /dev/null 2>&1; then
  fail "the test node should refuse 2 x 4 GB"
fi

# 1. srun --mpi=pmix (the default launcher), 2 ranks
id=$(submit pmix -n 2 "$slurm_sh" sweep.toml pmix.h5)
expect_ok "$id" pmix pmix.h5 $jobs

# 2. mpirun inside the allocation, with FORCE=1 over a file in the corpus's place
echo "not a corpus" > "$out/mpirun.h5"
id=$(submit mpirun -n 2 --export=ALL,LAUNCHER=mpirun,FORCE=1 "$slurm_sh" sweep.toml "$out/mpirun.h5")
expect_ok "$id" mpirun "$out/mpirun.h5" $jobs

# 3. an array job: one sweep per task, both tasks at once on one core each
id=$(submit array --array=0-1 -n 1 --output="$out/array-%a.log" "$slurm_sh" part-%a.toml part-%a.h5)
for a in 0 1; do
  s=$(wait_done "${id}_$a")
  [ "$s" = COMPLETED ] || fail "array task $a: $s: $(cat "$out/array-$a.log")"
  grep -q "wrote part-$a.h5: 2 jobs (0 failed)" "$out/array-$a.log" || fail "array task $a: $(cat "$out/array-$a.log")"
  "$exe" inspect "$out/part-$a.h5" | grep -q "^jobs: 2, 2 ok$" || fail "part-$a.h5: $("$exe" inspect "$out/part-$a.h5")"
done
say "array: ok ($((SECONDS - start_time)) s)"

# 4. one rank holds the work folder, suspended (scontrol suspend: it holds it however fast this machine is); a
#    resubmission meanwhile is refused by the lock
first=$(submit first -n 1 "$slurm_sh" sweep.toml cancelled.h5)
for ((i = 0; i < 1200; i++)); do
  [ "$(staged "$out/cancelled.h5.work")" -ge 1 ] && break
  s=$(state "$first")
  case $s in "" | PENDING | CONFIGURING | RUNNING) ;; *) fail "first: '$s' before a job was staged: $(cat "$out/first.log")" ;; esac
  sleep 0.1
done
[ "$(staged "$out/cancelled.h5.work")" -ge 1 ] || fail "first: no job staged after 120 s"
scontrol suspend "$first"
wait_state "$first" SUSPENDED
id=$(submit concurrent -n 1 --export=ALL,RESUME=1 "$slurm_sh" sweep.toml cancelled.h5)
s=$(wait_done "$id")
[ "$s" = FAILED ] || fail "concurrent: job $id $s, should have been refused: $(cat "$out/concurrent.log")"
[ "$(state "$first")" = SUSPENDED ] || fail "first: $(state "$first") while the concurrent run was refused"
errors=$(grep -c '^tomosweep: error:' "$out/concurrent.log" || true)
grep -Eq "^tomosweep: error: cancelled\.h5\.work: work folder in use by another run \(pid [0-9]+\); wait for it to end or use another --work folder$" \
  "$out/concurrent.log" && [ "$errors" = 1 ] || fail "concurrent: not the lock's one-line refusal: $(cat "$out/concurrent.log")"
holder=$(sed -n 's/.*work folder in use by another run (pid \([0-9]*\)).*/\1/p' "$out/concurrent.log")
scontrol listpids "$first" | awk 'NR > 1 { print $1 }' | grep -qx "$holder" \
  || fail "concurrent: pid $holder is not a process of the first job: $(scontrol listpids "$first")"
say "concurrent: refused: $(grep '^tomosweep: error:' "$out/concurrent.log")"

# 5. a resubmission chained with afterany and RESUME=1, then scancel of the sweep, running again
again=$(submit resumed -n 2 --dependency=afterany:"$first" --export=ALL,RESUME=1 "$slurm_sh" sweep.toml cancelled.h5)
[ "$(state "$again")" = PENDING ] || fail "resumed: $(state "$again") before the first job ended"
scontrol resume "$first"
wait_state "$first" RUNNING
sleep 0.5
[ "$(state "$first")" = RUNNING ] || fail "first: $(state "$first") before scancel (too fast)"
scancel "$first"
s=$(wait_done "$first")
n=$(staged "$out/cancelled.h5.work")
[ "$s" = CANCELLED ] || fail "first: $s after scancel"
say "first: cancelled with $n of $jobs jobs staged"
[ ! -e "$out/cancelled.h5" ] || fail "a corpus under its final name after scancel"
[ "$n" -ge 1 ] && [ "$n" -lt $jobs ] || fail "first: $n jobs staged, the cancel should fall in the middle"
expect_ok "$again" resumed cancelled.h5 $jobs
grep -q "$((jobs - n)) run now on 2 ranks" "$out/resumed.log" || fail "resumed: should run $((jobs - n)) jobs: $(cat "$out/resumed.log")"

/usr/bin/python3 "$repo/tests/mpi/compare_corpora.py" "$out/pmix.h5" "$out/mpirun.h5" "$out/cancelled.h5" --all-ok \
  || fail "the corpora differ"
say "ok in $((SECONDS - start_time)) s"
