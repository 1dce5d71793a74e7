using ModelGen.Tests.Graphs;
using ModelGen.Tests.Models;
using ModelGen.Tests.Ops;

namespace ModelGen.Tests;

public class ModuleTests
{
    [Test]
    public void Parameters_AreNamedAndShapedLikePyTorch()
    {
        using var model = new FashionMlp(Device.Cpu, seed: 1);
        Assert.That(model.Parameters.Select(p => $"{p.Name} {p.Shape}"), Is.EqualTo(new[]
        {
            "fc1.weight [512, 784]", "fc1.bias [512]", "fc2.weight [512, 512]", "fc2.bias [512]", "fc3.weight [10, 512]", "fc3.bias [10]",
        }));
        Assert.That(model.ParameterCount, Is.EqualTo(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10));
    }

    [Test]
    public void NestedAndListParameters_HaveDottedNames()
    {
        using var stack = new Stack(2, 4, DType.Float32);
        Assert.That(stack.Parameters.Select(p => p.Name), Is.EqualTo(new[]
        {
            "input.weight", "input.bias", "blocks.0.fc.weight", "blocks.0.fc.bias", "blocks.1.fc.weight", "blocks.1.fc.bias", "head.weight", "head.bias",
        }));
        using var nested = new Nested(Device.Cpu);
        Assert.That(nested.Parameters.Select(p => p.Name), Does.Contain("block.fc.weight"));
    }

    [Test]
    public void LinearInit_IsUniformWithinOneOverSqrtFanIn_AndSeeded()
    {
        using var a = new LinearOp(257, 17, DType.Float64, seed: 5);
        using var b = new LinearOp(257, 17, DType.Float64, seed: 5);
        using var c = new LinearOp(257, 17, DType.Float64, seed: 6);
        var w = a.Parameter("fc.weight").Value.ToDoubleArray();
        double bound = 1 / Math.Sqrt(257);
        Assert.That(w.All(v => Math.Abs(v) <= bound), Is.True);
        // U(−k, k): mean ≈ 0, variance k²/3
        double mean = w.Average(), variance = w.Select(v => (v - mean) * (v - mean)).Average();
        Assert.That(mean, Is.EqualTo(0).Within(4 * bound / Math.Sqrt(3 * w.Length)));
        Assert.That(variance, Is.EqualTo(bound * bound / 3).Within(0.1 * bound * bound / 3));
        Assert.That(a.Parameter("fc.bias").Value.ToDoubleArray().All(v => Math.Abs(v) <= bound), Is.True);
        Assert.That(b.Parameter("fc.weight").Value.ToDoubleArray(), Is.EqualTo(w), "same seed, same weights");
        Assert.That(c.Parameter("fc.weight").Value.ToDoubleArray(), Is.Not.EqualTo(w), "another seed, other weights");
    }

    [Test]
    public void ZeroGrad_ReadsAsZeros_ThenBackwardWritesAFreshGradient_AndAccumulatesWithout()
    {
        using var model = new FashionMlp(Device.Cpu, seed: 2);
        var rng = new Random(7);
        using var x = Tensor.From<float>(Enumerable.Range(0, 3 * 784).Select(_ => (float)rng.NextDouble()).ToArray(), new Shape(3, 784), DType.Float32);
        int[] labels = [1, 4, 9];
        model.CrossEntropy(x, labels);
        model.Backward();
        var once = model.Parameters.Select(p => p.Grad.ToArray()).ToList();
        Assert.That(once.All(g => g.Any(v => v != 0)), Is.True, "every parameter gets a gradient");

        model.CrossEntropy(x, labels);
        model.Backward();
        for (int i = 0; i < once.Count; i++)
            Assert.That(model.Parameters[i].Grad.ToArray(), Is.EqualTo(once[i].Select(v => 2 * v)).Within(1e-5), $"{model.Parameters[i].Name} accumulates");

        model.ZeroGrad();
        Assert.That(model.Parameters[0].Grad.ToArray().All(v => v == 0), Is.True, "a cleared gradient reads as zeros");
        model.ZeroGrad();
        model.CrossEntropy(x, labels);
        model.Backward();
        for (int i = 0; i < once.Count; i++)
            Assert.That(model.Parameters[i].Grad.ToArray(), Is.EqualTo(once[i]), $"{model.Parameters[i].Name} after ZeroGrad is the fresh gradient");
    }

