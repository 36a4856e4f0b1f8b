#!/usr/bin/env bash
# Every sweep file the repository ships (sweeps/, the quick start among them) passes `tomosweep check`: a change
# of a model (say, a synthetic structure that grows) must not break a file users start from.
# usage: repo_sweeps_test.sh TOMOSWEEP_EXECUTABLE SWEEPS_DIR
set -u
exe=$1 dir=$2
pass=0 failures=0
while IFS= read -r f; do
  if "$exe" check "$f" >/dev/null 2>/tmp/repo_sweeps_err.$$; then pass=$((pass + 1)); else
    echo "FAIL $f: $(head -3 /tmp/repo_sweeps_err.$$)"; failures=$((failures + 1)); fi
done < <(find "$dir" -name '*.toml' | sort)
rm -f /tmp/repo_sweeps_err.$$
echo "$pass passed, $failures failed"
[ "$pass" -gt 0 ] && [ "$failures" -eq 0 ]
