#!/usr/bin/python3
"""tools/study.py end to end on a tiny corpus that this test makes with `tomosweep run` (docs/study.md).

usage: test_study.py corpus TOMOSWEEP OUT       write the sweeps, run them: OUT/study.h5 and the bad corpora
       test_study.py segment OUT                segment --quick: scores.csv, provenance, networks, figures
       test_study.py mpi MPIEXEC OUT            the same on 2 ranks gives the same scores and networks
       test_study.py denoise OUT                denoise --quick: PSNR and SSIM matrix
       test_study.py errors OUT                 bad input: exact one-line errors; failed jobs skipped
       test_study.py report OUT                 OUT/segment/report.html in headless Chromium: every image
                                                loads, no console error (and a broken copy is caught)
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STUDY = os.path.join(HERE, "..", "..", "tools", "study.py")
PY = "/usr/bin/python3"
# The quick test's budget: --quick with 3 of its 6 epochs keeps the whole test short.
QUICK = ["--quick", "--epochs", "3"]

SWEEP = """# tests/integration/test_study.py: two wedge orientations of aligned filaments, 160 x 160 x 32 voxels,
# 2 training scenes + 1 test scene per condition.
[run]
name = "study-test"
seed = 5
replicates = {replicates}
test_replicates = {test}
outputs = {outputs}

[model]
box_A = [{side}, {side}, {thick}]
pixel_size_A = 10.0
walls = "z"

[[model.layer]]
max_density = 0.08
max_attempts = 2000

[[model.layer.particles]]
source = "synthetic:actin-subunit"
class = "filament"
scheme = "filament"
preset = "actin"
min_length_A = 500
max_length_A = 1600
direction = [0, 1, 0]
direction_spread_deg = 10

[imaging]
defocus_um = 4.0
dose_e_per_A2 = 100
tilt = {{ min_deg = -60, max_deg = 60, step_deg = 3, order = "dose-symmetric" }}

