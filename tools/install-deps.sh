#!/usr/bin/env bash
# Install the Debian 12 packages tomosweep builds, tests and runs with (as root; uses sudo otherwise).
set -euo pipefail
packages=(cmake g++ make pkg-config
          libopenmpi-dev openmpi-bin libboost-mpi-dev libboost-program-options-dev
          libfftw3-dev libfftw3-mpi-dev libhdf5-openmpi-dev hdf5-tools gemmi-dev tao-pegtl-dev
          libtomlplusplus-dev libgtest-dev zlib1g-dev
          python3 python3-numpy python3-h5py python3-mrcfile python3-matplotlib
          python3-zarr python3-scipy python3-torch python3-mpi4py chromium  # zarr: exports; the rest: tools/study.py
          slurm-wlm munge libpmix2)  # cluster/test-slurm.sh: a single-node Slurm; srun --mpi=pmix loads libpmix2
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "tomosweep: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
