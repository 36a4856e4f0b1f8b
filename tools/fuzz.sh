#!/usr/bin/env bash
# Build the libFuzzer targets (clang-14, ASan + UBSan) into build-fuzz/ and fuzz one of them for SECONDS.
#
#   tools/fuzz.sh TARGET SECONDS [LIBFUZZER_OPTION...]     TARGET: sweep | structure | mrc | corpus
#
# Seeds are made afresh each time from small valid inputs (build-fuzz/fuzz/seeds/TARGET); what the fuzzer
# learns is kept in build-fuzz/fuzz/corpus/TARGET, findings go to build-fuzz/fuzz/artifacts/TARGET, the log to
# build-fuzz/fuzz/logs. KEEP_GOING=1 runs libFuzzer in fork mode and goes on after a finding. Reproduce one
# finding: build-fuzz/tests/fuzz/fuzz_TARGET FILE. Environment: JOBS (build jobs), CXX_FUZZ / CC_FUZZ
# (default clang++-14 / clang-14), BUILD_DIR (default build-fuzz). docs/reliability.md has the details.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: tools/fuzz.sh sweep|structure|mrc|corpus SECONDS [LIBFUZZER_OPTION...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
target=$1 seconds=$2
shift 2
case $target in sweep | structure | mrc | corpus) ;; *) usage ;; esac
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

# -O1 -g with assertions on (no NDEBUG): the usual fuzzing build.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++-14}" \
  -DCMAKE_C_COMPILER="${CC_FUZZ:-clang-14}" "${launcher[@]}" -DTOMOSWEEP_FUZZ=ON -DTOMOSWEEP_TESTS=OFF \
  -DTOMOSWEEP_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "fuzz_$target" $([ "$target" = corpus ] && echo fuzz_seed_corpus)

out=$build/fuzz
seeds=$out/seeds/$target
rm -rf "$seeds"
mkdir -p "$seeds" "$out/corpus/$target" "$out/artifacts/$target" "$out/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# HDF5's own leaks on damaged files are not findings (tests/fuzz/lsan.supp says which and why).
[ "$target" = corpus ] && export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}