    [Test]
    public void SaveLoad_RoundTripsEveryParameter_AndRejectsMismatches()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-save").FullName;
        var path = Path.Combine(dir, "model.safetensors");
        using var a = new Residual(Device.Cpu, seed: 3);
        a.Save(path);
        using var b = new Residual(Device.Cpu, seed: 4);
        Assert.That(b.Parameter("fc1.weight").Value.ToArray(), Is.Not.EqualTo(a.Parameter("fc1.weight").Value.ToArray()));
        b.Load(path);
        foreach (var p in a.Parameters) Assert.That(b.Parameter(p.Name).Value.ToArray(), Is.EqualTo(p.Value.ToArray()), p.Name);
        using var other = new FanOut(Device.Cpu);
        var e = Assert.Throws<InvalidDataException>(() => other.Load(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("fc1.weight"));
        Directory.Delete(dir, true);
    }

    [Test]
    public void WrongInputShape_NamesTheLayerAndBothShapes()
    {
        using var model = new FashionMlp(Device.Cpu);
        using var x = Tensor.Zeros(8, 300);
        var e = Assert.Throws<ShapeMismatchException>(() => model.Run(x))!;
        Assert.That(e.Message, Does.Contain("fc1").And.Contain("[*, 784]").And.Contain("[8, 300]"));
    }

    [Test]
    public void WrongDType_IsAClearError()
    {
        using var model = new FashionMlp(Device.Cpu);
        using var x = Tensor.Zeros(new Shape(2, 784), DType.Float64);
        var e = Assert.Throws<ArgumentException>(() => model.Run(x))!;
        Assert.That(e.Message, Does.Contain("Float64").And.Contain("Float32"));
    }

    [Test]
    public void Dispose_IsIdempotent_AndADisposedModelThrows()
    {
        var model = new FashionMlp(Device.Cpu);
        var weight = model.Parameter("fc1.weight").Value;
        model.Dispose();
        model.Dispose();
        Assert.That(weight.IsDisposed, Is.True);
        using var x = Tensor.Zeros(2, 784);
        Assert.Throws<ObjectDisposedException>(() => model.Run(x));
    }

    [Test]
    public void BatchSizeChanges_UseSeparatePlans_WithTheSameResults()
    {
        using var model = new FashionMlp(Device.Cpu, seed: 2);
        model.Eval();
        var rng = new Random(4);
        var data = Enumerable.Range(0, 5 * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        using var five = Tensor.From(data, 5, 784);
        using var one = Tensor.From(data.AsSpan(0, 784), 1, 784);
        var fromFive = model.Run(five).ToArray().Take(10).ToArray();
        var fromOne = model.Run(one).ToArray();
        Assert.That(fromOne, Is.EqualTo(fromFive).Within(1e-5));
        Assert.That(model.Run(five).ToArray().Take(10), Is.EqualTo(fromFive));
    }

    [Test]
    public void BackwardWithoutForward_AndNonScalarBackward_AreClearErrors()
    {
        using var model = new FashionMlp(Device.Cpu);
        Assert.That(Assert.Throws<InvalidOperationException>(() => model.Backward())!.Message, Does.Contain("forward pass first"));
        using var x = Tensor.Zeros(2, 784);
        model.Run(x);
        Assert.That(Assert.Throws<InvalidOperationException>(() => model.Backward())!.Message, Does.Contain("one-element output"));
    }
}
