#!/usr/bin/python3
"""The CTS paper's parameter-robustness study on a tomosweep corpus: one 2.5D U-Net per imaging condition,
every network scored on every condition's test split (the train x test matrix). docs/study.md.

  study.py segment CORPUS.h5 --out DIR [--quick] [--classes a,b|name=a+b] [--epochs N] [--patch 64] [--seed S]
  study.py denoise CORPUS.h5 --out DIR [...]               tomogram -> prior (PSNR, SSIM)
  mpirun -n N /usr/bin/python3 tools/study.py ...          conditions spread over ranks (mpi4py)

Writes DIR/scores.csv, DIR/provenance.json, DIR/networks/, DIR/figures/ and DIR/report.html.
Debian packages only: python3-torch, python3-h5py, python3-numpy, python3-scipy, python3-matplotlib
(python3-mpi4py under mpirun).
"""
import argparse
import csv
import hashlib
import html
import json
import math
import os
import platform
import sys
import time

import numpy as np

PROG = "study.py"
MPI_ENV = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS")


class StudyError(Exception):
    """A one-line error for the user: printed as 'study.py: error: ...', exit 1."""


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# ---------------------------------------------------------------------------------------------------------
# Settings


def hyper_parameters(a):
    """Training settings: the paper's where they fit (patch 64, batch 32, cross-entropy), smaller with --quick."""
    hp = {
        "patch": a.patch,
        "slices": 5,
        "batch": 32,
        "epochs": 20,
        "steps_per_epoch": 50,
        "width": 16,
        "depth": 3,
        "learning_rate": 2e-3,
        "foreground_fraction": 0.5,
        "augment": not a.no_augment,
    }
    if a.quick:
        hp.update(epochs=6, steps_per_epoch=15, batch=16, width=8)
    if a.epochs is not None:
        hp["epochs"] = a.epochs
    if a.steps is not None:
        hp["steps_per_epoch"] = a.steps
    if a.batch is not None:
        hp["batch"] = a.batch
    if a.width is not None:
        hp["width"] = a.width
    return hp


AUGMENTATION = ("rotation by 180 deg about z (x -> -x and y -> -y together: keeps the tilt-axis line and the beam "
                "axis, so the missing wedge, for any axis azimuth) with probability 1/2; intensity jitter of the "
                "normalised input (gain 0.9-1.1, offset -0.1..0.1). Not used: 90-degree rotations, single xy "
                "flips and transposes (they turn an oblique tilt axis), scaling, blur and noise (pixel size, "
                "resolution and dose are what the study sweeps)")


# ---------------------------------------------------------------------------------------------------------
# The corpus


