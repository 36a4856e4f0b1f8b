#!/bin/bash
# tomosweep on Slurm: one MPI task per core, the work folder on a file system every node sees (cluster/README.md).
#   sbatch cluster/slurm.sh sweeps/paper/defocus.toml /scratch/$USER/defocus.h5
#   sbatch --export=ALL,RESUME=1 cluster/slurm.sh sweeps/paper/defocus.toml /scratch/$USER/defocus.h5
# Settings, from the environment (sbatch passes yours on; or --export=ALL,NAME=VALUE,...):
#   RESUME=1            --resume: run only the jobs not staged yet, then gather (after a time-out, scancel, node failure)
#   FORCE=1             --force: overwrite an existing corpus and discard staged jobs
#   WORK=DIR            the work folder (default OUTPUT.work), on a file system every node sees
#   LAUNCHER=srun       srun (default) starts the ranks through Slurm's PMI; LAUNCHER=mpirun lets Open MPI's mpirun
#                       start them inside the allocation (no PMI needed)
#   TOMOSWEEP_SRUN_MPI  srun's --mpi plugin (default pmix). Debian's and most Open MPI 4/5 builds speak only PMIx:
#                       `srun --mpi=list` may offer pmi2, but such an MPI fails in MPI_Init under it (cluster/README.md)
#   TOMOSWEEP=PATH      the executable (default: tomosweep on PATH)
# Array jobs: %a in SWEEP and OUTPUT is replaced by the array index, one sweep per array task:
#   sbatch --array=0-4 cluster/slurm.sh sweeps/part-%a.toml /scratch/$USER/part-%a.h5
# Chain a resubmission that finishes the run if this one times out (afterany: whatever the first one's end):
#   id=$(sbatch --parsable cluster/slurm.sh S.toml O.h5)
#   sbatch --dependency=afterany:$id --export=ALL,RESUME=1 cluster/slurm.sh S.toml O.h5
# The command line overrides the lines below: sbatch -n 16 -t 1:00:00 -p short cluster/slurm.sh ...
#SBATCH --job-name=tomosweep
#SBATCH --ntasks=64
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
#SBATCH --output=tomosweep-%j.log
# Memory: none is requested here, so the partition's default per CPU applies. If `tomosweep check` estimates more per
# job than that, ask for it (a node whose configured memory is below tasks x this refuses the job), e.g.:
##SBATCH --mem-per-cpu=4G
# Plain POSIX shell below (no arrays): bash before 4.4 fails on an empty "${array[@]}" under set -u.
set -eu
usage="usage: sbatch cluster/slurm.sh SWEEP.toml OUTPUT.h5"
[ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
sweep=$1 output=$2
case "$sweep$output" in
  *%a*)
    [ -n "${SLURM_ARRAY_TASK_ID:-}" ] || { echo "slurm.sh: %a in SWEEP or OUTPUT needs an array job (sbatch --array)" >&2; exit 2; }
    sweep=$(printf '%s\n' "$sweep" | sed "s/%a/$SLURM_ARRAY_TASK_ID/g")
    output=$(printf '%s\n' "$output" | sed "s/%a/$SLURM_ARRAY_TASK_ID/g")
    ;;
esac
work=${WORK:-$output.work}
exe=${TOMOSWEEP:-tomosweep}

set -- "$exe" run "$sweep" -o "$output" --work "$work"
[ "${RESUME:-0}" = 1 ] && set -- "$@" --resume
[ "${FORCE:-0}" = 1 ] && set -- "$@" --force
case ${LAUNCHER:-srun} in
  # Without a PMI the MPI library understands, every task would start as a 1-rank singleton; tomosweep compares
  # the MPI size with SLURM_STEP_NUM_TASKS and stops with an error naming --mpi.
  srun) set -- srun --mpi="${TOMOSWEEP_SRUN_MPI:-pmix}" "$@" ;;
  # Open MPI's mpirun reads the allocation from Slurm and starts its daemons with srun itself.
  mpirun) set -- mpirun -n "${SLURM_NTASKS:-1}" "$@" ;;
  *) echo "slurm.sh: LAUNCHER must be srun or mpirun, not '$LAUNCHER'" >&2; exit 2 ;;
esac
export OMP_NUM_THREADS=1
echo "slurm.sh: job ${SLURM_JOB_ID:-?} on ${SLURM_JOB_NODELIST:-?}: $*" >&2
exec "$@"
