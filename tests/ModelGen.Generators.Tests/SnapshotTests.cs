using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The generated sources of FashionMlp, compared with the committed snapshots in Snapshots/.</summary>
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
}
