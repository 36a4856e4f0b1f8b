#!/usr/bin/python3
"""Faults at every moment of a 2-rank run (tests/mpi/fake_sweep.cpp stands in for the pipeline): in each case
the corpus is either absent or complete, every staged job survives, `--resume` finishes the run, and the
final corpus is identical to an uninterrupted run's (REFERENCE.h5, made with --fail-job 7 as here).

- kill -9 of a worker (rank 1) and of rank 0 at 12 moments, through the TOMOSWEEP_FAULT_AT hook
  (src/core/system.hpp): before any job, after a staged job, between a stage file's write and its rename,
  with a partial corpus growing mid-run, as the end of the gather starts, with every job absorbed, before
  and after the final rename, while the work folder is removed;
- a truncated, a corrupt and an old-layout stage file, which --resume runs again;
- a second run on a work folder in use (refused: the lock), also while the first grows its corpus (its
  OUTPUT.tmp is left alone);
- --resume on a complete corpus (exit 0);
- a full disk while jobs are staged and while the corpus grows: a size-limited tmpfs when this runs as root, and
  always through tests/mpi/enospc_shim.c (LD_PRELOAD: writes to the chosen files fail with ENOSPC);
- an unwritable output folder: a read-only tmpfs as root, a folder without write permission otherwise.

usage: test_faults.py MPIEXEC FAKE_SWEEP SWEEP.toml OUT_DIR REFERENCE.h5 ENOSPC_SHIM.so
"""
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_corpora  # noqa: E402
import h5py  # noqa: E402

JOBS, FAILED_JOB = 12, "7"

# (moment, rank, count): TOMOSWEEP_FAULT_AT = moment@rank#count. Rank 0 absorbs each staged job into c.h5.tmp
# as soon as it is staged, so the corpus grows during the run: kills while it grows leave a partial c.h5.tmp.
KILLS = [
    ("setup", 0, 1),           # rank 0, work folder ready, no job run
    ("job-staged", 1, 2),      # a worker after its second staged job
    ("stage-written", 1, 1),   # a worker between a stage file's write and its rename
    ("job-staged", 0, 2),      # rank 0 after its second job
    ("stage-written", 0, 1),   # rank 0 between a stage file's write and its rename
    ("absorbed", 0, 2),        # rank 0 with two jobs in the growing corpus, early in the run
    ("absorbed", 0, 9),        # rank 0 with nine jobs in the corpus, late in the run
    ("gather", 1, 1),          # a worker as the end of the gather starts
    ("gather", 0, 1),          # rank 0 with every job in the corpus, before the index
    ("corpus-tables", 0, 1),   # rank 0 with the corpus complete under its temporary name
    ("corpus-renamed", 0, 1),  # rank 0 right after the final rename
    ("work-removal", 0, 2),    # rank 0 while it removes the work folder
]


class Case:
    def __init__(self, mpiexec, fake, sweep, reference):
        self.mpiexec, self.fake, self.sweep, self.reference = mpiexec, fake, sweep, reference
        self.failures = []

    def run(self, corpus, *args, ranks=2, env=None):
        cmd = [self.mpiexec, "-n", str(ranks), self.fake, self.sweep, corpus, "--fail-job", FAILED_JOB, *args]
        e = dict(os.environ)
        e.pop("TOMOSWEEP_FAULT_AT", None)
        e.update(env or {})
        return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)

    def fail(self, name, why):
        self.failures.append(f"{name}: {why}")
        print(f"FAIL {name}: {why}")

    def identical(self, name, corpus):
        sys.argv = ["compare_corpora.py", self.reference, corpus, "--failed-job", FAILED_JOB, "--bytes"]
        try:
            if compare_corpora.main() != 0:
                self.fail(name, "the resumed corpus differs from an uninterrupted run's")
                return False
        except Exception as e:  # noqa: BLE001 - any reading problem is a failed case
            self.fail(name, f"the corpus cannot be compared: {e}")
            return False
        return True

    def resume_and_compare(self, name, corpus, staged_before, work=None):
        extra = ["--work", work] if work else []
        r = self.run(corpus, "--resume", *extra)
        if r.returncode != 0:
            self.fail(name, f"--resume failed: {r.stderr.strip()}")
            return
        if staged_before is not None and "is complete" not in r.stderr:
            want = f"{JOBS - staged_before} run on"
            if want not in r.stderr:
                self.fail(name, f"--resume should run {JOBS - staged_before} jobs: {r.stderr.strip()}")
        if self.identical(name, corpus):
            print(f"ok   {name}")


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)


