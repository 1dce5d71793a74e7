using System.Text.Json;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>config.json: HuggingFace key names for BERT and DistilBERT, round trips, and errors naming file and key.</summary>
[TestFixture]
public sealed class BertConfigTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "modelgen-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string WriteConfig(string json, string name = "config.json")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    // bert-base-uncased's config.json as the Hub serves it.
    private const string BertBaseUncased = """
        {
          "architectures": ["BertForMaskedLM"],
          "attention_probs_dropout_prob": 0.1,
          "gradient_checkpointing": false,
          "hidden_act": "gelu",
          "hidden_dropout_prob": 0.1,
          "hidden_size": 768,
          "initializer_range": 0.02,
          "intermediate_size": 3072,
          "layer_norm_eps": 1e-12,
          "max_position_embeddings": 512,
          "model_type": "bert",
          "num_attention_heads": 12,
          "num_hidden_layers": 12,
          "pad_token_id": 0,
          "position_embedding_type": "absolute",
          "transformers_version": "4.6.0.dev0",
          "type_vocab_size": 2,
          "use_cache": true,
          "vocab_size": 30522
        }
        """;

    // distilbert-base-uncased-finetuned-sst-2-english's config.json (HF's default sentiment pipeline).
    private const string DistilBertSst2 = """
        {
          "activation": "gelu",
          "architectures": ["DistilBertForSequenceClassification"],
          "attention_dropout": 0.1,
          "dim": 768,
          "dropout": 0.1,
          "finetuning_task": "sst-2",
          "hidden_dim": 3072,
          "id2label": { "0": "NEGATIVE", "1": "POSITIVE" },
          "initializer_range": 0.02,
          "label2id": { "NEGATIVE": 0, "POSITIVE": 1 },
          "max_position_embeddings": 512,
          "model_type": "distilbert",
          "n_heads": 12,
          "n_layers": 6,
          "output_past": true,
          "pad_token_id": 0,
          "qa_dropout": 0.1,
          "seq_classif_dropout": 0.2,
          "sinusoidal_pos_embds": false,
          "tie_weights_": true,
          "vocab_size": 30522
        }
        """;

    [Test]
    public void Load_BertBaseUncased_ReadsEveryField()
    {
        var c = BertConfig.Load(WriteConfig(BertBaseUncased));
        Assert.Multiple(() =>
        {
            Assert.That(c.ModelType, Is.EqualTo("bert"));
            Assert.That(c.Architectures, Is.EqualTo(new[] { "BertForMaskedLM" }));
            Assert.That((c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize), Is.EqualTo((30522, 768, 12, 12, 3072)));
            Assert.That((c.MaxPositionEmbeddings, c.TypeVocabSize, c.PadTokenId), Is.EqualTo((512, 2, (int?)0)));
            Assert.That((c.HiddenDropoutProb, c.AttentionProbsDropoutProb, c.LayerNormEps), Is.EqualTo((0.1, 0.1, 1e-12)));
            Assert.That(c.Activation, Is.EqualTo(BertActivation.Gelu));
            Assert.That(c.HeadDim, Is.EqualTo(64));
            Assert.That(c.NumLabels, Is.EqualTo(2));
            Assert.That(c.GetLabel(1), Is.EqualTo("LABEL_1"));
            Assert.That(c.Extra.Keys, Is.EquivalentTo(new[] { "gradient_checkpointing", "transformers_version", "use_cache" }));
        });
    }

    [Test]
    public void SaveThenLoad_RoundTripsBertWithLabelsAndUnknownKeys()
    {
        var original = BertConfig.Parse(BertBaseUncased) with
        {
            Architectures = ["BertForSequenceClassification"],
            NumLabels = 3,
            Id2Label = new Dictionary<int, string> { [0] = "negative", [1] = "neutral", [2] = "positive" },
            Label2Id = new Dictionary<string, int> { ["negative"] = 0, ["neutral"] = 1, ["positive"] = 2 },
            ProblemType = "single_label_classification",
            HiddenAct = "gelu_new",
        };
        var path = Path.Combine(_dir, "sub", "config.json");
        original.Save(path);
        var loaded = BertConfig.Load(path);
        Assert.That(loaded, Is.EqualTo(original));
        Assert.That(loaded.Activation, Is.EqualTo(BertActivation.GeluTanh));

        // HuggingFace's spelling: snake_case keys, sorted, id2label keyed by strings, unknown keys kept.
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(keys, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(keys, Is.SupersetOf(new[] { "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
            "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
            "pad_token_id", "vocab_size", "model_type", "architectures", "id2label", "label2id", "problem_type", "transformers_version" }));
        Assert.That(doc.RootElement.GetProperty("id2label").GetProperty("2").GetString(), Is.EqualTo("positive"));
        Assert.That(doc.RootElement.GetProperty("use_cache").GetBoolean(), Is.True);
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary file left beside it");
    }

    [Test]
    public void DistilBertNames_MapOntoTheSameRecord_AndSaveWithDistilBertNames()
    {
        var c = BertConfig.Load(WriteConfig(DistilBertSst2));
        Assert.Multiple(() =>
        {
            Assert.That(c.IsDistilBert);
            Assert.That((c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize), Is.EqualTo((768, 6, 12, 3072)));
            Assert.That((c.HiddenAct, c.HiddenDropoutProb, c.AttentionProbsDropoutProb), Is.EqualTo(("gelu", 0.1, 0.1)));
            Assert.That(c.TypeVocabSize, Is.Zero, "DistilBERT has no token type embeddings");
            Assert.That(c.SinusoidalPosEmbds, Is.False);
            Assert.That(c.NumLabels, Is.EqualTo(2));
            Assert.That(c.GetLabel(0), Is.EqualTo("NEGATIVE"));
            Assert.That(c.Label2Id["POSITIVE"], Is.EqualTo(1));
            Assert.That(c.Extra.Keys, Does.Contain("seq_classif_dropout").And.Contain("qa_dropout").And.Contain("finetuning_task"));
        });

        var path = Path.Combine(_dir, "saved.json");
        c.Save(path);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.That(keys, Is.SupersetOf(new[] { "dim", "n_layers", "n_heads", "hidden_dim", "activation", "dropout", "attention_dropout", "sinusoidal_pos_embds" }));
        Assert.That(keys, Has.None.AnyOf("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act", "type_vocab_size"));
        Assert.That(BertConfig.Load(path), Is.EqualTo(c));
    }

    [Test]
    public void DefaultLabelMaps_AreTheSameAsNone()
    {
        var explicitDefaults = BertConfig.Parse("""{"vocab_size": 100, "id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "label2id": {"LABEL_0": 0, "LABEL_1": 1}}""");
        Assert.That(explicitDefaults, Is.EqualTo(BertConfig.Parse("""{"vocab_size": 100}""")));
        var three = BertConfig.Parse("""{"vocab_size": 100, "num_labels": 3}""");
        Assert.That(three.NumLabels, Is.EqualTo(3));
        Assert.That(BertConfig.Parse(three.ToJson()), Is.EqualTo(three), "num_labels 3 is written as id2label LABEL_0..2");
    }

    [TestCase("gelu", BertActivation.Gelu)]
    [TestCase("gelu_new", BertActivation.GeluTanh)]
    [TestCase("gelu_pytorch_tanh", BertActivation.GeluTanh)]
    [TestCase("relu", BertActivation.Relu)]
    public void HiddenAct_NamesTheActivation(string name, BertActivation expected)
        => Assert.That(BertConfig.Parse($$"""{"vocab_size": 10, "hidden_act": "{{name}}"}""").Activation, Is.EqualTo(expected));

    [TestCase("""{"hidden_size": 768}""", "vocab_size", "missing required key 'vocab_size'")]
    [TestCase("""{"vocab_size": 10, "hidden_size": 384, "num_attention_heads": 5}""", "hidden_size", "'hidden_size' (384) is not divisible by 'num_attention_heads' (5)")]
    [TestCase("""{"model_type": "distilbert", "vocab_size": 10, "dim": 100, "n_heads": 12}""", "dim", "'dim' (100) is not divisible by 'n_heads' (12)")]
    [TestCase("""{"vocab_size": 10, "hidden_size": "768"}""", "hidden_size", "'hidden_size' must be an integer, not a string")]
    [TestCase("""{"vocab_size": 10, "num_hidden_layers": 0}""", "num_hidden_layers", "'num_hidden_layers' must be a positive integer, not 0")]
    [TestCase("""{"vocab_size": 10, "hidden_act": "swish"}""", "hidden_act", "'hidden_act' is 'swish', which is not supported")]
    [TestCase("""{"model_type": "distilbert", "vocab_size": 10, "activation": "tanh"}""", "activation", "'activation' is 'tanh'")]
    [TestCase("""{"vocab_size": 10, "hidden_dropout_prob": 1.5}""", "hidden_dropout_prob", "must be a dropout probability in [0, 1), not 1.5")]
    [TestCase("""{"vocab_size": 10, "layer_norm_eps": 0}""", "layer_norm_eps", "'layer_norm_eps' must be a positive number")]
    [TestCase("""{"vocab_size": 10, "pad_token_id": 10}""", "pad_token_id", "'pad_token_id' (10) is outside the vocabulary [0, 10)")]
    [TestCase("""{"vocab_size": 10, "model_type": "gpt2"}""", "model_type", "model_type 'gpt2' is not supported")]
    [TestCase("""{"vocab_size": 10, "num_labels": 3, "id2label": {"0": "a", "1": "b"}}""", "num_labels", "num_labels is 3 but id2label has 2 entries")]
    [TestCase("""{"vocab_size": 10, "id2label": {"0": "a", "2": "b"}}""", "id2label", "class 1 is missing")]
    [TestCase("""{"vocab_size": 10, "id2label": {"x": "a"}}""", "id2label", "'id2label' keys must be class indices")]
    [TestCase("""{"vocab_size": 10, "problem_type": "ranking"}""", "problem_type", "'problem_type' is 'ranking'")]
    [TestCase("""{"vocab_size": 10, "position_embedding_type": "relative_key"}""", "position_embedding_type", "only 'absolute'")]
    public void InvalidConfig_ErrorNamesFileAndKey(string json, string key, string problem)
    {
        var path = WriteConfig(json);
        var ex = Assert.Throws<BertConfigException>(() => BertConfig.Load(path))!;
        Assert.Multiple(() =>
        {
            Assert.That(ex.FilePath, Is.EqualTo(path));
            Assert.That(ex.Key, Is.EqualTo(key));
            Assert.That(ex.Message, Does.StartWith(path + ": "));
            Assert.That(ex.Message, Does.Contain(problem));
        });
    }

    [TestCase("{\"vocab_size\": 10,}")]
    [TestCase("[1, 2]")]
    [TestCase("")]
    public void NotAJsonObject_ErrorNamesFile(string json)
    {
        var path = WriteConfig(json);
        var ex = Assert.Throws<BertConfigException>(() => BertConfig.Load(path))!;
        Assert.That(ex.Message, Does.StartWith(path + ": "));
        Assert.That(ex.Key, Is.Null);
    }

    [Test]
    public void MissingFile_NamesThePath()
    {
        var path = Path.Combine(_dir, "nope", "config.json");
        var ex = Assert.Catch<IOException>(() => BertConfig.Load(path))!;
        Assert.That(ex.Message, Does.Contain(Path.Combine(_dir, "nope")));
    }

    [Test]
    public void Save_OfAnInvalidConfig_ThrowsAndLeavesTheOldFile()
    {
        var path = WriteConfig(BertBaseUncased);
        var bad = BertConfig.Parse(BertBaseUncased) with { NumAttentionHeads = 7 };
        var ex = Assert.Throws<BertConfigException>(() => bad.Save(path))!;
        Assert.That(ex.Key, Is.EqualTo("hidden_size"));
        Assert.That(File.ReadAllText(path), Is.EqualTo(BertBaseUncased));
    }
}
