#!/usr/bin/python3
"""Turns the raw JSON lines of benchmarks/run.sh into the measured part of docs/performance.md (medians, spread,
ratios, targets, peak working sets, allocations per step). Only the text between the two `measured` markers is
replaced; the hand-written sections around it (what each change bought, the remaining gaps) are kept."""
import collections, datetime, json, os, platform, statistics, subprocess, sys

raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(raw) if l.strip().startswith("{")]
by = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows:
    key = "gflops" if "gflops" in r else "seconds"
    by[r["workload"]][r["side"]].append(r | {"key": key, "value": r[key]})


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def median_of(samples, field):
    values = [s[field] for s in samples if field in s]
    return statistics.median(values) if values else None


commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"], capture_output=True, text=True).stdout.strip()
dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
rounds = max((len(s) for sides in by.values() for s in sides.values()), default=0)

lines = ["| workload | ModelGen | PyTorch | ONNX Runtime | ModelGen speed / PyTorch | target | met |", "|---|---|---|---|---|---|---|"]
memory = ["| workload | peak working set ModelGen | PyTorch | ONNX Runtime | managed bytes allocated per step (ModelGen) |", "|---|---|---|---|---|"]
summary = []
gemm_ratios = []
for workload, sides in by.items():
    def fmt(side):
        if side not in sides:
            return "", None
        samples = sides[side]
        key = samples[0]["key"]
        values = [s["value"] for s in samples]
        med = statistics.median(values)
        unit = "GFLOP/s" if key == "gflops" else "s"
        spread = f" ({min(values):.3g}–{max(values):.3g})" if len(values) > 1 else ""
        return f"{med:.4g} {unit}{spread}", (key, med)
    m, mv = fmt("modelgen"); p, pv = fmt("pytorch"); o, ov = fmt("onnxruntime")
    ratio = met = target = ""
    if mv and pv:
        r = mv[1] / pv[1] if mv[0] == "gflops" else pv[1] / mv[1]
        ratio = f"{r:.2f}x"
        if workload.startswith("gemm"):
            target, met = "≥ 0.8x", "met" if r >= 0.8 else "not met"
        elif workload.startswith("mlp"):
            target, met = "> 1x", "met" if r > 1 else "not met"
        elif workload.startswith("minilm forward"):
            ort_ratio = mv[1] / ov[1] if ov else None
            target = "> 1x PyTorch, ≤ 1.2x ORT time"
            met = "met" if r > 1 and (ort_ratio is None or ort_ratio <= 1.2) else "not met"
            if ort_ratio is not None:
                ratio += f" (time {ort_ratio:.2f}x ORT's)"
        elif workload.startswith("minilm step"):
            target, met = "≥ 1x", "met" if r >= 1 else "not met"
        if not workload.startswith("gemm"):
            label = workload.replace("mlp", "MLP").replace("minilm", "MiniLM")
            versus_ort = f" (time {ort_ratio:.2f}x ONNX Runtime's, target ≤ 1.2x)" if workload.startswith("minilm forward") and ort_ratio is not None else ""
            summary.append(f"- `{label}: {r:.2f}x`{versus_ort} — {met}")
        else:
            gemm_ratios.append((r, workload))
    lines.append(f"| {workload} | {m} | {p} | {o} | {ratio} | {target} | {met} |")
    if not workload.startswith("gemm"):
        def mb(side):
            v = median_of(sides.get(side, []), "peak_working_set_mb")
            return f"{v:.0f} MB" if v is not None else ""
        alloc = median_of(sides.get("modelgen", []), "allocated_bytes_per_step")
        memory.append(f"| {workload} | {mb('modelgen')} | {mb('pytorch')} | {mb('onnxruntime')} | {'' if alloc is None else f'{alloc:.0f} B'} |")

if gemm_ratios:
    lowest = min(gemm_ratios)
    met_count = sum(1 for r, _ in gemm_ratios if r >= 0.8)
    summary.insert(0, f"- GEMM: {met_count} of {len(gemm_ratios)} shapes at ≥ 0.8x PyTorch's GFLOP/s; lowest {lowest[0]:.2f}x ({lowest[1]}) — {'met' if met_count == len(gemm_ratios) else 'not met'}")


def peer(workload, field="value"):
    samples = by.get(workload, {}).get("pytorch", [])
    return statistics.median(s["value"] for s in samples) if samples else None


mlp_peer, gemm_peer = peer("mlp epoch batch 64"), peer("gemm NN 1024")
peer_check = "Peer check (is PyTorch at its known speed here?): " + ", ".join(filter(None, [
    f"its MLP epoch at batch 64 took {mlp_peer:.2f} s (4.7 s on a quiet machine)" if mlp_peer else None,
    f"its 1024³ GEMM ran at {gemm_peer:.0f} GFLOP/s (about 200)" if gemm_peer else None])) + "."

measured = f"""<!-- measured: written by benchmarks/report.py -->
Measured side by side, interleaved (ModelGen, PyTorch, [ONNX Runtime]; {rounds} round(s)) on this machine: {cpu()},
{os.cpu_count()} cores, .NET {dotnet}, PyTorch 1.13.1 from Debian (2 threads, OPENBLAS_CORETYPE=SkylakeX,
OMP_WAIT_POLICY=PASSIVE, flush-to-zero on), ONNX Runtime 1.31.1 (2 intra-op threads). Date {datetime.date.today()},
commit {commit}{" (with uncommitted changes)" if dirty else ""}. Medians of the rounds with the range in brackets; "speed / PyTorch" is
PyTorch's time over ModelGen's (or ModelGen's GFLOP/s over PyTorch's). Timed calls follow at least 1 s of warm-up on
both sides (the .NET JIT's tiering); whole MLP epochs include everything. The machine is shared and noisy (±15–20%).
TorchSharp-cpu 0.107.0 cannot load on Debian 12 (its native library needs GLIBCXX_3.4.32), so it is not in the table.

Rerun: `benchmarks/run.sh [rounds]` (writes this section; the raw samples are below).

{peer_check}

Targets:

{chr(10).join(summary)}

{chr(10).join(lines)}

Memory (peak working set of the process that ran the workload; allocations on the thread that drives training, after
10 warm-up steps for the MLP and 2 for MiniLM):

{chr(10).join(memory)}

<details><summary>Raw samples</summary>

```
{open(raw).read()}```
</details>
<!-- measured: end -->"""

previous = open(out).read() if os.path.exists(out) else ""
start, end = previous.find("<!-- measured: written by benchmarks/report.py -->"), previous.find("<!-- measured: end -->")
if start >= 0 and end > start:
    doc = previous[:start] + measured + previous[end + len("<!-- measured: end -->"):]
else:
    doc = "# Performance\n\n" + measured + "\n"
open(out, "w").write(doc)
print("\n".join(summary))
print("\n".join(lines))
print("\n".join(memory))
