using System.Diagnostics;
using ModelGen;
using ModelGen.Optim;

// The GPU check: the quickstart MLP (and a residual GELU model) on the GPU device against the CPU engine from the same
// weights and inputs (outputs, losses, gradients, an Adam step), then timings of training steps and a GEMM.
// Usage: GpuCheck [device=cuda] [batch=64]
var deviceName = args.Length > 0 ? args[0] : "cuda";
int batch = args.Length > 1 ? int.Parse(args[1]) : 64;
var gpu = Device.Parse(deviceName);
Console.WriteLine($"device: {gpu.Name}; CPU engine threads: {ModelGen.Cpu.CpuParallel.ThreadCount}");
int failures = 0;

var rng = new Random(1);
var data = Enumerable.Range(0, batch * 784).Select(_ => (float)rng.NextDouble()).ToArray();
var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
using var xc = Tensor.From<float>(data, new Shape(batch, 784), DType.Float32);
using var xg = Tensor.From<float>(data, new Shape(batch, 784), DType.Float32, gpu);

using (var cpuModel = new Mlp(Device.Cpu, 7))
using (var gpuModel = new Mlp(gpu, 7))
using (var optC = new Adam(cpuModel.Parameters, 1e-3))
using (var optG = new Adam(gpuModel.Parameters, 1e-3))
{
    for (int step = 0; step < 3; step++)
    {
        double lc = cpuModel.CrossEntropy(xc, labels), lg = gpuModel.CrossEntropy(xg, labels);
        cpuModel.Backward();
        gpuModel.Backward();
        CheckD($"step {step} loss", [lg], [lc]);
        foreach (var p in cpuModel.Parameters) Check($"step {step} d{p.Name}", gpuModel.Parameter(p.Name).Grad.ToArray(), p.Grad.ToArray());
        optC.Step(); optG.Step(); optC.ZeroGrad(); optG.ZeroGrad();
    }
    foreach (var p in cpuModel.Parameters) Check($"after 3 Adam steps {p.Name}", gpuModel.Parameter(p.Name).Value.ToArray(), p.Value.ToArray());

    Console.WriteLine($"MLP train step, batch {batch}: GPU {TimeStep(gpuModel, optG, xg, gpu):F3} ms, CPU engine {TimeStep(cpuModel, optC, xc, null):F3} ms");
}

// ILGPU's CPU simulator is far too slow for big GEMMs: a rehearsal there times a small one
foreach (int size in gpu.Name.StartsWith("ilgpu-cpu") ? new[] { 32 } : new[] { 512, 1024, 2048 })
{
    using var a = Tensor.Zeros(new Shape(size, size), DType.Float32, gpu);
    using var c = Tensor.Zeros(new Shape(size, size), DType.Float32, gpu);
    Ops.MatMul(a, false, a, true, c);
    Ops.Synchronize(gpu);
    var clock = Stopwatch.StartNew();
    int reps = 10;
    for (int i = 0; i < reps; i++) Ops.MatMul(a, false, a, true, c);
    Ops.Synchronize(gpu);
    double seconds = clock.Elapsed.TotalSeconds / reps;
    Console.WriteLine($"GEMM NT {size}^3: {2.0 * size * size * size / seconds / 1e9:F1} GFLOP/s");
}

Console.WriteLine(failures == 0 ? "GPU check: all equivalence checks passed" : $"GPU check: {failures} equivalence checks FAILED");
return failures == 0 ? 0 : 1;

double TimeStep(Mlp model, Optimizer opt, Tensor x, Device? device)
{
    bool simulator = device?.Name.StartsWith("ilgpu-cpu") == true; // a rehearsal: time one step only
    for (int i = 0; i < (simulator ? 1 : 5); i++) Step();
    if (device is not null) Ops.Synchronize(device);
    var clock = Stopwatch.StartNew();
    int n = simulator ? 1 : 50;
    for (int i = 0; i < n; i++) Step();
    if (device is not null) Ops.Synchronize(device);
    return clock.Elapsed.TotalMilliseconds / n;

    void Step()
    {
        model.CrossEntropy(x, labels);
        model.Backward();
        opt.Step();
        opt.ZeroGrad();
    }
}

void Check(string what, float[] actual, float[] expected)
{
    double diff = 0, norm = 0;
    for (int i = 0; i < actual.Length; i++)
    {
        diff += (double)(actual[i] - expected[i]) * (actual[i] - expected[i]);
        norm += (double)expected[i] * expected[i];
    }
    double rel = norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    bool ok = rel <= 1e-5;
    if (!ok) failures++;
    if (!ok || what.Contains("loss")) Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}: relative error {rel:E2}");
}

void CheckD(string what, double[] actual, double[] expected) => Check(what, actual.Select(v => (float)v).ToArray(), expected.Select(v => (float)v).ToArray());

[Model]
public partial class Mlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}
