using ModelGen.IO;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>Model directories: single and sharded safetensors, pickle refusal, name normalisation, missing/unexpected keys.</summary>
[TestFixture]
public sealed class PretrainedFilesTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "modelgen-pretrained-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Writes tensors whose values are name-dependent (first value = index + 1, the rest counting on).</summary>
    private static void WriteSafeTensors(string path, params (string Name, int[] Shape)[] tensors)
    {
        var owned = new List<(string, Tensor)>();
        try
        {
            for (int i = 0; i < tensors.Length; i++)
            {
                var (name, shape) = tensors[i];
                int n = shape.Aggregate(1, (a, d) => a * d);
                owned.Add((name, Tensor.From<float>(Enumerable.Range(0, n).Select(k => (float)(100 * (i + 1) + k)).ToArray(), new Shape(shape), DType.Float32)));
            }
            SafeTensorsWriter.Write(path, owned, new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (var (_, t) in owned) t.Dispose();
        }
    }

    private string P(string name) => Path.Combine(_dir, name);

    [Test]
    public void SingleFile_GivesTensorsByName()
    {
        WriteSafeTensors(P("model.safetensors"), ("embeddings.word_embeddings.weight", [4, 2]), ("pooler.dense.bias", [2]));
        using var w = PretrainedFiles.OpenWeights(_dir);
        Assert.That(w.Names, Is.EqualTo(new[] { "embeddings.word_embeddings.weight", "pooler.dense.bias" }));
        Assert.That(w.IndexPath, Is.Null);
        Assert.That(w.GetShape("embeddings.word_embeddings.weight"), Is.EqualTo(new[] { 4, 2 }));
        Assert.That(w.ReadFloats("pooler.dense.bias"), Is.EqualTo(new[] { 200f, 201f }));
        using var t = w.ReadTensor("embeddings.word_embeddings.weight");
        Assert.That(t.Shape.Dims.ToArray(), Is.EqualTo(new[] { 4, 2 }));
        Assert.Throws<KeyNotFoundException>(() => w.ReadFloats("classifier.weight"));
    }

    [Test]
    public void ShardedIndex_ReadsEveryShard()
    {
        WriteSafeTensors(P("model-00001-of-00002.safetensors"), ("bert.embeddings.word_embeddings.weight", [3, 2]), ("bert.embeddings.LayerNorm.weight", [2]));
        WriteSafeTensors(P("model-00002-of-00002.safetensors"), ("bert.pooler.dense.weight", [2, 2]), ("classifier.bias", [3]));
        File.WriteAllText(P("model.safetensors.index.json"), """
            {
              "metadata": { "total_size": 64 },
              "weight_map": {
                "bert.embeddings.LayerNorm.weight": "model-00001-of-00002.safetensors",
                "bert.embeddings.word_embeddings.weight": "model-00001-of-00002.safetensors",
                "bert.pooler.dense.weight": "model-00002-of-00002.safetensors",
                "classifier.bias": "model-00002-of-00002.safetensors"
              }
            }
            """);
        using var w = PretrainedFiles.OpenWeights(_dir);
        Assert.That(w.IndexPath, Is.EqualTo(P("model.safetensors.index.json")));
        Assert.That(w.Files.Select(Path.GetFileName), Is.EqualTo(new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" }));
        Assert.That(w.Count, Is.EqualTo(4));
        Assert.That(w.ReadFloats("bert.embeddings.LayerNorm.weight"), Is.EqualTo(new[] { 200f, 201f }));
        Assert.That(w.ReadFloats("classifier.bias"), Is.EqualTo(new[] { 200f, 201f, 202f }));
        Assert.That(w.ReadFloats("pooler.dense.weight"), Is.EqualTo(new[] { 100f, 101f, 102f, 103f }), "prefix-less name resolves in a shard too");
    }

    [TestCase("""{"weight_map": {"a": "missing.safetensors"}}""", "names shard 'missing.safetensors', which does not exist")]
    [TestCase("""{"weight_map": {"a": "../model-00001.safetensors"}}""", "which is not a file name inside the model directory")]
    [TestCase("""{"weight_map": {"not.there": "model-00001.safetensors"}}""", "puts 'not.there' in model-00001.safetensors, but that file does not hold it")]
    [TestCase("""{"metadata": {}}""", "missing 'weight_map'")]
    [TestCase("""{"weight_map": {"a": 3}}""", "'weight_map'[\"a\"] must be a file name")]
    [TestCase("""{"weight_map": """, "not valid JSON")]
    public void ShardedIndex_Errors_NameTheIndexFile(string index, string problem)
    {
        WriteSafeTensors(P("model-00001.safetensors"), ("a", [1]));
        File.WriteAllText(P("model.safetensors.index.json"), index);
        var ex = Assert.Catch<SystemException>(() => PretrainedFiles.OpenWeights(_dir))!; // InvalidDataException or FileNotFoundException
        Assert.That(ex.Message, Does.StartWith(P("model.safetensors.index.json") + ": "));
        Assert.That(ex.Message, Does.Contain(problem));
    }

    [TestCase("pytorch_model.bin")]
    [TestCase("model.pt")]
    public void PickleOnlyDirectory_IsRefused_WithTheConversionCommand(string file)
    {
        // Not even read: a pickle is a program. The bytes here would crash any reader that tried.
        File.WriteAllBytes(P(file), [0x80, 0x02, 0x63, 0x6f, 0x73, 0x0a]);
        File.WriteAllText(P("config.json"), """{"vocab_size": 10}""");
        var ex = Assert.Throws<NotSupportedException>(() => PretrainedFiles.OpenWeights(_dir))!;
        Assert.That(ex.Message, Does.StartWith(_dir + ": "));
        Assert.That(ex.Message, Does.Contain(file));
        Assert.That(ex.Message, Does.Contain("arbitrary code"));
        Assert.That(ex.Message, Does.Contain("from transformers import AutoModel").And.Contain("save_pretrained(d, safe_serialization=True)"));
        Assert.That(ex.Message, Does.Contain(Path.GetFullPath(_dir)));
    }

    [Test]
    public void BinBesideSafeTensors_UsesTheSafeTensors()
    {
        File.WriteAllBytes(P("pytorch_model.bin"), [1, 2, 3]);
        WriteSafeTensors(P("model.safetensors"), ("x", [1]));
        using var w = PretrainedFiles.OpenWeights(_dir);
        Assert.That(w.Names, Is.EqualTo(new[] { "x" }));
    }

    [Test]
    public void NoWeights_ListsWhatIsThere()
    {
        File.WriteAllText(P("config.json"), "{}");
        var ex = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.OpenWeights(_dir))!;
        Assert.That(ex.Message, Does.Contain("no model.safetensors or model.safetensors.index.json").And.Contain("config.json"));
        Assert.Throws<DirectoryNotFoundException>(() => PretrainedFiles.OpenWeights(P("absent")));
    }

    [TestCase("bert.embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight")]
    [TestCase("embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight")]
    [TestCase("bert.embeddings.LayerNorm.gamma", "embeddings.LayerNorm.weight")]
    [TestCase("bert.encoder.layer.0.output.LayerNorm.beta", "bert.encoder.layer.0.output.LayerNorm.bias")]
    [TestCase("encoder.layer.3.attention.output.LayerNorm.gamma", "bert.encoder.layer.3.attention.output.LayerNorm.weight")]
    [TestCase("distilbert.transformer.layer.0.sa_layer_norm.weight", "transformer.layer.0.sa_layer_norm.weight")]
    public void Names_ResolveWithOrWithoutPrefix_AndGammaBeta(string stored, string requested)
    {
        WriteSafeTensors(P("model.safetensors"), (stored, [2]));
        using var w = PretrainedFiles.OpenWeights(_dir);
        Assert.That(w.TryResolve(requested, out var resolved), Is.True);
        Assert.That(resolved, Is.EqualTo(stored));
        Assert.That(w.ReadFloats(requested), Is.EqualTo(new[] { 100f, 101f }));
        Assert.That(w.Match([requested]).IsExact, Is.True);
    }

    [Test]
    public void NormalizeName_StripsPrefixAndFixesGammaBeta()
    {
        Assert.That(PretrainedFiles.NormalizeName("bert.embeddings.LayerNorm.gamma"), Is.EqualTo("embeddings.LayerNorm.weight"));
        Assert.That(PretrainedFiles.NormalizeName("encoder.layer.0.output.LayerNorm.beta"), Is.EqualTo("encoder.layer.0.output.LayerNorm.bias"));
        Assert.That(PretrainedFiles.NormalizeName("classifier.weight"), Is.EqualTo("classifier.weight"));
        Assert.That(PretrainedFiles.NormalizeName("bert.pooler.dense.bias"), Is.EqualTo("pooler.dense.bias"));
    }

    [Test]
    public void PrefixedAndUnprefixedCopies_AreAmbiguous()
    {
        WriteSafeTensors(P("model.safetensors"), ("bert.pooler.dense.bias", [2]), ("pooler.dense.bias", [2]));
        var ex = Assert.Throws<InvalidDataException>(() => PretrainedFiles.OpenWeights(_dir))!;
        Assert.That(ex.Message, Does.Contain("'bert.pooler.dense.bias' and 'pooler.dense.bias'"));
    }

    [Test]
    public void Match_ReportsMissingAndUnexpected_LikeHuggingFace()
    {
        // A BertForPreTraining checkpoint (MLM head, old gamma/beta names, a position_ids buffer) loaded into a
        // BertForSequenceClassification: the MLM head is unexpected, the new classifier missing.
        WriteSafeTensors(P("model.safetensors"),
            ("bert.embeddings.word_embeddings.weight", [5, 2]),
            ("bert.embeddings.LayerNorm.gamma", [2]),
            ("bert.embeddings.LayerNorm.beta", [2]),
            ("bert.embeddings.position_ids", [1, 4]),
            ("cls.predictions.bias", [5]),
            ("cls.predictions.transform.dense.weight", [2, 2]));
        using var w = PretrainedFiles.OpenWeights(_dir);
        var report = w.Match(["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
            "classifier.weight", "classifier.bias"]);
        Assert.Multiple(() =>
        {
            Assert.That(report.Loaded, Is.EqualTo(new[] { "bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias" }));
            Assert.That(report.Missing, Is.EqualTo(new[] { "classifier.weight", "classifier.bias" }));
            Assert.That(report.Unexpected, Is.EqualTo(new[] { "cls.predictions.bias", "cls.predictions.transform.dense.weight" }));
            Assert.That(report.Ignored, Is.EqualTo(new[] { "bert.embeddings.position_ids" }));
            Assert.That(report.IsExact, Is.False);
            Assert.That(report.ToString(), Does.Contain("missing (newly initialised): classifier.weight, classifier.bias"));
        });
    }

    [Test]
    public void LoadInto_CopiesValues_ReportsMissing_AndRefusesShapeMismatch()
    {
        WriteSafeTensors(P("model.safetensors"), ("bert.pooler.dense.weight", [2, 2]), ("bert.pooler.dense.bias", [2]), ("extra", [1]));
        using var w = PretrainedFiles.OpenWeights(_dir);
        using var weight = new Parameter("pooler.dense.weight", Tensor.Zeros(2, 2));
        using var bias = new Parameter("pooler.dense.bias", Tensor.Zeros(2));
        using var head = new Parameter("classifier.weight", Tensor.Zeros(3, 2));
        var report = w.LoadInto([weight, bias, head]);
        Assert.That(weight.Value.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 100f, 101f, 102f, 103f }));
        Assert.That(bias.Value.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 200f, 201f }));
        Assert.That(head.Value.AsSpan<float>().ToArray(), Is.All.Zero, "a missing tensor leaves the parameter as it was");
        Assert.That(report.Missing, Is.EqualTo(new[] { "classifier.weight" }));
        Assert.That(report.Unexpected, Is.EqualTo(new[] { "extra" }));

        using var wrong = new Parameter("pooler.dense.weight", Tensor.Zeros(3, 2));
        var ex = Assert.Throws<InvalidDataException>(() => w.LoadInto([wrong]))!;
        Assert.That(ex.Message, Does.Contain("'bert.pooler.dense.weight' has shape [2, 2]").And.Contain("[3, 2]"));
    }

    [Test]
    public void LoadConfig_ReadsConfigJsonBesideTheWeights()
    {
        File.WriteAllText(P("config.json"), """{"vocab_size": 99, "hidden_size": 4, "num_attention_heads": 2}""");
        Assert.That(PretrainedFiles.LoadConfig(_dir).VocabSize, Is.EqualTo(99));
    }
}
