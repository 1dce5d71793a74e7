using System.Diagnostics;
using System.Reflection;
using ModelGen;
using ModelGen.Gpu;
using ModelGen.Optim;
using NUnit.Framework;

// The GPU check, for a machine with a GPU and no .NET SDK (scripts/gpu-bundle.sh packs it with the .NET runtime): runs
// every [Category("Gpu")] test of ModelGen.Ilgpu.Tests — the BERT, DistilBERT, FashionCnn, quickstart MLP and
// MiniLM-shaped comparisons with the CPU engine — on MODELGEN_GPU_DEVICE (default cuda), then times a training step of
// the quickstart MLP and GEMMs, and prints one table. A small runner of its own: NUnit's runners need the SDK.
// Usage: GpuCheck [device=cuda]
var deviceName = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("MODELGEN_GPU_DEVICE") ?? "cuda";
Environment.SetEnvironmentVariable("MODELGEN_GPU_DEVICE", deviceName);
Console.WriteLine($"driver: {CudaDriver.Describe()}");
Device gpu;
try
{
    gpu = Device.Parse(deviceName);
}
catch (ArgumentException e)
{
    Console.WriteLine(e.Message);
    return 2;
}
Console.WriteLine($"device: {gpu.Name}; CPU engine threads: {ModelGen.Cpu.CpuParallel.ThreadCount}");

var rows = new List<(string Check, string Result, double Seconds, string Detail)>();
foreach (var (name, run) in GpuTests(typeof(ModelGen.Ilgpu.Tests.GpuBundleTests).Assembly))
{
    var output = new StringWriter();
    ModelGen.Ilgpu.Tests.Report.Sink = line => output.WriteLine(line);
    var console = Console.Out;
    Console.SetOut(output);
    var clock = Stopwatch.StartNew();
    string result = "passed", detail;
    try
    {
        run();
        detail = output.ToString();
    }
    catch (Exception e)
    {
        var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
        result = inner is AssertionException ? "FAILED" : "ERROR";
        detail = inner is AssertionException ? inner.Message : inner.ToString();
    }
    finally
    {
        Console.SetOut(console);
    }
    rows.Add((name, result, clock.Elapsed.TotalSeconds, OneLine(detail)));
    Console.WriteLine($"{result,-6} {name} ({clock.Elapsed.TotalSeconds:F1} s)");
}

// timings (the GPU table of GPU part 2 starts here): an MLP training step and square GEMMs
var timings = new List<(string, double)>();
using (var model = new FashionMnistSample.FashionMlp(gpu, 7))
using (var optimizer = new AdamW(model.Parameters, 1e-3))
{
    int batch = 64;
    var rng = new Random(1);
    using var x = Tensor.From<float>(Enumerable.Range(0, batch * 784).Select(_ => (float)rng.NextDouble()).ToArray(), new Shape(batch, 784), DType.Float32, gpu);
    var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
    bool simulator = gpu.Name.StartsWith("ilgpu-cpu", StringComparison.Ordinal);
    timings.Add(($"quickstart MLP train step, batch {batch} (ms)", Time(simulator ? 1 : 50, () =>
    {
        ((IModel)model).CrossEntropy(x, labels);
        ((IModel)model).Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
    }) * 1e3));
    foreach (int size in simulator ? new[] { 32 } : new[] { 512, 1024, 2048 })
    {
        using var a = Tensor.Zeros(new Shape(size, size), DType.Float32, gpu);
        using var c = Tensor.Zeros(new Shape(size, size), DType.Float32, gpu);
        double seconds = Time(10, () => Ops.MatMul(a, false, a, true, c));
        timings.Add(($"GEMM NT {size}³ (GFLOP/s)", 2.0 * size * size * size / seconds / 1e9));
    }

    double Time(int reps, Action step)
    {
        step();
        Ops.Synchronize(gpu);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) step();
        Ops.Synchronize(gpu);
        return clock.Elapsed.TotalSeconds / reps;
    }
}

Console.WriteLine();
Console.WriteLine($"| check on {gpu.Name} | result | s | detail |");
Console.WriteLine("|---|---|---|---|");
foreach (var (check, result, seconds, detail) in rows) Console.WriteLine($"| {check} | {result} | {seconds:F1} | {detail} |");
foreach (var (what, value) in timings) Console.WriteLine($"| {what} | {value:F2} | | timing |");
int failed = rows.Count(r => r.Result != "passed");
Console.WriteLine($"{rows.Count - failed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

static string OneLine(string text)
{
    var line = string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Replace("|", "\\|");
    return line.Length > 300 ? line[..300] + "…" : line;
}

// every test method (and test case) of the classes marked [Category("Gpu")], in name order
static IEnumerable<(string Name, Action Run)> GpuTests(Assembly assembly)
{
    var classes = assembly.GetTypes()
        .Where(t => t.GetCustomAttributes<CategoryAttribute>().Any(c => c.Name == "Gpu"))
        .OrderBy(t => t.Name, StringComparer.Ordinal);
    foreach (var type in classes)
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            var cases = method.GetCustomAttributes<TestCaseAttribute>().Select(c => c.Arguments).ToList();
            if (cases.Count == 0 && method.GetCustomAttribute<TestAttribute>() is not null) cases.Add([]);
            foreach (var arguments in cases)
            {
                var label = arguments.Length == 0 ? "" : $"({string.Join(", ", arguments)})";
                yield return ($"{type.Name}.{method.Name}{label}", () => method.Invoke(Activator.CreateInstance(type), arguments));
            }
        }
}
