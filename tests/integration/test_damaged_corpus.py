#!/usr/bin/python3
"""inspect and export on a corpus whose bytes crash libhdf5 itself (docs/reliability.md: libhdf5 1.10 crashes in
its own parsing of some damaged files). The readers run in a child process: the crash becomes one line naming
the file and the signal, exit code 1. Also: errors and output of the child still reach the user unchanged, and
the fuzzer's libhdf5-crashing inputs (tests/fuzz/regressions/libhdf5) each end in one line.

The damaged file is made here: h5py writes a file whose 'format' attribute is a variable-length string, whose
bytes live in HDF5's global heap; the heap object's size is then set to 2^40, and HDF5 copies that many bytes.
usage: test_damaged_corpus.py TOMOSWEEP CORPUS WORK_DIR   (CORPUS: a good corpus, e.g. the pipeline test's)"""
import json
import os
import shutil
import struct
import subprocess
import sys

import h5py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402

tomosweep, good, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sanitized = "ASAN_OPTIONS" in os.environ  # the sanitizer's own report of the crash comes before our line


def run(*args):
    p = subprocess.run([tomosweep, *args], cwd=work, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def one_line(err, expected, what):
    lines = err.splitlines()
    check(bool(lines) and lines[-1] == expected, f"{what}: last line {lines[-1:]!r}, expected {expected!r}")
    check(sanitized or len(lines) == 1, f"{what}: {len(lines)} lines on stderr: {err!r}")


damaged = os.path.join(work, "damaged.h5")
with h5py.File(damaged, "w") as f:
    f.attrs["format"] = "tomosweep-corpus"
data = bytearray(open(damaged, "rb").read())
heap = data.find(b"GCOL")
check(heap >= 0, "h5py put no global heap collection in the file")
struct.pack_into("<Q", data, heap + 24, 1 << 40)  # GCOL header (16 bytes), object 1: index, refs, reserved, size
open(damaged, "wb").write(data)

crash = ("tomosweep: error: damaged.h5: reading it crashed the HDF5 library (Segmentation fault (signal 11)): "
         "the file is damaged")
crash_abort = crash.replace("Segmentation fault (signal 11)", "Aborted (signal 6)")  # ASan aborts on the SEGV
for args in (["inspect", "damaged.h5"], ["inspect", "damaged.h5", "--json"],
             ["export", "damaged.h5", "--job", "0", "--to", "out"],
             ["export", "damaged.h5", "--job", "all", "--format", "relion"]):
    rc, out, err = run(*args)
    check(rc == 1, f"{args}: exit {rc}")
    one_line(err, crash_abort if sanitized else crash, str(args))
    check(out == "", f"{args}: stdout {out!r}")

# Inputs the corpus fuzzer found that make libhdf5 1.10.8 itself crash under ASan (docs/reliability.md); without a
# sanitizer, what a heap overflow inside libhdf5 does depends on the heap: a crash or one of HDF5's own errors.
# Either way: exit 1 and one line naming the file.
found = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "regressions", "libhdf5")
for name in sorted(os.listdir(found)):
    shutil.copy(os.path.join(found, name), os.path.join(work, name))
    for args in (["inspect", name], ["export", name, "--job", "0", "--to", "out-" + name]):
        rc, out, err = run(*args)
        lines = err.splitlines()
        check(rc == 1, f"{args}: exit {rc}")
        check(bool(lines) and lines[-1].startswith(f"tomosweep: error: {name}: "), f"{args}: stderr {err!r}")
        check(sanitized or len(lines) == 1, f"{args}: {len(lines)} lines on stderr: {err!r}")

# The child's own errors and output are passed on unchanged.
open(os.path.join(work, "text.h5"), "w").write("not hdf5\n")
rc, out, err = run("inspect", "text.h5")
check(rc == 1, f"inspect text.h5: exit {rc}")
one_line(err, "tomosweep: error: text.h5: hdf5: cannot open the corpus", "inspect text.h5")
rc, out, err = run("export", good, "--job", "999", "--to", "out")
check(rc == 1, f"export --job 999: exit {rc}")
one_line(err, f"tomosweep: error: {good}: no job 999 in the corpus", "export --job 999")
rc, out, err = run("inspect", good, "--json")
check(rc == 0 and err == "", f"inspect --json of a good corpus: exit {rc}, stderr {err!r}")
check(json.loads(out)["format"] == "tomosweep-corpus", "inspect --json of a good corpus: no format")
rc, out, err = run("export", good, "--job", "0", "--to", "job0")
check(rc == 0, f"export of a good corpus: exit {rc}, stderr {err!r}")
check(os.path.exists(os.path.join(work, "job0", "tomogram.mrc")), "export of a good corpus wrote no tomogram.mrc")
finish()