class Corpus:
    """What the study needs from a corpus: conditions (swept values), their ok train and test jobs, classes."""

    def __init__(self, path, task, classes_arg, say_warnings=True):
        import h5py

        self.path = path
        if not os.path.exists(path):
            raise StudyError(f"{path}: no such file")
        try:
            self.file = h5py.File(path, "r")
        except OSError as e:
            raise StudyError(f"{path}: not an HDF5 file ({e})") from None
        f = self.file
        if text(f.attrs.get("format", "")) != "tomosweep-corpus" or "job_table" not in f:
            raise StudyError(f"{path}: not a tomosweep corpus (no format attribute or job_table)")
        self.sweep_text = text(f.attrs.get("sweep_text", ""))
        self.axes = [text(x) for x in f.attrs.get("sweep_axes", [])]
        table = f["job_table"][()]
        self.shapes = {int(r["job_id"]): (int(r["nz"]), int(r["ny"]), int(r["nx"])) for r in table}
        self.warnings = []
        self.jobs = {}  # condition -> {"train": [job ids], "test": [job ids]}
        self.values = {}  # condition -> {axis: value}
        for row in table:
            c, job = int(row["condition"]), int(row["job_id"])
            if c not in self.values:
                self.values[c] = {ax: _value(row[ax]) for ax in self.axes if ax in table.dtype.names}
                self.jobs[c] = {"train": [], "test": []}
            if text(row["status"]) != "ok":
                self.warnings.append(f"{path}: job {job} (condition {c}) failed, skipped: {text(row['error'])}")
                if say_warnings:
                    print(f"{PROG}: warning: {self.warnings[-1]}", file=sys.stderr)
                continue
            split = text(row["split"])
            if split in self.jobs[c]:
                self.jobs[c][split].append(job)
        self.conditions = sorted(self.values)
        if not self.conditions:
            raise StudyError(f"{path}: the job table is empty")
        if not any(text(r["split"]) == "test" for r in table):
            raise StudyError(f"{path}: no test-split jobs (the sweep's run.test_replicates is empty)")
        for c in self.conditions:
            for split in ("train", "test"):
                if not self.jobs[c][split]:
                    raise StudyError(f"{path}: condition {c} ({self.label(c)}) has no ok {split}-split job")
        needed = "atlas" if task == "segment" else "prior"
        for c in self.conditions:
            for job in self.jobs[c]["train"] + self.jobs[c]["test"]:
                g = f["jobs"][str(job)]
                for name in ("tomogram", needed):
                    if name not in g:
                        raise StudyError(f"{path}: job {job} has no {name} (add \"{name}\" to run.outputs)")
        self.corpus_classes = {}
        if "classes" in f:
            for r in f["classes"][()]:
                self.corpus_classes[text(r["name"])] = int(r["label"])
        self.classes = []  # [(name, [labels])], output channel i + 1
        if task == "segment":
            self.classes = self._select_classes(classes_arg)

    def check_patch(self, patch):
        for c in self.conditions:
            for job in self.jobs[c]["train"]:
                nz, ny, nx = self.shapes[job]
                if min(ny, nx) < patch:
                    raise StudyError(f"{self.path}: job {job} is {nx} x {ny} voxels in xy, smaller than --patch {patch}")

    def _select_classes(self, arg):
        if not self.corpus_classes:
            raise StudyError(f"{self.path}: the corpus has no classes (its atlas is all background)")
        known = ", ".join(self.corpus_classes)
        if not arg:
            return [(n, [lab]) for n, lab in self.corpus_classes.items()]
        out = []
        for item in arg.split(","):
            item = item.strip()
            name, _, members = item.partition("=")
            members = members.split("+") if members else [name]
            labels = []
            for m in members:
                if m not in self.corpus_classes:
                    raise StudyError(f"unknown class '{m}' (the corpus has: {known})")
                labels.append(self.corpus_classes[m])
            if not name or any(name == n for n, _ in out):
                raise StudyError(f"--classes: empty or repeated class name in '{arg}'")
            out.append((name, labels))
        return out

    def label(self, c, short=True):
        parts = []
        for ax, v in self.values[c].items():
            name = ax.rsplit(".", 1)[-1] if short else ax
            parts.append(f"{name}={_fmt(v)}")
        return ", ".join(parts) if parts else f"condition {c}"

    def load(self, job, task):
        """(normalised tomogram, target) of one job: target = class map (uint8, 0 = background, i = selected
        class i) for segment, the prior (float32, volts) for denoise."""
        g = self.file["jobs"][str(job)]
        tomo = g["tomogram"][()].astype(np.float32)
        tomo = (tomo - tomo.mean()) / max(float(tomo.std()), 1e-12)
        if task == "segment":
            atlas = g["atlas"][()]
            lut = np.zeros(256, np.uint8)
            for i, (_, labels) in enumerate(self.classes):
                lut[labels] = i + 1
            return tomo, lut[atlas]
        return tomo, g["prior"][()].astype(np.float32)


def _value(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    return text(v)


def _fmt(v):
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:g}"
    return str(v)


# ---------------------------------------------------------------------------------------------------------
# The network: a 2.5D U-Net (5 adjacent z slices as channels in, one map for the middle slice out)


def make_unet(torch, in_ch, out_ch, width, depth):
    nn = torch.nn

    def block(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                             nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            chans = [width * 2**i for i in range(depth + 1)]
            self.down = nn.ModuleList([block(in_ch, chans[0])] + [block(chans[i], chans[i + 1]) for i in range(depth)])
            self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in range(depth)])
            self.dec = nn.ModuleList([block(2 * chans[i], chans[i]) for i in range(depth)])
            self.head = nn.Conv2d(chans[0], out_ch, 1)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            skips = []
            for i, d in enumerate(self.down):
                x = d(x if i == 0 else self.pool(x))
                skips.append(x)
            x = skips.pop()
            for i in reversed(range(len(self.up))):
                x = self.dec[i](torch.cat([self.up[i](x), skips.pop()], 1))
            return self.head(x)

    return UNet()


def slab_indices(z, nz, slices):
    """The input slices around z, clamped at the volume's faces (the same in training and inference)."""
    h = slices // 2
    return np.clip(np.arange(z - h, z + h + 1), 0, nz - 1)


