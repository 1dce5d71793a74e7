using ModelGen.Tests.Reference;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>The BERT-family models shipped in the package, at tiny sizes: names, shapes and end-to-end gradients.</summary>
[Category("CpuEngine")]
public class BertModelTests
{
    private static readonly EncoderSizes Tiny = new(VocabSize: 30, Hidden: 8, Layers: 2, Heads: 2, Intermediate: 12, MaxPositions: 10,
        TypeVocabSize: 2, LayerNormEps: 1e-12, HiddenDropout: 0.1);

    [Test]
    public void BertForSequenceClassification_GradientsMatchFiniteDifferences()
    {
        using var model = new BertForSequenceClassification(Tiny, numLabels: 3, Device.Cpu, seed: 2);
        Assert.That(model.Parameters.Select(p => p.Name), Does.Contain("bert.layers.1.attention_norm.weight").And.Contain("classifier.bias"));
        using var m = new BertForSequenceClassification(Tiny, numLabels: 3, Device.Cpu, seed: 5, dtype: DType.Float64);
        m.Eval(); // dropout off: finite differences need a deterministic function
        double[] ids = [2, 5, 7, 0, 0, 3, 9, 11, 4, 1], pos = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], types = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1], mask = [1, 1, 1, 0, 0, 1, 1, 1, 1, 1];
        using var idt = Tensor.From<double>(ids, new Shape(2, 5), DType.Int64);
        using var pt = Tensor.From<double>(pos, new Shape(2, 5), DType.Int64);
        using var tt = Tensor.From<double>(types, new Shape(2, 5), DType.Int64);
        using var mt = Tensor.From<double>(mask, new Shape(2, 5), DType.Float64);
        int[] labels = [1, 2];
        double Loss() => m.CrossEntropy(idt, pt, tt, mt, labels);
        Loss();
        m.Backward();
        var rng = new Random(3);
        Numerics.AssertDirectionalDerivatives(m, Loss, rng);
    }

    [Test]
    public void DistilBert_RunsAndTrainsOneStep()
    {
        using var model = new DistilBertForSequenceClassification(Tiny, numLabels: 2, Device.Cpu, seed: 1);
        using var opt = new ModelGen.Optim.AdamW(model.Parameters, 1e-2);
        float[] ids = [2, 5, 7, 0], pos = [0, 1, 2, 3], mask = [1, 1, 1, 0];
        using var idt = Tensor.From<float>(ids, new Shape(1, 4), DType.Int32);
        using var pt = Tensor.From<float>(pos, new Shape(1, 4), DType.Int32);
        using var mt = Tensor.From(mask, 1, 4);
        double first = model.CrossEntropy(idt, pt, mt, [1]);
        for (int i = 0; i < 20; i++)
        {
            model.CrossEntropy(idt, pt, mt, [1]);
            model.Backward();
            opt.Step();
            opt.ZeroGrad();
        }
        Assert.That(model.CrossEntropy(idt, pt, mt, [1]), Is.LessThan(first));
        Assert.That(model.Parameters.Select(p => p.Name), Does.Contain("distilbert.layers.0.query.weight").And.Contain("pre_classifier.weight"));
    }
}
