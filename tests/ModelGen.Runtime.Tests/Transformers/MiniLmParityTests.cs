using ModelGen.Text;
using ModelGen.Transformers;

namespace ModelGen.Tests.Transformers;

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

    [Test]
    public void LastHiddenState_MatchesOnnxRuntime_WithPadding()
    {
        var dir = MiniLmTestFiles.ImportedDirectory;
        using var model = BertModel.FromPretrained(dir, Device.Cpu);
        Assert.That(AutoModel.LastLoadReport!.Missing, Is.Empty, AutoModel.LastLoadReport.ToString());
        var tokenizer = BertTokenizer.FromPretrained(dir);
        var batch = tokenizer.EncodeBatch(Sentences, padding: Padding.Longest);
        int b = batch.BatchSize, seq = batch.SequenceLength;
        var (expected, _) = OnnxReference.Run(MiniLmTestFiles.OnnxPath, batch.InputIds.Select(i => (long)i).ToArray(),
            batch.AttentionMask.Select(i => (long)i).ToArray(), batch.TokenTypeIds.Select(i => (long)i).ToArray(), b, seq);
        using var ids = Tensor.From<int>(batch.InputIds, new Shape(b, seq), DType.Float32);
        using var types = Tensor.From<int>(batch.TokenTypeIds, new Shape(b, seq), DType.Float32);
        using var mask = Tensor.From<int>(batch.AttentionMask, new Shape(b, seq), DType.Float32);
        using var positions = Tensor.From<int>(Enumerable.Range(0, b * seq).Select(i => i % seq).ToArray(), new Shape(b, seq), DType.Float32);
        model.Eval();
        var actual = model.Run(ids, positions, types, mask).ToArray();
        double maxDiff = 0;
        int hidden = 384;
        for (int i = 0; i < b * seq; i++)
        {
            if (batch.AttentionMask[i] == 0) continue; // padded positions are not defined outputs
            for (int c = 0; c < hidden; c++) maxDiff = Math.Max(maxDiff, Math.Abs(actual[i * hidden + c] - expected[i * hidden + c]));
        }
        TestContext.Out.WriteLine($"max |ModelGen − ONNX Runtime| over {b} sentences × {seq} positions: {maxDiff:E2}");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-4));
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
        using var ids = Tensor.From<int>(batch.InputIds, new Shape(b, seq), DType.Float32);
        using var types = Tensor.From<int>(batch.TokenTypeIds, new Shape(b, seq), DType.Float32);
        using var mask = Tensor.From<int>(batch.AttentionMask, new Shape(b, seq), DType.Float32);
        using var positions = Tensor.From<int>(Enumerable.Range(0, b * seq).Select(i => i % seq).ToArray(), new Shape(b, seq), DType.Float32);
        model.Eval();
        reloaded.Eval();
        Assert.That(reloaded.Run(ids, positions, types, mask).ToArray(), Is.EqualTo(model.Run(ids, positions, types, mask).ToArray()));
        Directory.Delete(dir, true);
    }
}
