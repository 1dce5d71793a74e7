#!/usr/bin/python3
"""Turns the raw JSON lines of benchmarks/run.sh into the table of docs/performance.md (medians, spread, ratios)."""
import json, platform, statistics, subprocess, sys, datetime, collections

raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(raw) if l.strip().startswith("{")]
by = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows:
    key = "gflops" if "gflops" in r else "seconds"
    by[r["workload"]][r["side"]].append((key, r[key], r.get("peak_working_set_mb")))

def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()

commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
lines = ["| workload | ModelGen | PyTorch | ONNX Runtime | ModelGen speed / PyTorch | target | met |", "|---|---|---|---|---|---|---|"]
for workload, sides in by.items():
    def fmt(side):
        if side not in sides: return "", None
        key = sides[side][0][0]
        values = [v for _, v, _ in sides[side]]
        med = statistics.median(values)
        unit = "GFLOP/s" if key == "gflops" else "s"
        spread = f" ({min(values):.3g}–{max(values):.3g})" if len(values) > 1 else ""
        return f"{med:.4g} {unit}{spread}", (key, med)
    m, mv = fmt("modelgen"); p, pv = fmt("pytorch"); o, ov = fmt("onnxruntime")
    ratio = ""
    met = ""
    target = ""
    if mv and pv:
        r = mv[1] / pv[1] if mv[0] == "gflops" else pv[1] / mv[1]
        ratio = f"{r:.2f}x"
        if workload.startswith("gemm"):
            target, met = "≥ 0.8x", "met" if r >= 0.8 else "not met"
        elif workload.startswith("mlp"):
            target, met = "> 1x", "met" if r > 1 else "not met"
        elif workload.startswith("minilm forward"):
            target = "> 1x PyTorch, ≤ 1.2x ORT time"
            ok = r > 1 and (ov is None or mv[1] <= 1.2 * ov[1])
            met = "met" if ok else "not met"
        elif workload.startswith("minilm step"):
            target, met = "≥ 1x", "met" if r >= 1 else "not met"
    lines.append(f"| {workload} | {m} | {p} | {o} | {ratio} | {target} | {met} |")
table = "\n".join(lines)
doc = f"""# Performance

Measured side by side, interleaved (ModelGen, PyTorch, [ONNX Runtime]) on this machine: {cpu()}, 2 cores,
.NET {dotnet}, PyTorch 1.13.1 from Debian (2 threads, OPENBLAS_CORETYPE=SkylakeX, OMP_WAIT_POLICY=PASSIVE,
flush-to-zero on), ONNX Runtime 1.31.1 (2 intra-op threads). Date {datetime.date.today()}, commit {commit}.
Medians of the rounds with the range in brackets; "speed / PyTorch" is PyTorch's time over ModelGen's (or ModelGen's
GFLOP/s over PyTorch's). The machine is shared and noisy (±15–20%). TorchSharp-cpu 0.107.0 cannot load on Debian 12
(its native library needs GLIBCXX_3.4.32), so it is not in the table.

Rerun: `benchmarks/run.sh [rounds]` (writes this file; the raw samples are printed by the script).

{table}

Raw samples:

```
{open(raw).read()}```
"""
open(out, "w").write(doc)
print(table)
