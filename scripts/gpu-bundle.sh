#!/usr/bin/env bash
# The GPU bundle, for a machine with an NVIDIA GPU but no .NET (the device tool's).
#   scripts/gpu-bundle.sh            builds gpu-bundle/: the framework-dependent GpuCheck app (the [Category("Gpu")]
#                                    tests of ModelGen.Ilgpu.Tests and their models, a runner of its own, timings) and the
#                                    .NET runtime (host and shared/Microsoft.NETCore.App, no SDK) packed with xz; it must
#                                    stay under 64 MiB, the most the device tool carries.
#   scripts/gpu-bundle.sh run [DEV]  runs it (on the GPU machine, or here with DEV=ilgpu-cpu as a rehearsal): unpacks the
#                                    runtime, probes the machine (driver, Python, PyTorch) and prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
out=gpu-bundle
if [ "${1:-build}" = run ]; then
  device=${2:-cuda}
  runtime=$(mktemp -d)
  tar -C "$runtime" -xJf "$out/dotnet-runtime.tar.xz"
  echo "machine: $(nproc) cores, $(uname -r); nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>/dev/null || echo none)"
  echo "python: $(python3 --version 2>&1 || echo none); torch: $(python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>&1 | tail -n 1)"
  status=0
  DOTNET_ROOT=$runtime DOTNET_CLI_TELEMETRY_OPTOUT=1 timeout 540 "$runtime/dotnet" "$out/app/GpuCheck.dll" "$device" || status=$?
  rm -rf "$runtime"
  exit $status
fi
rm -rf "$out" && mkdir -p "$out"
dotnet publish tools/GpuCheck -c Release -o "$out/app" -p:SelfContained=false --nologo -v quiet
# linux-x64 natives only (the samples' plotting libraries bring builds for every platform), no satellite resources
find "$out/app/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
find "$out/app" -mindepth 1 -maxdepth 1 -type d ! -name runtimes ! -name fixtures -exec rm -rf {} +
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime_version=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {print $2}' | sort -V | tail -n 1)
tar -C "$dotnet_root" -cJf "$out/dotnet-runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime_version"
cp scripts/gpu-bundle.sh "$out/"
size=$(du -sm "$out" | cut -f1)
echo "bundle: $out ($size MiB; runtime $runtime_version)"
if [ "$size" -ge 64 ]; then echo "bundle too large for the device tool (64 MiB)" >&2; exit 1; fi
echo "run on the GPU machine (device tool: carry [\"gpu-bundle\"]): bash gpu-bundle/gpu-bundle.sh run cuda"
