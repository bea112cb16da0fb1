#!/usr/bin/env bash
# One prepared run of the GPU benchmarks on a lent GPU machine (issue 31, item 5; README, "A
# borrowed GPU"): ResNet-20's epoch through the engine in every precision, eager, compiled and in
# CUDA graphs (bench/gpu.py), every kind of CIFAR paper run timed to price the paper profile
# (bench/gpu_models.py), the bare step's floor (bench/gpu_step.py), and the compander's overhead
# in paper 001's own setting, eager and compiled (bench/reparam_overhead.py --device cuda). First,
# step cuda_tests: tests/test_cuda.py, the GPU path's correctness (CUDA graphs against eager, fp16
# with its scaler, precision auto), skipped everywhere without a GPU.
#
#   bash tools/device_bench.sh [BUDGET_S [STEPS]]   # BUDGET_S default 540: one call of the device tool
#   bash tools/device_bench.sh 540 gpu,gpu_models   # only these steps (cuda_tests, gpu, gpu_models, gpu_step,
#                                                   # reparam_cuda, reparam_cuda_compiled), in this file's order
#   DEVICE=cpu QUICK=1 bash tools/device_bench.sh 300   # every step on a CPU at tiny sizes, a dry run
#
# Each bench gets a time limit cut to what is left of BUDGET_S, so the call returns inside it with
# whatever finished; no data set is needed (the benches train on random images). The files land in
# $OUT (or ./device-bench without $OUT) under the names bench/results/ gives them, with the log:
# copy them there at home and run `make bench-summary`. The committed results/ does not need to
# travel for this: hide it as README says for device_grid.sh, if the tree is over 64 MiB.
set -uo pipefail
budget=${1:-540}
steps=,${2:-cuda_tests,gpu,gpu_models,gpu_step,reparam_cuda,reparam_cuda_compiled},
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/device-bench}
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" REGPRUNE_PROGRESS=none
py=${PYTHON:-python3}
device=${DEVICE:-cuda}
if [ -n "${QUICK:-}" ]; then  # tiny sizes, every code path
  gpu_args=(--quick --cases fp32:0 bf16:reduce-overhead) step_args=(--steps 2 --modes) reparam_args=(--steps 2 --repeats 2)
  models_args=(--quick)
else
  gpu_args=(--epochs 3 --parallel 8) step_args=() reparam_args=(--steps 50 --repeats 11) models_args=()
fi
start=$(date +%s)
log="$out/device_bench.log"

run() {  # NAME LIMIT_S COMMAND...: runs COMMAND for at most LIMIT_S, or what is left of the budget
  local name=$1 limit=$2
  shift 2
  [[ $steps == *,$name,* ]] || return 0
  local left=$((budget - ($(date +%s) - start)))
  if [ "$left" -lt 30 ]; then
    echo "== $name: skipped, ${left}s of the budget left" | tee -a "$log"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s): $*" | tee -a "$log"
  timeout "$limit" "$@" >>"$log" 2>&1
  echo "== $name: exit $? after $(($(date +%s) - start))s in all" | tee -a "$log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >>"$log" 2>&1
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" >>"$log" 2>&1
run cuda_tests 150 bash -c "'$py' -m pytest -q -p no:cacheprovider tests/test_cuda.py > '$out/cuda_tests.txt' 2>&1"
run gpu 360 "$py" bench/gpu.py --device "$device" "${gpu_args[@]}" --out "$out/gpu.json"
run gpu_models 240 "$py" bench/gpu_models.py --device "$device" "${models_args[@]}" --out "$out/gpu_models.json"
run gpu_step 120 bash -c "'$py' bench/gpu_step.py --device $device ${step_args[*]} > '$out/gpu_step.txt'"
run reparam_cuda 90 "$py" bench/reparam_overhead.py --device "$device" --models resnet20 "${reparam_args[@]}" \
  --out "$out/reparam_overhead_cuda.json"
run reparam_cuda_compiled 150 "$py" bench/reparam_overhead.py --device "$device" --models resnet20 \
  "${reparam_args[@]}" --compile --variants compander --out "$out/reparam_overhead_compiled_cuda.json"
tail -40 "$log"
