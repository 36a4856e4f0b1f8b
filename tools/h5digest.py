#!/usr/bin/python3
"""Print one line per dataset and attribute of an HDF5 file: name, dtype, shape, chunks, filter and the SHA-256
of its values. Wall-time attributes (names ending in 'seconds' or '_s') are left out, so two runs of the same
sweep print the same text. Used by tools/output_digest.sh.

usage: h5digest.py FILE.h5
"""
import hashlib
import sys

import h5py
import numpy as np


def value_hash(v):
    a = np.asarray(v)
    if a.dtype.kind == "O" or a.dtype.names:
        data = repr(a.tolist()).encode()
    else:
        data = a.tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def timing(name):
    return name.endswith("seconds") or name.endswith("_s") or name in ("timings", "stage_seconds")


def main():
    lines = []
    with h5py.File(sys.argv[1], "r") as f:
        def visit(name, obj):
            for key in sorted(obj.attrs):
                if not timing(key):
                    lines.append(f"@{name}/{key} {value_hash(obj.attrs[key])}")
            if isinstance(obj, h5py.Dataset):
                lines.append(f"{name} {obj.dtype} {obj.shape} {obj.chunks} {obj.compression} {value_hash(obj[()])}")
        for key in sorted(f.attrs):
            if not timing(key):
                lines.append(f"@/{key} {value_hash(f.attrs[key])}")
        f.visititems(visit)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
