#!/usr/bin/env python3
"""A corpus whose large jobs ran on rank groups against the same sweep run on one rank (issue: rank groups).

  compare_group.py ONE.h5 GROUP.h5

Every job's integer maps (atlas, instances) and tables must be identical, and every float array within 1e-4 of its
standard deviation (max |difference|). Prints the largest relative difference of each float array. Exit 1 on any
difference beyond that.
"""
import sys

import h5py
import numpy as np


def main(one_path, group_path):
    bad = []
    with h5py.File(one_path, "r") as one, h5py.File(group_path, "r") as grp:
        if sorted(one["jobs"]) != sorted(grp["jobs"]):
            bad.append("job lists differ")
        for job in sorted(one["jobs"], key=int):
            a, b = one["jobs"][job], grp["jobs"][job]
            if a.attrs["status"] != b.attrs["status"]:
                bad.append(f"job {job}: status {a.attrs['status']} vs {b.attrs['status']}")
            if sorted(a) != sorted(b):
                bad.append(f"job {job}: datasets {sorted(a)} vs {sorted(b)}")
                continue
            for name in sorted(a):
                x, y = a[name][()], b[name][()]
                if x.dtype != y.dtype or x.shape != y.shape:
                    bad.append(f"job {job} {name}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
                elif x.dtype.kind == "f":
                    sd = float(np.std(x.astype(np.float64)))
                    rel = float(np.max(np.abs(x.astype(np.float64) - y))) / sd if sd > 0 else float(np.max(np.abs(x - y)))
                    print(f"job {job} {name}: max |difference| = {rel:.3g} x std")
                    if not rel <= 1e-4:
                        bad.append(f"job {job} {name}: max difference {rel:.3g} x std > 1e-4")
                elif not np.array_equal(x, y):
                    bad.append(f"job {job} {name}: differs")
    for b in bad:
        print("DIFFERS:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
