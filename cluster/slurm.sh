#!/bin/bash
# tomosweep on Slurm: one MPI task per core, the work folder on a file system every node sees.
#   sbatch cluster/slurm.sh sweeps/paper/defocus.toml /scratch/$USER/defocus.h5
# Resubmit with RESUME=1 after a time-out or node failure: finished jobs are kept (staged) and skipped.
#SBATCH --job-name=tomosweep
#SBATCH --ntasks=64
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=4G
#SBATCH --time=04:00:00
#SBATCH --output=tomosweep-%j.log
set -euo pipefail
sweep=${1:?usage: sbatch slurm.sh SWEEP.toml OUTPUT.h5}
output=${2:?usage: sbatch slurm.sh SWEEP.toml OUTPUT.h5}
resume=()
[ "${RESUME:-0}" = 1 ] && resume=(--resume)
export OMP_NUM_THREADS=1
# srun must start the ranks with PMI (pmix or pmi2, whichever your Slurm offers: srun --mpi=list);
# without it each task would be a 1-rank singleton, which tomosweep detects and refuses.
srun --mpi=${TOMOSWEEP_SRUN_MPI:-pmix} tomosweep run "$sweep" -o "$output" --work "$output.work" "${resume[@]}"
