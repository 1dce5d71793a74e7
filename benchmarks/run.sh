#!/usr/bin/env bash
# Side-by-side benchmarks: ModelGen and its peers (PyTorch 1.13 from Debian; ONNX Runtime for MiniLM inference) on the
# same workloads, interleaved (A B A B ...) for ROUNDS rounds; prints a table of medians, spreads and ratios and writes
# it to docs/performance.md. Usage: benchmarks/run.sh [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
export OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "installing PyTorch from Debian (python3-torch)"; apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
dotnet build benchmarks/ModelGen.Benchmarks -c Release --nologo -v quiet | grep -E "error|warn" || true
ours="dotnet benchmarks/ModelGen.Benchmarks/bin/Release/net10.0/ModelGen.Benchmarks.dll"
raw=$(mktemp)
for workload in gemm mlp64 mlp512 minilm_forward_1x16 minilm_forward_32x128 minilm_step_32x64; do
  for round in $(seq "$rounds"); do
    $ours "$workload" | sed 's/^{/{"side":"modelgen",/' >> "$raw"
    /usr/bin/python3 benchmarks/pytorch_workloads.py "$workload" | sed 's/^{/{"side":"pytorch",/' >> "$raw"
    case "$workload" in
      minilm_forward_1x16) $ours ort_forward_1x16 | sed 's/^{/{"side":"onnxruntime",/; s/onnxruntime forward/minilm forward/' >> "$raw" ;;
      minilm_forward_32x128) $ours ort_forward_32x128 | sed 's/^{/{"side":"onnxruntime",/; s/onnxruntime forward/minilm forward/' >> "$raw" ;;
    esac
  done
done
/usr/bin/python3 benchmarks/report.py "$raw" docs/performance.md
