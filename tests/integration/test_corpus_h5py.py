#!/usr/bin/python3
"""Read a tomosweep corpus with plain h5py (Debian python3-h5py), no tomosweep code: the layout of
docs/corpus.md. usage: test_corpus_h5py.py CORPUS.h5   (exit 77 = skipped when h5py is missing)"""
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    print("h5py not installed: skipped")
    sys.exit(77)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    f = h5py.File(sys.argv[1], "r")
    errors = []

    def check(cond, what):
        if not cond:
            errors.append(what)

    a = f.attrs
    check(text(a["format"]) == "tomosweep-corpus", "format attribute")
    check(int(a["format_version"]) == 2, "format_version")
    check(text(a["axis_order"]) == "zyx", "axis_order")
    for key in ("tool_version", "sweep_text", "sweep_file", "sweep_mode", "units", "seed", "replicates"):
        check(key in a, f"root attribute {key}")
    check("[sweep]" in text(a["sweep_text"]), "sweep_text holds the sweep file")
    axes = [text(x) for x in a["sweep_axes"]]

    classes = f["classes"][()]
    check(list(classes.dtype.names) == ["label", "name", "source"], "classes columns")
    check(len(classes) >= 1 and int(classes["label"][0]) == 1, "class labels start at 1")

    table = f["job_table"][()]
    for col in ["job_id", "condition", "replicate", "split", "status", "error", "nx", "ny", "nz"] + axes:
        check(col in table.dtype.names, f"job_table column {col}")
    check(len(table) == int(a["job_count"]), "one job_table row per job")
    check(list(table["job_id"]) == sorted(table["job_id"]), "job_table sorted by job id")
    reps = int(a["replicates"])
    check(all(int(r["job_id"]) == int(r["condition"]) * reps + int(r["replicate"]) for r in table),
          "job id = condition * replicates + replicate")

    # The jobs' wall times are measurements: beside the corpus (CORPUS.timings.tsv), never in it.
    try:
        with open(sys.argv[1] + ".timings.tsv") as t:
            lines = t.read().splitlines()
    except OSError as e:
        lines = []
        errors.append(f"timings file: {e}")
    if lines:
        check(lines[0] == "job_id\tstatus\tseconds\tstage_seconds", "timings header")
        rows = [x.split("\t") for x in lines[1:]]
        check(sorted(int(r[0]) for r in rows) == sorted(int(x) for x in table["job_id"]), "a timings row per job")
        by_id = {int(r[0]): r for r in rows}
        for row in table:
            r = by_id.get(int(row["job_id"]))
            if r:
                check(r[1] == text(row["status"]), f"job {row['job_id']} status in the timings")
                check(float(r[2]) >= 0, f"job {row['job_id']} seconds in the timings")
                check((r[1] == "ok") == ("=" in r[3]), f"job {row['job_id']} stage seconds in the timings")

    for row in table:
        g = f[f"jobs/{int(row['job_id'])}"]
        status = text(row["status"])
        check(text(g.attrs["status"]) == status, f"job {row['job_id']} status attribute")
        check("seconds" not in g.attrs and "timings" not in g.attrs, f"job {row['job_id']} holds no wall time")
        if status != "ok":
            check(len(text(row["error"])) > 0, f"failed job {row['job_id']} has its error")
            continue
        tomo = g["tomogram"]
        check(tomo.dtype == np.float32, "tomogram float32")
        check(tomo.shape == (int(row["nz"]), int(row["ny"]), int(row["nx"])), "tomogram shape [z][y][x]")
        check(all(c <= 64 for c in tomo.chunks), "tomogram chunks of at most 64^3")
        check(float(tomo.attrs["voxel_A"]) > 0, "voxel_A attribute")
        if "atlas" in g:
            check(g["atlas"].dtype == np.uint8 and g["atlas"].compression == "gzip", "atlas uint8, compressed")
            check(int(g["atlas"][()].max()) <= int(classes["label"].max()), "atlas labels within the class table")
        if "instances" in g:
            check(g["instances"].dtype == np.uint32 and g["instances"].compression == "gzip", "instances uint32")
        if "particles" in g:
            p = g["particles"][()]
            check(p["position_A"].shape[1:] == (3,) and p["rotation"].shape[1:] == (3, 3), "particle table")
        if "tilts" in g:
            t = g["tilts"][()]
            check("angle_deg" in t.dtype.names and "dose_e_per_A2" in t.dtype.names, "tilt table")
        # a random 64^3-style patch read works on every volume
        patch = tomo[: min(8, tomo.shape[0]), : min(8, tomo.shape[1]), : min(8, tomo.shape[2])]
        check(np.isfinite(patch).all(), "finite tomogram values")

    print(f"{sys.argv[1]}: {len(table)} jobs, {len(classes)} classes, axes {axes}")
    for e in errors:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
