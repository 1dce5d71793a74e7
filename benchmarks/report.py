#!/usr/bin/python3
"""Turns the raw JSON lines of benchmarks/run.sh into the measured part of docs/performance.md (medians, spread,
paired ratios, targets, peak working sets, allocations per step). Only the text between the two `measured` markers is
replaced; the hand-written sections around it (what each change bought, the remaining gaps) are kept.

Ratios are paired: each round's ModelGen sample is divided by the peer's sample of the same round (and workload, so of
the same GEMM shape), as ModelGen speed / peer speed (the peer's seconds over ModelGen's, or ModelGen's GFLOP/s over the
peer's); a row shows the median of those per-round ratios with the lowest beside it, and targets are judged on the
median. Samples without a "round" field (raw files of older runs) are numbered by their order per workload and side.
A ModelGen-only workload "NAME (spin 0)" (ModelGen rerun with MODELGEN_SPIN_US=0 in the same round) is paired with the
peers' samples of NAME in the same round and judged against NAME's target.
Usage: benchmarks/report.py RAW OUT.md"""
import collections, datetime, json, os, platform, statistics, subprocess, sys

raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(raw) if l.strip().startswith("{")]
by = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows:
    key = "gflops" if "gflops" in r else "seconds"
    samples = by[r["workload"]][r["side"]]
    samples.append(r | {"key": key, "value": r[key], "round": r.get("round", len(samples) + 1)})

MAIN_JOB = "main job end to end"
SPIN0 = " (spin 0)"


def base_of(workload):
    """The workload whose peers' samples and target a row takes: NAME for "NAME (spin 0)", else the workload itself."""
    return workload[:-len(SPIN0)] if workload.endswith(SPIN0) else workload


def with_peers(workload, sides):
    """The row's sides: for a spin-0 row, its own ModelGen samples and the base workload's peers (same rounds)."""
    if workload == base_of(workload):
        return sides
    peers = {side: samples for side, samples in by.get(base_of(workload), {}).items() if side != "modelgen"}
    return peers | {side: samples for side, samples in sides.items() if side == "modelgen"}


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def median_of(samples, field):
    values = [s[field] for s in samples if field in s]
    return statistics.median(values) if values else None


def mean_of(samples, field):
    values = [s[field] for s in samples if field in s]
    return statistics.fmean(values) if values else None


def paired(sides, peer, speed=True):
    """Per-round ratios of ModelGen to the peer on one workload, rounds matched (the last sample of a round if a side
    has several): ModelGen speed / peer speed when speed, else ModelGen's time / the peer's. None without a pair."""
    ours = {s["round"]: s for s in sides.get("modelgen", [])}
    theirs = {s["round"]: s for s in sides.get(peer, [])}
    ratios = []
    for rnd in sorted(ours.keys() & theirs.keys()):
        a, b = ours[rnd], theirs[rnd]
        if a["key"] != b["key"] or not a["value"] or not b["value"]:
            continue
        if a["key"] == "gflops":
            r = a["value"] / b["value"]
        else:
            r = b["value"] / a["value"]
        ratios.append(r if speed else 1 / r)
    return ratios or None


commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"], capture_output=True, text=True).stdout.strip()
dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
rounds = max((len(s) for sides in by.values() for s in sides.values()), default=0)

