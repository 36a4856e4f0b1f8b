#!/bin/sh
# `tomosweep run` under mpiexec -n 2, then expand, inspect and export, through the real command line.
# usage: cli_sweep_test.sh MPIEXEC TOMOSWEEP SWEEP.toml OUT_DIR
set -eu
mpiexec=$1 tomosweep=$2 sweep=$3 out=$4
rm -rf "$out/cli" && mkdir -p "$out/cli" && cd "$out/cli"
fail() { echo "error: $*" >&2; exit 1; }

"$tomosweep" expand "$sweep" > table.txt
grep -q "mode grid, 2 conditions x 2 replicates = 4 jobs" table.txt || fail "expand: $(cat table.txt)"
"$tomosweep" expand "$sweep" --json > table.json
/usr/bin/python3 -c "import json,sys; j=json.load(open('table.json')); assert [x['job_id'] for x in j['jobs']]==[0,1,2,3]" \
  || fail "expand --json"

"$mpiexec" -n 2 "$tomosweep" run "$sweep" -o corpus.h5 2> run.log || fail "run: $(cat run.log)"
grep -q "wrote corpus.h5: 4 jobs (0 failed)" run.log || fail "run summary: $(cat run.log)"
[ ! -e corpus.h5.tmp ] && [ ! -e corpus.h5.work ] || fail "temporaries left behind"
if "$tomosweep" run "$sweep" -o corpus.h5 2> again.log; then fail "overwrote an existing corpus"; fi
grep -q "corpus.h5: corpus exists (use --force to overwrite it)" again.log || fail "$(cat again.log)"

"$tomosweep" inspect corpus.h5 > inspect.txt
grep -q "jobs: 4, 4 ok" inspect.txt || fail "inspect: $(cat inspect.txt)"

"$tomosweep" export corpus.h5 --job 3 --to job3 2> export.log || fail "export: $(cat export.log)"
for f in tomogram.mrc prior.mrc atlas.mrc instances.mrc tilt_series.mrc tilt_series.tlt particles.star particles.json; do
  [ -s "job3/$f" ] || fail "export: no job3/$f"
done
if "$tomosweep" export corpus.h5 --job 99 2> missing.log; then fail "exported a missing job"; fi
grep -q "corpus.h5: no job 99 in the corpus" missing.log || fail "$(cat missing.log)"
# A job file without [sweep] (no axes) and a model without particles (no classes), on 1 and 2 ranks (one rank
# then has nothing to write): both must give a corpus, not fail in the gather after the work is done.
sed '/^\[sweep\]/,$d' "$sweep" > single.toml
printf '[model]\nbox_A = [300, 300, 100]\npixel_size_A = 10.0\n' > empty.toml
for n in 1 2; do
  for job in single empty; do
    "$mpiexec" -n $n "$tomosweep" run $job.toml -o $job-$n.h5 2> $job.log || fail "run $job on $n ranks: $(cat $job.log)"
    "$tomosweep" inspect $job-$n.h5 > inspect.txt
    grep -Eq "^jobs: ([0-9]+), \1 ok$" inspect.txt || fail "inspect $job: $(cat inspect.txt)"
  done
done
grep -q "^classes: *$" inspect.txt || fail "inspect empty: $(cat inspect.txt)"
/usr/bin/python3 - <<'PY' || fail "single-job corpus attributes"
import h5py
for name in ("single-1.h5", "single-2.h5", "empty-2.h5"):
    with h5py.File(name, "r") as f:
        assert len(f.attrs["sweep_axes"]) == 0, (name, f.attrs["sweep_axes"])
        assert f["job_table"].shape == (len(f["jobs"]),), name
        assert "tomogram" in f["jobs/0"], name
with h5py.File("empty-1.h5", "r") as f:
    assert f["classes"].shape == (0,)
PY
echo "cli sweep test: ok"
