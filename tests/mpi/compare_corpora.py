#!/usr/bin/python3
"""Corpora must hold identical datasets (names, dtypes, shapes, chunking, filters, bytes).

usage: compare_corpora.py A.h5 B.h5 [C.h5 ...] [--failed-job ID | --all-ok] [--bytes]
With --failed-job, also checks that job ID is recorded as failed with its message and every other job is ok;
with --all-ok, that every job is ok; with --bytes, that the files are the same byte for byte.
"""
import sys

import h5py
import numpy as np


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def same(a, b):
    if a.dtype != b.dtype or a.shape != b.shape or a.chunks != b.chunks or a.compression != b.compression:
        return False
    return same_values(a[()], b[()])


def same_values(x, y):
    """Bit for bit: floats by their bytes (NaN, the "not swept" of a job-table column, equals itself), compounds
    field by field (variable-length strings compare as objects)."""
    if x.dtype.kind == "f":
        return x.tobytes() == y.tobytes()
    if x.dtype.names:
        return all(same_values(x[n], y[n]) for n in x.dtype.names)
    return np.array_equal(x, y)


def main():
    args = sys.argv[1:]
    failed_job = None
    by_bytes = "--bytes" in args
    if by_bytes:
        args.remove("--bytes")
    if "--all-ok" in args:
        args.remove("--all-ok")
        failed_job = -1
    if "--failed-job" in args:
        i = args.index("--failed-job")
        failed_job = int(args[i + 1])
        del args[i : i + 2]
    ref = h5py.File(args[0], "r")
    ref_sets = datasets(ref)
    errors = []
    for other_path in args[1:]:
        other = h5py.File(other_path, "r")
        other_sets = datasets(other)
        if set(ref_sets) != set(other_sets):
            errors.append(f"{other_path}: datasets differ: {sorted(set(ref_sets) ^ set(other_sets))}")
        for name in sorted(set(ref_sets) & set(other_sets)):
            if not same(ref_sets[name], other_sets[name]):
                errors.append(f"{other_path}: dataset {name} differs from {args[0]}")
    if failed_job is not None:
        table = ref["job_table"][()]
        for row in table:
            status = row["status"].decode() if isinstance(row["status"], bytes) else row["status"]
            if int(row["job_id"]) == failed_job:
                err = row["error"].decode() if isinstance(row["error"], bytes) else row["error"]
                if status != "failed" or f"fake job {failed_job} failed on purpose" not in err:
                    errors.append(f"job {failed_job}: status {status!r}, error {err!r}")
            elif status != "ok":
                errors.append(f"job {row['job_id']}: status {status!r}")
        if failed_job >= 0 and "tomogram" in ref[f"jobs/{failed_job}"]:
            errors.append(f"failed job {failed_job} has a tomogram")
    if by_bytes:
        with open(args[0], "rb") as f:
            ref_bytes = f.read()
        for other_path in args[1:]:
            with open(other_path, "rb") as f:
                other_bytes = f.read()
            if other_bytes != ref_bytes:
                first = next((i for i, (a, b) in enumerate(zip(ref_bytes, other_bytes)) if a != b),
                             min(len(ref_bytes), len(other_bytes)))
                errors.append(f"{other_path}: not the bytes of {args[0]} ({len(other_bytes)} against "
                              f"{len(ref_bytes)} bytes, first difference at byte {first})")
    print(f"compared {len(ref_sets)} datasets of {len(args)} corpora" + (", and their bytes" if by_bytes else ""))
    for e in errors:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
