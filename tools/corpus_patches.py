#!/usr/bin/python3
"""Random training patches from a tomosweep corpus, with h5py and numpy only (a PyTorch wrapper when torch
is installed). Every array of one patch comes from the same job and the same voxels, so inputs and targets
line up: e.g. tomogram -> prior for denoising, tomogram -> atlas for segmentation.

    from corpus_patches import CorpusPatches
    patches = CorpusPatches("corpus.h5", size=64, arrays=("tomogram", "atlas"), split="train", seed=0)
    batch = patches.sample()            # {"tomogram": (64, 64, 64) float32, "atlas": (64, 64, 64) uint8, "job": id}
    dataset = patches.torch_dataset(per_epoch=1000)   # torch.utils.data.IterableDataset of dicts of tensors
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=2)

With DataLoader workers, each worker opens the corpus itself (an HDF5 handle is never shared across a fork) and
draws from its own stream, seeded by (seed, torch's seed of that worker): workers never repeat each other's
patches, each epoch draws new ones, and torch.manual_seed(n) with the same seed and worker count gives the same
batches.

Command line (a summary of what would be sampled):  corpus_patches.py CORPUS.h5 [--size N] [--split train]
"""
import argparse
import os
import sys

import h5py
import numpy as np


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class CorpusPatches:
    """Uniformly random patches (size^3 voxels, or the whole axis if it is smaller) of the ok jobs of one
    split ("train", "test" or None for all), reproducible for a given seed."""

    def __init__(self, path, size=64, arrays=("tomogram", "prior", "atlas"), split="train", seed=0):
        self.path, self.size, self.arrays, self.split, self.seed = path, int(size), tuple(arrays), split, seed
        self._file, self._pid = None, None
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

    @property
    def file(self):
        """The corpus, opened once per process (a forked DataLoader worker opens its own handle)."""
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._file

    def __getstate__(self):  # spawned workers get a copy without the open file
        state = dict(self.__dict__)
        state["_file"] = state["_pid"] = None
        return state

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

    def torch_dataset(self, per_epoch=None):
        """A torch IterableDataset of dicts: one tensor per array, plus "job" and "corner_zyx" (int64) and "worker"
        (the DataLoader worker that drew it, 0 without workers). Endless, or `per_epoch` patches per epoch in all
        (split evenly over the workers)."""
        import torch  # Debian: python3-torch

        patches = self

        class Patches(torch.utils.data.IterableDataset):
            def __iter__(self):
                info = torch.utils.data.get_worker_info()
                worker, workers = (info.id, info.num_workers) if info else (0, 1)
                src = patches if info is None else info.dataset.patches
                if info is not None:  # torch's worker seed: differs per worker and per epoch
                    src.rng = np.random.default_rng([src.seed, info.seed])
                count = None if per_epoch is None else per_epoch // workers + (worker < per_epoch % workers)
                n = 0
                while count is None or n < count:
                    p = src.sample()
                    out = {a: torch.from_numpy(np.ascontiguousarray(p[a])) for a in src.arrays}
                    out["job"] = torch.tensor(p["job"])
                    out["corner_zyx"] = torch.tensor(p["corner_zyx"])
                    out["worker"] = torch.tensor(worker)
                    yield out
                    n += 1

        dataset = Patches()
        dataset.patches = patches
        return dataset


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