[sweep]
"imaging.tilt.axis_azimuth_deg" = [0, 90]
"""

errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def finish():
    for e in errors:
        print("error:", e)
    return 1 if errors else 0


def make_corpora(tomosweep, out):
    os.makedirs(out, exist_ok=True)
    specs = {
        "study": dict(replicates=3, test="[2]", outputs='["tomogram", "prior", "atlas"]', side=1600, thick=320),
        "notest": dict(replicates=1, test="[]", outputs='["tomogram", "atlas"]', side=640, thick=160),
        "noatlas": dict(replicates=2, test="[1]", outputs='["tomogram", "prior"]', side=640, thick=160),
    }
    for name, spec in specs.items():
        sweep = os.path.join(out, f"{name}.toml")
        with open(sweep, "w") as fh:
            fh.write(SWEEP.format(**spec))
        r = run([tomosweep, "run", sweep, "-o", os.path.join(out, f"{name}.h5"), "--force"])
        check(r.returncode == 0, f"tomosweep run {name}: {r.stderr}")
    return finish()


def read_scores(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def segment(out):
    corpus = os.path.join(out, "study.h5")
    d = os.path.join(out, "segment")
    r = run([PY, STUDY, "segment", corpus, "--out", d] + QUICK)
    check(r.returncode == 0, f"segment: {r.stderr}")
    if r.returncode:
        return finish()
    epoch_lines = [x for x in r.stderr.splitlines() if ": epoch " in x]
    check(len(epoch_lines) == 2 * 3, f"one progress line per epoch and condition: {epoch_lines}")
    check(all(" left" in x and "loss " in x and "condition " in x for x in epoch_lines), "progress lines name "
          f"the condition, the loss and the time left: {epoch_lines[:1]}")
    header, rows = read_scores(os.path.join(d, "scores.csv"))
    check(header == ["task", "train_condition", "test_condition", "class", "metric", "value",
                     "train_imaging.tilt.axis_azimuth_deg", "test_imaging.tilt.axis_azimuth_deg"], f"header {header}")
    cells = {(r[1], r[2], r[3]): r for r in rows}
    check(len(rows) == 2 * 2 * 2, f"2 x 2 conditions x (filament, mean): {len(rows)} rows")
    for trc in "01":
        for tec in "01":
            for cls in ("filament", "mean"):
                row = cells.get((trc, tec, cls))
                check(row is not None, f"no row train {trc} test {tec} class {cls}")
                if row:
                    check(row[0] == "segment" and row[4] == "dice", f"row {row}")
                    check(0 <= float(row[5]) <= 1, f"dice in [0, 1]: {row}")
                    check(row[6:] == [["0", "90"][int(trc)], ["0", "90"][int(tec)]], f"swept values of {row}")
    # chance: a guess with the class's voxel fraction has an expected Dice equal to that fraction
    with h5py.File(corpus, "r") as f:
        fraction = max(float(np.mean(f[f"jobs/{j}/atlas"][()] > 0)) for j in (2, 5))
    for c in "01":
        dice = float(cells[(c, c, "filament")][5])
        check(dice > max(0.2, 3 * fraction), f"condition {c}: filament Dice {dice:.3f} is not well above chance "
              f"({fraction:.3f})")
    prov = json.load(open(os.path.join(d, "provenance.json")))
    for key in ("corpus", "sweep_text_sha256", "seed", "condition_seeds", "hyper_parameters", "torch_version",
                "wall_time_s", "augmentation"):
        check(key in prov, f"provenance.json has no {key}")
    check(prov["hyper_parameters"]["patch"] == 64 and prov["hyper_parameters"]["epochs"] == 3, "hyper-parameters")
    for c in "01":
        check(os.path.getsize(os.path.join(d, "networks", f"condition-{c}.pt")) > 1000, f"network of condition {c}")
    for fig in ("score_vs_parameter.png", "train_test_heatmaps.png", "examples.png"):
        p = os.path.join(d, "figures", fig)
        check(os.path.exists(p) and open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f"figure {fig}")
    return finish()


def mpi(mpiexec, out):
    d = os.path.join(out, "segment-n2")
    r = run([mpiexec, "-n", "2", PY, STUDY, "segment", os.path.join(out, "study.h5"), "--out", d] + QUICK)
    check(r.returncode == 0, f"segment on 2 ranks: {r.stderr}")
    if r.returncode == 0:
        one, two = read_scores(os.path.join(out, "segment", "scores.csv")), read_scores(os.path.join(d, "scores.csv"))
        check(one == two, "scores on 1 and 2 ranks differ")
        for c in "01":
            a = open(os.path.join(out, "segment", "networks", f"condition-{c}.pt"), "rb").read()
            b = open(os.path.join(d, "networks", f"condition-{c}.pt"), "rb").read()
            check(a == b, f"network of condition {c} differs on 1 and 2 ranks")
        check("[rank 1]" in r.stderr, "rank 1 trained a condition")
    return finish()


def denoise(out):
    d = os.path.join(out, "denoise")
    r = run([PY, STUDY, "denoise", os.path.join(out, "study.h5"), "--out", d] + QUICK)
    check(r.returncode == 0, f"denoise: {r.stderr}")
    if r.returncode:
        return finish()
    header, rows = read_scores(os.path.join(d, "scores.csv"))
    check(header[:6] == ["task", "train_condition", "test_condition", "class", "metric", "value"], f"{header}")
    check(len(rows) == 2 * 2 * 2, f"2 x 2 conditions x (psnr, ssim): {len(rows)} rows")
    got = {(r[1], r[2], r[4]): float(r[5]) for r in rows}
    for trc in "01":
        for tec in "01":
            check(10 < got.get((trc, tec, "psnr"), 0) < 60, f"psnr train {trc} test {tec}: {got.get((trc, tec, 'psnr'))}")
            check(0 < got.get((trc, tec, "ssim"), 0) <= 1, f"ssim train {trc} test {tec}: {got.get((trc, tec, 'ssim'))}")
    check(os.path.exists(os.path.join(d, "report.html")), "denoise report")
    return finish()


def expect_error(args, message, what):
    r = run([PY, STUDY] + args)
    check(r.returncode != 0, f"{what}: exit 0")
    check(r.stderr.strip() == message, f"{what}: expected\n  {message}\ngot\n  {r.stderr.strip()}")


def errors_test(out):
    tmp = tempfile.mkdtemp(dir=out)
    o = ["--out", os.path.join(tmp, "o")]
    notest, noatlas, study = (os.path.join(out, f"{n}.h5") for n in ("notest", "noatlas", "study"))
    expect_error(["segment", notest] + o, f"study.py: error: {notest}: no test-split jobs (the sweep's "
                 "run.test_replicates is empty)", "no test split")
    expect_error(["segment", noatlas] + o, f"study.py: error: {noatlas}: job 0 has no atlas (add \"atlas\" to "
                 "run.outputs)", "no atlas")
    expect_error(["segment", study, "--classes", "filament,ribosome"] + o,
                 "study.py: error: unknown class 'ribosome' (the corpus has: filament)", "unknown class")
    missing = os.path.join(tmp, "missing.h5")
    expect_error(["segment", missing] + o, f"study.py: error: {missing}: no such file", "missing corpus")

    # failed jobs: skipped with a warning; a condition left without a test job is an error
    def with_failed(jobs, name):
        path = os.path.join(tmp, name)
        shutil.copy(study, path)
        with h5py.File(path, "r+") as f:
            table = f["job_table"][()]
            for j in jobs:
                table["status"][j] = b"failed"
                table["error"][j] = b"boom"
            del f["job_table"]
            f.create_dataset("job_table", data=table)
        return path

    failed = with_failed([0], "failed.h5")
    r = run([PY, STUDY, "segment", failed, "--out", os.path.join(tmp, "f"), "--quick", "--epochs", "1", "--steps", "1"])
    check(r.returncode == 0, f"a failed job: {r.stderr}")
    check(f"study.py: warning: {failed}: job 0 (condition 0) failed, skipped: boom" in r.stderr.splitlines(),
          f"failed-job warning: {r.stderr}")
    notest1 = with_failed([5], "failed-test.h5")
    expect_error(["segment", notest1] + o, f"study.py: warning: {notest1}: job 5 (condition 1) failed, skipped: boom\n"
                 f"study.py: error: {notest1}: condition 1 (axis_azimuth_deg=90) has no ok test-split job",
                 "condition without a test job")
    shutil.rmtree(tmp)
    return finish()


CHECKER = """<script>/* injected by tests/integration/test_study.py */
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(e.message || ("cannot load " + (e.target && (e.target.src || e.target.href))));
}, true);
var __consoleError = console.error;
console.error = function () { window.__errors.push("console.error: " + Array.from(arguments).join(" "));
  __consoleError.apply(console, arguments); };