case $target in
sweep)
  # Every sweep of the repository and of the tests, and a few small ones.
  i=0
  for f in sweeps/*.toml sweeps/*/*.toml tests/mpi/*.toml; do
    cp "$f" "$seeds/$i-$(basename "$f")"
    i=$((i + 1))
  done
  printf '[model]\nbox_A = [300, 300, 100]\npixel_size_A = 10.0\n' >"$seeds/min.toml"
  cat >"$seeds/random.toml" <<'TOML'
[run]
replicates = 2
test_replicates = [1]
[model]
box_A = [400, 400, 100]
pixel_size_A = 10.0
[[model.layer]]
particles = [{ source = "a.pdb", class = "a", classes = { head = "chain A" } }]
[sweep]
mode = "random"
draws = 3
"imaging.defocus_um" = { min = 1.0, max = 5 }
"imaging.tilt.step_deg" = { min = 1, max = 5 }
"model.pixel_size_A" = [10.0, 20.0]
TOML
  cat >"$seeds/zip.toml" <<'TOML'
[model]
box_A = [400, 400, 100]
[imaging]
tilt = { min_deg = -60, max_deg = 60, step_deg = 3 }
[sweep]
mode = "zip"
"imaging.dose_e_per_A2" = { start = 20, stop = 100, step = 40 }
"imaging.tilt.scheme" = ["dose-symmetric", "bidirectional", "unidirectional"]
TOML
  ;;
structure)
  /usr/bin/python3 - "$seeds" <<'PY'
import gzip, sys
d = sys.argv[1]
pdb = """HEADER    TEST
REMARK 350 BIOMOLECULE: 1
REMARK 350 APPLY THE FOLLOWING TO CHAINS: A
REMARK 350   BIOMT1   1  1.000000  0.000000  0.000000        0.00000
REMARK 350   BIOMT2   1  0.000000  1.000000  0.000000        0.00000
REMARK 350   BIOMT3   1  0.000000  0.000000  1.000000        0.00000
REMARK 350   BIOMT1   2 -1.000000  0.000000  0.000000       10.00000
REMARK 350   BIOMT2   2  0.000000 -1.000000  0.000000        0.00000
REMARK 350   BIOMT3   2  0.000000  0.000000  1.000000        0.00000
ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N
ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C
ATOM      3  C   ALA A   1      13.158   5.919  -5.145  1.00  0.00           C
ATOM      4  O   ALA A   1      13.746   5.389  -6.088  1.00  0.00           O
ATOM      5  CB AALA A   1      11.020   4.923  -4.369  0.60  0.00           C
ATOM      6  CB BALA A   1      11.220   4.823  -4.469  0.40  0.00           C
ATOM      7  CA  GLY A   2      14.000   6.500  -4.000  1.00 20.00           C
ATOM      8  P    DA B   1       1.000   2.000   3.000  1.00 20.00           P
HETATM    9  O   HOH A 101       5.000   5.000   5.000  1.00 30.00           O
HETATM   10 ZN    ZN A 102       7.000   7.000   7.000  1.00 30.00          ZN
HETATM   11  H1  LIG A 103       8.000   8.000   8.000  1.00 30.00           H
END
"""
open(f"{d}/tiny.pdb", "w").write(pdb)
open(f"{d}/models.pdb", "w").write("MODEL        1\n" + pdb.split("ATOM", 1)[0].split("\n", 1)[0] + "\n" +
    "ATOM      1  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\nENDMDL\nMODEL        2\n" +
    "ATOM      1  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\nENDMDL\nEND\n")
with gzip.open(f"{d}/tiny.pdb.gz", "wb") as f:
    f.write(pdb.encode())
cif = """data_TEST
#
loop_
_pdbx_struct_assembly_gen.assembly_id
_pdbx_struct_assembly_gen.oper_expression
_pdbx_struct_assembly_gen.asym_id_list
1 '1,2' A
#
loop_
_pdbx_struct_oper_list.id
_pdbx_struct_oper_list.type
_pdbx_struct_oper_list.matrix[1][1]
_pdbx_struct_oper_list.matrix[1][2]
_pdbx_struct_oper_list.matrix[1][3]
_pdbx_struct_oper_list.vector[1]
_pdbx_struct_oper_list.matrix[2][1]
_pdbx_struct_oper_list.matrix[2][2]
_pdbx_struct_oper_list.matrix[2][3]
_pdbx_struct_oper_list.vector[2]
_pdbx_struct_oper_list.matrix[3][1]
_pdbx_struct_oper_list.matrix[3][2]
_pdbx_struct_oper_list.matrix[3][3]
_pdbx_struct_oper_list.vector[3]
1 'identity operation' 1 0 0 0 0 1 0 0 0 0 1 0
2 'point symmetry operation' -1 0 0 10 0 -1 0 0 0 0 1 0
#
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
ATOM 1 N N . ALA A 1 1 11.104 6.134 -6.504 1.00 0.00 1 A 1
ATOM 2 C CA . ALA A 1 1 11.639 6.071 -5.147 1.00 0.00 1 A 1
ATOM 3 C CB A ALA A 1 1 11.020 4.923 -4.369 0.60 0.00 1 A 1
ATOM 4 C CB B ALA A 1 1 11.220 4.823 -4.469 0.40 0.00 1 A 1
HETATM 5 O O . HOH B 2 . 5.000 5.000 5.000 1.00 30.00 101 A 1
#
"""
open(f"{d}/tiny.cif", "w").write(cif)
open(f"{d}/tiny.json", "w").write('{"data_T": {"_atom_site": {"group_PDB": ["ATOM"], "id": [1], '
    '"type_symbol": ["C"], "label_atom_id": ["CA"], "label_alt_id": [null], "label_comp_id": ["ALA"], '
    '"label_asym_id": ["A"], "label_entity_id": ["1"], "label_seq_id": [1], "Cartn_x": [1.0], "Cartn_y": [2.0], '
    '"Cartn_z": [3.0], "occupancy": [1.0], "B_iso_or_equiv": [0.0], "auth_seq_id": [1], "auth_asym_id": ["A"], '
    '"pdbx_PDB_model_num": [1]}}}\n')
PY
  ;;
mrc)
  /usr/bin/python3 - "$seeds" <<'PY'
import struct, sys
d = sys.argv[1]
def mrc(name, mode, data, nx=2, ny=2, nz=2, big=False, nsymbt=0, crs=(1, 2, 3), stamp=True):
    e = ">" if big else "<"
    h = bytearray(1024)
    struct.pack_into(e + "4i", h, 0, nx, ny, nz, mode)
    struct.pack_into(e + "3i", h, 28, nx, ny, nz)
    struct.pack_into(e + "6f", h, 40, nx * 5.0, ny * 5.0, nz * 5.0, 90, 90, 90)
    struct.pack_into(e + "3i", h, 64, *crs)
    struct.pack_into(e + "i", h, 92, nsymbt)
    struct.pack_into(e + "i", h, 108, 20140)
    if stamp:
        h[208:212] = b"MAP "
        h[212:216] = b"\x11\x11\x00\x00" if big else b"\x44\x44\x00\x00"
    struct.pack_into(e + "i", h, 220, 1)
    h[224:240] = b"tomosweep seed  "
    open(f"{d}/{name}.mrc", "wb").write(bytes(h) + b"\0" * nsymbt + data)
n = 8
mrc("mode0", 0, struct.pack("<8b", *range(-4, 4)))
mrc("mode1", 1, struct.pack("<8h", *range(-400, 400, 100)))
mrc("mode2", 2, struct.pack("<8f", *[i * 0.5 for i in range(n)]))
mrc("mode6", 6, struct.pack("<8H", *range(0, 8000, 1000)))
mrc("mode12", 12, struct.pack("<8e", 0.0, -1.5, 65504.0, 6e-8, 1.0, 2.0, float("inf"), 3.0))
mrc("big2", 2, struct.pack(">8f", *range(n)), big=True)
mrc("big1", 1, struct.pack(">8h", *range(n)), big=True, stamp=False)
mrc("ext", 2, struct.pack("<8f", *range(n)), nsymbt=16)
mrc("stack", 2, struct.pack("<12f", *range(12)), nx=2, ny=2, nz=3, crs=(0, 0, 0))
PY
  ;;
corpus)
  # A real corpus of 2 jobs (job 1 failed) of 4 x 4 x 2 voxels, gathered by the sweep code on one rank.
  tmp=$out/seed-corpus
  rm -rf "$tmp" && mkdir -p "$tmp"
  cat >"$tmp/seed.toml" <<'TOML'
[run]
name = "fuzz-seed"
outputs = ["tomogram", "atlas", "instances", "particles", "tilt_series"]
[model]
box_A = [40, 40, 20]
pixel_size_A = 10.0
[imaging]
tilt = { min_deg = -10, max_deg = 10, step_deg = 10 }
[sweep]
"imaging.defocus_um" = [2.0, 4.0]
TOML
  OMPI_MCA_rmaps_base_oversubscribe=1 ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/fuzz_seed_corpus" \
    "$tmp/seed.toml" "$tmp/seed.h5" --force --fail-job 1 >/dev/null 2>&1 ||
    { echo "fuzz.sh: could not make the corpus seed" >&2; exit 1; }
  cp "$tmp/seed.h5" "$seeds/corpus.h5"
  ;;
esac

log=$out/logs/$target-$(date +%Y%m%d-%H%M%S).log
mode=()
[ "${KEEP_GOING:-0}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
set +e
nice -n 19 "$build/tests/fuzz/fuzz_$target" "$out/corpus/$target" "$seeds" -max_total_time="$seconds" \
  -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/$target/" "${mode[@]}" "$@" 2>&1 | tee "$log" | grep -vE 'NEW |REDUCE |RELOAD '
rc=${PIPESTATUS[0]}
set -e
echo "fuzz.sh: $target: $(grep -E 'cov: ' "$log" | tail -n 1)"
echo "fuzz.sh: $target: $(ls "$out/artifacts/$target" | wc -l) findings in $out/artifacts/$target, log $log, exit $rc"
exit "$rc"
