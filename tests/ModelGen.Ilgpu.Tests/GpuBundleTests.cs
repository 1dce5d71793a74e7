namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// The GPU bundle's models beside the per-op comparisons (scripts/gpu-bundle.sh runs every [Category("Gpu")] test on
/// MODELGEN_GPU_DEVICE, default cuda): the quickstart MLP for 3 AdamW steps, one step of the FashionCnn sample at its
/// real 28×28 size, and one fine-tuning step of a BERT classifier of all-MiniLM-L6-v2's shape (random weights: the
/// 91 MB pretrained file does not travel), each against the CPU engine with the same rule as the other engine tests.
/// </summary>
[Category("Gpu")]
public class GpuBundleTests
{
    private static Device Gpu => Device.Parse(Environment.GetEnvironmentVariable("MODELGEN_GPU_DEVICE") ?? "cuda");

    [Test]
    public void QuickstartMlp_ThreeAdamWSteps_AgreeWithTheCpuEngine()
    {
        var c = new CnnComparison.Case("quickstart-mlp", d => new FashionMnistSample.FashionMlp(d, 3), [64, 784], CrossEntropy: true);
        Report.Line($"{c.Name} on {Gpu.Name}: {CnnComparison.Compare(c, Gpu)}");
    }

    [Test]
    public void FashionCnnAt28x28_OneStep_AgreesWithTheCpuEngine()
    {
        var c = new CnnComparison.Case("fashion-cnn-28x28", d => new FashionCnnSample.FashionCnn(d, 3), [16, 1, 28, 28], CrossEntropy: true, TrainingOutputs: false);
        Report.Line($"{c.Name} on {Gpu.Name}: {CnnComparison.Compare(c, Gpu, steps: 1)}");
    }

    [Test]
    public void MiniLmShapedBert_OneFineTuningStep_AgreesWithTheCpuEngine()
        => TransformerAgreement.TaskSteps(Gpu, "bert", TransformerAgreement.MiniLmSizes, batchSize: 8, maxLength: 32, steps: 1);
}