lines = ["| workload | ModelGen | PyTorch | ONNX Runtime | ModelGen speed / PyTorch (paired median, min) | target | met |", "|---|---|---|---|---|---|---|"]
memory = ["| workload | peak working set ModelGen | PyTorch | ONNX Runtime | managed bytes allocated per step (ModelGen) |", "|---|---|---|---|---|"]
summary = []
gemm_ratios = []
for workload, own_sides in by.items():
    sides, base = with_peers(workload, own_sides), base_of(workload)

    def fmt(side):
        if side not in sides:
            return ""
        samples = sides[side]
        key = samples[0]["key"]
        values = [s["value"] for s in samples]
        unit = "GFLOP/s" if key == "gflops" else "s"
        spread = f" ({min(values):.3g}–{max(values):.3g})" if len(values) > 1 else ""
        text = f"{statistics.median(values):.4g} {unit}{spread}"
        accuracy = mean_of(samples, "accuracy")
        if accuracy is not None:
            text += f"; mean accuracy {accuracy:.2f}%"
        return text
    m, p, o = fmt("modelgen"), fmt("pytorch"), fmt("onnxruntime")
    ratio = met = target = ""
    ort = None
    ratios = paired(sides, "pytorch")
    if ratios:
        r, low = statistics.median(ratios), min(ratios)
        ratio = f"{r:.2f}x (min {low:.2f}x)"
        label = workload.replace("mlp", "MLP").replace("minilm", "MiniLM")
        if base.startswith("gemm"):
            target, ok = "≥ 0.8x", r >= 0.8
            gemm_ratios.append((r, low, workload))
        elif base.startswith("mlp"):
            target, ok = "> 1x", r > 1
        elif base.startswith("minilm forward"):
            # ModelGen's time over ONNX Runtime's, paired the same way; its worst round is the highest
            ort = paired(sides, "onnxruntime", speed=False)
            target = "> 1x PyTorch, ≤ 1.2x ORT time"
            ok = r > 1 and (ort is None or statistics.median(ort) <= 1.2)
            if ort is not None:
                ratio += f" (time {statistics.median(ort):.2f}x ORT's, max {max(ort):.2f}x)"
        elif base.startswith("minilm step"):
            target, ok = "≥ 1x", r >= 1
        elif base == MAIN_JOB:
            # both means over the same seeds: the rounds that both sides finished
            both = {s["round"] for s in sides["modelgen"]} & {s["round"] for s in sides["pytorch"]}
            ours_acc = mean_of([s for s in sides["modelgen"] if s["round"] in both], "accuracy")
            peer_acc = mean_of([s for s in sides["pytorch"] if s["round"] in both], "accuracy")
            seeds = len({s.get("seed", s["round"]) for s in sides["modelgen"] if s["round"] in both})
            target = "> 1x, mean accuracy within 1 point"
            ok = r > 1 and ours_acc is not None and peer_acc is not None and abs(ours_acc - peer_acc) <= 1.0
        else:
            target, ok = "", None
        met = "" if ok is None else "met" if ok else "not met"
        if base == MAIN_JOB:
            accuracies = (f" — ModelGen {ours_acc:.1f}% mean accuracy over {seeds} seed{'s' if seeds != 1 else ''}, PyTorch {peer_acc:.1f}%"
                          if ours_acc is not None and peer_acc is not None else "")
            summary.append(f"- {workload}: {r:.2f}x (min {low:.2f}x){accuracies} — {met}")
        elif not base.startswith("gemm"):
            versus_ort = ""
            if base.startswith("minilm forward") and ort is not None:
                versus_ort = f" (time {statistics.median(ort):.2f}x ONNX Runtime's, max {max(ort):.2f}x, target ≤ 1.2x)"
            summary.append(f"- `{label}: {r:.2f}x` (min {low:.2f}x){versus_ort} — {met}")
    lines.append(f"| {workload} | {m} | {p} | {o} | {ratio} | {target} | {met} |")
    if not base.startswith("gemm"):
        def mb(side):  # a spin-0 row's own samples only: the peers' are on its base row
            v = median_of(own_sides.get(side, []), "peak_working_set_mb")
            return f"{v:.0f} MB" if v is not None else ""
        alloc = median_of(own_sides.get("modelgen", []), "allocated_bytes_per_step")
        cells = [mb("modelgen"), mb("pytorch"), mb("onnxruntime"), "" if alloc is None else f"{alloc:.0f} B"]
        if any(cells):
            memory.append(f"| {workload} | {' | '.join(cells)} |")

