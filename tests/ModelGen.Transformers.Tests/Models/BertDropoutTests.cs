using ModelGen.Tests.Reference;

namespace ModelGen.Transformers.Tests;

/// <summary>BERT's dropouts in training mode (the statistics of each dropout are in the core's DropoutStatisticsTests).</summary>
[Category("CpuEngine")]
public class BertDropoutTests
{
    /// <summary>A BERT classifier in training mode with all three dropouts per layer (probabilities, attention output,
    /// FFN output) plus the embeddings' and the classifier's, masks held fixed: every parameter's gradient matches
    /// central differences along a random direction (float64).</summary>
    [Test]
    public void BertInTrainingMode_WithEveryDropout_GradientsMatchFiniteDifferences()
    {
        var sizes = new EncoderSizes(VocabSize: 20, Hidden: 8, Layers: 2, Heads: 2, Intermediate: 16, MaxPositions: 6, TypeVocabSize: 2,
            LayerNormEps: 1e-12, HiddenDropout: 0.1, AttentionProbsDropout: 0.2);
        using var model = new BertForSequenceClassification(sizes, 3, Device.Cpu, seed: 4, dtype: DType.Float64);
        var shape = new Shape(2, 6);
        using var ids = Tensor.From<double>([5, 7, 9, 2, 0, 0, 3, 4, 1, 8, 6, 11], shape, DType.Int64);
        using var positions = Tensor.From<double>([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], shape, DType.Int64);
        using var types = Tensor.From<double>([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0], shape, DType.Int64);
        using var mask = Tensor.From<double>([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], shape, DType.Float64);
        int[] labels = [2, 0];
        double Loss()
        {
            foreach (var m in model.Modules()) m.Step = 0; // the same masks every time
            return model.Loss(ids, positions, types, mask, labels);
        }
        double trained = Loss();
        model.Eval();
        double evaluated = model.Loss(ids, positions, types, mask, labels);
        model.Train();
        Assert.That(Math.Abs(trained - evaluated), Is.GreaterThan(1e-6), "training mode drops out");
        model.ZeroGrad();
        Loss();
        model.Backward();
        var rng = new Random(8);
        Numerics.AssertDirectionalDerivatives(model, Loss, rng);
    }
}
