#!/usr/bin/env bash
# Configure and build tomosweep into build/ (or $BUILD_DIR), Release, warnings on. TARGETS="a b" builds only
# those targets (and what they need).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j "$jobs" ${TARGETS:+--target $TARGETS}
