#!/usr/bin/env bash
# Builds the GPU check bundle for a machine with a GPU but no .NET: the framework-dependent GpuCheck app plus the
# .NET runtime (shared/Microsoft.NETCore.App and the host) packed with xz. The bundle must stay under 64 MiB (the most
# the device tool carries). Prints the command to run there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=gpu-bundle
rm -rf "$out" && mkdir -p "$out"
dotnet publish tools/GpuCheck -c Release -o "$out/app" -p:SelfContained=false --nologo -v quiet
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime_version=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {print $2}' | sort -V | tail -n 1)
tar -C "$dotnet_root" -cJf "$out/dotnet-runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime_version"
size=$(du -sm "$out" | cut -f1)
echo "bundle: $out ($size MiB; runtime $runtime_version)"
if [ "$size" -ge 64 ]; then echo "bundle too large for the device tool (64 MiB)" >&2; exit 1; fi
cat <<CMD
run on the GPU machine (device tool: carry ["gpu-bundle"]):
  mkdir -p /tmp/dotnet && tar -C /tmp/dotnet -xJf gpu-bundle/dotnet-runtime.tar.xz && DOTNET_ROOT=/tmp/dotnet /tmp/dotnet/dotnet gpu-bundle/app/GpuCheck.dll cuda 64
CMD
