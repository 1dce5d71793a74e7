namespace ModelGen.Transformers;

/// <summary>How <see cref="BertTokenizer"/> pads encodings (always on the right, with the [PAD] token, type id 0 and
/// attention mask 0), as HuggingFace's <c>padding=</c> argument.</summary>
public enum Padding
{
    /// <summary>No padding. A batch whose rows differ in length cannot be made rectangular and is rejected.</summary>
    None,

    /// <summary>Pad to the longest row of the batch (HuggingFace <c>padding="longest"</c> / <c>True</c>).</summary>
    Longest,

    /// <summary>Pad to the maximum length (the <c>maxLength</c> argument, else the tokenizer's
    /// <see cref="BertTokenizer.ModelMaxLength"/>), HuggingFace <c>padding="max_length"</c>.</summary>
    MaxLength,
}

/// <summary>How <see cref="BertTokenizer"/> shortens inputs longer than the maximum length, which counts the special
/// tokens ([CLS] and one or two [SEP]). The rules are those of HuggingFace tokenizers (the "fast" tokenizers).</summary>
public enum Truncation
{
    /// <summary>Never truncate.</summary>
    None,

    /// <summary>Single input: keep the first tokens. Pair: when only the longer side has to give, it is cut to fit;
    /// when both must, the budget is split in half, the second sequence getting the odd token.</summary>
    LongestFirst,

    /// <summary>Cut only the first sequence; fails when it is too short to make room.</summary>
    OnlyFirst,

    /// <summary>Cut only the second sequence of a pair; fails when it is too short or there is no pair.</summary>
    OnlySecond,
}

/// <summary>One encoded input (a text or a pair of texts): token ids, the attention mask (1 for real tokens, 0 for
/// padding), token type ids (0 for the first sequence with [CLS] and its [SEP], 1 for the second with its [SEP]) and
/// the token strings, all of the same length.</summary>
public sealed class Encoding
{
    public Encoding(int[] inputIds, int[] attentionMask, int[] tokenTypeIds, string[] tokens)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(tokenTypeIds);
        ArgumentNullException.ThrowIfNull(tokens);
        if (attentionMask.Length != inputIds.Length || tokenTypeIds.Length != inputIds.Length || tokens.Length != inputIds.Length)
            throw new ArgumentException(
                $"all arrays must have the same length: ids {inputIds.Length}, mask {attentionMask.Length}, type ids {tokenTypeIds.Length}, tokens {tokens.Length}");
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Tokens = tokens;
    }

    public int[] InputIds { get; }
    public int[] AttentionMask { get; }
    public int[] TokenTypeIds { get; }
    public string[] Tokens { get; }

    /// <summary>The number of positions, padding included.</summary>
    public int Length => InputIds.Length;

    public override string ToString() => string.Join(' ', Tokens);
}

/// <summary>A rectangular batch of encodings: <see cref="InputIds"/>, <see cref="AttentionMask"/> and
/// <see cref="TokenTypeIds"/> are [<see cref="BatchSize"/>, <see cref="SequenceLength"/>] arrays, row-major — the
/// layout of BERT's <c>input_ids</c>, <c>attention_mask</c> and <c>token_type_ids</c> inputs.</summary>
public sealed class BatchEncoding
{
    public BatchEncoding(IReadOnlyList<Encoding> encodings)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        BatchSize = encodings.Count;
        SequenceLength = BatchSize == 0 ? 0 : encodings[0].Length;
        InputIds = new int[BatchSize * SequenceLength];
        AttentionMask = new int[BatchSize * SequenceLength];
        TokenTypeIds = new int[BatchSize * SequenceLength];
        for (int b = 0; b < BatchSize; b++)
        {
            var e = encodings[b];
            if (e.Length != SequenceLength)
                throw new ArgumentException($"row {b} has {e.Length} positions, row 0 has {SequenceLength}: pad the rows to one length");
            e.InputIds.CopyTo(InputIds, b * SequenceLength);
            e.AttentionMask.CopyTo(AttentionMask, b * SequenceLength);
            e.TokenTypeIds.CopyTo(TokenTypeIds, b * SequenceLength);
        }
        Encodings = encodings;
    }

    public int BatchSize { get; }
    public int SequenceLength { get; }

    /// <summary>[batch, seq] token ids, row-major.</summary>
    public int[] InputIds { get; }

    /// <summary>[batch, seq], 1 for real tokens and 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>[batch, seq] segment ids.</summary>
    public int[] TokenTypeIds { get; }

    /// <summary>The rows, each with its token strings.</summary>
    public IReadOnlyList<Encoding> Encodings { get; }

    /// <summary>Row <paramref name="index"/>.</summary>
    public Encoding this[int index] => Encodings[index];
}
