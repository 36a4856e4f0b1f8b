#!/usr/bin/env python3
"""kill -9 inside a rank group's job, then --resume (tests/CMakeLists.txt: group_resume).

  test_group_resume.py MPIEXEC TOMOSWEEP SWEEP OUT_DIR

tests/mpi/group_sweep.toml on 2 ranks at --memory-per-rank 100M (its two large jobs on a group of 2), with rank 0
killed (TOMOSWEEP_FAULT_AT) inside the first group job:
- before its stage file gets its name (stage-written, 2nd time: after its part file): the work folder holds the
  part files without a stage file; --resume removes them and runs the job again;
- once the job is staged (job-staged): its parts and stage file are there; --resume absorbs it from its parts
  without running it again.
Each resumed corpus must equal the one-rank corpus OUT_DIR/n1.h5 (compare_group.py) and leave no work folder.
"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_group  # noqa: E402


def run(mpiexec, exe, sweep, corpus, *extra, fault=None):
    env = dict(os.environ)
    env.pop("TOMOSWEEP_FAULT_AT", None)
    if fault:
        env["TOMOSWEEP_FAULT_AT"] = fault
    cmd = [mpiexec, "-n", "2", exe, "run", sweep, "-o", corpus, "--memory-per-rank", "100M", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)


def main(mpiexec, exe, sweep, out):
    os.makedirs(out, exist_ok=True)
    failures = []
    for count, fault, staged in ((1, "stage-written@0#2", False), (2, "job-staged@0#1", True)):
        corpus = os.path.join(out, f"resume{count}.h5")
        work = corpus + ".work"
        subprocess.run(["rm", "-rf", corpus, work, corpus + ".tmp"], check=True)
        killed = run(mpiexec, exe, sweep, corpus, fault=fault)
        parts = sorted(glob.glob(os.path.join(work, "job-*.part-*.h5")))
        stages = sorted(p for p in glob.glob(os.path.join(work, "job-*.h5")) if ".part-" not in p)
        print(f"killed at {fault}: rc {killed.returncode}, parts {[os.path.basename(p) for p in parts]},"
              f" stages {[os.path.basename(p) for p in stages]}")
        if killed.returncode == 0 or os.path.exists(corpus):
            failures.append(f"#{count}: the killed run finished")
        if not parts or bool(stages) != staged:
            failures.append(f"#{count}: expected part files and {'a' if staged else 'no'} stage file")
        resumed = run(mpiexec, exe, sweep, corpus, "--resume")
        print(resumed.stderr.strip().splitlines()[-2:] if resumed.stderr.strip() else "(no output)")
        if resumed.returncode != 0:
            failures.append(f"#{count}: --resume failed: {resumed.stderr.strip()}")
            continue
        ran = [line for line in resumed.stderr.splitlines() if "run now" in line]
        want = "3 run now" if staged else "4 run now"
        if not ran or want not in ran[0]:
            failures.append(f"#{count}: --resume should run {want.split()[0]} jobs: {ran}")
        if os.path.exists(work):
            failures.append(f"#{count}: {work} is left")
        if compare_group.main(os.path.join(out, "n1.h5"), corpus) != 0:
            failures.append(f"#{count}: the resumed corpus differs from one rank's")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
