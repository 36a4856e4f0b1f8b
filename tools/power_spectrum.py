#!/usr/bin/python3
"""Power spectrum of one tilt image with the predicted CTF zeros overlaid (Thon rings check).

Usage:
  tools/power_spectrum.py SERIES.mrc --defocus-um 5 [--tilt-index I | --tlt SERIES.tlt] [--voltage-kv 300]
                          [--cs-mm 2.7] [--amplitude-contrast 0.07] [--phase-shift-deg 0] [--pixel-A P]
                          [--tile 256] [--dpi 100] [-o spectrum.png]

The image is split into overlapping tiles (Welch averaging) so rings are smooth; the left panel is the 2D
log power spectrum with circles at the predicted zeros, the right panel its rotational average with the
zeros as vertical lines. Zeros follow docs/imaging.md: chi(k) + phase_shift + asin(Q) = n pi with
chi(k) = pi lambda D k^2 - (pi/2) Cs lambda^3 k^4. For a tilted image the defocus varies across x; the
zeros drawn are those at the tilt axis.
"""
import argparse
import math
import os
import sys

import numpy as np
import mrcfile
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def wavelength_A(kv):
    e = kv * 1e3
    return 12398.419843320026 / math.sqrt(e * (2 * 510998.95 + e))


def ctf_zeros_per_A(kv, cs_mm, defocus_um, q, phase_shift_deg, kmax, count=40):
    lam = wavelength_A(kv)
    a = 0.5 * math.pi * cs_mm * 1e7 * lam**3
    b = math.pi * lam * defocus_um * 1e4
    shift = math.radians(phase_shift_deg) + math.asin(q)
    zeros = []
    for n in range(0, 100000):
        c = n * math.pi - shift
        if c <= 0:
            continue
        disc = b * b - 4 * a * c
        if disc < 0 or len(zeros) >= count:
            break
        k = math.sqrt((b - math.sqrt(disc)) / (2 * a)) if a > 0 else math.sqrt(c / b)
        if k > kmax:
            break
        zeros.append(k)
    return zeros


def welch_power(img, tile):
    ny, nx = img.shape
    tile = min(tile, nx, ny)
    step = tile // 2
    win = np.outer(np.hanning(tile), np.hanning(tile))
    acc = np.zeros((tile, tile))
    count = 0
    for y in range(0, ny - tile + 1, step):
        for x in range(0, nx - tile + 1, step):
            t = img[y:y + tile, x:x + tile]
            t = (t - t.mean()) * win
            acc += np.abs(np.fft.fftshift(np.fft.fft2(t))) ** 2
            count += 1
    return acc / max(count, 1), tile


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("series")
    ap.add_argument("--tilt-index", type=int)
    ap.add_argument("--tlt", help="IMOD .tlt file: pick the tilt closest to 0")
    ap.add_argument("--defocus-um", type=float, required=True)
    ap.add_argument("--voltage-kv", type=float, default=300)
    ap.add_argument("--cs-mm", type=float, default=2.7)
    ap.add_argument("--amplitude-contrast", type=float, default=0.07)
    ap.add_argument("--phase-shift-deg", type=float, default=0)
    ap.add_argument("--pixel-A", type=float, help="pixel size (default: from the MRC header)")
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--dpi", type=int, default=100)
    ap.add_argument("-o", "--out", default="power_spectrum.png")
    a = ap.parse_args(argv)

    with mrcfile.open(a.series, permissive=True) as m:
        data = np.asarray(m.data, dtype=np.float64)
        pixel = a.pixel_A or float(m.voxel_size.x)
    if data.ndim == 2:
        data = data[None]
    index = a.tilt_index
    if index is None and a.tlt:
        angles = [float(x) for x in open(a.tlt).read().split()]
        index = int(np.argmin(np.abs(angles)))
    if index is None:
        index = data.shape[0] // 2
    if not 0 <= index < data.shape[0]:
        sys.exit(f"power_spectrum: error: tilt index {index} outside 0..{data.shape[0] - 1}")
    if not pixel > 0:
        sys.exit("power_spectrum: error: no pixel size in the header; give --pixel-A")

    power, tile = welch_power(data[index], a.tile)
    logp = np.log(power + 1e-12 * power.max())
    kmax = 0.5 / pixel
    zeros = ctf_zeros_per_A(a.voltage_kv, a.cs_mm, a.defocus_um, a.amplitude_contrast, a.phase_shift_deg, kmax)

    # Rotational average.
    c = tile // 2
    yy, xx = np.indices(power.shape)
    r = np.hypot(xx - c, yy - c).astype(int)
    radial = np.bincount(r.ravel(), power.ravel()) / np.maximum(np.bincount(r.ravel()), 1)
    k = np.arange(len(radial)) / (tile * pixel)
    keep = (k > 0) & (k <= kmax)

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 5.5))
    lo, hi = np.percentile(logp, [5, 99.5])
    ax0.imshow(logp, cmap="gray", vmin=lo, vmax=hi, extent=[-kmax, kmax, -kmax, kmax], origin="lower")
    for z in zeros:
        ax0.add_patch(plt.Circle((0, 0), z, fill=False, color="tab:red", lw=0.6, alpha=0.7))
    ax0.set_xlabel("kx (1/A)")
    ax0.set_ylabel("ky (1/A)")
    name = os.path.basename(a.series)  # never a folder of the machine it ran on
    ax0.set_title(f"{name} [{index}]: log power, predicted zeros (red)", fontsize=9)
    ax1.semilogy(k[keep], radial[keep], color="k", lw=0.8)
    for z in zeros:
        ax1.axvline(z, color="tab:red", lw=0.6, alpha=0.7)
    ax1.set_xlabel("spatial frequency (1/A)")
    ax1.set_ylabel("rotational average of power")
    ax1.set_title(f"{a.voltage_kv:g} kV, Cs {a.cs_mm:g} mm, defocus {a.defocus_um:g} um, pixel {pixel:g} A",
                  fontsize=9)
    fig.tight_layout()
    fig.savefig(a.out, dpi=a.dpi)
    print(f"wrote {a.out}: tilt {index}, {len(zeros)} zeros up to Nyquist {kmax:.4f} 1/A")


if __name__ == "__main__":
    main(sys.argv[1:])
