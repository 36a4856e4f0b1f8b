#!/usr/bin/python3
"""Random training patches from a tomosweep corpus, with h5py and numpy only (a PyTorch wrapper when torch
is installed). Every array of one patch comes from the same job and the same voxels, so inputs and targets
line up: e.g. tomogram -> prior for denoising, tomogram -> atlas for segmentation.

    from corpus_patches import CorpusPatches
    patches = CorpusPatches("corpus.h5", size=64, arrays=("tomogram", "atlas"), split="train", seed=0)
    batch = patches.sample()            # {"tomogram": (64, 64, 64) float32, "atlas": (64, 64, 64) uint8, "job": id}
    dataset = patches.torch_dataset()   # torch.utils.data.IterableDataset of dicts of tensors

Command line (a summary of what would be sampled):  corpus_patches.py CORPUS.h5 [--size N] [--split train]
"""
import argparse
import sys

import h5py
import numpy as np


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class CorpusPatches:
    """Uniformly random patches (size^3 voxels, or the whole axis if it is smaller) of the ok jobs of one
    split ("train", "test" or None for all), reproducible for a given seed."""

    def __init__(self, path, size=64, arrays=("tomogram", "prior", "atlas"), split="train", seed=0):
        self.path, self.size, self.arrays = path, int(size), tuple(arrays)
        self.file = h5py.File(path, "r")
        table = self.file["job_table"][()]
        names = table.dtype.names
        self.jobs = []
        for row in table:
            if _text(row["status"]) != "ok":
                continue
            if split is not None and "split" in names and _text(row["split"]) != split:
                continue
            group = self.file["jobs"][str(int(row["job_id"]))]
            if all(a in group for a in self.arrays):
                self.jobs.append(int(row["job_id"]))
        if not self.jobs:
            raise ValueError(f"{path}: no ok job of split {split!r} has all of {', '.join(self.arrays)}")
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.jobs)

    def sample(self):
        job = self.jobs[self.rng.integers(len(self.jobs))]
        group = self.file["jobs"][str(job)]
        shape = group[self.arrays[0]].shape  # [z][y][x]
        corner = [int(self.rng.integers(0, max(1, n - self.size + 1))) for n in shape]
        window = tuple(slice(c, c + min(self.size, n)) for c, n in zip(corner, shape))
        out = {a: group[a][window] for a in self.arrays}
        out["job"] = job
        out["corner_zyx"] = tuple(corner)
        return out

    def torch_dataset(self):
        import torch  # Debian: python3-torch

        patches = self

        class Patches(torch.utils.data.IterableDataset):
            def __iter__(self):
                while True:
                    p = patches.sample()
                    yield {a: torch.from_numpy(np.ascontiguousarray(p[a])) for a in patches.arrays}

        return Patches()


def main():
    ap = argparse.ArgumentParser(description="Random aligned patches of a tomosweep corpus.")
    ap.add_argument("corpus")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--split", default="train", help="train, test or all")
    ap.add_argument("--arrays", default="tomogram,prior,atlas")
    ap.add_argument("--count", type=int, default=4)
    a = ap.parse_args()
    p = CorpusPatches(a.corpus, a.size, a.arrays.split(","), None if a.split == "all" else a.split)
    print(f"{a.corpus}: {len(p)} jobs of split {a.split}")
    for _ in range(a.count):
        s = p.sample()
        stats = ", ".join(f"{k} {s[k].shape} mean {float(np.mean(s[k])):.4g}" for k in p.arrays)
        print(f"  job {s['job']} at zyx {s['corner_zyx']}: {stats}")


if __name__ == "__main__":
    sys.exit(main())
