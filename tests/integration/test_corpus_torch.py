#!/usr/bin/python3
"""tools/corpus_patches.py through a torch DataLoader with 2 workers (Debian python3-torch): patches aligned across
tomogram, prior and atlas, the split honoured, workers drawing different patches, reproducible with
torch.manual_seed, and a finite epoch of per_epoch patches.
usage: test_corpus_torch.py CORPUS.h5"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402
from corpus_patches import CorpusPatches  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402

try:
    import torch
except ImportError:
    print("python3-torch is missing: skipped (tools/install-deps.sh installs it)")
    sys.exit(77)

path = sys.argv[1]
f = h5py.File(path, "r")
table = f["job_table"][()]
txt = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
split_of = {int(r["job_id"]): txt(r["split"]) for r in table if txt(r["status"]) == "ok"}
arrays = ("tomogram", "prior", "atlas")


def batches(split, seed=3, per_epoch=24):
    torch.manual_seed(seed)
    ds = CorpusPatches(path, size=8, arrays=arrays, split=split, seed=1).torch_dataset(per_epoch=per_epoch)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2)
    return list(loader)


for split in ("train", "test"):
    got = batches(split)
    check(sum(len(b["job"]) for b in got) == 24, f"{split}: per_epoch = 24 patches in all")
    seen = {0: set(), 1: set()}
    for b in got:
        check(b["tomogram"].dtype == torch.float32 and b["atlas"].dtype == torch.uint8, "dtypes kept")
        for i in range(len(b["job"])):
            job, (z, y, x), w = int(b["job"][i]), b["corner_zyx"][i].tolist(), int(b["worker"][i])
            check(split_of.get(job) == split, f"job {job} of split {split_of.get(job)} in the {split} loader")
            g = f["jobs"][str(job)]
            for a in arrays:
                want = g[a][z:z + 8, y:y + 8, x:x + 8]
                check(np.array_equal(b[a][i].numpy(), want), f"{a} patch of job {job} at {z, y, x} is aligned")
            seen[w].add((job, z, y, x))
    check(len(seen[0]) > 1 and len(seen[1]) > 1, f"both workers drew patches: {seen}")
    check(seen[0] != seen[1], "the two workers draw from different streams")
    again = batches(split)
    check(all(torch.equal(a["corner_zyx"], b["corner_zyx"]) and torch.equal(a["job"], b["job"]) and
              torch.equal(a["tomogram"], b["tomogram"]) for a, b in zip(got, again)), "same torch seed, same batches")
    other = batches(split, seed=4)
    check(any(not torch.equal(a["corner_zyx"], b["corner_zyx"]) for a, b in zip(got, other)),
          "another torch seed (or epoch), other patches")

finish()