class Sampler:
    """Random training patches of one condition's train jobs, reproducible for its seed. Half of the patches
    (hp foreground_fraction) are centred near a voxel of a randomly chosen present class, the rest uniform."""

    def __init__(self, data, task, hp, seed, n_classes):
        self.data, self.task, self.hp = data, task, hp
        self.rng = np.random.default_rng(seed)
        self.fg = []  # per job, per class: flat indices
        for tomo, target in data:
            if task == "segment":
                flat = target.ravel()
                self.fg.append([np.flatnonzero(flat == k) for k in range(1, n_classes + 1)])
            else:
                self.fg.append([])

    def batch(self):
        hp, rng = self.hp, self.rng
        p, s, b = hp["patch"], hp["slices"], hp["batch"]
        xs = np.empty((b, s, p, p), np.float32)
        ys = np.empty((b, p, p), np.int64 if self.task == "segment" else np.float32)
        for i in range(b):
            j = int(rng.integers(len(self.data)))
            tomo, target = self.data[j]
            nz, ny, nx = tomo.shape
            present = [f for f in self.fg[j] if len(f)]
            if present and rng.random() < hp["foreground_fraction"]:
                f = present[int(rng.integers(len(present)))]
                z, y, x = np.unravel_index(int(f[int(rng.integers(len(f)))]), tomo.shape)
                y0 = int(np.clip(y - rng.integers(p), 0, ny - p))
                x0 = int(np.clip(x - rng.integers(p), 0, nx - p))
            else:
                z = int(rng.integers(nz))
                y0, x0 = int(rng.integers(ny - p + 1)), int(rng.integers(nx - p + 1))
            zs = slab_indices(int(z), nz, s)
            xin = tomo[zs, y0:y0 + p, x0:x0 + p]
            t = target[int(z), y0:y0 + p, x0:x0 + p]
            if hp["augment"]:
                if rng.random() < 0.5:  # 180 deg about z: keeps the tilt axis and the wedge
                    xin, t = xin[:, ::-1, ::-1], t[::-1, ::-1]
                gain, offset = rng.uniform(0.9, 1.1), rng.uniform(-0.1, 0.1)
                xin = xin * np.float32(gain) + np.float32(offset)
            xs[i], ys[i] = xin, t
        return xs, ys


# ---------------------------------------------------------------------------------------------------------
# Training and inference


def setup_torch(threads):
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, before CUDA starts
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    return torch


def condition_seed(seed, c):
    """One seed per condition, independent of ranks and of the other conditions."""
    return int(np.random.SeedSequence([seed, c]).generate_state(1)[0])


