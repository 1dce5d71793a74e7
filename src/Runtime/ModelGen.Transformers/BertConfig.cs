using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using ModelGen.IO;

namespace ModelGen.Transformers;

/// <summary>A config.json that cannot be used. The message starts with the file (or source) and names the key.</summary>
public sealed class BertConfigException : FormatException
{
    public BertConfigException(string filePath, string? key, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Key = key;
        Problem = problem;
    }

    /// <summary>The file path (or other source name) the config came from.</summary>
    public string FilePath { get; }

    /// <summary>The offending JSON key, as spelled in the file (null when the problem is the file as a whole).</summary>
    public string? Key { get; }

    /// <summary>The problem, without the path.</summary>
    public string Problem { get; }
}

/// <summary>The feed-forward activation named by <c>hidden_act</c> (DistilBERT: <c>activation</c>).</summary>
public enum BertActivation
{
    /// <summary>"gelu": the exact form x·Φ(x) = x/2·(1 + erf(x/√2)).</summary>
    Gelu,

    /// <summary>"gelu_new", "gelu_pytorch_tanh", "gelu_fast": the tanh approximation x/2·(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    GeluTanh,

    /// <summary>"relu".</summary>
    Relu,
}

/// <summary>
/// A HuggingFace BERT or DistilBERT config.json. Both spellings map onto the same fields: DistilBERT's <c>dim</c>,
/// <c>n_layers</c>, <c>n_heads</c>, <c>hidden_dim</c>, <c>activation</c>, <c>dropout</c> and <c>attention_dropout</c>
/// become <see cref="HiddenSize"/>, <see cref="NumHiddenLayers"/>, <see cref="NumAttentionHeads"/>,
/// <see cref="IntermediateSize"/>, <see cref="HiddenAct"/>, <see cref="HiddenDropoutProb"/> and
/// <see cref="AttentionProbsDropoutProb"/>; <see cref="Save"/> writes each model type with its own key names. Keys this
/// record does not model (transformers_version, torch_dtype, ...) are kept in <see cref="Extra"/> and written back.
/// Defaults are those of HuggingFace's BertConfig (bert-base-uncased).
/// </summary>
public sealed record BertConfig
{
    /// <summary>The file name HuggingFace uses.</summary>
    public const string FileName = "config.json";

    /// <summary>"bert" or "distilbert".</summary>
    public string ModelType { get; init; } = "bert";

    /// <summary>The model classes the checkpoint was saved from, e.g. BertModel or BertForSequenceClassification.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>"gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast" (tanh form) or "relu"; see <see cref="Activation"/>.</summary>
    public string HiddenAct { get; init; } = "gelu";

    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Token type (segment) vocabulary; 0 for DistilBERT, which has no token type embeddings.</summary>
    public int TypeVocabSize { get; init; } = 2;

    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>The [PAD] id (null when the config sets none).</summary>
    public int? PadTokenId { get; init; } = 0;

    public double InitializerRange { get; init; } = 0.02;

    /// <summary>DistilBERT only: fixed sinusoidal position embeddings instead of learned ones.</summary>
    public bool SinusoidalPosEmbds { get; init; }

    /// <summary>Outputs of a classification head. Follows <see cref="Id2Label"/> when that is set.</summary>
    public int NumLabels { get; init; } = 2;

    /// <summary>Label names by class index; empty means HuggingFace's defaults LABEL_0, LABEL_1, ... (see <see cref="GetLabel"/>).</summary>
    public IReadOnlyDictionary<int, string> Id2Label { get; init; } = new Dictionary<int, string>();

    /// <summary>Class index by label name; empty means the inverse of <see cref="Id2Label"/>.</summary>
    public IReadOnlyDictionary<string, int> Label2Id { get; init; } = new Dictionary<string, int>();

    /// <summary>null, "regression", "single_label_classification" or "multi_label_classification".</summary>
    public string? ProblemType { get; init; }

    /// <summary>Keys of the file that this record does not model, kept verbatim and written back by <see cref="Save"/>.</summary>
    public IReadOnlyDictionary<string, JsonElement> Extra { get; init; } = new Dictionary<string, JsonElement>();

    public bool IsDistilBert => ModelType == "distilbert";

    /// <summary>Width of one attention head (hidden size / heads).</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The activation <see cref="HiddenAct"/> names.</summary>
    public BertActivation Activation => ParseActivation(HiddenAct)
        ?? throw new InvalidOperationException($"Unsupported hidden_act '{HiddenAct}' (supported: {SupportedActivations}).");

