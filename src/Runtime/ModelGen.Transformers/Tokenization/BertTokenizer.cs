using System.Globalization;
using System.Text;
using System.Text.Json;
using MlWordPiece = Microsoft.ML.Tokenizers.WordPieceTokenizer;
using MlWordPieceOptions = Microsoft.ML.Tokenizers.WordPieceOptions;

namespace ModelGen.Transformers;

/// <summary>BERT's WordPiece tokenizer with the behaviour of HuggingFace's <c>BertTokenizerFast</c>: the same ids,
/// attention masks, token type ids, truncation and padding for the same vocabulary and settings.</summary>
/// <remarks>
/// <para>Pipeline: special tokens written in the text are recognised first (unless
/// <see cref="BertTokenizerOptions.SplitSpecialTokens"/>); the rest is normalized (clean text, CJK split, accent strip,
/// lowercase) and split on whitespace and punctuation by ModelGen's port of HuggingFace's <c>BertNormalizer</c> and
/// <c>BertPreTokenizer</c>; each word is then looked up greedily, longest match first, with
/// Microsoft.ML.Tokenizers' <c>WordPieceTokenizer</c> (a word with an unmatched piece, or longer than
/// <see cref="BertTokenizerOptions.MaxInputCharsPerWord"/> characters, is one [UNK]). Single inputs become
/// <c>[CLS] A [SEP]</c>, pairs <c>[CLS] A [SEP] B [SEP]</c> with type ids 0 for the first part and 1 for the second.</para>
/// <para>The tests compare it with HuggingFace's own Rust implementation on the 3000 UCI sentiment sentences and on
/// edge cases. Instances are immutable and safe to share between threads.</para>
/// </remarks>
public sealed class BertTokenizer
{
    private readonly MlWordPiece _wordPiece;
    private readonly BertPreTokenizer _normalizer;
    private readonly string?[] _idToToken;
    private readonly bool[] _isSpecialId;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly Dictionary<string, int> _modelVocab;
    private readonly AddedToken[] _addedTokens;
    private readonly (string Pattern, AddedToken Token)[] _rawAddedTokens;        // matched in the original text
    private readonly (string Pattern, AddedToken Token)[] _normalizedAddedTokens; // matched in normalized text

    /// <summary>A token of the added vocabulary (HuggingFace <c>added_tokens</c>): matched in the text before
    /// WordPiece. <paramref name="Normalized"/>: matched in the normalized text rather than the original one.</summary>
    internal sealed record AddedToken(string Content, int Id, bool Special, bool Normalized = false, bool LStrip = false, bool RStrip = false);

