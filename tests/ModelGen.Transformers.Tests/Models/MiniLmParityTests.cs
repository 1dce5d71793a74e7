using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>ModelGen's BertModel on the imported all-MiniLM-L6-v2 against ONNX Runtime on the same inputs (the
/// independent reference), with padding; and the sentence-transformers embedding against its published values.</summary>
public class MiniLmParityTests
{
    private static readonly string[] Sentences =
    [
        "This is an example sentence",
        "Each sentence is converted.",
        "The food was great, but the service was terribly slow!",
        "Café déjà vu — 東京",
        "",
    ];

    /// <summary>The bound README publishes for |ModelGen − ONNX Runtime| at the real tokens of last_hidden_state (4.7e-6
    /// measured over these 48 sentences).</summary>
    internal const double PublishedBound = 1e-5;

    /// <summary>At padded positions the two differ more (1.8e-4 measured): outputs no consumer reads (pooling and the
    /// classifier skip them), and the cause is not yet identified, so they are held to a looser bound.</summary>
    internal const double PaddedBound = 1e-3;

    /// <summary>48 sentences: the five above and 43 real UCI sentences of every length, in batches of 16 padded to their
    /// longest, so that most rows carry padding. Every position is compared: the real tokens to the published bound, the
    /// padded ones (which ONNX Runtime computes too) to a looser one.</summary>
    [Test]
    public void LastHiddenState_MatchesOnnxRuntime_AtEveryPosition_WithPadding()
    {
        var dir = MiniLmTestFiles.ImportedDirectory;
        using var model = BertModel.FromPretrained(dir, Device.Cpu);
        Assert.That(AutoModel.LastLoadReport!.Missing, Is.Empty, AutoModel.LastLoadReport.ToString());
        var tokenizer = BertTokenizer.FromPretrained(dir);
        var uci = TextTestData.Sentences.Select(s => s.Text).Where((_, i) => i % 67 == 0).Take(43);
        var sentences = Sentences.Concat(uci).ToArray();
        Assert.That(sentences, Has.Length.EqualTo(48));
        model.Eval();
        double worstReal = 0, worstPadded = 0;
        int padded = 0;
        for (int start = 0; start < sentences.Length; start += 16)
        {
            var batch = tokenizer.EncodeBatch(sentences.Skip(start).Take(16).ToArray(), padding: Padding.Longest);
            int b = batch.BatchSize, seq = batch.SequenceLength;
            var (expected, _) = OnnxReference.Run(MiniLmTestFiles.OnnxPath, batch.InputIds.Select(i => (long)i).ToArray(),
                batch.AttentionMask.Select(i => (long)i).ToArray(), batch.TokenTypeIds.Select(i => (long)i).ToArray(), b, seq);
            using var ids = Tensor.From<int>(batch.InputIds, new Shape(b, seq), DType.Int32);
            using var types = Tensor.From<int>(batch.TokenTypeIds, new Shape(b, seq), DType.Int32);
            using var mask = Tensor.From<int>(batch.AttentionMask, new Shape(b, seq), DType.Float32);
            using var positions = Tensor.From<int>(Enumerable.Range(0, b * seq).Select(i => i % seq).ToArray(), new Shape(b, seq), DType.Int32);
            var actual = model.Run(ids, positions, types, mask).ToArray();
            const int hidden = 384;
            for (int i = 0; i < b * seq; i++)
            {
                bool pad = batch.AttentionMask[i] == 0;
                if (pad) padded++;
                for (int c = 0; c < hidden; c++)
                {
                    double d = Math.Abs(actual[i * hidden + c] - expected[i * hidden + c]);
                    if (pad) worstPadded = Math.Max(worstPadded, d);
                    else worstReal = Math.Max(worstReal, d);
                }
            }
        }
        TestContext.Out.WriteLine($"max |ModelGen − ONNX Runtime| over {sentences.Length} sentences: {worstReal:E2} at real tokens, {worstPadded:E2} at {padded} padded positions");
        Assert.That(padded, Is.GreaterThan(100), "the batches carry padding");
        Assert.That(worstReal, Is.LessThanOrEqualTo(PublishedBound));
        Assert.That(worstPadded, Is.LessThanOrEqualTo(PaddedBound));
    }

    [Test]
    public void SentenceEmbedding_MatchesThePublishedValues()
    {
        using var pipeline = Pipeline.FeatureExtraction(MiniLmTestFiles.ImportedDirectory, Device.Cpu);
        var embedding = pipeline.SentenceEmbeddings(["This is an example sentence"])[0];
        double[] published = [0.0676569, 0.0634959, 0.0487131, 0.0793049, 0.0374480, 0.0026528];
        for (int i = 0; i < published.Length; i++) Assert.That(embedding[i], Is.EqualTo(published[i]).Within(1e-5), $"component {i}");
        Assert.That(Math.Sqrt(embedding.Sum(v => (double)v * v)), Is.EqualTo(1).Within(1e-5));
    }

    [Test]
    public void SavePretrained_ThenFromPretrained_GivesIdenticalLogits()
    {
        using var model = BertForSequenceClassification.FromPretrained(MiniLmTestFiles.ImportedDirectory, Device.Cpu, numLabels: 3, seed: 4);
        Assert.That(AutoModel.LastLoadReport!.Missing, Is.EquivalentTo(new[] { "classifier.weight", "classifier.bias" }),
            "only the new classification head is missing (the imported checkpoint has the pooler)");
        var dir = Path.Combine(Path.GetTempPath(), $"modelgen-save-{Guid.NewGuid():N}");
        model.SavePretrained(dir);
        using var reloaded = BertForSequenceClassification.FromPretrained(dir, Device.Cpu);
        Assert.That(AutoModel.LastLoadReport!.IsExact, Is.True, AutoModel.LastLoadReport.ToString());
        var tokenizer = BertTokenizer.FromPretrained(MiniLmTestFiles.ImportedDirectory);
        var batch = tokenizer.EncodeBatch(Sentences, padding: Padding.Longest);
        int b = batch.BatchSize, seq = batch.SequenceLength;
        using var ids = Tensor.From<int>(batch.InputIds, new Shape(b, seq), DType.Int32);
        using var types = Tensor.From<int>(batch.TokenTypeIds, new Shape(b, seq), DType.Int32);
        using var mask = Tensor.From<int>(batch.AttentionMask, new Shape(b, seq), DType.Float32);
        using var positions = Tensor.From<int>(Enumerable.Range(0, b * seq).Select(i => i % seq).ToArray(), new Shape(b, seq), DType.Int32);
        model.Eval();
        reloaded.Eval();
        Assert.That(reloaded.Run(ids, positions, types, mask).ToArray(), Is.EqualTo(model.Run(ids, positions, types, mask).ToArray()));
        Directory.Delete(dir, true);
    }
}
