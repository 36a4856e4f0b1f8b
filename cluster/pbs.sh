#!/bin/bash
# tomosweep on PBS Pro / Torque: one MPI rank per core, the work folder on a shared file system (cluster/README.md).
#   qsub -v SWEEP=sweeps/paper/defocus.toml,OUTPUT=/scratch/$USER/defocus.h5 cluster/pbs.sh
# Settings, passed with -v (comma-separated NAME=VALUE):
#   SWEEP, OUTPUT   the sweep file and the corpus (required)
#   RESUME=1        --resume: finish an interrupted run (only the jobs not staged yet run, then the gather)
#   FORCE=1         --force: overwrite an existing corpus and discard staged jobs
#   WORK=DIR        the work folder (default OUTPUT.work), on a file system every node sees
#   TOMOSWEEP=PATH  the executable (default: tomosweep on PATH)
# Array jobs (qsub -J 0-4 on PBS Pro, -t 0-4 on Torque): %a in SWEEP and OUTPUT is replaced by the array index.
# Chain a resubmission: id=$(qsub -v ... cluster/pbs.sh); qsub -W depend=afterany:$id -v ...,RESUME=1 cluster/pbs.sh
#PBS -N tomosweep
#PBS -l select=2:ncpus=32:mpiprocs=32
#PBS -l walltime=04:00:00
#PBS -j oe
# Memory: none is requested here (the queue's default applies). If `tomosweep check` needs more, add it per chunk,
# e.g. select=2:ncpus=32:mpiprocs=32:mem=128gb (32 ranks x 4 GB); a node with less configured memory refuses it.
# Plain POSIX shell below (no arrays): bash before 4.4 fails on an empty "${array[@]}" under set -u.
set -eu
cd "${PBS_O_WORKDIR:-.}"
: "${SWEEP:?pass -v SWEEP=...}" "${OUTPUT:?pass -v OUTPUT=...}"
sweep=$SWEEP output=$OUTPUT
index=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-}}
case "$sweep$output" in
  *%a*)
    [ -n "$index" ] || { echo "pbs.sh: %a in SWEEP or OUTPUT needs an array job (qsub -J / -t)" >&2; exit 2; }
    sweep=$(printf '%s\n' "$sweep" | sed "s/%a/$index/g")
    output=$(printf '%s\n' "$output" | sed "s/%a/$index/g")
    ;;
esac
set -- "${TOMOSWEEP:-tomosweep}" run "$sweep" -o "$output" --work "${WORK:-$output.work}"
[ "${RESUME:-0}" = 1 ] && set -- "$@" --resume
[ "${FORCE:-0}" = 1 ] && set -- "$@" --force
export OMP_NUM_THREADS=1
ranks=$(wc -l < "$PBS_NODEFILE")
exec mpirun -n "$ranks" --hostfile "$PBS_NODEFILE" "$@"