    private BertTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<AddedToken> addedTokens, BertTokenizerOptions options)
    {
        Options = options;
        if (options.MaxInputCharsPerWord <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxInputCharsPerWord must be positive, got {options.MaxInputCharsPerWord}");
        if (options.ModelMaxLength <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"ModelMaxLength must be positive, got {options.ModelMaxLength}");
        if (string.IsNullOrEmpty(options.ContinuingSubwordPrefix))
            throw new ArgumentException("ContinuingSubwordPrefix must not be empty", nameof(options));
        _normalizer = new BertPreTokenizer(options.CleanText, options.TokenizeChineseChars, options.EffectiveStripAccents, options.LowerCase);

        var added = addedTokens.Where(t => t.Content.Length > 0).ToArray();
        _addedTokens = added;
        _modelVocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        int size = 0;
        foreach (var (_, id) in vocab)
        {
            if (id < 0) throw new InvalidDataException($"vocabulary id {id} is negative");
            size = Math.Max(size, id);
        }
        foreach (var t in added)
        {
            if (t.Id < 0) throw new InvalidDataException($"added token '{t.Content}' has negative id {t.Id}");
            size = Math.Max(size, t.Id);
        }
        // ids number the tokens 0, 1, 2, ... (vocab.txt: a repeated token leaves a hole); a far larger id is a corrupted
        // file, and would size the id tables by it
        if (size > 2L * (vocab.Count + added.Length) + 1024)
            throw new InvalidDataException($"vocabulary id {size} is far beyond the {vocab.Count + added.Length} tokens: ids must number the tokens 0, 1, 2, ...");
        size = vocab.Count + added.Length == 0 ? 0 : size + 1;
        if (!vocab.ContainsKey(options.UnknownToken))
            throw new InvalidDataException($"the unknown token '{options.UnknownToken}' is not in the vocabulary");

        // The model's vocabulary, one line per id, for Microsoft.ML.Tokenizers; ids without a usable token stay empty
        // lines (which it skips). Tokens containing a line break can never match a word (words hold no whitespace).
        var lines = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        Array.Fill(lines, "");
        _idToToken = new string?[size];
        foreach (var (token, id) in vocab)
        {
            if (_idToToken[id] is { } other)
                throw new InvalidDataException($"the tokens '{other}' and '{token}' have the same id {id}");
            _idToToken[id] = token;
            if (token.Contains('\n') || token.Contains('\r')) continue;
            lines[id] = token;
        }
        var text = string.Join('\n', lines);
        using (var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)))
        {
            try
            {
                _wordPiece = MlWordPiece.Create(stream, new MlWordPieceOptions
                {
                    UnknownToken = options.UnknownToken,
                    ContinuingSubwordPrefix = options.ContinuingSubwordPrefix,
                    // Our own limit counts Unicode scalar values (as HuggingFace); this one counts UTF-16 units.
                    MaxInputCharsPerWord = (int)Math.Min(int.MaxValue, 2L * options.MaxInputCharsPerWord),
                });
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"the vocabulary cannot be used: {e.Message}", e);
            }
        }

        _tokenToId = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _isSpecialId = new bool[size];
        foreach (var t in added)
        {
            _idToToken[t.Id] = t.Content;
            _tokenToId[t.Content] = t.Id;
            if (t.Special) _isSpecialId[t.Id] = true;
        }
        var matchable = added.Where(t => !(t.Special && options.SplitSpecialTokens)).ToArray();
        _rawAddedTokens = matchable.Where(t => !t.Normalized).Select(t => (t.Content, t)).OrderByDescending(p => p.Content.Length).ToArray();
        _normalizedAddedTokens = matchable.Where(t => t.Normalized)
            .Select(t => (_normalizer.Normalize(t.Content), t)).Where(p => p.Item1.Length > 0)
            .OrderByDescending(p => p.Item1.Length).ToArray();

        UnknownTokenId = RequireId(options.UnknownToken, "unknown");
        ClassifierTokenId = RequireId(options.ClassifierToken, "classifier");
        SeparatorTokenId = RequireId(options.SeparatorToken, "separator");
        PaddingTokenId = RequireId(options.PaddingToken, "padding");
        MaskTokenId = _tokenToId.TryGetValue(options.MaskToken, out int mask) ? mask : null;
    }

    private int RequireId(string token, string what) =>
        _tokenToId.TryGetValue(token, out int id) ? id : throw new InvalidDataException($"the {what} token '{token}' is not in the vocabulary");

    /// <summary>The settings this tokenizer was built with.</summary>
    public BertTokenizerOptions Options { get; }

    /// <summary>One more than the largest id (30522 for bert-base-uncased).</summary>
    public int VocabSize => _idToToken.Length;

    public int UnknownTokenId { get; }
    public int ClassifierTokenId { get; }
    public int SeparatorTokenId { get; }
    public int PaddingTokenId { get; }

    /// <summary>The [MASK] id, or null when the vocabulary has no mask token.</summary>
    public int? MaskTokenId { get; }

    /// <inheritdoc cref="BertTokenizerOptions.ModelMaxLength"/>
    public int ModelMaxLength => Options.ModelMaxLength;

    // ------------------------------------------------------------------ loading

    /// <summary>Reads a WordPiece <c>vocab.txt</c>: one token per line, the id is the line index; LF or CRLF line
    /// ends; trailing whitespace is ignored and a repeated token keeps its last line, as in HuggingFace.</summary>
    public static BertTokenizer FromVocabFile(string path, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        try
        {
            return FromVocab(stream, options);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc cref="FromVocabFile"/>
    public static BertTokenizer FromVocab(Stream vocabTxt, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabTxt);
        using var reader = new StreamReader(vocabTxt, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return FromVocab(ReadLines(reader.ReadToEnd()), options);
    }

    /// <summary>Builds a tokenizer from the tokens in id order (token i has id i).</summary>
    public static BertTokenizer FromVocab(IEnumerable<string> tokensInIdOrder, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokensInIdOrder);
        options ??= new BertTokenizerOptions();
        var vocab = VocabFromLines(tokensInIdOrder);
        return new BertTokenizer(vocab, DefaultSpecials(vocab, options), options);
    }

    /// <summary>Token i has id i; trailing whitespace is dropped; a repeated token keeps its last id.</summary>
    private static Dictionary<string, int> VocabFromLines(IEnumerable<string> lines)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int id = 0;
        foreach (var token in lines) vocab[token.TrimEnd()] = id++;
        return vocab;
    }

    /// <summary>Reads a HuggingFace <c>tokenizer.json</c> with a WordPiece model: its vocabulary, unknown token,
    /// subword prefix and word length limit, the <c>BertNormalizer</c> settings, the added (special) tokens and the
    /// [CLS]/[SEP] tokens of its post-processor. <paramref name="options"/>, when given, replaces the settings read
    /// from the file except the vocabulary and added tokens.</summary>
    public static BertTokenizer FromTokenizerJson(string path, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var (vocab, added, fileOptions) = ParseTokenizerJson(File.ReadAllText(path));
            return new BertTokenizer(vocab, added, options ?? fileOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Loads the tokenizer saved in a HuggingFace model directory: <c>tokenizer.json</c> when present, else
    /// <c>vocab.txt</c>; then <c>tokenizer_config.json</c> when present overrides <c>do_lower_case</c>,
    /// <c>strip_accents</c>, <c>tokenize_chinese_chars</c>, <c>model_max_length</c>, the special tokens and
    /// <c>clean_up_tokenization_spaces</c> (as transformers does for <c>BertTokenizerFast</c>).</summary>
    public static BertTokenizer FromPretrained(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such directory");
        var jsonPath = Path.Combine(directory, "tokenizer.json");
        var vocabPath = Path.Combine(directory, "vocab.txt");
        var configPath = Path.Combine(directory, "tokenizer_config.json");

        IReadOnlyDictionary<string, int> vocab;
        IEnumerable<AddedToken>? added = null;
        BertTokenizerOptions options;
        string source;
        try
        {
            if (File.Exists(jsonPath))
            {
                source = jsonPath;
                (vocab, added, options) = ParseTokenizerJson(File.ReadAllText(jsonPath));
            }
            else if (File.Exists(vocabPath))
            {
                source = vocabPath;
                vocab = VocabFromLines(ReadLines(File.ReadAllText(vocabPath)));
                options = new BertTokenizerOptions();
            }
            else
            {
                throw new FileNotFoundException($"{directory}: neither tokenizer.json nor vocab.txt is there");
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or NotSupportedException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{jsonPath}: {ex.Message}", ex);
        }

        if (File.Exists(configPath))
        {
            try
            {
                options = ApplyTokenizerConfig(options, File.ReadAllText(configPath));
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException or InvalidOperationException)
            {
                throw new InvalidDataException($"{configPath}: {ex.Message}", ex);
            }
        }
        try
        {
            // vocab.txt: as HuggingFace's conversion, the special tokens (named by the final options) become added tokens.
            return new BertTokenizer(vocab, added ?? DefaultSpecials(vocab, options), options);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{source}: {ex.Message}", ex);
        }
    }

    /// <summary>The special tokens of a vocab.txt tokenizer, matched in the raw text as HuggingFace's conversion does.</summary>
    private static IEnumerable<AddedToken> DefaultSpecials(IReadOnlyDictionary<string, int> vocab, BertTokenizerOptions options) =>
        new[] { options.PaddingToken, options.UnknownToken, options.ClassifierToken, options.SeparatorToken, options.MaskToken }
            .Distinct(StringComparer.Ordinal).Where(vocab.ContainsKey).Select(t => new AddedToken(t, vocab[t], Special: true));

    /// <summary>Splits a vocab.txt into lines: LF, CRLF (and a lone CR before the end of a line) end a line; a final
    /// line end does not start another line.</summary>
    private static List<string> ReadLines(string text)
    {
        var lines = new List<string>(text.Length / 8);
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\n') continue;
            int end = i > start && text[i - 1] == '\r' ? i - 1 : i;
            lines.Add(text[start..end]);
            start = i + 1;
        }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    private static (Dictionary<string, int> Vocab, List<AddedToken> Added, BertTokenizerOptions Options) ParseTokenizerJson(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("no \"model\" object");
        string type = model.TryGetProperty("type", out var typeEl) ? typeEl.GetString() ?? "" : "";
        if (type != "WordPiece")
            throw new NotSupportedException($"model type \"{type}\" is not supported: BertTokenizer reads WordPiece models");
        if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("the WordPiece model has no \"vocab\" object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabEl.EnumerateObject()) vocab[p.Name] = Id(p.Value, $"the id of vocabulary token \"{p.Name}\"");

        var options = new BertTokenizerOptions
        {
            UnknownToken = model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String ? unk.GetString()! : "[UNK]",
            ContinuingSubwordPrefix = model.TryGetProperty("continuing_subword_prefix", out var pre) && pre.ValueKind == JsonValueKind.String ? pre.GetString()! : "##",
            MaxInputCharsPerWord = model.TryGetProperty("max_input_chars_per_word", out var mx) && mx.ValueKind == JsonValueKind.Number ? Id(mx, "max_input_chars_per_word") : 100,
        };
        if (options.MaxInputCharsPerWord <= 0)
            throw new InvalidDataException($"max_input_chars_per_word must be positive, not {options.MaxInputCharsPerWord}");
        if (options.ContinuingSubwordPrefix.Length == 0) throw new InvalidDataException("continuing_subword_prefix must not be empty");

        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind == JsonValueKind.Object)
        {
            string ntype = norm.TryGetProperty("type", out var nt) ? nt.GetString() ?? "" : "";
            if (ntype != "BertNormalizer")
                throw new NotSupportedException($"normalizer \"{ntype}\" is not supported: BertTokenizer implements BertNormalizer");
            bool lower = GetBool(norm, "lowercase") ?? true;
            options = options with
            {
                LowerCase = lower,
                StripAccents = GetBool(norm, "strip_accents"),
                TokenizeChineseChars = GetBool(norm, "handle_chinese_chars") ?? true,
                CleanText = GetBool(norm, "clean_text") ?? true,
            };
        }
        else
        {
            options = options with { LowerCase = false, StripAccents = false, TokenizeChineseChars = false, CleanText = false };
        }

        if (root.TryGetProperty("pre_tokenizer", out var pt) && pt.ValueKind == JsonValueKind.Object)
        {
            string ptype = pt.TryGetProperty("type", out var ptt) ? ptt.GetString() ?? "" : "";
            if (ptype != "BertPreTokenizer")
                throw new NotSupportedException($"pre-tokenizer \"{ptype}\" is not supported: BertTokenizer implements BertPreTokenizer");
        }

        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
        {
            string ptype = post.TryGetProperty("type", out var ptt) ? ptt.GetString() ?? "" : "";
            if (ptype == "BertProcessing")
            {
                options = options with
                {
                    ClassifierToken = FirstString(post.GetProperty("cls"), "cls"),
                    SeparatorToken = FirstString(post.GetProperty("sep"), "sep"),
                };
            }
            else if (ptype == "TemplateProcessing")
            {
                // Expect [CLS] $A [SEP]: take the special tokens around the sequence.
                var single = post.GetProperty("single").EnumerateArray().ToArray();
                if (single.Length != 3 || !single[0].TryGetProperty("SpecialToken", out var cls) || !single[1].TryGetProperty("Sequence", out _)
                    || !single[2].TryGetProperty("SpecialToken", out var sep))
                    throw new NotSupportedException("post-processor template is not \"[CLS] $A [SEP]\"");
                options = options with { ClassifierToken = cls.GetProperty("id").GetString()!, SeparatorToken = sep.GetProperty("id").GetString()! };
            }
            else
            {
                throw new NotSupportedException($"post-processor \"{ptype}\" is not supported: BertTokenizer adds [CLS] A [SEP] (B [SEP])");
            }
        }

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedEl) && addedEl.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in addedEl.EnumerateArray())
            {
                var content = t.GetProperty("content").GetString() ?? "";
                if (GetBool(t, "single_word") == true)
                    throw new NotSupportedException($"added token \"{content}\" has single_word=true, which BertTokenizer does not support");
                added.Add(new AddedToken(content, Id(t.GetProperty("id"), $"the id of added token \"{content}\""), GetBool(t, "special") ?? false,
                    GetBool(t, "normalized") ?? false, GetBool(t, "lstrip") ?? false, GetBool(t, "rstrip") ?? false));
            }
        }
        return (vocab, added, options);
    }

    /// <summary>A non-negative 32-bit integer (token ids, lengths).</summary>
    private static int Id(JsonElement v, string what) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int id) && id >= 0 ? id
            : throw new InvalidDataException($"{what} must be an integer from 0 to {int.MaxValue}, not {(v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.ValueKind)}");

    /// <summary>BertProcessing's ["[CLS]", 101]: the token.</summary>
    private static string FirstString(JsonElement pair, string name) =>
        pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() > 0 && pair[0].ValueKind == JsonValueKind.String ? pair[0].GetString()!
            : throw new InvalidDataException($"post_processor \"{name}\" must be [token, id], not {pair.ValueKind}");

    private static bool? GetBool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => throw new InvalidDataException($"\"{name}\" must be true, false or null, got {v.ValueKind}"),
        } : null;

    private static BertTokenizerOptions ApplyTokenizerConfig(BertTokenizerOptions options, string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        var c = doc.RootElement;
        if (c.ValueKind != JsonValueKind.Object) throw new InvalidDataException("tokenizer_config.json is not a JSON object");
        if (GetBool(c, "do_lower_case") is bool lower)
            options = options with { LowerCase = lower, StripAccents = c.TryGetProperty("strip_accents", out _) ? GetBool(c, "strip_accents") : options.StripAccents };
        else if (c.TryGetProperty("strip_accents", out _))
            options = options with { StripAccents = GetBool(c, "strip_accents") };
        if (GetBool(c, "tokenize_chinese_chars") is bool cjk) options = options with { TokenizeChineseChars = cjk };
        if (GetBool(c, "clean_up_tokenization_spaces") is bool cleanup) options = options with { CleanUpTokenizationSpaces = cleanup };
        if (GetBool(c, "split_special_tokens") is bool split) options = options with { SplitSpecialTokens = split };
        if (c.TryGetProperty("model_max_length", out var mml) && mml.ValueKind == JsonValueKind.Number)
        {
            double v = mml.GetDouble();
            if (v >= 1) options = options with { ModelMaxLength = v >= int.MaxValue ? int.MaxValue : (int)v };
        }
        options = options with
        {
            UnknownToken = SpecialToken(c, "unk_token") ?? options.UnknownToken,
            ClassifierToken = SpecialToken(c, "cls_token") ?? options.ClassifierToken,
            SeparatorToken = SpecialToken(c, "sep_token") ?? options.SeparatorToken,
            PaddingToken = SpecialToken(c, "pad_token") ?? options.PaddingToken,
            MaskToken = SpecialToken(c, "mask_token") ?? options.MaskToken,
        };
        return options;

        static string? SpecialToken(JsonElement c, string name) =>
            !c.TryGetProperty(name, out var v) ? null
            : v.ValueKind == JsonValueKind.String ? v.GetString()
            : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) ? content.GetString()
            : null;
    }

    /// <summary>Saves the tokenizer as HuggingFace does (<c>save_pretrained</c>): <c>vocab.txt</c>,
    /// <c>tokenizer.json</c>, <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>, readable by
    /// <see cref="FromPretrained"/> and by transformers' <c>AutoTokenizer.from_pretrained</c>.</summary>
    public void SavePretrained(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var o = Options;
        int modelSize = _modelVocab.Count == 0 ? 0 : _modelVocab.Values.Max() + 1;
        var byId = new string[modelSize];
        Array.Fill(byId, "");
        foreach (var (token, id) in _modelVocab) byId[id] = token;
        File.WriteAllText(Path.Combine(directory, "vocab.txt"), string.Concat(byId.Select(t => t + "\n")), new UTF8Encoding(false));

        WriteJson(Path.Combine(directory, "tokenizer_config.json"), w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("clean_up_tokenization_spaces", o.CleanUpTokenizationSpaces);
            w.WriteString("cls_token", o.ClassifierToken);
            w.WriteBoolean("do_basic_tokenize", true);
            w.WriteBoolean("do_lower_case", o.LowerCase);
            w.WriteString("mask_token", o.MaskToken);
            w.WriteNumber("model_max_length", o.ModelMaxLength);
            w.WriteString("pad_token", o.PaddingToken);
            w.WriteString("sep_token", o.SeparatorToken);
            w.WriteBoolean("split_special_tokens", o.SplitSpecialTokens);
            if (o.StripAccents is bool strip) w.WriteBoolean("strip_accents", strip);
            else w.WriteNull("strip_accents");
            w.WriteBoolean("tokenize_chinese_chars", o.TokenizeChineseChars);
            w.WriteString("tokenizer_class", "BertTokenizer");
            w.WriteString("unk_token", o.UnknownToken);
            w.WriteEndObject();
        });
        WriteJson(Path.Combine(directory, "special_tokens_map.json"), w =>
        {
            w.WriteStartObject();
            w.WriteString("cls_token", o.ClassifierToken);
            w.WriteString("mask_token", o.MaskToken);
            w.WriteString("pad_token", o.PaddingToken);
            w.WriteString("sep_token", o.SeparatorToken);
            w.WriteString("unk_token", o.UnknownToken);
            w.WriteEndObject();
        });
        WriteJson(Path.Combine(directory, "tokenizer.json"), w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var t in _addedTokens.OrderBy(t => t.Id))
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("content", t.Content);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", t.LStrip);
                w.WriteBoolean("rstrip", t.RStrip);
                w.WriteBoolean("normalized", t.Normalized);
                w.WriteBoolean("special", t.Special);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("normalizer");
            w.WriteString("type", "BertNormalizer");
            w.WriteBoolean("clean_text", o.CleanText);
            w.WriteBoolean("handle_chinese_chars", o.TokenizeChineseChars);
            if (o.StripAccents is bool strip) w.WriteBoolean("strip_accents", strip);
            else w.WriteNull("strip_accents");
            w.WriteBoolean("lowercase", o.LowerCase);
            w.WriteEndObject();
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "BertPreTokenizer");
            w.WriteEndObject();
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            Piece(w, "SpecialToken", o.ClassifierToken, 0);
            Piece(w, "Sequence", "A", 0);
            Piece(w, "SpecialToken", o.SeparatorToken, 0);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            Piece(w, "SpecialToken", o.ClassifierToken, 0);
            Piece(w, "Sequence", "A", 0);
            Piece(w, "SpecialToken", o.SeparatorToken, 0);
            Piece(w, "Sequence", "B", 1);
            Piece(w, "SpecialToken", o.SeparatorToken, 1);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            foreach (var (token, id) in new[] { (o.ClassifierToken, ClassifierTokenId), (o.SeparatorToken, SeparatorTokenId) }.Distinct())
            {
                w.WriteStartObject(token);
                w.WriteString("id", token);
                w.WriteStartArray("ids");
                w.WriteNumberValue(id);
                w.WriteEndArray();
                w.WriteStartArray("tokens");
                w.WriteStringValue(token);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("decoder");
            w.WriteString("type", "WordPiece");
            w.WriteString("prefix", o.ContinuingSubwordPrefix);
            w.WriteBoolean("cleanup", true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "WordPiece");
            w.WriteString("unk_token", o.UnknownToken);
            w.WriteString("continuing_subword_prefix", o.ContinuingSubwordPrefix);
            w.WriteNumber("max_input_chars_per_word", o.MaxInputCharsPerWord);
            w.WriteStartObject("vocab");
            foreach (var (token, id) in _modelVocab.OrderBy(p => p.Value)) w.WriteNumber(token, id);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });

        static void Piece(Utf8JsonWriter w, string kind, string id, int typeId)
        {
            w.WriteStartObject();
            w.WriteStartObject(kind);
            w.WriteString("id", id);
            w.WriteNumber("type_id", typeId);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions
               {
                   Indented = true,
                   IndentSize = 2,
                   Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
               }))
            write(w);
        stream.WriteByte((byte)'\n');
        File.WriteAllBytes(path, stream.ToArray());
    }

    // ------------------------------------------------------------------ encoding

    /// <summary>The WordPiece tokens of <paramref name="text"/>, without special tokens, truncation or padding
    /// (HuggingFace <c>tokenizer.tokenize</c>).</summary>
    public string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        EncodeSequence(text, ids);
        return ids.Select(IdToTokenOrUnknown).ToArray();
    }

    /// <summary>The ids of <paramref name="text"/>'s WordPiece tokens, without special tokens.</summary>
    public int[] EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        EncodeSequence(text, ids);
        return ids.ToArray();
    }

    /// <summary>[CLS] ids [SEP] of one text, its word pieces truncated so that the whole fits in
    /// <paramref name="maxLength"/> (HuggingFace's <c>tokenizer(text, truncation=True, max_length=…)["input_ids"]</c>),
    /// without the token strings an <see cref="Encoding"/> carries: what the pipelines and the training task keep per text.</summary>
    public int[] EncodeTruncatedIds(string text, int maxLength)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must leave room for [CLS] and [SEP]");
        var ids = EncodeToIds(text);
        int kept = Math.Min(ids.Length, maxLength - 2);
        var row = new int[kept + 2];
        row[0] = ClassifierTokenId;
        ids.AsSpan(0, kept).CopyTo(row.AsSpan(1));
        row[^1] = SeparatorTokenId;
        return row;
    }

    /// <summary>Encodes a text, or a pair of texts, as BERT's input (HuggingFace <c>tokenizer(text, pair, ...)</c>).</summary>
    /// <param name="text">The first (or only) sequence.</param>
    /// <param name="pair">The second sequence of a pair (question/context, premise/hypothesis), or null.</param>
    /// <param name="maxLength">The maximum number of tokens including [CLS] and [SEP]; null means
    /// <see cref="ModelMaxLength"/> when <paramref name="truncation"/> or <see cref="Padding.MaxLength"/> needs one.</param>
    /// <param name="truncation">How to shorten inputs over the maximum length.</param>
    /// <param name="padding">Whether to pad to the maximum length (<see cref="Padding.Longest"/> is a no-op for one input).</param>
    /// <param name="addSpecialTokens">Add [CLS] and [SEP] (HuggingFace <c>add_special_tokens</c>).</param>
    public Encoding Encode(string text, string? pair = null, int? maxLength = null, Truncation truncation = Truncation.LongestFirst,
        Padding padding = Padding.None, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var e = EncodeUnpadded(text, pair, maxLength, truncation, addSpecialTokens);
        if (padding == Padding.MaxLength) e = Pad(e, maxLength ?? ModelMaxLength);
        return e;
    }

    /// <summary>Encodes a batch of texts (or of pairs: <paramref name="pairs"/>[i] goes with
    /// <paramref name="texts"/>[i]) into rectangular [batch, seq] arrays.</summary>
    /// <param name="padding">Defaults to <see cref="Padding.Longest"/>; with <see cref="Padding.None"/> every row
    /// must come out with the same length, and with <see cref="Padding.MaxLength"/> no row may be longer than the
    /// maximum length (use truncation).</param>
    /// <inheritdoc cref="Encode" path="/param[@name='maxLength']"/>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null, int? maxLength = null,
        Padding padding = Padding.Longest, Truncation truncation = Truncation.LongestFirst, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} pairs: give one pair per text", nameof(pairs));
        var rows = new Encoding[texts.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"texts[{i}] is null", nameof(texts));
            string? pair = pairs is null ? null : pairs[i] ?? throw new ArgumentException($"pairs[{i}] is null", nameof(pairs));
            rows[i] = EncodeUnpadded(text, pair, maxLength, truncation, addSpecialTokens);
        }
        if (rows.Length == 0) return new BatchEncoding(rows);

        int longest = rows.Max(r => r.Length);
        switch (padding)
        {
            case Padding.None:
                int shortest = rows.Min(r => r.Length);
                if (shortest != longest)
                    throw new ArgumentException(
                        $"with Padding.None the rows must have one length, but they have {shortest} to {longest} tokens: use Padding.Longest or Padding.MaxLength",
                        nameof(padding));
                break;
            case Padding.Longest:
                for (int i = 0; i < rows.Length; i++) rows[i] = Pad(rows[i], longest);
                break;
            case Padding.MaxLength:
                int target = maxLength ?? ModelMaxLength;
                for (int i = 0; i < rows.Length; i++)
                {
                    if (rows[i].Length > target)
                        throw new ArgumentException(
                            $"row {i} has {rows[i].Length} tokens, more than the maximum length {target}, and truncation is {truncation}: it cannot be padded to {target}",
                            nameof(truncation));
                    rows[i] = Pad(rows[i], target);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(padding), padding, null);
        }
        return new BatchEncoding(rows);
    }

    private Encoding EncodeUnpadded(string text, string? pair, int? maxLength, Truncation truncation, bool addSpecialTokens)
    {
        if (maxLength is < 0) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must not be negative");
        var a = new List<int>();
        EncodeSequence(text, a);
        List<int>? b = null;
        if (pair is not null)
        {
            b = new List<int>();
            EncodeSequence(pair, b);
        }

        if (truncation != Truncation.None)
        {
            int max = maxLength ?? ModelMaxLength;
            int added = addSpecialTokens ? (b is null ? 2 : 3) : 0;
            if (max < added)
                throw new ArgumentOutOfRangeException(nameof(maxLength), max,
                    $"the maximum length must leave room for the {added} special tokens");
            var (n1, n2) = TruncatedLengths(a.Count, b?.Count, max - added, truncation);
            a.RemoveRange(n1, a.Count - n1);
            b?.RemoveRange(n2, b.Count - n2);
        }

        int len = a.Count + (b?.Count ?? 0) + (addSpecialTokens ? (b is null ? 2 : 3) : 0);
        var ids = new int[len];
        var types = new int[len];
        int k = 0;
        if (addSpecialTokens) ids[k++] = ClassifierTokenId;
        foreach (int id in a) ids[k++] = id;
        if (addSpecialTokens) ids[k++] = SeparatorTokenId;
        if (b is not null)
        {
            int startB = k;
            foreach (int id in b) ids[k++] = id;
            if (addSpecialTokens) ids[k++] = SeparatorTokenId;
            types.AsSpan(startB, k - startB).Fill(1);
        }
        var mask = new int[len];
        Array.Fill(mask, 1);
        return new Encoding(ids, mask, types, ids.Select(IdToTokenOrUnknown).ToArray());
    }

    /// <summary>The lengths the two sequences keep under <paramref name="budget"/> tokens (special tokens excluded),
    /// as HuggingFace tokenizers' <c>truncate_encodings</c>.</summary>
    internal static (int First, int Second) TruncatedLengths(int n1, int? n2OrNull, int budget, Truncation strategy)
    {
        int n2 = n2OrNull ?? 0;
        if (n1 + n2 <= budget) return (n1, n2);
        int toRemove = n1 + n2 - budget;
        switch (strategy)
        {
            case Truncation.LongestFirst:
                if (n2OrNull is null) return (budget, 0);
                {
                    bool swap = n1 > n2;
                    int shortLen = Math.Min(n1, n2), longLen;
                    longLen = shortLen > budget ? shortLen : Math.Max(shortLen, budget - shortLen);
                    if (shortLen + longLen > budget)
                    {
                        shortLen = budget / 2;
                        longLen = shortLen + budget % 2;
                    }
                    return swap ? (longLen, shortLen) : (shortLen, longLen);
                }
            case Truncation.OnlyFirst:
                if (n1 <= toRemove)
                    throw new ArgumentException($"cannot truncate only the first sequence: it has {n1} tokens and {toRemove} must go");
                return (n1 - toRemove, n2);
            case Truncation.OnlySecond:
                if (n2OrNull is null) throw new ArgumentException("Truncation.OnlySecond needs a pair of sequences");
                if (n2 <= toRemove)
                    throw new ArgumentException($"cannot truncate only the second sequence: it has {n2} tokens and {toRemove} must go");
                return (n1, n2 - toRemove);
            default:
                throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null);
        }
    }

    private Encoding Pad(Encoding e, int length)
    {
        if (e.Length >= length) return e;
        var ids = new int[length];
        var mask = new int[length];
        var types = new int[length];
        var tokens = new string[length];
        e.InputIds.CopyTo(ids, 0);
        e.AttentionMask.CopyTo(mask, 0);
        e.TokenTypeIds.CopyTo(types, 0);
        e.Tokens.CopyTo(tokens, 0);
        ids.AsSpan(e.Length).Fill(PaddingTokenId);
        tokens.AsSpan(e.Length).Fill(Options.PaddingToken);
        return new Encoding(ids, mask, types, tokens);
    }

    /// <summary>Appends the ids of one sequence: added tokens, then normalization, pre-tokenization and WordPiece for
    /// the text between them.</summary>
    private void EncodeSequence(string text, List<int> ids)
    {
        foreach (var (start, end, token) in SplitOnAddedTokens(text, _rawAddedTokens))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                continue;
            }
            var normalized = _normalizer.Normalize(text.AsSpan(start, end - start));
            foreach (var (ns, ne, ntoken) in SplitOnAddedTokens(normalized, _normalizedAddedTokens))
            {
                if (ntoken is not null)
                {
                    ids.Add(ntoken.Id);
                    continue;
                }
                var words = new List<string>();
                BertPreTokenizer.Split(normalized[ns..ne], words);
                foreach (var word in words) AddWordPieces(word, ids);
            }
        }
    }

    private void AddWordPieces(string word, List<int> ids)
    {
        int chars = 0;
        foreach (var _ in word.EnumerateRunes())
            if (++chars > Options.MaxInputCharsPerWord)
            {
                ids.Add(UnknownTokenId);
                return;
            }
        ids.AddRange(_wordPiece.EncodeToIds(word.AsSpan(), considerPreTokenization: false, considerNormalization: false));
    }

    /// <summary>Cuts <paramref name="text"/> at the leftmost-longest occurrences of the patterns (HuggingFace's added
    /// vocabulary matching), absorbing neighbouring whitespace for tokens with lstrip/rstrip. Yields the pieces in
    /// order: text ranges with a null token, matches with their token.</summary>
    private static List<(int Start, int End, AddedToken? Token)> SplitOnAddedTokens(string text, (string Pattern, AddedToken Token)[] patterns)
    {
        var pieces = new List<(int, int, AddedToken?)>();
        if (patterns.Length == 0)
        {
            if (text.Length > 0) pieces.Add((0, text.Length, null));
            return pieces;
        }
        int segStart = 0, i = 0;
        while (i < text.Length)
        {
            (string Pattern, AddedToken Token)? best = null;
            foreach (var p in patterns) // longest first
            {
                if (text.AsSpan(i).StartsWith(p.Pattern, StringComparison.Ordinal))
                {
                    best = p;
                    break;
                }
            }
            if (best is not { } match)
            {
                i++;
                continue;
            }
            int mStart = i, mEnd = i + match.Pattern.Length;
            if (match.Token.LStrip)
                while (mStart > segStart && char.IsWhiteSpace(text[mStart - 1])) mStart--;
            if (match.Token.RStrip)
                while (mEnd < text.Length && char.IsWhiteSpace(text[mEnd])) mEnd++;
            if (mStart > segStart) pieces.Add((segStart, mStart, null));
            pieces.Add((mStart, mEnd, match.Token));
            segStart = i = mEnd;
        }
        if (segStart < text.Length) pieces.Add((segStart, text.Length, null));
        return pieces;
    }

    // ------------------------------------------------------------------ vocabulary and decoding

    /// <summary>The id of <paramref name="token"/>, or null when it is not in the vocabulary.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token of <paramref name="id"/>, or null when no token has that id.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    private string IdToTokenOrUnknown(int id) => IdToToken(id) ?? Options.UnknownToken;

    /// <summary>Turns ids back into text as HuggingFace does: tokens joined by spaces, "##" pieces glued to the
    /// previous token, and spaces before <c>. ? ! ,</c> removed. The text is the normalized one (lowercased, accents
    /// stripped, CJK characters spaced); ids with no token are skipped.</summary>
    /// <param name="skipSpecialTokens">Leave out [CLS], [SEP], [PAD], [UNK], [MASK] and other special tokens.</param>
    /// <param name="cleanUpTokenizationSpaces">Also apply transformers' <c>clean_up_tokenization</c> to the whole
    /// text (e.g. "don ' t" → "don't"); null uses <see cref="BertTokenizerOptions.CleanUpTokenizationSpaces"/>.</param>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true, bool? cleanUpTokenizationSpaces = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        string prefix = Options.ContinuingSubwordPrefix;
        bool first = true;
        foreach (int id in ids)
        {
            var token = IdToToken(id);
            if (token is null) continue;
            if (skipSpecialTokens && _isSpecialId[id]) continue;
            string piece = token;
            if (!first) piece = piece.StartsWith(prefix, StringComparison.Ordinal) ? piece[prefix.Length..] : " " + piece;
            first = false;
            sb.Append(CleanUpPiece(piece));
        }
        var text = sb.ToString();
        if (cleanUpTokenizationSpaces ?? Options.CleanUpTokenizationSpaces) text = CleanUpTokenization(text);
        return text;
    }

    /// <summary>HuggingFace's WordPiece decoder cleanup, applied to each token with its leading space.</summary>
    private static string CleanUpPiece(string s) =>
        s.Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
         .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
         .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
         .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" do not", " don't", StringComparison.Ordinal)
         .Replace(" 's", "'s", StringComparison.Ordinal).Replace(" 've", "'ve", StringComparison.Ordinal)
         .Replace(" 're", "'re", StringComparison.Ordinal);

    /// <summary>transformers' <c>clean_up_tokenization</c>.</summary>
    private static string CleanUpTokenization(string s) =>
        s.Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
         .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
         .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
         .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
         .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"BertTokenizer(vocab {VocabSize}, lowercase {Options.LowerCase}, strip accents {Options.EffectiveStripAccents}, max length {ModelMaxLength})");
}
