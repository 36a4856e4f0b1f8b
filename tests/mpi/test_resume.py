#!/usr/bin/python3
"""kill -9 a 2-rank run mid-way, check nothing is left under the corpus name, --resume it, and compare
the result with an uninterrupted run, byte for byte.

usage: test_resume.py MPIEXEC FAKE_SWEEP SWEEP.toml OUT_DIR REFERENCE.h5
"""
import fcntl
import glob
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_corpora  # noqa: E402


def wait_for_lock_release(work, seconds=30):
    """Ranks orphaned by a killed launcher may live on for a moment, holding the work folder's lock
    (flock on WORK/lock): wait until it is free."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with open(os.path.join(work, "lock"), "a") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
        except BlockingIOError:
            time.sleep(0.1)
    return False


def main():
    mpiexec, fake, sweep, out_dir, reference = sys.argv[1:6]
    os.makedirs(out_dir, exist_ok=True)
    corpus = os.path.join(out_dir, "resumed.h5")
    work = corpus + ".work"
    for p in [corpus] + glob.glob(os.path.join(work, "*")):
        if os.path.exists(p):
            os.remove(p)
    cmd = [mpiexec, "-n", "2", fake, sweep, corpus, "--fail-job", "7"]
    run = subprocess.Popen(cmd + ["--sleep-ms", "300"], start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(glob.glob(os.path.join(work, "job-*.h5"))) < 4:
        if time.time() > deadline or run.poll() is not None:
            print("error: the run ended or stalled before it could be killed")
            return 1
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    if not wait_for_lock_release(work):
        print("error: the killed run's ranks still hold the work folder's lock after 30 s")
        return 1
    staged = len(glob.glob(os.path.join(work, "job-*.h5")))
    print(f"killed with {staged} of 12 jobs staged")
    if os.path.exists(corpus):
        print("error: a corpus exists under its final name after kill -9")
        return 1
    if staged >= 12:
        print("error: the run finished before it was killed")
        return 1
    again = subprocess.run(cmd, capture_output=True, text=True)
    if again.returncode == 0 or "use --resume" not in again.stderr:
        print("error: a second run without --resume did not refuse:", again.returncode, again.stderr)
        return 1
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    if resumed.returncode != 0:
        print("error: --resume failed:", resumed.stderr)
        return 1
    sys.argv = ["compare_corpora.py", reference, corpus, "--failed-job", "7", "--bytes"]
    return compare_corpora.main()


if __name__ == "__main__":
    sys.exit(main())
