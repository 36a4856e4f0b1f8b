#!/bin/sh
# Usage: mrc_validate_test.sh WRITER. Writes every kind of MRC tomosweep writes and validates each with
# Debian's mrcfile-validate (python3-mrcfile). Skips (exit 77) when the validator is not installed.
set -eu
writer=$1
validate=$(command -v mrcfile-validate || true)
if [ -z "$validate" ]; then
  echo "mrcfile-validate not found (apt-get install python3-mrcfile): skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$writer" "$dir"
status=0
n=0
for f in "$dir"/*.mrc; do
  n=$((n + 1))
  if out=$("$validate" "$f" 2>&1); then
    echo "ok: $(basename "$f")"
  else
    echo "INVALID: $(basename "$f"): $out"
    status=1
  fi
done
[ "$n" -ge 7 ] || { echo "expected at least 7 files, got $n"; exit 1; }
exit $status
