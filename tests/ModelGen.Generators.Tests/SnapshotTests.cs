using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The generated sources of FashionMlp and of a residual GELU block (a fused element-wise kernel in its CPU and
/// ILGPU forms, and its derived backward), compared with the committed snapshots in Snapshots/.</summary>
public sealed class SnapshotTests
{
    [Test]
    public void FashionMlpModel()
    {
        var run = GeneratorHarness.Run(TestSources.FashionMlp);
        Assert.That(run.Result.Results[0].Exception, Is.Null);
        var model = run.Source("FashionMlp.g.cs");
        // fc1 and fc2 are fused with the following ReLU.
        Assert.That(model, Does.Contain("LinearForward<T, global::ModelGen.Cpu.ReluActivation<T>>"));
        Snapshot.Verify("FashionMlp.g", model);
    }

    [Test]
    public void FashionMlpKernels()
    {
        var run = GeneratorHarness.Run(TestSources.FashionMlp);
        Assert.That(run.Result.Results[0].Exception, Is.Null);
        Snapshot.Verify("FashionMlp.Kernels.g", run.Source("FashionMlp.Kernels.g.cs"));
    }

    private const string ResidualGelu = """
        using ModelGen;
        namespace Samples.Residual;

        [Model]
        public partial class ResidualGelu
        {
            [Layer] readonly Linear fc1 = new(4, 8);
            [Layer] readonly Linear fc2 = new(8, 8);
            [Layer] readonly Linear head = new(8, 3);

            Tensor Forward(Tensor x)
            {
                var h = Tanh(fc1.Apply(x));
                h = h + Gelu(fc2.Apply(h)) * 0.5;
                return head.Apply(h);
            }
        }
        """;

    [Test]
    public void ResidualGeluModelAndKernels()
    {
        var run = GeneratorHarness.Run(ResidualGelu);
        Assert.That(run.Result.Results[0].Exception, Is.Null);
        var model = run.Source("ResidualGelu.g.cs");
        var kernels = run.Source("ResidualGelu.Kernels.g.cs");
        Assert.That(model, Does.Contain("LinearForward<T, global::ModelGen.Cpu.TanhActivation<T>>"), "tanh fused into fc1's epilogue");
        Assert.That(kernels, Does.Contain("VMath.GeluGrad(").And.Contain("GpuMath.GeluGrad("), "one rule, CPU and ILGPU forms");
        Snapshot.Verify("ResidualGelu.g", model);
        Snapshot.Verify("ResidualGelu.Kernels.g", kernels);
    }
}
