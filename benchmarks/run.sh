#!/usr/bin/env bash
# Side-by-side benchmarks: ModelGen and its peers (PyTorch 1.13 from Debian; ONNX Runtime for MiniLM inference) on the
# same workloads, interleaved (A B A B ...) for ROUNDS rounds; prints a table of medians, paired ratios and targets and
# writes it to docs/performance.md. Usage: benchmarks/run.sh [ROUNDS=3] [WORKLOAD...]
# Each round runs ModelGen, then (all but gemm and main_job) ModelGen again with MODELGEN_SPIN_US=0 (its workers sleep
# at once instead of spinning first; rows "WORKLOAD (spin 0)"), then PyTorch, then (MiniLM forward) ONNX Runtime.
# WORKLOAD: gemm mlp64 mlp512 minilm_forward_1x16 minilm_forward_32x128 minilm_step_32x64 main_job (default: all, in
# that order). main_job is the whole Sentiment sample (fine-tuning all-MiniLM-L6-v2, 3 epochs) against its PyTorch twin
# benchmarks/pytorch_main_job.py, timed as whole processes, one seed per round (42, 43, ...), on the same split.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
all_workloads=(gemm mlp64 mlp512 minilm_forward_1x16 minilm_forward_32x128 minilm_step_32x64 main_job)
if [ $# -gt 0 ]; then workloads=("$@"); else workloads=("${all_workloads[@]}"); fi
for workload in "${workloads[@]}"; do
  [[ " ${all_workloads[*]} " == *" $workload "* ]] || { echo "unknown workload $workload (${all_workloads[*]})" >&2; exit 2; }
done
selected() { [[ " ${workloads[*]} " == *" $1 "* ]]; }
export OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2
# PyTorch from Debian with OpenBLAS: without libopenblas0-pthread, Debian's torch runs on the reference BLAS (one
# thread, several times slower), which would make every ratio meaningless
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "installing PyTorch from Debian (python3-torch) with OpenBLAS (libopenblas0-pthread)"; apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
if ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -q '^Value: .*openblas'; then
  echo "the libblas.so.3 alternative is not OpenBLAS: PyTorch would run on the reference BLAS" >&2; exit 1
fi
dotnet build benchmarks/ModelGen.Benchmarks -c Release --nologo -v quiet | grep -E "error|warn" || true
if selected main_job; then dotnet build samples/Sentiment -c Release --nologo -v quiet | grep -E "error|warn" || true; fi
ours="dotnet benchmarks/ModelGen.Benchmarks/bin/Release/net10.0/ModelGen.Benchmarks.dll"
sentiment="dotnet samples/Sentiment/bin/Release/net10.0/Sentiment.dll"
raw=$(mktemp)

# one timed side of the main job: the whole process, wall clock; its output goes to a log and to stderr
main_job_side() {
  local side=$1 round=$2 seed=$3 log="$tmp/$1-$3.log" start end seconds accuracy
  local status=0
  start=$(date +%s.%N)
  if [ "$side" = modelgen ]; then
    $sentiment --seed "$seed" --output "$tmp/mg-$seed" > "$log" || status=$?
  else
    /usr/bin/python3 benchmarks/pytorch_main_job.py --split "$tmp/split-$seed" --model ~/.cache/modelgen/all-MiniLM-L6-v2 \
      --output "$tmp/pt-$seed" --seed "$seed" > "$log" || status=$?
  fi
  end=$(date +%s.%N)
  sed "s/^/[$side seed $seed] /" "$log" >&2
  if [ "$status" -ne 0 ]; then echo "main job ($side, seed $seed) failed with exit code $status (log: $log)" >&2; exit 1; fi
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  accuracy=$(grep -o 'test accuracy [0-9.]*%' "$log" | tail -n 1 | grep -o '[0-9.]*' || true)
  if [ -z "$accuracy" ]; then echo "main job ($side, seed $seed): no 'test accuracy' line in $log" >&2; exit 1; fi
  echo "{\"side\":\"$side\",\"workload\":\"main job end to end\",\"seconds\":$seconds,\"accuracy\":$accuracy,\"seed\":$seed,\"round\":$round}" >> "$raw"
  echo "[$side seed $seed] $seconds s, test accuracy $accuracy%" >&2
}

for workload in "${workloads[@]}"; do
  if [ "$workload" = main_job ]; then
    tmp=$(mktemp -d)
    echo "main job: logs and splits in $tmp" >&2
    for round in $(seq "$rounds"); do
      seed=$((41 + round))
      # untimed: the seeded stratified split, as the sample holds it (this also imports the model on a first run)
      $sentiment --export-split "$tmp/split-$seed" --seed "$seed" >&2
      if [ ! -f ~/.cache/modelgen/all-MiniLM-L6-v2/model.safetensors ]; then
        echo "main job: ~/.cache/modelgen/all-MiniLM-L6-v2/model.safetensors is missing (run the Sentiment sample once)" >&2; exit 1
      fi
      # interleaved, alternating which side goes first
      if [ $((round % 2)) -eq 1 ]; then order="modelgen pytorch"; else order="pytorch modelgen"; fi
      for side in $order; do main_job_side "$side" "$round" "$seed"; done
      rm -rf "$tmp/mg-$seed" "$tmp/pt-$seed" # the saved models (about 90 MB each); the logs stay
    done
    continue
  fi
  for round in $(seq "$rounds"); do
    $ours "$workload" | sed "s/^{/{\"side\":\"modelgen\",\"round\":$round,/" >> "$raw"
    case "$workload" in
      # again with the engine's workers sleeping at once instead of spinning MODELGEN_SPIN_US (100 µs by default)
      # first; its rows are "WORKLOAD (spin 0)", paired in the report with the peers' samples of the same round
      mlp64 | mlp512 | minilm_forward_1x16 | minilm_forward_32x128 | minilm_step_32x64)
        MODELGEN_SPIN_US=0 $ours "$workload" | sed "s/^{/{\"side\":\"modelgen\",\"round\":$round,/; s/\"workload\":\"\([^\"]*\)\"/\"workload\":\"\1 (spin 0)\"/" >> "$raw" ;;
    esac
    /usr/bin/python3 benchmarks/pytorch_workloads.py "$workload" | sed "s/^{/{\"side\":\"pytorch\",\"round\":$round,/" >> "$raw"
    case "$workload" in
      minilm_forward_1x16) $ours ort_forward_1x16 | sed "s/^{/{\"side\":\"onnxruntime\",\"round\":$round,/; s/onnxruntime forward/minilm forward/" >> "$raw" ;;
      minilm_forward_32x128) $ours ort_forward_32x128 | sed "s/^{/{\"side\":\"onnxruntime\",\"round\":$round,/; s/onnxruntime forward/minilm forward/" >> "$raw" ;;
    esac
  done
done
/usr/bin/python3 benchmarks/report.py "$raw" docs/performance.md
