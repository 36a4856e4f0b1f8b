#!/usr/bin/python3
"""Central-slice pictures of MRC volumes (tomosweep outputs) as PNG.

  tools/slices.py VOLUME.mrc [VOLUME2.mrc ...] -o out.png [--labels atlas.mrc] [--title TEXT]
  tools/slices.py DIR -o out.png        # model/potential, tomogram, prior and atlas found in DIR

Each volume gets one column: the central XY slice above its XZ and YZ slices (axes in Angstrom, from the
MRC voxel size).
Label maps (uint8 atlas, uint32 instances) are drawn with a categorical colour map, 0 transparent/black;
--labels overlays an atlas's outline on every grey-scale row.
Debian packages only: python3-mrcfile, python3-matplotlib, python3-numpy.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mrcfile  # noqa: E402
import numpy as np  # noqa: E402

DIR_ORDER = ["model.mrc", "potential.mrc", "tomogram.mrc", "prior.mrc", "atlas.mrc", "instances.mrc"]


def read(path):
    with mrcfile.open(path, permissive=True) as m:
        data = np.asarray(m.data)
        voxel = float(m.voxel_size.x) or 1.0
    if data.ndim == 2:
        data = data[np.newaxis]
    return data, voxel


def central_slices(vol):
    nz, ny, nx = vol.shape
    return vol[nz // 2, :, :], vol[:, ny // 2, :], vol[:, :, nx // 2]


def is_labels(vol, name=""):
    return (vol.dtype.kind in "ui" and vol.dtype.itemsize <= 4) or "atlas" in name or "instances" in name


def label_cmap(n):
    base, m = (plt.get_cmap("tab10"), 10) if n <= 10 else (plt.get_cmap("tab20"), 20)
    colours = [(0, 0, 0, 1)] + [base(i % m) for i in range(max(n, 1))]
    return matplotlib.colors.ListedColormap(colours)


def draw_column(axes, vol, voxel, name, labels=None):
    nz, ny, nx = vol.shape
    extents = [(0, nx * voxel, 0, ny * voxel), (0, nx * voxel, 0, nz * voxel), (0, ny * voxel, 0, nz * voxel)]
    titles = ["XY (z = %d)" % (nz // 2), "XZ (y = %d)" % (ny // 2), "YZ (x = %d)" % (nx // 2)]
    lab = central_slices(labels) if labels is not None else (None, None, None)
    instances = "instances" in name or (vol.dtype.kind in "ui" and vol.dtype.itemsize > 1)
    for ax, sl, ext, title, ls in zip(axes, central_slices(vol), extents, titles, lab):
        if is_labels(vol, name):
            sl = np.rint(sl).astype(np.int64)
            top = int(vol.max())
            if instances:  # shuffle ids so that neighbouring instances differ in colour
                sl = np.where(sl > 0, (sl * 7919) % 19 + 1, 0)
                top = 20
            ax.imshow(sl, cmap=label_cmap(top), vmin=0, vmax=max(top, 1), origin="lower", extent=ext,
                      interpolation="nearest")
        else:
            lo, hi = np.percentile(sl, [1, 99]) if sl.size else (0, 1)
            ax.imshow(sl, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, origin="lower", extent=ext)
            if ls is not None and ls.shape == sl.shape and ls.max() > 0:
                ax.contour(ls > 0, levels=[0.5], colors="tab:orange", linewidths=0.5, origin="lower", extent=ext)
        ax.set_title("%s  %s" % (name, title), fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_aspect("equal")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", help="MRC files, or one output directory")
    ap.add_argument("-o", "--out", required=True, help="PNG to write")
    ap.add_argument("--labels", help="atlas MRC whose outline is drawn over grey-scale rows")
    ap.add_argument("--title", default="")
    a = ap.parse_args(argv)
    paths = a.inputs
    if len(paths) == 1 and os.path.isdir(paths[0]):
        d = paths[0]
        paths = [os.path.join(d, f) for f in DIR_ORDER if os.path.exists(os.path.join(d, f))]
        if not paths:
            sys.exit("slices.py: error: no MRC volumes in '%s'" % d)
    labels = read(a.labels)[0] if a.labels else None
    vols = [read(p) for p in paths]
    nz, ny, nx = vols[0][0].shape
    # Rows: XY (ny tall), XZ and YZ (nz tall each); one column per volume.
    heights = [ny, max(nz, ny // 8), max(nz, ny // 8)]
    width = 4.0 * len(paths)
    fig = plt.figure(figsize=(width, 4.0 * sum(heights) / ny + 0.6))
    grid = fig.add_gridspec(3, len(paths), height_ratios=heights)
    for col, (p, (vol, voxel)) in enumerate(zip(paths, vols)):
        lab = labels if labels is not None and labels.shape == vol.shape else None
        axes = [fig.add_subplot(grid[r, col]) for r in range(3)]
        draw_column(axes, vol, voxel, os.path.basename(p), lab)
    if a.title:
        fig.suptitle(a.title, fontsize=10)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print("slices.py: wrote %s (%d volumes)" % (a.out, len(paths)))


if __name__ == "__main__":
    main(sys.argv[1:])
