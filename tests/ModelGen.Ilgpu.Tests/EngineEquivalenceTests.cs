using ModelGen.Optim;
using ModelGen.Tests.Graphs;
using ModelGen.Tests.Ops;

namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// Every test model of the generator issue, run on the CPU engine and on ILGPU's CPU accelerator (the simulator that
/// stands in for CUDA/OpenCL here) from the same parameters and inputs: outputs, losses, gradients and optimizer steps
/// agree to ‖a − b‖/‖b‖ ≤ 1e-5. Shapes stay small (batch ≤ 8, widths ≤ 64): the simulator is slow.
/// </summary>
public class EngineEquivalenceTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    public sealed record Case(string Name, Func<Device, Module> Create, int[] InputShape, bool Mse = false)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Case> Cases() =>
    [
        new("fan-out", d => new FanOut(d, 1), [4, 5]),
        new("shared-weights", d => new SharedWeights(d, 2), [3, 6]),
        new("residual", d => new Residual(d, 3), [5, 4]),
        new("nested", d => new Nested(d, 4), [3, 5]),
        new("block-list", d => new Stack(3, 6, DType.Float32, d), [4, 5]),
        new("activation-chain-mse", d => new ActivationChain(d, 5), [3, 4], Mse: true),
        new("dropout-train", d => new WithDropout(d, 6), [5, 6]),
        new("dropout-eval", d => { var m = new WithDropout(d, 6); m.Eval(); return m; }, [5, 6]),
        new("reshape", d => new Reshapes(d, 7), [2, 4, 6]),
        new("softmax-head", d => new SoftmaxOp(d), [3, 17]),
        new("log-softmax", d => new LogSoftmaxOp(d), [3, 17]),
        new("gelu", d => new GeluOp(d), [2, 33]),
        new("gelu-tanh", d => new GeluTanhOp(d), [2, 33]),
        new("sum", d => new SumOp(d), [3, 7]),
        new("mean", d => new MeanOp(d), [3, 7]),
        new("div-neg", d => new DivNegOp(d), [3, 7]),
        new("gated-mlp", d => new GatedMlp(d, 8), [4, 5]),
    ];

    /// <summary>‖a − b‖/‖b‖ (‖a − b‖ when b is zero), the agreement measure of the ILGPU tests.</summary>
    internal static double RelativeError(float[] a, float[] b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (double)(a[i] - b[i]) * (a[i] - b[i]);
            norm += (double)b[i] * b[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    [Test]
    public void ModelsAgreeAcrossEngines([ValueSource(nameof(Cases))] Case c)
    {
        using var cpuModel = c.Create(Device.Cpu);
        using var gpuModel = c.Create(Gpu);
        var rng = new Random(c.Name.Length);
        var shape = new Shape(c.InputShape);
        var data = Enumerable.Range(0, shape.Count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var xc = Tensor.From<float>(data, shape, DType.Float32);
        using var xg = Tensor.From<float>(data, shape, DType.Float32, Gpu);
        xc.RequiresGrad = xg.RequiresGrad = true;
        var cpu = (IModel)cpuModel;
        var gpu = (IModel)gpuModel;
        foreach (var p in cpuModel.Parameters)
            Assert.That(gpuModel.Parameter(p.Name).Value.ToArray(), Is.EqualTo(p.Value.ToArray()), $"same initial {p.Name}");

        var outShape = cpu.InferShape(shape);
        bool scalar = outShape.Count == 1;
        bool trainable = cpuModel.Parameters.Count > 0;
        using var optC = trainable ? new Adam(cpuModel.Parameters, lr: 0.01) : null;
        using var optG = trainable ? new Adam(gpuModel.Parameters, lr: 0.01) : null;
        var target = Enumerable.Range(0, outShape.Count).Select(_ => (float)rng.NextDouble()).ToArray();
        using var tc = Tensor.From<float>(target, outShape, DType.Float32);
        using var tg = Tensor.From<float>(target, outShape, DType.Float32, Gpu);
        var labels = Enumerable.Range(0, outShape.Rows).Select(i => i % outShape.Last).ToArray();
        for (int step = 0; step < 2; step++)
        {
            double lc, lg;
            if (scalar)
            {
                lc = cpu.Run(xc).Item();
                lg = gpu.Run(xg).Item();
            }
            else if (c.Mse)
            {
                lc = cpu.Mse(xc, tc);
                lg = gpu.Mse(xg, tg);
            }
            else
            {
                Assert.That(RelativeError(gpu.Run(xg).ToArray(), cpu.Run(xc).ToArray()), Is.LessThanOrEqualTo(1e-5), $"{c.Name}: output");
                cpuModel.Step--;
                gpuModel.Step--;
                lc = cpu.CrossEntropy(xc, labels);
                lg = gpu.CrossEntropy(xg, labels);
            }
            Assert.That(lg, Is.EqualTo(lc).Within(1e-5 * Math.Max(1, Math.Abs(lc))), $"{c.Name}: loss at step {step}");
            cpu.Backward();
            gpu.Backward();
            foreach (var p in cpuModel.Parameters)
                Assert.That(RelativeError(gpuModel.Parameter(p.Name).Grad.ToArray(), p.Grad.ToArray()), Is.LessThanOrEqualTo(1e-5), $"{c.Name}: d{p.Name}");
            Assert.That(RelativeError(xg.Grad!.ToArray(), xc.Grad!.ToArray()), Is.LessThanOrEqualTo(1e-5), $"{c.Name}: dx");
            if (optC is null || optG is null) break;
            optC.Step();
            optG.Step();
            optC.ZeroGrad();
            optG.ZeroGrad();
            foreach (var p in cpuModel.Parameters)
                Assert.That(RelativeError(gpuModel.Parameter(p.Name).Value.ToArray(), p.Value.ToArray()), Is.LessThanOrEqualTo(1e-5), $"{c.Name}: {p.Name} after step {step}");
        }
    }

    [Test]
    public void SgdWithMomentumAndNesterov_AgreesAcrossEngines()
    {
        using var cpuModel = new FanOut(Device.Cpu, 3);
        using var gpuModel = new FanOut(Gpu, 3);
        using var optC = new Sgd(cpuModel.Parameters, 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true);
        using var optG = new Sgd(gpuModel.Parameters, 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true);
        var data = Enumerable.Range(0, 20).Select(i => MathF.Sin(i)).ToArray();
        using var xc = Tensor.From<float>(data, new Shape(4, 5), DType.Float32);
        using var xg = Tensor.From<float>(data, new Shape(4, 5), DType.Float32, Gpu);
        for (int step = 0; step < 3; step++)
        {
            ((IModel)cpuModel).CrossEntropy(xc, [0, 1, 2, 0]);
            ((IModel)gpuModel).CrossEntropy(xg, [0, 1, 2, 0]);
            ((IModel)cpuModel).Backward();
            ((IModel)gpuModel).Backward();
            optC.Step();
            optG.Step();
            optC.ZeroGrad();
            optG.ZeroGrad();
        }
        foreach (var p in cpuModel.Parameters)
            Assert.That(RelativeError(gpuModel.Parameter(p.Name).Value.ToArray(), p.Value.ToArray()), Is.LessThanOrEqualTo(1e-5), p.Name);
    }

    [Test]
    public void GemmLayoutsAndEpilogues_MatchTheCpuEngine([Values(1, 3, 17)] int m, [Values(1, 16, 33)] int n, [Values(1, 5, 64)] int k,
        [Values(false, true)] bool tiled)
    {
        // the engine runs the per-element GEMM on the CPU accelerator and the tiled one on GPUs: both are checked here
        var device = (ModelGen.Gpu.IlgpuDevice)Gpu;
        device.TiledGemm = tiled;
        try { Gemms(m, n, k); }
        finally { device.TiledGemm = false; }
    }

    private static void Gemms(int m, int n, int k)
    {
        using var cpu = new LinearOp(k, n, DType.Float32);
        var data = Enumerable.Range(0, m * k).Select(i => MathF.Cos(i * 0.37f)).ToArray();
        using var xc = Tensor.From<float>(data, new Shape(m, k), DType.Float32);
        xc.RequiresGrad = true;
        var y = cpu.Run(xc).ToArray();
        // the same GEMMs through the ILGPU engine's routine, on tensors copied from the CPU model
        using var w = cpu.Parameter("fc.weight").Value.To(Gpu);
        using var xg = xc.To(Gpu);
        using var yg = Tensor.Zeros(new Shape(m, n), DType.Float32, Gpu);
        ModelGen.Gpu.GpuOps.Gemm(xg, false, w, true, yg, m, n, k, false, null, 0);
        var bias = cpu.Parameter("fc.bias").Value.ToArray();
        var expected = y.Select((v, i) => v - bias[i % n]).ToArray();
        Assert.That(RelativeError(yg.ToArray(), expected), Is.LessThanOrEqualTo(1e-5));
        // TN with accumulation: C += Aᵀ·B
        using var c = Tensor.From<float>(Enumerable.Repeat(0.5f, k * k).ToArray(), new Shape(k, k), DType.Float32, Gpu);
        ModelGen.Gpu.GpuOps.Gemm(xg, true, xg, false, c, k, k, m, true, null, 0);
        var expectedTn = new float[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double s = 0.5;
                for (int r = 0; r < m; r++) s += data[r * k + i] * data[r * k + j];
                expectedTn[i * k + j] = (float)s;
            }
        Assert.That(RelativeError(c.ToArray(), expectedTn), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void DeviceNames_AreParsedAndUnknownOnesExplained()
    {
        Assert.That(Device.Parse("ilgpu-cpu").Name, Does.StartWith("ilgpu-cpu"));
        Assert.That(Device.Parse(" CPU "), Is.SameAs(Device.Cpu));
        Assert.That(Assert.Throws<ArgumentException>(() => Device.Parse("tpu"))!.Message, Does.Contain("cuda:N"));
    }

    [Test]
    public void InputOnTheWrongDevice_IsAClearError()
    {
        using var model = new FanOut(Gpu, 1);
        using var x = Tensor.Zeros(2, 5);
        var e = Assert.Throws<ArgumentException>(() => ((IModel)model).Run(x))!;
        Assert.That(e.Message, Does.Contain("x.To(model.Device)"));
    }

    [Test]
    public void Float64OnTheIlgpuEngine_IsRefusedClearly()
    {
        var e = Assert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(2), DType.Float64, Gpu))!;
        Assert.That(e.Message, Does.Contain("Float32"));
    }

    [Test]
    public void SaveOnTheGpu_LoadOnTheCpu_GivesTheSameOutputs()
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelgen-gpu-{Guid.NewGuid():N}.safetensors");
        using var gpu = new Residual(Gpu, 5);
        gpu.Save(path);
        using var cpu = new Residual(Device.Cpu, 99);
        cpu.Load(path);
        var data = Enumerable.Range(0, 8).Select(i => i * 0.1f).ToArray();
        using var xg = Tensor.From<float>(data, new Shape(2, 4), DType.Float32, Gpu);
        using var xc = Tensor.From<float>(data, new Shape(2, 4), DType.Float32);
        Assert.That(RelativeError(((IModel)gpu).Run(xg).ToArray(), ((IModel)cpu).Run(xc).ToArray()), Is.LessThanOrEqualTo(1e-5));
        File.Delete(path);
    }
}