window.addEventListener("load", function () {
  var broken = Array.from(document.images).filter(function (i) { return !i.complete || i.naturalWidth === 0; })
    .map(function (i) { return i.getAttribute("src"); });
  var pre = document.createElement("pre");
  pre.id = "study-checker";
  pre.textContent = JSON.stringify({images: document.images.length, broken: broken, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""


def browse(page):
    """Open PAGE with the checker injected in headless Chromium: (result dict or None, console error lines)."""
    html = open(page).read()
    checked = os.path.join(os.path.dirname(page), "_checked_" + os.path.basename(page))
    with open(checked, "w") as fh:
        fh.write(html.replace("<head>", "<head>" + CHECKER, 1))
    profile = tempfile.mkdtemp()
    try:
        r = run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                 "--dump-dom", "file://" + os.path.abspath(checked)], timeout=90)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        os.remove(checked)
    result = None
    marker = '<pre id="study-checker">'
    if marker in r.stdout:
        import html as h

        result = json.loads(h.unescape(r.stdout.split(marker, 1)[1].split("</pre>", 1)[0]))
    console = [x for x in r.stderr.splitlines() if ":CONSOLE" in x and ("Uncaught" in x or "rror" in x)]
    return result, console


def report(out):
    if shutil.which("chromium") is None:
        check(False, "chromium is not installed (tools/install-deps.sh installs it)")
        return finish()
    page = os.path.join(out, "segment", "report.html")
    result, console = browse(page)
    check(result is not None, "the checker did not run")
    if result:
        check(result["images"] >= 3, f"report.html shows {result['images']} images, expected the 3 figures")
        check(not result["broken"], f"images that do not load: {result['broken']}")
        check(not result["errors"], f"page errors: {result['errors']}")
    check(not console, f"console errors: {console}")
    # the checker catches what it is for: the same page without its figures
    bare = tempfile.mkdtemp(dir=out)
    shutil.copy(page, bare)
    result, _ = browse(os.path.join(bare, "report.html"))
    check(result is not None and len(result["broken"]) >= 3, f"a page without its figures passed: {result}")
    shutil.rmtree(bare)
    return finish()


def main():
    cmd = sys.argv[1]
    if cmd == "corpus":
        return make_corpora(sys.argv[2], sys.argv[3])
    if cmd == "segment":
        return segment(sys.argv[2])
    if cmd == "mpi":
        return mpi(sys.argv[2], sys.argv[3])
    if cmd == "denoise":
        return denoise(sys.argv[2])
    if cmd == "errors":
        return errors_test(sys.argv[2])
    if cmd == "report":
        return report(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
