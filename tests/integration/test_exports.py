#!/usr/bin/python3
"""Exports and inspect --json read back with independent readers, checked against the corpus.

A tiny two-class sweep with exact counts, tilt residuals and astigmatism is run, then
  - `inspect --json` is parsed with json and compared with /job_table;
  - `export --format copick --job all`: copick_config.json and the pick files with json, the OME-Zarr tomogram,
    prior and atlas with Debian's zarr (python3-zarr), each against the job's arrays and particle table;
  - `export --format relion --job all`: tomograms.star, the per-tilt STAR files and particles.star with this
    test's own STAR parser, against the job's tilt table, settings and particle table; the MRC files with mrcfile;
  - `export --format mrc --job all`: one folder per job.
usage: test_exports.py TOMOSWEEP WORK_DIR"""
import json
import math
import os
import shutil
import subprocess
import sys

import h5py
import mrcfile
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402

try:
    import zarr
except ImportError:  # Debian python3-zarr (tools/install-deps.sh installs it)
    print("python3-zarr is missing: skipped")
    sys.exit(77)

exe, work = os.path.abspath(sys.argv[1]), sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)
def run(*args, ok=True):
    p = subprocess.run([exe, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"FAIL tomosweep {' '.join(args)}: {p.stderr}")
    return p


SWEEP = """
[run]
name = "exports"
seed = 5
replicates = 2
test_replicates = [1]
outputs = ["tomogram", "prior", "atlas", "instances", "particles", "tilt_series"]
[model]
box_A = [700, 260, 130]   # 70 x 26 x 13 voxels: two chunks along x, odd sizes for the pyramid
pixel_size_A = 10.0
[[model.layer]]
particles = [
  { source = "synthetic:globular?mass_kDa=60", class = "small", count = 6 },
  { source = "synthetic:globular?mass_kDa=150", class = "big", count = [1, 3] },
]
[imaging]
dose_e_per_A2 = 60
astigmatism_um = 0.4
astigmatism_angle_deg = 30
tilt = { min_deg = -30, max_deg = 30, step_deg = 15, shift_sd_A = 20, rotation_sd_deg = 0.5, motion_sd_A = 10 }
[prior]
tilt = { min_deg = -60, max_deg = 60, step_deg = 10 }
[sweep]
"imaging.defocus_um" = [2.0, 3.5]
"""
open("sweep.toml", "w").write(SWEEP)
run("run", "sweep.toml", "-o", "c.h5")
f = h5py.File("c.h5", "r")
table = f["job_table"][()]
txt = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
jobs = [int(r["job_id"]) for r in table]
classes = {int(c["label"]): txt(c["name"]) for c in f["classes"][()]}
check(classes == {1: "small", 2: "big"}, f"classes {classes}")

# ---- exact counts: per job, 6 units of "small", 1..3 of "big" (singles: one group each) ----
for j in jobs:
    p = f[f"jobs/{j}/particles"][()]
    check(int(np.sum(p["label"] == 1)) == 6, f"job {j}: {np.sum(p['label'] == 1)} small, count = 6")
    nbig = int(np.sum(p["label"] == 2))
    check(1 <= nbig <= 3, f"job {j}: {nbig} big, count = [1, 3]")

# ---- inspect --json ----
info = json.loads(run("inspect", "c.h5", "--json").stdout)
check(info["format"] == "tomosweep-corpus" and info["axes"] == ["imaging.defocus_um"], "inspect axes")
check([c["name"] for c in info["classes"]] == ["small", "big"], "inspect classes")
check([j["job_id"] for j in info["jobs"]] == jobs, "inspect jobs")
for j, r in zip(info["jobs"], table):
    check(j["split"] == txt(r["split"]) and j["status"] == txt(r["status"]), f"inspect job {j['job_id']}")
    check(j["values"]["imaging.defocus_um"] == float(r["imaging.defocus_um"]), "inspect swept value (a number)")
    check(j["size_xyz"] == [int(r["nx"]), int(r["ny"]), int(r["nz"])], "inspect size")
summary = info["condition_summary"]
check([s["values"]["imaging.defocus_um"] for s in summary] == [2.0, 3.5], f"conditions {summary}")
check(all(s["jobs"] == 2 and s["ok"] == 2 and s["failed"] == 0 and s["train"] == 1 and s["test"] == 1
          for s in summary), f"condition counts {summary}")
text = run("inspect", "c.h5").stdout
check("condition 1: imaging.defocus_um=3.5  jobs 2 (2 ok, 0 failed), train 1, test 1" in text, text)


def euler_matrix(rot, tilt, psi):
    """RELION's Euler_angles2matrix (degrees)."""
    a, b, g = (math.radians(x) for x in (rot, tilt, psi))
    ca, sa, cb, sb, cg, sg = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(g), math.sin(g)
    cc, cs, sc, ss = cb * ca, cb * sa, sb * ca, sb * sa
    return np.array([[cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb],
                     [-sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb],
                     [sc, ss, cb]])


# ---- copick ----
run("export", "c.h5", "--job", "all", "--format", "copick", "--to", "cp")
cfg = json.load(open("cp/copick_config.json"))
check(cfg["config_type"] == "filesystem" and cfg["overlay_root"].startswith("local://"), "copick roots")
check(cfg["overlay_root"].endswith("/cp") and "static_root" in cfg, cfg["overlay_root"])
objs = {o["name"]: o for o in cfg["pickable_objects"]}
check(sorted(objs) == ["big", "small"], f"pickable objects {objs}")
for label, name in classes.items():
    o = objs[name]
    check(o["label"] == label and o["is_particle"] is True, f"object {name}")
    check(len(o["color"]) == 4 and all(0 <= c <= 255 for c in o["color"]), f"colour of {name}")
# a protein's radius from its mass (1.35 g/cm^3): 60 kDa -> 25.9 A, 150 kDa -> 35.2 A
check(abs(objs["small"]["radius"] - 25.9) < 0.2 and abs(objs["big"]["radius"] - 35.2) < 0.2,
      f"radii {objs['small']['radius']} {objs['big']['radius']}")
check(cfg["runs"] == [f"job-{j}" for j in jobs], f"runs {cfg['runs']}")
for j in jobs:
    g = f[f"jobs/{j}"]
    run_dir = f"cp/ExperimentRuns/job-{j}"
    vs = f"{run_dir}/VoxelSpacing10.000"
    tomo, prior, atlas = g["tomogram"][()], g["prior"][()], g["atlas"][()]
    z = zarr.open(f"{vs}/wbp.zarr", mode="r")
    check(np.array_equal(z["0"][:], tomo), f"job {j}: wbp.zarr level 0 == tomogram")
    ms = z.attrs["multiscales"][0]
    check([a["name"] for a in ms["axes"]] == ["z", "y", "x"], "OME axes")
    check(ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [10, 10, 10], "OME scale level 0")
    lvl1 = z["1"][:]
    nz, ny, nx = (s // 2 for s in tomo.shape)
    want = tomo[:2 * nz, :2 * ny, :2 * nx].reshape(nz, 2, ny, 2, nx, 2).mean(axis=(1, 3, 5))
    check(np.allclose(lvl1, want, atol=1e-4 * np.abs(tomo).max()), f"job {j}: level 1 is the 2x2x2 mean")
    check(z["0"].chunks == (64, 64, 64) and z["2"].shape == (nz // 2, ny // 2, nx // 2), "chunks and level 2")
    check(ms["datasets"][2]["coordinateTransformations"][1]["translation"] == [15, 15, 15], "level 2 translation")
    check(np.array_equal(zarr.open(f"{vs}/prior.zarr", mode="r")["0"][:], prior), f"job {j}: prior.zarr")
    seg = zarr.open(f"{run_dir}/Segmentations/10.000_tomosweep_0_atlas-multilabel.zarr", mode="r")
    check(np.array_equal(seg["0"][:], atlas) and seg["0"].dtype == np.uint8, f"job {j}: atlas segmentation")
    check(np.array_equal(seg["1"][:], atlas[::2, ::2, ::2][:nz, :ny, :nx]), f"job {j}: labels subsampled, not mixed")
    parts = g["particles"][()]
    n = np.array(tomo.shape[::-1])  # x, y, z
    for label, name in classes.items():
        pk = json.load(open(f"{run_dir}/Picks/tomosweep_0_{name}.json"))
        check(pk["pickable_object_name"] == name and pk["run_name"] == f"job-{j}" and pk["unit"] == "angstrom",
              f"pick header {name}")
        rows = parts[parts["label"] == label]
        check(len(pk["points"]) == len(rows), f"job {j} {name}: {len(pk['points'])} picks, {len(rows)} particles")
        by_id = {pt["instance_id"]: pt for pt in pk["points"]}
        for r in rows:
            pt = by_id[int(r["instance"])]
            loc = np.array([pt["location"][k] for k in "xyz"])
            want = (r["position_A"] / 10.0 + (n - 1) / 2) * 10.0
            check(np.allclose(loc, want, atol=2e-3), f"pick location {loc} != {want}")
            m = np.array(pt["transformation_"])
            check(np.allclose(m[:3, :3], r["rotation"], atol=1e-8) and np.allclose(m[3], [0, 0, 0, 1]),
                  "pick transformation_ = [[R, 0], [0, 1]]")


# ---- RELION ----
def read_star(path):
    """{block: (labels, rows)}: a loop_ gives one dict per row; a block of "_key value" pairs gives one row."""
    blocks, labels, rows, in_loop = {}, [], [], False
    for line in open(path):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("data_"):
            labels, rows, in_loop = [], [], False
            blocks[s[5:]] = (labels, rows)
        elif s == "loop_":
            in_loop = True
        elif s.startswith("_") and (in_loop and not rows):
            labels.append(s.split()[0])
        elif s.startswith("_"):
            key, value = s.split()[:2]
            labels.append(key)
            if not rows:
                rows.append({})
            rows[0][key] = value
        else:
            rows.append(dict(zip(labels, s.split())))
    return blocks


run("export", "c.h5", "--job", "all", "--format", "relion", "--to", "rl")
tomos = read_star("rl/tomograms.star")["global"][1]
check([t["_rlnTomoName"] for t in tomos] == [f"job-{j}" for j in jobs], "tomograms.star names")
parts_star = read_star("rl/particles.star")
optics = {o["_rlnOpticsGroup"]: o for o in parts_star["optics"][1]}
prows = parts_star["particles"][1]
for j, t in zip(jobs, tomos):
    g = f[f"jobs/{j}"]
    check(float(t["_rlnVoltage"]) == 300 and float(t["_rlnSphericalAberration"]) == 2.7, "voltage, Cs")
    check(float(t["_rlnAmplitudeContrast"]) == 0.07, "amplitude contrast")
    check(float(t["_rlnTomoTiltSeriesPixelSize"]) == 10 and t["_rlnTomoTomogramBinning"] == "1", "pixel size")
    check([int(t[f"_rlnTomoSize{k}"]) for k in "XYZ"] == list(g["tomogram"].shape[::-1]), "tomogram size")
    check(t["_rlnTomoHand"] in ("1", "-1"), "hand")
    with mrcfile.open(os.path.join("rl", t["_rlnTomoReconstructedTomogram"]), permissive=False) as m:
        check(np.array_equal(m.data, g["tomogram"][()]), f"job {j}: reconstructed tomogram MRC")
    ts = read_star(os.path.join("rl", t["_rlnTomoTiltSeriesStarFile"]))
    check(list(ts) == [f"job-{j}"], f"tilt-series block {list(ts)}")
    tilts = ts[f"job-{j}"][1]
    rec = g["tilts"][()]
    check(len(tilts) == len(rec), "one STAR row per tilt")
    defocus = float(table[table["job_id"] == j]["imaging.defocus_um"][0])
    with mrcfile.open("rl/tilt_series/job-%d.mrcs" % j) as m:
        stack = m.data.copy()
    check(np.array_equal(stack, g["tilt_series"][()]), f"job {j}: tilt stack")
    for i, (row, r) in enumerate(zip(tilts, rec)):
        check(row["_rlnMicrographName"] == f"{i + 1}@tilt_series/job-{j}.mrcs", row["_rlnMicrographName"])
        check(abs(float(row["_rlnTomoNominalStageTiltAngle"]) - r["angle_deg"]) < 1e-3, "nominal tilt")
        check(abs(float(row["_rlnTomoYTilt"]) - r["actual_angle_deg"]) < 1e-4, "actual tilt")
        check(abs(float(row["_rlnMicrographPreExposure"]) - r["cumulative_dose_e_per_A2"]) < 1e-4, "pre-exposure")
        du, dv = float(row["_rlnDefocusU"]), float(row["_rlnDefocusV"])
        check(abs(du - (r["defocus_um"] * 1e4 + 2000)) < 0.01 and abs(dv - (r["defocus_um"] * 1e4 - 2000)) < 0.01,
              f"defocus U/V {du} {dv} for {r['defocus_um']} um, astigmatism 0.4 um")
        check(abs(r["defocus_um"] - defocus) < 1e-9, "defocus of the condition")
        check(float(row["_rlnDefocusAngle"]) == 30, "defocus angle")
        check(abs(float(row["_rlnTomoXShiftAngst"]) - r["shift_x_A"]) < 1e-3 and
              abs(float(row["_rlnTomoYShiftAngst"]) - r["shift_y_A"]) < 1e-3, "shift residuals")
        check(abs(float(row["_rlnTomoZRot"]) - (r["axis_offset_deg"] + r["rotation_deg"])) < 1e-4, "in-plane rotation")
        check(abs(float(row["_tomosweepMotionXAngst"]) - r["motion_x_A"]) < 1e-3 and
              abs(float(row["_tomosweepMotionYAngst"]) - r["motion_y_A"]) < 1e-3, "motion residuals")
    check(any(abs(r["shift_x_A"]) > 1 for r in rec), "the sweep has shift residuals to export")
    check(any(abs(r["motion_x_A"]) > 1 for r in rec), "the sweep has motion residuals to export")
    mine = [p for p in prows if p["_rlnTomoName"] == f"job-{j}"]
    parts = g["particles"][()]
    check(len(mine) == len(parts), f"job {j}: {len(mine)} STAR particles, {len(parts)} in the corpus")
    for label in classes:
        check(sum(p["_rlnClassNumber"] == str(label) for p in mine) == int(np.sum(parts["label"] == label)),
              f"job {j}: particles of class {label}")
    for p, r in zip(mine, parts):
        check(p["_rlnTomoParticleName"] == f"job-{j}/{int(r['instance'])}", "particle name")
        xyz = np.array([float(p[f"_rlnCenteredCoordinate{k}Angst"]) for k in "XYZ"])
        check(np.allclose(xyz, r["position_A"], atol=2e-3), f"centred coordinates {xyz} != {r['position_A']}")
        m = euler_matrix(*(float(p[k]) for k in ("_rlnAngleRot", "_rlnAngleTilt", "_rlnAnglePsi")))
        check(np.allclose(m, r["rotation"], atol=1e-3), "RELION's matrix of (rot, tilt, psi) = R")
        check(float(optics[p["_rlnOpticsGroup"]]["_rlnTomoTiltSeriesPixelSize"]) == 10, "optics group")
opt = read_star("rl/optimisation_set.star")
check(opt[""][0] == ["_rlnTomoParticlesFile", "_rlnTomoTomogramsFile"], f"optimisation set {opt}")

# ---- mrc (default format) with --job all, and errors ----
run("export", "c.h5", "--job", "all", "--to", "mrc")
check(all(os.path.exists(f"mrc/job-{j}/tomogram.mrc") for j in jobs), "mrc --job all: a folder per job")
bad = run("export", "c.h5", "--job", "0", "--format", "imod", ok=False)
check(bad.returncode != 0 and bad.stderr == "tomosweep: error: --format must be mrc, copick or relion, got 'imod'\n",
      bad.stderr)
bad = run("export", "c.h5", "--job", "x1", ok=False)
check(bad.returncode != 0 and bad.stderr == "tomosweep: error: --job must be a job id >= 0 or 'all', got 'x1'\n",
      bad.stderr)

finish()
