#!/usr/bin/env bash
# One prepared run of a chapter's grid on a lent GPU machine (see README, "A borrowed GPU").
#
#   bash tools/device_grid.sh CHAPTER PROFILE WORKERS [DEVICE]
#
# Runs WORKERS `regprune train` processes on one device, each on its shard of the grid (by run
# key), with the data resident on the device; records are written to $OUT/results (or
# ./device-results without $OUT) under their run keys, with the hardware in each record.
# The CIFAR-10 JPEG copy travels in parts (tools/split_cifar.sh): any .cifar-*/cifar10_jpeg.zip.part*
# found here are joined and checked against the known sha256 before anything trains.
# Bring the records home with: regprune import-results <files_at>/results
set -euo pipefail
chapter=${1:?chapter}; profile=${2:?profile}; workers=${3:?workers}; device=${4:-cuda}
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/device-results}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" REGPRUNE_PROGRESS=none OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export REGPRUNE_RESULTS="$out/results" REGPRUNE_CACHE=${REGPRUNE_CACHE:-/tmp/regprune-cache}
export REGPRUNE_CHECKPOINTS=${REGPRUNE_CHECKPOINTS:-/tmp/regprune-checkpoints}
parts=$(ls -1 .cifar-*/cifar10_jpeg.zip.part* 2>/dev/null | sort -t/ -k2 || true)
if [ -n "$parts" ]; then
  export REGPRUNE_DATA=/tmp/regprune-data
  mkdir -p "$REGPRUNE_DATA/cifar10-jpeg"
  cat $parts > "$REGPRUNE_DATA/cifar10-jpeg/cifar10_jpeg.zip"
fi
mkdir -p "$out"
python3 -m regprune data check cifar10-jpeg > "$out/data_check.txt" 2>&1 || { cat "$out/data_check.txt"; exit 2; }
python3 - <<'PY' > "$out/machine.txt" 2>&1 || true
import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))
PY
pids=()
for i in $(seq 0 $((workers - 1))); do
  python3 -m regprune train "$chapter" --profile "$profile" --device "$device" --shard "$i/$workers" \
    > "$out/worker$i.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
tail -n 3 "$out"/worker*.log
exit $status