def stage_files(work):
    return sorted(glob.glob(os.path.join(work, "job-*.h5")))


def wait_for_lock_release(work, seconds=30):
    """Ranks orphaned by a killed launcher may live on for a moment, holding the work folder's lock."""
    lock = os.path.join(work, "lock")
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not os.path.exists(lock):
            return True
        try:
            with open(lock, "a") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
        except BlockingIOError:
            time.sleep(0.1)
    return False


def kill_cases(c, out):
    for moment, rank, count in KILLS:
        name = f"kill -9 at {moment}@{rank}#{count}"
        folder = os.path.join(out, f"kill-{moment}-{rank}-{count}")
        fresh(folder)
        corpus = os.path.join(folder, "c.h5")
        work = corpus + ".work"
        # Jobs of 30 ms: both ranks get several, whatever the machine's load.
        r = c.run(corpus, "--sleep-ms", "30", env={"TOMOSWEEP_FAULT_AT": f"{moment}@{rank}#{count}"})
        if r.returncode == 0:
            c.fail(name, "the run was not killed (the fault point was never reached)")
            continue
        if not wait_for_lock_release(work):
            c.fail(name, "the killed run's ranks still hold the work folder's lock after 30 s")
            continue
        if os.path.exists(corpus) and not c.identical(name + " (corpus after the kill)", corpus):
            continue
        if glob.glob(os.path.join(folder, "*.tmp")) and os.path.exists(corpus):
            c.fail(name, "a temporary corpus is left beside the complete one")
        staged = stage_files(work) if os.path.isdir(work) else []
        c.resume_and_compare(name, corpus, None if os.path.exists(corpus) else len(staged))
        if os.path.exists(work):
            c.fail(name, f"--resume left the work folder behind: {os.listdir(work)}")