if gemm_ratios:
    lowest = min(gemm_ratios)
    met_count = sum(1 for r, _, _ in gemm_ratios if r >= 0.8)
    summary.insert(0, f"- GEMM: {met_count} of {len(gemm_ratios)} shapes at ≥ 0.8x PyTorch's GFLOP/s (paired medians); lowest {lowest[0]:.2f}x "
                      f"(min {lowest[1]:.2f}x, {lowest[2]}) — {'met' if met_count == len(gemm_ratios) else 'not met'}")


def peer(workload, field="value"):
    samples = by.get(workload, {}).get("pytorch", [])
    return statistics.median(s["value"] for s in samples) if samples else None


mlp_peer, gemm_peer = peer("mlp epoch batch 64"), peer("gemm NN 1024")
peer_check = "Peer check (is PyTorch at its known speed here?): " + ", ".join(filter(None, [
    f"its MLP epoch at batch 64 took {mlp_peer:.2f} s (4.7 s on a quiet machine)" if mlp_peer else None,
    f"its 1024³ GEMM ran at {gemm_peer:.0f} GFLOP/s (about 200)" if gemm_peer else None])) + "."

spin_note = ""
if any(workload.endswith(SPIN0) for workload in by):
    spin_note = """
Rows "… (spin 0)" are ModelGen run a second time in each round with `MODELGEN_SPIN_US=0`: its CPU workers sleep on
their event at once, where in the row above each they first spin for `MODELGEN_SPIN_US` (100 µs unless set). They are
paired with the same PyTorch and ONNX Runtime samples (of the same round) as the row above and judged against its target.
"""

main_job_note = ""
if MAIN_JOB in by:
    main_job_note = """
The main job end to end is the whole Sentiment sample (`dotnet samples/Sentiment/bin/Release/net10.0/Sentiment.dll
--seed N`: fine-tuning all-MiniLM-L6-v2 for 3 epochs on the 2,400 training sentences with evaluation after each epoch,
saving, reloading and classifying) against its PyTorch twin `benchmarks/pytorch_main_job.py` on the same split (written
by the sample's `--export-split`), the same recipe and the same dynamic padding; each is timed as a whole process (wall
clock, start-up included), one seed per round (42, 43, ...), the side that goes first alternating; the accuracy is the
last epoch's test accuracy, averaged over the seeds.
"""

measured = f"""<!-- measured: written by benchmarks/report.py -->
Measured side by side, interleaved (ModelGen, {"[ModelGen spin 0], " if spin_note else ""}PyTorch, [ONNX Runtime]; {rounds} round(s)) on this machine: {cpu()},
{os.cpu_count()} cores, .NET {dotnet}, PyTorch 1.13.1 from Debian (2 threads, OPENBLAS_CORETYPE=SkylakeX,
OMP_WAIT_POLICY=PASSIVE, flush-to-zero on), ONNX Runtime 1.31.1 (2 intra-op threads). Date {datetime.date.today()},
commit {commit}{" (with uncommitted changes)" if dirty else ""}. Medians of the rounds with the range in brackets; "speed / PyTorch" is
the median over the rounds of each round's paired ratio, PyTorch's time over ModelGen's (or ModelGen's GFLOP/s over
PyTorch's) in the same round, with the lowest round's ratio as "min" (for ONNX Runtime: ModelGen's time over its time,
with the highest round's as "max"); targets are judged on the paired median. Timed calls follow at least 1 s of warm-up on
both sides (the .NET JIT's tiering); whole MLP epochs include everything. The machine is shared and noisy (±15–20%).
TorchSharp-cpu 0.107.0 cannot load on Debian 12 (its native library needs GLIBCXX_3.4.32), so it is not in the table.
{spin_note}{main_job_note}
Rerun: `benchmarks/run.sh [rounds] [workload...]` (writes this section; the raw samples are below).

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