def train_condition(torch, device, corpus, c, task, hp, seed, progress):
    data = [corpus.load(j, task) for j in corpus.jobs[c]["train"]]
    n_out = len(corpus.classes) + 1 if task == "segment" else 1
    norm = {}
    if task == "denoise":  # the target in units of this condition's train priors
        priors = np.concatenate([t.ravel() for _, t in data])
        norm = {"prior_mean": float(priors.mean()), "prior_std": max(float(priors.std()), 1e-12)}
        data = [(x, (t - norm["prior_mean"]) / norm["prior_std"]) for x, t in data]
    s = condition_seed(seed, c)
    torch.manual_seed(s)
    net = make_unet(torch, hp["slices"], n_out, hp["width"], hp["depth"]).to(device)
    sampler = Sampler(data, task, hp, s, len(corpus.classes))
    opt = torch.optim.Adam(net.parameters(), lr=hp["learning_rate"])
    total = hp["epochs"] * hp["steps_per_epoch"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp["learning_rate"], total_steps=total)
    loss_fn = torch.nn.CrossEntropyLoss() if task == "segment" else torch.nn.MSELoss()
    net.train()
    losses = []
    for epoch in range(hp["epochs"]):
        run = 0.0
        for _ in range(hp["steps_per_epoch"]):
            xs, ys = sampler.batch()
            x = torch.from_numpy(xs).to(device)
            y = torch.from_numpy(ys).to(device)
            out = net(x)
            loss = loss_fn(out, y) if task == "segment" else loss_fn(out[:, 0], y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            run += float(loss.detach())
        losses.append(run / hp["steps_per_epoch"])
        progress(c, epoch + 1, losses[-1])
    net.eval()
    return net, norm, losses


def predict(torch, device, net, tomo, task, hp, norm):
    """The whole volume, slice by slice (each with its 5-slice slab), planes padded to a multiple of 2^depth."""
    nz, ny, nx = tomo.shape
    m = 2 ** hp["depth"]
    py, px = (-ny) % m, (-nx) % m
    padded = np.pad(tomo, ((0, 0), (0, py), (0, px)), mode="reflect") if py or px else tomo
    out = np.empty((nz, ny, nx), np.uint8 if task == "segment" else np.float32)
    step = 8
    with torch.no_grad():
        for z0 in range(0, nz, step):
            zs = range(z0, min(nz, z0 + step))
            x = np.stack([padded[slab_indices(z, nz, hp["slices"])] for z in zs])
            y = net(torch.from_numpy(np.ascontiguousarray(x)).to(device))[:, :, :ny, :nx]
            if task == "segment":
                out[z0:z0 + len(zs)] = y.argmax(1).cpu().numpy().astype(np.uint8)
            else:
                out[z0:z0 + len(zs)] = y[:, 0].cpu().numpy() * norm["prior_std"] + norm["prior_mean"]
    return out


def dice_counts(pred, truth, n_classes):
    """Per class k = 1..n: (|P and T|, |P|, |T|)."""
    joint = np.bincount(truth.ravel().astype(np.int64) * (n_classes + 1) + pred.ravel(),
                        minlength=(n_classes + 1) ** 2).reshape(n_classes + 1, n_classes + 1)
    return [(int(joint[k, k]), int(joint[:, k].sum()), int(joint[k, :].sum())) for k in range(1, n_classes + 1)]


def psnr(pred, truth):
    rng = float(truth.max() - truth.min())
    mse = float(np.mean((pred.astype(np.float64) - truth) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(rng * rng / mse)


def ssim(pred, truth):
    """Mean SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03) of the xy slices, with the
    data range of the truth."""
    from scipy.ndimage import gaussian_filter

    x, y = pred.astype(np.float64), truth.astype(np.float64)
    rng = float(y.max() - y.min()) or 1.0
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2

    def g(a):
        return gaussian_filter(a, sigma=(0, 1.5, 1.5), truncate=3.5)

    mx, my = g(x), g(y)
    sxx, syy, sxy = g(x * x) - mx * mx, g(y * y) - my * my, g(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def score(torch, device, corpus, net, norm, train_c, task, hp, test_cache):
    """Rows of scores.csv for one network on every condition's test split, and its own-condition example."""
    rows, example = [], None
    for tc in corpus.conditions:
        counts = None
        per_job = []
        for i, job in enumerate(corpus.jobs[tc]["test"]):
            if job not in test_cache:
                test_cache[job] = corpus.load(job, task)
            tomo, target = test_cache[job]
            pred = predict(torch, device, net, tomo, task, hp, norm)
            if task == "segment":
                cj = dice_counts(pred, target, len(corpus.classes))
                counts = cj if counts is None else [tuple(a + b for a, b in zip(p, q)) for p, q in zip(counts, cj)]
            else:
                per_job.append((psnr(pred, target), ssim(pred, target)))
            if tc == train_c and i == 0:
                z = tomo.shape[0] // 2
                example = {"condition": tc, "job": job, "z": z, "tomogram": tomo[z], "truth": target[z],
                           "prediction": pred[z]}
        if task == "segment":
            dices = []
            for (name, _), (inter, p, t) in zip(corpus.classes, counts):
                d = 2 * inter / (p + t) if p + t else float("nan")
                dices.append(d)
                rows.append(("segment", train_c, tc, name, "dice", d))
            finite = [d for d in dices if not math.isnan(d)]
            rows.append(("segment", train_c, tc, "mean", "dice", float(np.mean(finite)) if finite else float("nan")))
        else:
            rows.append(("denoise", train_c, tc, "all", "psnr", float(np.mean([p for p, _ in per_job]))))
            rows.append(("denoise", train_c, tc, "all", "ssim", float(np.mean([s for _, s in per_job]))))
    return rows, example


# ---------------------------------------------------------------------------------------------------------
# Outputs


def write_scores(path, corpus, rows):
    axes = list(corpus.axes)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["task", "train_condition", "test_condition", "class", "metric", "value"]
                   + [f"train_{ax}" for ax in axes] + [f"test_{ax}" for ax in axes])
        for task, trc, tec, cls, metric, value in rows:
            w.writerow([task, trc, tec, cls, metric, f"{value:.6f}"]
                       + [_fmt(corpus.values[trc].get(ax, "")) for ax in axes]
                       + [_fmt(corpus.values[tec].get(ax, "")) for ax in axes])


def matrix(corpus, rows, cls, metric):
    idx = {c: i for i, c in enumerate(corpus.conditions)}
    m = np.full((len(idx), len(idx)), np.nan)
    for _, trc, tec, c, mt, v in rows:
        if c == cls and mt == metric:
            m[idx[trc], idx[tec]] = v
    return m


def series_names(corpus, task):
    """(class, metric) pairs of the figures and tables: the mean first."""
    if task == "segment":
        own = [(n, "dice") for n, _ in corpus.classes]
        return own if len(own) == 1 else [("mean", "dice")] + own
    return [("all", "psnr"), ("all", "ssim")]


def make_figures(out, corpus, task, rows, examples):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig_dir = os.path.join(out, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    figures = []
    conds = corpus.conditions
    names = series_names(corpus, task)

    # score against each swept parameter, train = test
    axes = [ax for ax in corpus.axes if all(isinstance(corpus.values[c].get(ax), (int, float)) for c in conds)]
    if axes:
        metrics = sorted({m for _, m in names}, key=[m for _, m in names].index)
        fig, grid = plt.subplots(len(metrics), len(axes), figsize=(4.5 * len(axes), 3.4 * len(metrics)), squeeze=False)
        for r, metric in enumerate(metrics):
            for col, ax in enumerate(axes):
                a = grid[r][col]
                order = sorted(conds, key=lambda c: corpus.values[c][ax])
                xs = [corpus.values[c][ax] for c in order]
                for k, (cls, mt) in enumerate(names):
                    if mt != metric:
                        continue
                    m = matrix(corpus, rows, cls, mt)
                    ys = [m[conds.index(c), conds.index(c)] for c in order]
                    a.plot(xs, ys, "o-" if cls != "mean" else "s--", label=cls, lw=2 if cls == "mean" else 1,
                           color="k" if cls == "mean" else class_colour(plt, corpus, cls, k))
                a.set_xlabel(ax)
                a.set_ylabel(metric)
                if metric in ("dice", "ssim"):
                    a.set_ylim(0, 1)
                a.grid(alpha=0.3)
                a.legend(fontsize=7)
        fig.suptitle(f"{task}: each condition's own network (train = test)", fontsize=9)
        fig.tight_layout()
        figures.append(("Score against each swept parameter (train = test)", _save(fig, fig_dir, "score_vs_parameter.png")))
        plt.close(fig)

    # train x test heat maps
    n = len(names)
    cols = min(n, 3)
    nrows = (n + cols - 1) // cols
    side = max(3.2, 0.55 * len(conds) + 1.8)
    fig, grid = plt.subplots(nrows, cols, figsize=(side * cols, side * nrows * 0.95), squeeze=False)
    for i, (cls, metric) in enumerate(names):
        a = grid[i // cols][i % cols]
        m = matrix(corpus, rows, cls, metric)
        vmin, vmax = (0, 1) if metric in ("dice", "ssim") else (np.nanmin(m), np.nanmax(m))
        im = a.imshow(m, cmap="viridis", vmin=vmin, vmax=vmax)
        for (r, c), v in np.ndenumerate(m):
            a.text(c, r, "" if np.isnan(v) else f"{v:.2f}" if metric != "psnr" else f"{v:.1f}", ha="center",
                   va="center", fontsize=7, color="w" if np.isnan(v) or v < vmin + 0.6 * (vmax - vmin) else "k")
        if len(corpus.axes) == 1:  # the swept value itself
            ax = corpus.axes[0]
            ticks, what = [_fmt(corpus.values[c].get(ax, "")) for c in conds], ax.rsplit(".", 1)[-1]
        else:  # condition numbers (the report's table lists their values)
            ticks, what = [str(c) for c in conds], "condition"
        a.set_xticks(range(len(conds)), ticks, fontsize=7)
        a.set_yticks(range(len(conds)), ticks, fontsize=7)
        a.set_xlabel(f"test {what}", fontsize=8)
        a.set_ylabel(f"train {what}", fontsize=8)
        a.set_title(f"{metric} {cls}" if cls != "all" else metric, fontsize=9)
        fig.colorbar(im, ax=a, shrink=0.8)
    for j in range(n, nrows * cols):
        grid[j // cols][j % cols].axis("off")
    fig.tight_layout()
    figures.append(("Train x test matrices (rows: network's training condition; columns: test condition)",
                    _save(fig, fig_dir, "train_test_heatmaps.png")))
    plt.close(fig)

    # example slices per condition
    k = len(conds)
    fig, grid = plt.subplots(k, 3, figsize=(9, 3 * k), squeeze=False)
    for r, c in enumerate(conds):
        e = examples[c]
        grid[r][0].imshow(e["tomogram"], cmap="gray")
        if task == "segment":
            n_cl = len(corpus.classes)
            from matplotlib.colors import ListedColormap

            cmap = ListedColormap([(0, 0, 0)] + [plt.get_cmap("tab10")(i % 10) for i in range(max(n_cl, 1))])
            if r == 0:
                from matplotlib.patches import Patch

                grid[r][2].legend(handles=[Patch(color=cmap(i + 1), label=n) for i, (n, _) in enumerate(corpus.classes)],
                                  loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
            grid[r][1].imshow(e["truth"], cmap=cmap, vmin=-0.5, vmax=max(n_cl, 1) + 0.5, interpolation="nearest")
            grid[r][2].imshow(e["prediction"], cmap=cmap, vmin=-0.5, vmax=max(n_cl, 1) + 0.5, interpolation="nearest")
        else:
            lo, hi = np.percentile(e["truth"], [1, 99])
            grid[r][1].imshow(e["truth"], cmap="gray", vmin=lo, vmax=hi)
            grid[r][2].imshow(e["prediction"], cmap="gray", vmin=lo, vmax=hi)
        titles = ("tomogram", "truth (atlas)" if task == "segment" else "truth (prior)", "prediction")
        for col in range(3):
            grid[r][col].set_title(f"{titles[col]}\ncondition {c}: {corpus.label(c)}" if col == 0 else titles[col],
                                   fontsize=8)
            grid[r][col].axis("off")
        grid[r][0].text(0, -0.02, f"job {e['job']}, z = {e['z']}", transform=grid[r][0].transAxes, va="top", fontsize=7)
    fig.tight_layout()
    figures.append(("Example xy slices of each condition's first test job: tomogram, truth, its own network's prediction",
                    _save(fig, fig_dir, "examples.png")))
    plt.close(fig)
    return figures


def class_colour(plt, corpus, cls, k):
    """The colour of a class in every figure: tab10 by its position in the class list."""
    names = [n for n, _ in corpus.classes]
    return plt.get_cmap("tab10")((names.index(cls) if cls in names else k) % 10)


def _save(fig, fig_dir, name):
    fig.savefig(os.path.join(fig_dir, name), dpi=90)
    return "figures/" + name


def test_fractions(corpus, c):
    """Per selected class, its fraction of the voxels of condition c's test jobs (segment only)."""
    if not corpus.classes:
        return []
    counts = np.zeros(len(corpus.classes) + 1)
    for job in corpus.jobs[c]["test"]:
        _, target = corpus.load(job, "segment")
        counts += np.bincount(target.ravel(), minlength=len(counts))
    return list(counts[1:] / counts.sum())


def write_report(out, corpus, task, rows, figures, prov):
    e = html.escape
    conds = corpus.conditions
    parts = [
        "<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>tomosweep study: {e(task)} on {e(os.path.basename(corpus.path))}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:2px 8px;"
        "text-align:right}th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%;display:block}"
        "figure{margin:1em 0 2em}figcaption{color:#444}</style></head><body>",
        f"<h1>Parameter-robustness study: {e(task)}</h1>",
        f"<p>Corpus <code>{e(prov['corpus'])}</code> ({e(prov['corpus_name'])}), {len(conds)} conditions. "
        "One 2.5D U-Net per condition trained on its train-split jobs, every network scored on every "
        "condition's test split (docs/study.md).</p>",
        "<h2>Conditions</h2><table><tr><th>condition</th>"
        + "".join(f"<th class='l'>{e(ax)}</th>" for ax in corpus.axes)
        + "<th>train jobs</th><th>test jobs</th>"
        + "".join(f"<th>{e(n)} fraction</th>" for n, _ in corpus.classes) + "</tr>",
    ]
    for c in conds:
        parts.append(f"<tr><td>{c}</td>" + "".join(f"<td>{e(_fmt(corpus.values[c].get(ax, '')))}</td>" for ax in corpus.axes)
                     + f"<td>{e(' '.join(map(str, corpus.jobs[c]['train'])))}</td>"
                     + f"<td>{e(' '.join(map(str, corpus.jobs[c]['test'])))}</td>"
                     + "".join(f"<td>{v:.4f}</td>" for v in test_fractions(corpus, c)) + "</tr>")
    parts.append("</table>")
    if task == "segment":
        parts.append("<p>A class's fraction of the test voxels is the Dice of a guess at that rate: chance.</p>")
    parts.append("<h2>Scores</h2>")
    for cls, metric in series_names(corpus, task):
        m = matrix(corpus, rows, cls, metric)
        parts.append(f"<h3>{e(metric)}{'' if cls == 'all' else ' ' + e(cls)}</h3><table><tr><th>train \\ test</th>"
                     + "".join(f"<th>{c}</th>" for c in conds) + "</tr>")
        for i, c in enumerate(conds):
            parts.append(f"<tr><th>{c}</th>" + "".join(
                f"<td{' style=font-weight:bold' if i == j else ''}>{m[i, j]:.3f}</td>" for j in range(len(conds)))
                + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Figures</h2>")
    for caption, src in figures:
        parts.append(f"<figure><img src='{e(src)}' alt='{e(caption)}'><figcaption>{e(caption)}</figcaption></figure>")
    parts.append("<h2>Provenance</h2><table>")
    for k, v in prov.items():
        if isinstance(v, (dict, list)):
            v = json.dumps(v)
        parts.append(f"<tr><th class='l'>{e(k)}</th><td class='l'>{e(str(v))}</td></tr>")
    parts.append("</table><p>Files: <a href='scores.csv'>scores.csv</a>, "
                 "<a href='provenance.json'>provenance.json</a>, networks in <code>networks/</code>.</p>")
    parts.append("</body></html>")
    with open(os.path.join(out, "report.html"), "w") as fh:
        fh.write("\n".join(parts) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Main


class Mpi:
    """mpi4py when started by an MPI launcher, else one rank."""

    def __init__(self):
        self.comm, self.rank, self.size = None, 0, 1
        if any(int(os.environ.get(k, "1") or 1) > 1 for k in MPI_ENV):
            try:
                from mpi4py import MPI
            except ImportError:
                raise StudyError("started under an MPI launcher but mpi4py is missing (Debian: python3-mpi4py)") from None
            self.comm, self.rank, self.size = MPI.COMM_WORLD, MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()

    def gather(self, obj):
        return [obj] if self.comm is None else self.comm.gather(obj, root=0)

    def bcast(self, obj):
        return obj if self.comm is None else self.comm.bcast(obj, root=0)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog=PROG, description="Train one 2.5D U-Net per condition of a tomosweep corpus "
                                 "and score every network on every condition's test split (docs/study.md).")
    ap.add_argument("task", choices=("segment", "denoise"))
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--quick", action="store_true", help="a small budget: a few minutes on 2 cores")
    ap.add_argument("--classes", help="segment: classes to learn, comma-separated; name=a+b merges classes a and b "
                    "(default: every class of the corpus)")
    ap.add_argument("--epochs", type=int, help="epochs per condition (default 20, --quick 6)")
    ap.add_argument("--steps", type=int, help="steps (batches) per epoch (default 50, --quick 10)")
    ap.add_argument("--batch", type=int, help="patches per batch (default 32, --quick 16)")
    ap.add_argument("--width", type=int, help="channels of the U-Net's first level (default 16, --quick 8)")
    ap.add_argument("--patch", type=int, default=64, help="patch side in voxels (xy; default 64)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per rank (default 1; results depend on "
                    "it, not on the number of ranks: docs/study.md)")
    ap.add_argument("--no-augment", action="store_true", help="no augmentation (docs/study.md)")
    a = ap.parse_args(argv)
    for k in ("epochs", "steps", "batch", "width", "patch", "threads"):
        v = getattr(a, k)
        if v is not None and v < 1:
            ap.error(f"--{k} must be at least 1")
    if a.patch % 8:
        ap.error("--patch must be a multiple of 8 (the U-Net halves it 3 times)")
    return a


def main(argv=None):
    start = time.time()
    a = parse_args(argv)
    mpi = Mpi()
    corpus = Corpus(a.corpus, a.task, a.classes, mpi.rank == 0)  # every rank decides the same errors
    hp = hyper_parameters(a)
    corpus.check_patch(hp["patch"])
    threads = a.threads
    torch = setup_torch(threads)
    if torch.cuda.is_available():
        device = torch.device(f"cuda:{mpi.rank % torch.cuda.device_count()}")
    else:
        device = torch.device("cpu")
    os.makedirs(os.path.join(a.out, "networks"), exist_ok=True)

    mine = [c for i, c in enumerate(corpus.conditions) if i % mpi.size == mpi.rank]
    total_epochs = len(mine) * hp["epochs"]
    done = {"epochs": 0, "t0": time.time()}
    prefix = f"[rank {mpi.rank}] " if mpi.size > 1 else ""

    def progress(c, epoch, loss):
        done["epochs"] += 1
        per = (time.time() - done["t0"]) / done["epochs"]
        left = int(per * (total_epochs - done["epochs"]))
        print(f"{PROG}: {prefix}{a.task} condition {c} ({corpus.label(c)}): epoch {epoch}/{hp['epochs']}, "
              f"loss {loss:.4f}, {left // 60}:{left % 60:02d} left", file=sys.stderr, flush=True)

    rows, examples, timings, losses = [], {}, {}, {}
    test_cache = {}
    for c in mine:
        t = time.time()
        net, norm, loss_curve = train_condition(torch, device, corpus, c, a.task, hp, a.seed, progress)
        timings[c] = {"train_s": round(time.time() - t, 2)}
        losses[c] = loss_curve
        torch.save({"state_dict": net.state_dict(), "task": a.task, "condition": c, "values": corpus.values[c],
                    "classes": corpus.classes, "hyper_parameters": hp, "normalisation": norm,
                    "seed": condition_seed(a.seed, c)},
                   os.path.join(a.out, "networks", f"condition-{c}.pt"))
        t = time.time()
        r, ex = score(torch, device, corpus, net, norm, c, a.task, hp, test_cache)
        timings[c]["score_s"] = round(time.time() - t, 2)
        print(f"{PROG}: {prefix}{a.task} condition {c}: scored on {len(corpus.conditions)} test conditions in "
              f"{timings[c]['score_s']:.0f} s", file=sys.stderr, flush=True)
        rows += r
        examples[c] = ex
    gathered = mpi.gather((rows, examples, timings, losses))
    if mpi.rank != 0:
        return 0
    rows, examples, timings, losses = [], {}, {}, {}
    for r, ex, t, lo in gathered:
        rows += r
        examples.update(ex)
        timings.update(t)
        losses.update(lo)
    order = {c: i for i, c in enumerate(corpus.conditions)}
    rows.sort(key=lambda r: (order[r[1]], order[r[2]]))
    write_scores(os.path.join(a.out, "scores.csv"), corpus, rows)
    import h5py
    import scipy

    prov = {
        "task": a.task,
        "corpus": a.corpus,
        "corpus_realpath": os.path.realpath(a.corpus),
        "corpus_name": text(corpus.file.attrs.get("name", "")),
        "corpus_tool_version": text(corpus.file.attrs.get("tool_version", "")),
        "sweep_file": text(corpus.file.attrs.get("sweep_file", "")),
        "sweep_text_sha256": hashlib.sha256(corpus.sweep_text.encode()).hexdigest(),
        "sweep_axes": corpus.axes,
        "corpus_seed": int(corpus.file.attrs.get("seed", 0)),
        "seed": a.seed,
        "condition_seeds": {str(c): condition_seed(a.seed, c) for c in corpus.conditions},
        "classes": {n: labels for n, labels in corpus.classes},
        "hyper_parameters": hp,
        "network": f"2.5D U-Net: {hp['slices']} z slices in, depth {hp['depth']}, widths "
                   f"{[hp['width'] * 2**i for i in range(hp['depth'] + 1)]}, BatchNorm, Adam + one-cycle",
        "loss": "cross-entropy" if a.task == "segment" else "mean squared error (prior in train-prior units)",
        "augmentation": AUGMENTATION if hp["augment"] else "none",
        "determinism": "torch.manual_seed and numpy SeedSequence([seed, condition]) per condition; "
                       "torch.use_deterministic_algorithms(True); cudnn.benchmark off; fixed threads per rank",
        "ranks": mpi.size,
        "torch_threads_per_rank": threads,
        "device": str(device),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "timings_s": {str(c): timings[c] for c in sorted(timings)},
        "final_loss": {str(c): round(losses[c][-1], 5) for c in sorted(losses)},
        "wall_time_s": None,
    }
    figures = make_figures(a.out, corpus, a.task, rows, examples)
    prov["wall_time_s"] = round(time.time() - start, 1)
    with open(os.path.join(a.out, "provenance.json"), "w") as fh:
        json.dump(prov, fh, indent=2)
        fh.write("\n")
    write_report(a.out, corpus, a.task, rows, figures, prov)
    print(f"{PROG}: wrote {a.out}/scores.csv, report.html ({len(corpus.conditions)} conditions, "
          f"{prov['wall_time_s']:.0f} s)", file=sys.stderr)
    return 0


def _rank():
    for k in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if k in os.environ:
            return int(os.environ[k])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StudyError as e:  # decided alike on every rank: rank 0 says it
        if _rank() == 0:
            print(f"{PROG}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except SystemExit:
        raise
    except BaseException:
        if "mpi4py.MPI" in sys.modules and sys.modules["mpi4py.MPI"].COMM_WORLD.Get_size() > 1:
            import traceback

            traceback.print_exc()
            sys.modules["mpi4py.MPI"].COMM_WORLD.Abort(1)  # no rank is left waiting in a gather
        raise
