namespace ModelGen.Transformers;

/// <summary>Settings of a <see cref="BertTokenizer"/>, named after HuggingFace's <c>BertTokenizer</c> arguments and
/// <c>BertNormalizer</c> fields. The defaults are those of the uncased BERT checkpoints (bert-base-uncased,
/// all-MiniLM-L6-v2).</summary>
public sealed record BertTokenizerOptions
{
    /// <summary>Lowercase the text (<c>do_lower_case</c> / <c>lowercase</c>). False for cased checkpoints.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>Decompose (NFD) and drop non-spacing marks, "café" → "cafe" (<c>strip_accents</c>); null follows
    /// <see cref="LowerCase"/>, as in HuggingFace.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Put spaces around CJK ideographs so each becomes a word (<c>tokenize_chinese_chars</c>).</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Drop control and format characters and map every whitespace to a space (<c>clean_text</c>).</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Words longer than this many characters (Unicode scalar values) become [UNK].</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>The prefix of word pieces that continue a word.</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    public string UnknownToken { get; init; } = "[UNK]";
    public string ClassifierToken { get; init; } = "[CLS]";
    public string SeparatorToken { get; init; } = "[SEP]";
    public string PaddingToken { get; init; } = "[PAD]";
    public string MaskToken { get; init; } = "[MASK]";

    /// <summary>The length the model accepts (<c>model_max_length</c>); used when a call asks for truncation or
    /// <see cref="Padding.MaxLength"/> without giving a maximum length.</summary>
    public int ModelMaxLength { get; init; } = 512;

    /// <summary>HuggingFace's <c>split_special_tokens</c>: when false (the default) a special token written in the
    /// input text, such as "[MASK]" or "[SEP]", is that token; when true it is tokenized as ordinary text. Set it for
    /// untrusted text that must not be able to inject separators.</summary>
    public bool SplitSpecialTokens { get; init; }

    /// <summary>The default of <see cref="BertTokenizer.Decode"/>'s <c>cleanUpTokenizationSpaces</c>
    /// (transformers' <c>clean_up_tokenization_spaces</c>).</summary>
    public bool CleanUpTokenizationSpaces { get; init; }

    internal bool EffectiveStripAccents => StripAccents ?? LowerCase;
}
