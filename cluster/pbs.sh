#!/bin/bash
# tomosweep on PBS Pro / Torque: one MPI rank per core, the work folder on a shared file system.
#   qsub -v SWEEP=sweeps/paper/defocus.toml,OUTPUT=/scratch/$USER/defocus.h5 cluster/pbs.sh
# Add RESUME=1 to -v to finish an interrupted run.
#PBS -N tomosweep
#PBS -l select=2:ncpus=32:mpiprocs=32:mem=128gb
#PBS -l walltime=04:00:00
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
: "${SWEEP:?pass -v SWEEP=...}" "${OUTPUT:?pass -v OUTPUT=...}"
resume=()
[ "${RESUME:-0}" = 1 ] && resume=(--resume)
export OMP_NUM_THREADS=1
ranks=$(wc -l < "$PBS_NODEFILE")
mpirun -n "$ranks" --hostfile "$PBS_NODEFILE" tomosweep run "$SWEEP" -o "$OUTPUT" --work "$OUTPUT.work" "${resume[@]}"
