#!/usr/bin/python3
"""tools/corpus_patches.py on a real-pipeline corpus: aligned patches, splits, reproducibility.
usage: test_corpus_patches.py CORPUS.h5"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
from corpus_patches import CorpusPatches  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402

path = sys.argv[1]
f = h5py.File(path, "r")
table = f["job_table"][()]
train = [int(r["job_id"]) for r in table if r["split"] in (b"train", "train") and r["status"] in (b"ok", "ok")]
test = [int(r["job_id"]) for r in table if r["split"] in (b"test", "test") and r["status"] in (b"ok", "ok")]

p = CorpusPatches(path, size=8, arrays=("tomogram", "prior", "atlas"), split="train", seed=5)
check(sorted(p.jobs) == sorted(train), f"train jobs {p.jobs} != {train}")
q = CorpusPatches(path, size=8, arrays=("tomogram", "prior", "atlas"), split="test", seed=5)
check(sorted(q.jobs) == sorted(test), f"test jobs {q.jobs} != {test}")
check(not set(p.jobs) & set(q.jobs), "train and test overlap")

again = CorpusPatches(path, size=8, arrays=("tomogram", "prior", "atlas"), split="train", seed=5)
for _ in range(20):
    s, t = p.sample(), again.sample()
    check(s["job"] == t["job"] and s["corner_zyx"] == t["corner_zyx"], "same seed, same patches")
    g = f["jobs"][str(s["job"])]
    z, y, x = s["corner_zyx"]
    for a in ("tomogram", "prior", "atlas"):
        shape = g[a].shape
        want = tuple(min(8, n) for n in shape)
        check(s[a].shape == want, f"{a} patch shape {s[a].shape} != {want}")
        check(np.array_equal(s[a], g[a][z:z + want[0], y:y + want[1], x:x + want[2]]), f"{a} patch is aligned")
    check(s["atlas"].dtype == np.uint8, "atlas stays uint8")

try:
    CorpusPatches(path, arrays=("tomogram", "model"), split="train")
    check(False, "no error for an array the corpus does not hold")
except ValueError as e:
    check("no ok job of split 'train' has all of tomogram, model" in str(e), f"message: {e}")

finish()
