#!/usr/bin/env bash
# End-to-end checks of the tomosweep executable as a user meets it: a job from a PDB file written here,
# MRC outputs that mrcfile-validate accepts, and one-line errors with a non-zero exit for bad input.
# usage: cli_test.sh TOMOSWEEP_EXECUTABLE
set -u
exe=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass=0
check() { # check NAME COMMAND... : the command must succeed
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then pass=$((pass + 1)); else
    echo "FAIL $name: $(cat "$tmp/err" | head -5)"; failures=$((failures + 1)); fi
}
expect_error() { # expect_error NAME EXPECTED_STDERR COMMAND... : exit 1 and exactly this stderr
  local name=$1 expected=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 1 ] && [ "$(cat "$tmp/err")" = "$expected" ]; then pass=$((pass + 1)); else
    echo "FAIL $name: rc=$rc"; echo "  expected: $expected"; echo "  got:      $(cat "$tmp/err")"
    failures=$((failures + 1)); fi
}

# A tiny PDB file: a short helix-like chain of glycines, enough for a particle.
/usr/bin/python3 - "$tmp/tiny.pdb" <<'PY'
import math, sys
lines = []
n = 0
for i in range(40):
    for name, el, r, dz in (("N", "N", 2.3, 0.0), ("CA", "C", 2.3, 0.5), ("C", "C", 2.3, 1.0), ("O", "O", 3.5, 1.0)):
        n += 1
        t = i * 100 / 180 * math.pi
        x, y, z = r * math.cos(t) + 10 * (i % 4), r * math.sin(t) + 8 * (i // 10), 1.5 * (i % 10) + dz
        lines.append("ATOM  %5d  %-3s GLY A%4d    %8.3f%8.3f%8.3f  1.00 20.00          %2s" % (n, name, i + 1, x, y, z, el))
open(sys.argv[1], "w").write("\n".join(lines) + "\nEND\n")
PY

cat > "$tmp/job.toml" <<'TOML'
[run]
seed = 5
[model]
box_A = [400, 300, 160]
pixel_size_A = 8.0
[[model.layer]]
max_density = 0.1
particles = [ { source = "tiny.pdb", class = "tiny" },
              { source = "synthetic:globular?mass_kDa=200", class = "blob" } ]
[imaging]
tilt = { min_deg = -45, max_deg = 45, step_deg = 15 }
[prior]
tilt = { min_deg = -89, max_deg = 89, step_deg = 8 }
TOML

check simulate "$exe" simulate "$tmp/job.toml" --out "$tmp/out1"
for f in model tilt_series tomogram prior atlas instances; do
  check "exists $f.mrc" test -s "$tmp/out1/$f.mrc"
done
check "tilt angles" test -s "$tmp/out1/tilt_series.tlt"
check "particles.star" test -s "$tmp/out1/particles.star"
if command -v mrcfile-validate >/dev/null; then
  for f in "$tmp"/out1/*.mrc; do check "mrcfile-validate $(basename "$f")" mrcfile-validate "$f"; done
fi
check rerun "$exe" simulate "$tmp/job.toml" --out "$tmp/out2"
for f in model tilt_series tomogram prior atlas instances; do
  check "byte-identical rerun $f" cmp "$tmp/out1/$f.mrc" "$tmp/out2/$f.mrc"
done
# simulate hands the atlas and instances to its writer thread (freed once written): its files equal the corpus's.
check "run the same job" "$exe" run "$tmp/job.toml" -o "$tmp/job.h5"
check "export it" "$exe" export "$tmp/job.h5" --job 0 --to "$tmp/exported"
for f in atlas instances tomogram; do
  check "simulate's $f.mrc = the corpus's" cmp "$tmp/out1/$f.mrc" "$tmp/exported/$f.mrc"
done
# On one core (taskset) the sweep's jobs run on one thread, on more cores on two: the same corpus either way.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  first_cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//') # the first core this shell may use
  check "run on one core" taskset -c "$first_cpu" "$exe" run "$tmp/job.toml" -o "$tmp/job-one-core.h5"
  check "export it" "$exe" export "$tmp/job-one-core.h5" --job 0 --to "$tmp/exported-one-core"
  for f in atlas tomogram prior; do
    check "$f.mrc on one thread = on two" cmp "$tmp/exported/$f.mrc" "$tmp/exported-one-core/$f.mrc"
  done
fi
check structure "$exe" structure "$tmp/tiny.pdb" --pixel-size 8
cp "$tmp/out" "$tmp/structure.txt"
check "structure counts atoms" grep -q "atoms         160 (plus 120 implicit hydrogens)" "$tmp/structure.txt"
check "structure size in voxels" grep -q "at 8.00 A     5 x 4 x 2 voxels" "$tmp/structure.txt"
check help "$exe" --help

expect_error "missing sweep file" \
  "tomosweep: error: $tmp/none.toml: No such file or directory" \
  "$exe" simulate "$tmp/none.toml" --out "$tmp/x"
printf '[model]\nbox_A = [400, 300, 160]\npixel_size = 8\n' > "$tmp/bad.toml"
expect_error "unknown key" "tomosweep: error: $tmp/bad.toml:3:1: unknown key 'model.pixel_size'" \
  "$exe" check "$tmp/bad.toml"
sed 's/tiny.pdb/missing.pdb/' "$tmp/job.toml" > "$tmp/missing.toml"
expect_error "missing structure" \
  "tomosweep: error: $tmp/missing.pdb: No such file or directory" \
  "$exe" simulate "$tmp/missing.toml" --out "$tmp/x"
touch "$tmp/a-file"
expect_error "output folder under a file" \
  "tomosweep: error: --out $tmp/a-file/out: $tmp/a-file is not a folder" \
  "$exe" simulate "$tmp/job.toml" --out "$tmp/a-file/out"
expect_error "output folder is a file" \
  "tomosweep: error: --out $tmp/a-file: it exists and is not a folder" \
  "$exe" simulate "$tmp/job.toml" --out "$tmp/a-file"
check "no output folder after a refused run" test ! -e "$tmp/x"
expect_error "unknown option" \
  "tomosweep: error: simulate: unrecognised option '--bogus' (usage: tomosweep simulate SWEEP.toml --out DIR [--job N])" \
  "$exe" simulate "$tmp/job.toml" --out "$tmp/x" --bogus

# The real PDB/mmCIF entries beside the checkout (shared/structures), when present: each must read.
shared=$(cd "$(dirname "$0")/../../.." && pwd)/shared/structures
if [ -d "$shared" ]; then
  for f in "$shared"/*.pdb "$shared"/*.cif "$shared"/*.gz; do
    [ -e "$f" ] && check "structure $(basename "$f")" "$exe" structure "$f" --pixel-size 10
  done
fi

expect_error "inspect a file that is not a corpus" \
  "tomosweep: error: $tmp/job.toml: hdf5: cannot open the corpus" "$exe" inspect "$tmp/job.toml"
printf '[model]\nbox_A = [400, 400, 40]\n[[model.layer]]\nparticles = [{ source = "synthetic:globular?mass_kDa=2000" }]\n' \
  > "$tmp/small.toml"
"$exe" check "$tmp/small.toml" >/dev/null 2>"$tmp/err"
if [ $? -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
   grep -q "^tomosweep: error: $tmp/small.toml: job 0 (condition 0): model.layer\[0\].particles\[0\]: particle 'synthetic:globular?mass_kDa=2000' (.* A across) is larger than the box (40 A)$" "$tmp/err"; then
  pass=$((pass + 1)); else echo "FAIL particle larger than the box: $(cat "$tmp/err")"; failures=$((failures + 1)); fi
printf '[model]\nbox_A = [100000, 100000, 2000]\npixel_size_A = 2\n' > "$tmp/huge.toml"
"$exe" check "$tmp/huge.toml" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^tomosweep: error: $tmp/huge.toml: job 0 (condition 0): a job of 50000 x 50000 x 1000 voxels does not fit [0-9]* MB per rank even on a group of 16 ranks (one per 64 slices; raise model.pixel_size_A, shrink model.box_A or raise --memory-per-rank)$" "$tmp/err" &&
   [ "$(wc -l < "$tmp/err")" -eq 1 ]; then pass=$((pass + 1)); else
  echo "FAIL too large a box: rc=$rc $(cat "$tmp/err")"; failures=$((failures + 1)); fi

# --memory-per-rank: a size with a unit, or one line naming the option.
for bad in 10x -4G G 1.5Q; do
  "$exe" check "$tmp/huge.toml" --memory-per-rank "$bad" >/dev/null 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(cat "$tmp/err")" = "tomosweep: error: --memory-per-rank: expected a memory size such as 180M or 4G, got '$bad'" ]; then
    pass=$((pass + 1)); else echo "FAIL --memory-per-rank $bad: rc=$rc $(cat "$tmp/err")"; failures=$((failures + 1)); fi
done
printf '[model]\nbox_A = [400, 400, 1280]\n[[model.layer]]\nparticles = [{ source = "synthetic:globular?mass_kDa=200" }]\n' \
  > "$tmp/group.toml"
out=$("$exe" check "$tmp/group.toml" --memory-per-rank 1.5G | tail -1)
if [ "$out" = "  per rank      1611 MB of memory: 1 job on 1 rank" ]; then pass=$((pass + 1)); else
  echo "FAIL check --memory-per-rank 1.5G: $out"; failures=$((failures + 1)); fi

echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
