#!/usr/bin/env bash
# One prepared run of chapter grids on a lent GPU machine (see README, "A borrowed GPU").
#
#   bash tools/device_grid.sh CHAPTER[,CHAPTER...] PROFILE WORKERS [DEVICE]
#
# Starts WORKERS `regprune train` processes per chapter on one device, each on its shard of the
# grid (by run key), all chapters at once, with the data resident on the device; records are
# written to $OUT/results (or ./device-results without $OUT) under their run keys, with the
# hardware in each record. A staged grid (later runs appear once its search runs are stored) gets
# another round of workers, ROUNDS in all (default 2). DEADLINE_S (seconds from the start, default
# none) stops the training where it stands: every record stored by then is kept. The records come
# back packed, with the workers' logs, as $OUT/results.tgz (a lease brings back at most 8 files, two folders down).
# The CIFAR-10 JPEG copy travels in git-ignored parts (tools/split_cifar.sh): any
# .cifar-*/cifar10_jpeg.zip.part* found here are joined and checked against the known sha256, and
# decoded once into the cache, before anything trains.
# Bring the records home with: tar -xzf <files_at>/results.tgz -C DIR && regprune import-results DIR/results
set -uo pipefail
chapters=${1:?chapter[,chapter...]}; profile=${2:?profile}; workers=${3:?workers}; device=${4:-cuda}
cd "$(dirname "$0")/.."
start=$(date +%s)
out=${OUT:-$PWD/device-results}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" REGPRUNE_PROGRESS=none
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OMP_WAIT_POLICY=PASSIVE
export REGPRUNE_RESULTS="$out/results" REGPRUNE_CACHE=${REGPRUNE_CACHE:-/tmp/regprune-cache}
export REGPRUNE_CHECKPOINTS=${REGPRUNE_CHECKPOINTS:-/tmp/regprune-checkpoints}
parts=$(ls -1 .cifar-*/cifar10_jpeg.zip.part* 2>/dev/null | sort -t/ -k2 || true)
if [ -n "$parts" ]; then
  export REGPRUNE_DATA=/tmp/regprune-data
  mkdir -p "$REGPRUNE_DATA/cifar10-jpeg"
  cat $parts > "$REGPRUNE_DATA/cifar10-jpeg/cifar10_jpeg.zip"
fi
mkdir -p "$out/results" "$out/logs"
pack() { tar -C "$out" -czf "$out/results.tgz" results logs && rm -rf "$out/results" "$out/logs"; }
trap pack EXIT
python3 -m regprune data check cifar10-jpeg > "$out/data_check.txt" 2>&1 || { cat "$out/data_check.txt"; exit 2; }
python3 -c "from regprune.data.cifar10_jpeg import read_cifar10_jpeg; read_cifar10_jpeg()" \
  >> "$out/data_check.txt" 2>&1 || { cat "$out/data_check.txt"; exit 2; }  # decode once, into the cache
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))" \
  > "$out/machine.txt" 2>&1 || true
status=0
for round in $(seq 1 "${ROUNDS:-2}"); do
  left=$(( ${DEADLINE_S:-999999} - ($(date +%s) - start) ))
  [ "$left" -gt 30 ] || break
  pids=()
  for chapter in ${chapters//,/ }; do
    for i in $(seq 0 $((workers - 1))); do
      timeout --signal=TERM "$left" python3 -m regprune train "$chapter" --profile "$profile" --device "$device" \
        --shard "$i/$workers" >> "$out/logs/$chapter-$i.log" 2>&1 &
      pids+=($!)
    done
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
done
grep -h "completed\|FAILED\|Error" "$out"/logs/*.log | tail -n 30
exit $status
