using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

[Model]
public partial class InitKinds
{
    [Parameter] public readonly Tensor Zeros = Tensor.Zeros(2, 3);
    [Parameter] public readonly Tensor Full = Tensor.Full([3], 0.25);
    [Parameter] public readonly Tensor Uniform = Init.Uniform([1000], low: -2, high: 3);
    [Parameter] public readonly Tensor Standard = Tensor.Randn(2000);
    [Parameter] public readonly Tensor Constant = Init.Constant([2, 2], Half);
    private const double Half = 0.5;
    Tensor Forward(Tensor x) => x * Zeros + Sum(Full) + Sum(Uniform) + Sum(Standard) + Sum(Constant);
}

/// <summary>
/// [Parameter] and [Buffer] tensor fields: the initializer read as a spec and drawn from the model's seed when it
/// binds, on its device and in its dtype; the field and the parameter are one tensor; the gradient of every use is
/// summed (checked against finite differences in float64, with broadcasting); freezing, optimizers, Save/Load and
/// nesting see it like a layer's weight; a buffer keeps its values and gets no gradient; nothing leaks.
/// </summary>
public class ParameterTensorTests
{
    [Test]
    public void Parameters_AreListedInDeclarationOrder_AndTheFieldIsTheParameter()
    {
        using var model = new PositionScaled(Device.Cpu, 3, DType.Float64);
        Assert.That(model.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "Pos", "fc.weight", "fc.bias", "Scale" }));
        Assert.That(model.Buffers.Select(p => p.Name), Is.EqualTo(new[] { "Mask" }));
        Assert.That(model.Parameter("Pos").Value, Is.SameAs(model.Pos));
        Assert.That(model.Pos.DType, Is.EqualTo(DType.Float64), "the model's dtype");
        Assert.That(model.Scale.ToDoubleArray(), Is.EqualTo(Enumerable.Repeat(1.0, 5)));
        Assert.That(model.Mask.ToDoubleArray(), Is.EqualTo(new double[] { 1, 0, 1, 1, 0 }), "a buffer keeps its given values");
        Assert.That(model.Mask.DType, Is.EqualTo(DType.Float64));
    }

    [Test]
    public void RandomInitialisation_ComesFromTheModelsSeed()
    {
        using var a = new PositionScaled(Device.Cpu, 3);
        using var b = new PositionScaled(Device.Cpu, 3);
        using var c = new PositionScaled(Device.Cpu, 4);
        _ = a.Parameters; _ = b.Parameters; _ = c.Parameters;
        Assert.That(a.Pos.ToArray(), Is.EqualTo(b.Pos.ToArray()), "same seed, same values");
        Assert.That(a.Pos.ToArray(), Is.Not.EqualTo(c.Pos.ToArray()), "another seed, other values");
    }

    [Test]
    public void EachInitialisation_HasItsDistribution()
    {
        using var model = new InitKinds(Device.Cpu, 1, DType.Float64);
        _ = model.Parameters;
        Assert.That(model.Zeros.ToDoubleArray(), Is.All.EqualTo(0.0));
        Assert.That(model.Full.ToDoubleArray(), Is.All.EqualTo(0.25));
        Assert.That(model.Constant.ToDoubleArray(), Is.All.EqualTo(0.5));
        var u = model.Uniform.ToDoubleArray();
        Assert.That(u.Min(), Is.GreaterThanOrEqualTo(-2.0));
        Assert.That(u.Max(), Is.LessThan(3.0));
        Assert.That(u.Average(), Is.EqualTo(0.5).Within(0.15), "mean of U(-2, 3) over 1000 draws (sd of the mean 0.046)");
        var n = model.Standard.ToDoubleArray();
        double mean = n.Average(), sd = Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average());
        Assert.That(mean, Is.EqualTo(0).Within(0.1));
        Assert.That(sd, Is.EqualTo(1).Within(0.08));
    }

    [Test]
    public void Gradients_MatchFiniteDifferences_WithBroadcastAndTwoUses()
    {
        using var model = new PositionScaled(Device.Cpu, 5, DType.Float64);
        using var x = Tensor.From<double>(Enumerable.Range(0, 3 * 4 * 5).Select(i => Math.Sin(0.37 * i)).ToArray(), new Shape(3, 4, 5), DType.Float64);
        using var target = Tensor.From<double>(Enumerable.Range(0, 3 * 4 * 3).Select(i => Math.Cos(i)).ToArray(), new Shape(3, 4, 3), DType.Float64);
        // move the parameters off their initial values, so that no gradient is trivially zero
        var rng = new Random(2);
        foreach (var p in model.Parameters)
        {
            var span = p.Value.AsSpan<double>();
            for (int i = 0; i < span.Length; i++) span[i] += rng.NextDouble() - 0.5;
        }
        double Loss() => model.Mse(x, target);
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, new Random(6));
        Assert.That(model.Parameter("Pos").Grad.ToDoubleArray().Any(v => v != 0), "the position table gets a gradient");
        Assert.That(model.Buffer("Mask").RequiresGrad, Is.False);
    }

    [Test]
    public void AFrozenParameter_KeepsItsGradient_AndAdamMovesTheOthers()
    {
        using var model = new PositionScaled(Device.Cpu, 5);
        using var x = Tensor.From<float>(Enumerable.Range(0, 4 * 5).Select(i => (float)Math.Sin(i)).ToArray(), new Shape(4, 5), DType.Float32);
        using var target = Tensor.Zeros(4, 3);
        model.Parameter("Scale").RequiresGrad = false;
        var scaleBefore = model.Scale.ToArray();
        var posBefore = model.Pos.ToArray();
        using var optimizer = new ModelGen.Optim.Adam(model.Parameters, lr: 0.01);
        model.ZeroGrad();
        model.Mse(x, target);
        model.Backward();
        optimizer.Step();
        Assert.That(model.Parameter("Scale").Grad.ToArray(), Is.All.EqualTo(0f), "no gradient reaches a frozen parameter");
        Assert.That(model.Scale.ToArray(), Is.EqualTo(scaleBefore));
        Assert.That(model.Pos.ToArray(), Is.Not.EqualTo(posBefore), "Adam moved the position table");
    }

    [Test]
    public void SaveAndLoad_RoundTripTheTensorFields()
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelgen-parameter-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var model = new PositionScaled(Device.Cpu, 8))
            {
                _ = model.Parameters; // binding draws the initial values: write after it
                model.Pos.AsSpan<float>().Fill(0.75f);
                model.Save(path);
            }
            using var loaded = new PositionScaled(Device.Cpu, 9);
            loaded.Load(path);
            Assert.That(loaded.Pos.ToArray(), Is.All.EqualTo(0.75f));
            Assert.That(loaded.Mask.ToArray(), Is.EqualTo(new float[] { 1, 0, 1, 1, 0 }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void NestedBlocks_PrefixTheirParameterNames()
    {
        using var model = new TwoScaledBlocks(Device.Cpu, 0, DType.Float64);
        Assert.That(model.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "first.gamma", "second.gamma" }));
        using var x = Tensor.From<double>([1, 2, 3, 4, 5], new Shape(1, 5), DType.Float64);
        Assert.That(model.Run(x).ToDoubleArray(), Is.EqualTo(new[] { 0.01, 0.02, 0.03, 0.04, 0.05 }).Within(1e-15));
    }

    [Test]
    public void AnUnboundModel_FreesWhatItsInitializersAllocated()
    {
        var model = new PositionScaled(Device.Cpu, 0);
        var pos = model.Pos;
        Assert.That(pos.IsDisposed, Is.False);
        model.Dispose();
        Assert.That(pos.IsDisposed, Is.True);
        var bound = new PositionScaled(Device.Cpu, 0);
        _ = bound.Parameters;
        var boundPos = bound.Pos;
        bound.Dispose();
        Assert.That(boundPos.IsDisposed, Is.True, "a bound tensor field is freed with its parameter");
    }
}