    /// <summary>The name of class <paramref name="id"/>: from <see cref="Id2Label"/>, else LABEL_{id}.</summary>
    public string GetLabel(int id) => Id2Label.TryGetValue(id, out var label) ? label : $"LABEL_{id}";

    // ---------------------------------------------------------------- loading

    /// <summary>Reads and validates a config.json. Errors are <see cref="BertConfigException"/>s naming the file and key.</summary>
    public static BertConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (FileNotFoundException ex)
        {
            throw new FileNotFoundException($"{path}: config file not found.", path, ex);
        }
        return Parse(json, path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names it in error messages.</summary>
    public static BertConfig Parse(string json, string source = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new BertConfigException(source, null, $"not valid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new BertConfigException(source, null, $"a config must be a JSON object, not {Describe(doc.RootElement.ValueKind)}");
            BertConfig config;
            try
            {
                config = FromJson(doc.RootElement, source);
            }
            catch (InvalidOperationException ex)
            {
                // the parser checks escapes lazily: a lone surrogate ("\ud800") fails only when the string is read
                throw new BertConfigException(source, null, $"not valid JSON text: {ex.Message}", ex);
            }
            config.Validate(source);
            return config;
        }
    }

    private static BertConfig FromJson(JsonElement root, string source)
    {
        var reader = new Reader(root, source);
        string modelType = reader.String("model_type")
                           ?? (root.TryGetProperty("dim", out _) || root.TryGetProperty("n_layers", out _) ? "distilbert" : "bert");
        if (modelType is not ("bert" or "distilbert"))
            throw new BertConfigException(source, "model_type", $"model_type '{modelType}' is not supported (expected 'bert' or 'distilbert')");

        bool distil = modelType == "distilbert";
        var keys = KeysFor(distil);
        int vocab = reader.Int(keys.VocabSize) ?? throw new BertConfigException(source, keys.VocabSize, $"missing required key '{keys.VocabSize}'");
        var architectures = reader.StringList("architectures");

        // Labels: id2label wins; num_labels alone means LABEL_0..LABEL_{n-1}.
        var id2label = reader.Id2Label();
        var label2id = reader.Label2Id();
        int? numLabels = reader.Int("num_labels");
        if (id2label.Count > 0 && numLabels is { } n && n != id2label.Count)
            throw new BertConfigException(source, "num_labels", $"num_labels is {n} but id2label has {id2label.Count} entries");

        // An explicit default mapping (LABEL_0, LABEL_1 / "LABEL_0": 0, ...) is the same as none.
        if (id2label.Count > 0 && Enumerable.Range(0, id2label.Count).All(id2label.ContainsKey) && id2label.All(p => p.Value == $"LABEL_{p.Key}") && label2id.All(p => p.Key == $"LABEL_{p.Value}"))
        {
            numLabels = id2label.Count;
            id2label.Clear();
            label2id.Clear();
        }

        var config = new BertConfig
        {
            ModelType = modelType,
            Architectures = architectures,
            VocabSize = vocab,
            HiddenSize = reader.Int(keys.HiddenSize) ?? 768,
            NumHiddenLayers = reader.Int(keys.NumHiddenLayers) ?? (distil ? 6 : 12),
            NumAttentionHeads = reader.Int(keys.NumAttentionHeads) ?? 12,
            IntermediateSize = reader.Int(keys.IntermediateSize) ?? 3072,
            HiddenAct = reader.String(keys.HiddenAct) ?? "gelu",
            HiddenDropoutProb = reader.Double(keys.HiddenDropoutProb) ?? 0.1,
            AttentionProbsDropoutProb = reader.Double(keys.AttentionProbsDropoutProb) ?? 0.1,
            MaxPositionEmbeddings = reader.Int("max_position_embeddings") ?? 512,
            TypeVocabSize = distil ? reader.Int("type_vocab_size") ?? 0 : reader.Int("type_vocab_size") ?? 2,
            LayerNormEps = reader.Double("layer_norm_eps") ?? 1e-12,
            PadTokenId = reader.Has("pad_token_id") ? reader.NullableInt("pad_token_id") : 0,
            InitializerRange = reader.Double("initializer_range") ?? 0.02,
            SinusoidalPosEmbds = reader.Bool("sinusoidal_pos_embds") ?? false,
            NumLabels = id2label.Count > 0 ? id2label.Count : numLabels ?? 2,
            Id2Label = id2label,
            Label2Id = label2id,
            ProblemType = reader.Has("problem_type") ? reader.NullableString("problem_type") : null,
        };

        // position_embedding_type other than "absolute" (relative_key...) changes the model: refuse it here.
        if (reader.String("position_embedding_type") is { } pet && pet != "absolute")
            throw new BertConfigException(source, "position_embedding_type",
                $"position_embedding_type '{pet}' is not supported (only 'absolute')");

        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
            if (!reader.Consumed.Contains(property.Name) && !extra.ContainsKey(property.Name))
            {
                ReadStrings(property.Value); // kept verbatim and written back by Save: its text must be readable now
                extra[property.Name] = property.Value.Clone();
            }
        return config with { Extra = extra };
    }

    /// <summary>Reads every string and key of a value (throws InvalidOperationException on a lone surrogate).</summary>
    private static void ReadStrings(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                _ = value.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray()) ReadStrings(item);
                break;
            case JsonValueKind.Object:
                foreach (var p in value.EnumerateObject())
                {
                    _ = p.Name;
                    ReadStrings(p.Value);
                }
                break;
        }
    }

    // ---------------------------------------------------------------- validation

    /// <summary>Throws a <see cref="BertConfigException"/> (naming <paramref name="source"/> and the key) when a value
    /// cannot describe a working model.</summary>
    public void Validate(string source = FileName)
    {
        var k = KeysFor(IsDistilBert);
        void Fail(string key, string problem) => throw new BertConfigException(source, key, problem);
        void Positive(string key, int value)
        {
            if (value <= 0) Fail(key, $"'{key}' must be a positive integer, not {value}");
        }
        void Probability(string key, double value)
        {
            if (!(value >= 0 && value < 1)) Fail(key, $"'{key}' must be a dropout probability in [0, 1), not {Format(value)}");
        }

        if (ModelType is not ("bert" or "distilbert"))
            Fail("model_type", $"model_type '{ModelType}' is not supported (expected 'bert' or 'distilbert')");
        Positive(k.VocabSize, VocabSize);
        Positive(k.HiddenSize, HiddenSize);
        Positive(k.NumHiddenLayers, NumHiddenLayers);
        Positive(k.NumAttentionHeads, NumAttentionHeads);
        if (HiddenSize % NumAttentionHeads != 0)
            Fail(k.HiddenSize, $"'{k.HiddenSize}' ({HiddenSize}) is not divisible by '{k.NumAttentionHeads}' ({NumAttentionHeads}): every attention head needs the same width");
        Positive(k.IntermediateSize, IntermediateSize);
        if (ParseActivation(HiddenAct) is null)
            Fail(k.HiddenAct, $"'{k.HiddenAct}' is '{HiddenAct}', which is not supported (supported: {SupportedActivations})");
        Probability(k.HiddenDropoutProb, HiddenDropoutProb);
        Probability(k.AttentionProbsDropoutProb, AttentionProbsDropoutProb);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        if (IsDistilBert ? TypeVocabSize < 0 : TypeVocabSize <= 0)
            Fail("type_vocab_size", $"'type_vocab_size' must be {(IsDistilBert ? "0 or more" : "a positive integer")}, not {TypeVocabSize}");
        if (!(LayerNormEps > 0 && double.IsFinite(LayerNormEps)))
            Fail("layer_norm_eps", $"'layer_norm_eps' must be a positive number, not {Format(LayerNormEps)}");
        if (PadTokenId is { } pad && (pad < 0 || pad >= VocabSize))
            Fail("pad_token_id", $"'pad_token_id' ({pad}) is outside the vocabulary [0, {VocabSize})");
        if (!(InitializerRange >= 0 && double.IsFinite(InitializerRange)))
            Fail("initializer_range", $"'initializer_range' must be 0 or more, not {Format(InitializerRange)}");
        Positive("num_labels", NumLabels);
        if (Id2Label.Count > 0)
        {
            if (Id2Label.Count != NumLabels)
                Fail("id2label", $"'id2label' has {Id2Label.Count} entries but num_labels is {NumLabels}");
            for (int i = 0; i < NumLabels; i++)
                if (!Id2Label.ContainsKey(i))
                    Fail("id2label", $"'id2label' must number the classes 0..{NumLabels - 1}, but class {i} is missing");
        }
        foreach (var (label, id) in Label2Id)
            if (id < 0 || id >= NumLabels)
                Fail("label2id", $"'label2id' maps '{label}' to {id}, outside the {NumLabels} classes");
        if (ProblemType is not (null or "regression" or "single_label_classification" or "multi_label_classification"))
            Fail("problem_type", $"'problem_type' is '{ProblemType}' (expected regression, single_label_classification or multi_label_classification)");
    }

    // ---------------------------------------------------------------- saving

    /// <summary>Validates, then writes config.json atomically with HuggingFace's key names (sorted, 2-space indent).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Validate(path);
        AtomicFile.WriteAllText(path, ToJson());
    }

    /// <summary>The config as HuggingFace config.json text (keys sorted like <c>save_pretrained</c> writes them).</summary>
    public string ToJson()
    {
        var k = KeysFor(IsDistilBert);
        var values = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal);
        foreach (var (key, value) in Extra) values[key] = w => value.WriteTo(w);
        void Set(string key, Action<Utf8JsonWriter> write) => values[key] = write;

        Set("model_type", w => w.WriteStringValue(ModelType));
        if (Architectures.Count > 0)
            Set("architectures", w =>
            {
                w.WriteStartArray();
                foreach (var a in Architectures) w.WriteStringValue(a);
                w.WriteEndArray();
            });
        Set(k.VocabSize, w => w.WriteNumberValue(VocabSize));
        Set(k.HiddenSize, w => w.WriteNumberValue(HiddenSize));
        Set(k.NumHiddenLayers, w => w.WriteNumberValue(NumHiddenLayers));
        Set(k.NumAttentionHeads, w => w.WriteNumberValue(NumAttentionHeads));
        Set(k.IntermediateSize, w => w.WriteNumberValue(IntermediateSize));
        Set(k.HiddenAct, w => w.WriteStringValue(HiddenAct));
        Set(k.HiddenDropoutProb, w => w.WriteNumberValue(HiddenDropoutProb));
        Set(k.AttentionProbsDropoutProb, w => w.WriteNumberValue(AttentionProbsDropoutProb));
        Set("max_position_embeddings", w => w.WriteNumberValue(MaxPositionEmbeddings));
        Set("initializer_range", w => w.WriteNumberValue(InitializerRange));
        Set("pad_token_id", w =>
        {
            if (PadTokenId is { } pad) w.WriteNumberValue(pad);
            else w.WriteNullValue();
        });
        if (IsDistilBert)
        {
            Set("sinusoidal_pos_embds", w => w.WriteBooleanValue(SinusoidalPosEmbds));
            if (TypeVocabSize != 0) Set("type_vocab_size", w => w.WriteNumberValue(TypeVocabSize));
            if (LayerNormEps != 1e-12) Set("layer_norm_eps", w => w.WriteNumberValue(LayerNormEps));
        }
        else
        {
            Set("type_vocab_size", w => w.WriteNumberValue(TypeVocabSize));
            Set("layer_norm_eps", w => w.WriteNumberValue(LayerNormEps));
        }
        if (ProblemType is not null) Set("problem_type", w => w.WriteStringValue(ProblemType));

        // Like HuggingFace: the label maps are written unless they are the default two LABEL_n classes.
        bool defaultLabels = NumLabels == 2 && Enumerable.Range(0, 2).All(i => GetLabel(i) == $"LABEL_{i}")
                             && Label2Id.All(p => p.Key == $"LABEL_{p.Value}");
        if (!defaultLabels)
        {
            Set("id2label", w =>
            {
                w.WriteStartObject();
                for (int i = 0; i < NumLabels; i++) w.WriteString(i.ToString(CultureInfo.InvariantCulture), GetLabel(i));
                w.WriteEndObject();
            });
            Set("label2id", w =>
            {
                w.WriteStartObject();
                if (Label2Id.Count > 0)
                    foreach (var (label, id) in Label2Id.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
                        w.WriteNumber(label, id);
                else
                    for (int i = 0; i < NumLabels; i++) w.WriteNumber(GetLabel(i), i);
                w.WriteEndObject();
            });
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, IndentSize = 2, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, write) in values)
            {
                writer.WritePropertyName(key);
                write(writer);
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    // ---------------------------------------------------------------- equality (by content, lists and maps included)

    public bool Equals(BertConfig? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        return ModelType == other.ModelType && Architectures.SequenceEqual(other.Architectures) && VocabSize == other.VocabSize
               && HiddenSize == other.HiddenSize && NumHiddenLayers == other.NumHiddenLayers && NumAttentionHeads == other.NumAttentionHeads
               && IntermediateSize == other.IntermediateSize && HiddenAct == other.HiddenAct && HiddenDropoutProb.Equals(other.HiddenDropoutProb)
               && AttentionProbsDropoutProb.Equals(other.AttentionProbsDropoutProb) && MaxPositionEmbeddings == other.MaxPositionEmbeddings
               && TypeVocabSize == other.TypeVocabSize && LayerNormEps.Equals(other.LayerNormEps) && PadTokenId == other.PadTokenId
               && InitializerRange.Equals(other.InitializerRange) && SinusoidalPosEmbds == other.SinusoidalPosEmbds && NumLabels == other.NumLabels
               && SameMap(Id2Label, other.Id2Label, string.Equals) && SameMap(Label2Id, other.Label2Id, (a, b) => a == b)
               && ProblemType == other.ProblemType
               && SameMap(Extra, other.Extra, (a, b) => a.GetRawText() == b.GetRawText());
    }

    public override int GetHashCode()
        => HashCode.Combine(ModelType, VocabSize, HiddenSize, NumHiddenLayers, NumAttentionHeads, IntermediateSize, HiddenAct, NumLabels);

    private static bool SameMap<TKey, TValue>(IReadOnlyDictionary<TKey, TValue> a, IReadOnlyDictionary<TKey, TValue> b, Func<TValue, TValue, bool> same)
        where TKey : notnull
    {
        if (a.Count != b.Count) return false;
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || !same(value, other)) return false;
        return true;
    }

    // ---------------------------------------------------------------- helpers

    private const string SupportedActivations = "gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu";

    private static BertActivation? ParseActivation(string name) => name switch
    {
        "gelu" => BertActivation.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => BertActivation.GeluTanh,
        "relu" => BertActivation.Relu,
        _ => null,
    };

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    /// <summary>The JSON key of each field, in BERT's or DistilBERT's spelling.</summary>
    private sealed record Keys(string VocabSize, string HiddenSize, string NumHiddenLayers, string NumAttentionHeads, string IntermediateSize,
        string HiddenAct, string HiddenDropoutProb, string AttentionProbsDropoutProb);

    private static readonly Keys BertKeys = new("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob");

    private static readonly Keys DistilBertKeys = new("vocab_size", "dim", "n_layers", "n_heads", "hidden_dim",
        "activation", "dropout", "attention_dropout");

    private static Keys KeysFor(bool distil) => distil ? DistilBertKeys : BertKeys;

    /// <summary>Typed reads of the root object; each read records the key as consumed and names it in errors.</summary>
    private sealed class Reader(JsonElement root, string source)
    {
        public HashSet<string> Consumed { get; } = new(StringComparer.Ordinal);

        public bool Has(string key) => root.TryGetProperty(key, out _);

        private JsonElement? Get(string key)
        {
            Consumed.Add(key);
            return root.TryGetProperty(key, out var value) ? value : null;
        }

        private BertConfigException WrongType(string key, string expected, JsonElement value)
            => new(source, key, $"'{key}' must be {expected}, not {Describe(value.ValueKind)} ({Truncate(value.GetRawText())})");

        private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";

        public int? Int(string key)
        {
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw WrongType(key, "an integer", v);
            return i;
        }

        public int? NullableInt(string key) => Int(key);

        public double? Double(string key)
        {
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d)) throw WrongType(key, "a finite number", v);
            return d;
        }

        public bool? Bool(string key)
        {
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw WrongType(key, "true or false", v);
            return v.GetBoolean();
        }

        public string? String(string key)
        {
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.String) throw WrongType(key, "a string", v);
            return v.GetString();
        }

        public string? NullableString(string key) => String(key);

        public IReadOnlyList<string> StringList(string key)
        {
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return [];
            if (v.ValueKind != JsonValueKind.Array) throw WrongType(key, "an array of strings", v);
            var list = new List<string>();
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw WrongType(key, "an array of strings", v);
                list.Add(item.GetString()!);
            }
            return list;
        }

        public Dictionary<int, string> Id2Label()
        {
            const string key = "id2label";
            var map = new Dictionary<int, string>();
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return map;
            if (v.ValueKind != JsonValueKind.Object) throw WrongType(key, "an object of class index → label", v);
            foreach (var p in v.EnumerateObject())
            {
                if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                    throw new BertConfigException(source, key, $"'{key}' keys must be class indices (\"0\", \"1\", ...), not '{p.Name}'");
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new BertConfigException(source, key, $"'{key}'[\"{p.Name}\"] must be a string, not {Describe(p.Value.ValueKind)}");
                map[id] = p.Value.GetString()!;
            }
            return map;
        }

        public Dictionary<string, int> Label2Id()
        {
            const string key = "label2id";
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            if (Get(key) is not { } v || v.ValueKind == JsonValueKind.Null) return map;
            if (v.ValueKind != JsonValueKind.Object) throw WrongType(key, "an object of label → class index", v);
            foreach (var p in v.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id))
                    throw new BertConfigException(source, key, $"'{key}'[\"{p.Name}\"] must be an integer class index, not {Truncate(p.Value.GetRawText())}");
                map[p.Name] = id;
            }
            return map;
        }
    }
}