def damaged_stage_case(c, out):
    name = "truncated, corrupt and old-layout stage files"
    folder = os.path.join(out, "damaged")
    fresh(folder)
    corpus = os.path.join(folder, "c.h5")
    work = corpus + ".work"
    r = c.run(corpus, "--keep-work")
    if r.returncode != 0:
        return c.fail(name, f"the run failed: {r.stderr.strip()}")
    os.remove(corpus)
    files = stage_files(work)
    with open(files[0], "r+b") as f:  # truncated: as a full disk or a crashed copy leaves it
        f.truncate(os.path.getsize(files[0]) // 2)
    with open(files[1], "r+b") as f:  # corrupt: bytes of an array's chunk changed
        f.seek(os.path.getsize(files[1]) // 2)
        f.write(b"\xa5" * 32)
    with h5py.File(files[2], "r+") as f:  # of an older tomosweep, whose arrays were not in the corpus layout
        del f.attrs["stage_layout"]
    r = c.run(corpus, "--resume")
    warnings = [line for line in r.stderr.splitlines() if "warning:" in line]
    if r.returncode != 0:
        return c.fail(name, f"--resume failed: {r.stderr.strip()}")
    if len(warnings) != 3 or not all(line.endswith("runs again") for line in warnings):
        return c.fail(name, f"expected one warning per damaged or old file: {warnings}")
    if "older tomosweep" not in warnings[2]:
        return c.fail(name, f"the old stage file should be named as such: {warnings[2]}")
    if "3 run on" not in r.stderr:
        return c.fail(name, f"the three damaged or old jobs should run again: {r.stderr.strip()}")
    if c.identical(name, corpus):
        print(f"ok   {name}")


def lock_and_complete_cases(c, out):
    name = "a second run on a work folder in use"
    folder = os.path.join(out, "lock")
    fresh(folder)
    corpus = os.path.join(folder, "c.h5")
    work = corpus + ".work"
    cmd = [c.mpiexec, "-n", "2", c.fake, c.sweep, corpus, "--fail-job", FAILED_JOB, "--sleep-ms", "300"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not stage_files(work) and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    second = c.run(corpus, "--resume", ranks=1)
    if second.returncode == 0 or "work folder in use by another run (pid " not in second.stderr:
        c.fail(name, f"not refused: {second.returncode} {second.stderr.strip()}")
    elif len([x for x in second.stderr.splitlines() if x.startswith("tomosweep: error:")]) != 1:
        c.fail(name, f"not a one-line error: {second.stderr.strip()}")
    else:
        print(f"ok   {name}")
    if first.wait(timeout=120) != 0:
        return c.fail(name, "the first run failed")
    gather_in_flight_case(c, out)
    name = "--resume on a complete corpus"
    r = c.run(corpus, "--resume")
    if r.returncode != 0 or "is complete" not in r.stderr:
        return c.fail(name, f"{r.returncode} {r.stderr.strip()}")
    if c.identical(name, corpus):
        print(f"ok   {name}")
    name = "--resume of another sweep on a complete corpus"
    other = os.path.join(folder, "other.toml")
    with open(c.sweep) as src, open(other, "w") as dst:
        dst.write(src.read().replace("seed = 11", "seed = 12"))
    r = subprocess.run([c.fake, other, corpus, "--resume"], capture_output=True, text=True, timeout=60)
    want = (f"tomosweep: error: {corpus}: corpus exists and was made from another sweep than {other} "
            "(use --force to overwrite it)")
    if r.returncode == 0 or want not in r.stderr.splitlines():
        c.fail(name, f"expected '{want}': {r.stderr.strip()}")
    else:
        print(f"ok   {name}")


def gather_in_flight_case(c, out):
    """A run refused by the lock leaves OUTPUT.tmp alone: the output check comes before the lock, and it once
    truncated and removed the OUTPUT.tmp of the run holding the folder while that run was gathering."""
    name = "a second run while the first gathers"
    folder = os.path.join(out, "lock-gather")
    fresh(folder)
    corpus = os.path.join(folder, "c.h5")
    os.makedirs(corpus + ".work")
    with open(corpus + ".tmp", "wb") as tmp:
        tmp.write(b"the first run's corpus, half written")
    with open(os.path.join(corpus + ".work", "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        r = c.run(corpus, "--resume", ranks=1)
    kept = None
    if os.path.exists(corpus + ".tmp"):
        with open(corpus + ".tmp", "rb") as tmp:
            kept = tmp.read()
    if r.returncode == 0 or f"work folder in use by another run (pid {os.getpid()})" not in r.stderr:
        c.fail(name, f"not refused: {r.returncode} {r.stderr.strip()}")
    elif kept != b"the first run's corpus, half written":
        c.fail(name, f"the refused run changed OUTPUT.tmp: {kept!r}")
    else:
        print(f"ok   {name}")


def mount_tmpfs(path, size_kb, readonly=False):
    os.makedirs(path, exist_ok=True)
    opts = f"size={size_kb}k" + (",ro" if readonly else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], capture_output=True).returncode == 0


def remount(path, size_kb):
    subprocess.run(["mount", "-o", f"remount,size={size_kb}k", path], check=True)


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


class Tmpfs:
    """A full disk as a size-limited tmpfs (root only): small, then grown to free space."""
    name = "tmpfs"

    def __init__(self, folder):
        self.folder = folder

    def fill(self):
        umount(self.folder)
        fresh(self.folder)
        return mount_tmpfs(self.folder, 64)

    def env(self, pattern):
        return {}

    def free(self):
        remount(self.folder, 65536)

    def release(self):
        umount(self.folder)


class Shim:
    """A full disk as tests/mpi/enospc_shim.c: writes to files whose path contains `pattern` fail with ENOSPC
    after a few KB; freeing space is running without it."""
    name = "LD_PRELOAD shim"

    def __init__(self, folder, library):
        self.folder, self.library = folder, library

    def fill(self):
        fresh(self.folder)
        return os.path.exists(self.library)

    def env(self, pattern):
        return {"LD_PRELOAD": self.library, "TOMOSWEEP_ENOSPC_PATH": pattern, "TOMOSWEEP_ENOSPC_BYTES": "60000",
                # under AddressSanitizer the shim comes before its runtime: allowed, the shim only forwards
                "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}

    def free(self):
        pass

    def release(self):
        pass


def errors_of(r):
    return [x for x in r.stderr.splitlines() if x.startswith("tomosweep: error:")]


def full_disk_cases(c, out, disk):
    try:
        name = f"a full disk while jobs are staged ({disk.name})"
        if not disk.fill():
            return print(f"skipped: {name}")
        corpus = os.path.join(disk.folder, "c.h5")
        r = c.run(corpus, env=disk.env(corpus + ".work/"))
        lines = errors_of(r)
        print("     " + "\n     ".join(lines))
        staged = len(stage_files(corpus + ".work"))
        if r.returncode == 0 or not any("No space left on device" in x for x in lines):
            c.fail(name, f"expected an error naming the full disk: {r.stderr.strip()}")
        elif staged >= JOBS:
            c.fail(name, "every job was staged: the disk was not full")
        elif not wait_for_lock_release(corpus + ".work"):
            c.fail(name, "the failed run's ranks still hold the lock")
        else:
            disk.free()
            c.resume_and_compare(name, corpus, staged)
        disk.release()

        name = f"a full disk while the corpus grows ({disk.name})"
        if not disk.fill():
            return print(f"skipped: {name}")
        corpus = os.path.join(disk.folder, "c.h5")
        work = os.path.join(out, "disk-gather.work")
        shutil.rmtree(work, ignore_errors=True)
        r = c.run(corpus, "--work", work, env=disk.env(corpus + ".tmp"))
        ours = errors_of(r)
        print("     " + "\n     ".join(ours))
        # The corpus is written as jobs are staged, so the disk fills up mid-run: the run ends, every job
        # staged so far survives. MPI-IO is not involved: HDF5 names the reason.
        want = "No space left on device" if disk.name == "tmpfs" else "cannot write a corpus dataset"
        if r.returncode == 0 or not any(want in x for x in ours):
            c.fail(name, f"expected an error naming the full disk: {r.stderr.strip()}")
        elif not wait_for_lock_release(work):
            c.fail(name, "the failed run's ranks still hold the lock")
        elif os.path.exists(corpus) or not stage_files(work):
            c.fail(name, f"corpus present: {os.path.exists(corpus)}, staged jobs: {len(stage_files(work))}")
        else:
            disk.free()
            c.resume_and_compare(name, corpus, len(stage_files(work)), work)
    finally:
        disk.release()


def unwritable_case(c, out):
    """A read-only tmpfs as root (root ignores permissions), a folder without write permission otherwise."""
    name = "an unwritable output folder"
    folder = os.path.join(out, "readonly")
    umount(folder)
    fresh(folder)
    if os.geteuid() == 0:
        if not mount_tmpfs(folder, 1024, readonly=True):
            return print(f"skipped: {name} (cannot mount a read-only tmpfs)")
        reason = "Read-only file system"
    else:
        os.chmod(folder, 0o555)
        reason = "Permission denied"
    try:
        corpus = os.path.join(folder, "c.h5")
        work = os.path.join(out, "readonly.work")
        shutil.rmtree(work, ignore_errors=True)
        r = c.run(corpus, "--work", work)
        want = f"tomosweep: error: {corpus}: cannot write the corpus there: {corpus}.tmp: {reason}"
        if r.returncode == 0 or want not in errors_of(r):
            c.fail(name, f"expected '{want}': {r.stderr.strip()}")
        elif os.path.exists(work) and stage_files(work):
            c.fail(name, "jobs ran before the output folder was checked")
        else:
            print(f"ok   {name}")
    finally:
        if os.geteuid() == 0:
            umount(folder)
        else:
            os.chmod(folder, 0o755)


def main():
    mpiexec, fake, sweep, out, reference, shim = sys.argv[1:7]
    out = os.path.join(out, "faults")
    os.makedirs(out, exist_ok=True)
    c = Case(mpiexec, fake, sweep, reference)
    kill_cases(c, out)
    damaged_stage_case(c, out)
    lock_and_complete_cases(c, out)
    if os.geteuid() == 0:
        full_disk_cases(c, out, Tmpfs(os.path.join(out, "disk")))
    else:
        print("skipped: the tmpfs full-disk cases (mounting needs root); the LD_PRELOAD shim stands in")
    full_disk_cases(c, out, Shim(os.path.join(out, "shim"), shim))
    unwritable_case(c, out)
    if c.failures:
        print(f"{len(c.failures)} case(s) failed")
        return 1
    print("every case passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
