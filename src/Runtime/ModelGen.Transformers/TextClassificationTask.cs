using ModelGen.Training;

namespace ModelGen.Transformers;

/// <summary>Token ids, mask, token types and labels of a batch, padded to the task's sequence length.</summary>
public sealed class TextBatch(int capacity, int maxLength)
{
    public int[] Ids { get; } = new int[capacity * maxLength];
    public int[] Mask { get; } = new int[capacity * maxLength];
    public int[] Types { get; } = new int[capacity * maxLength];
    public int[] Labels { get; } = new int[capacity];
    public int SequenceLength { get; set; }
}

/// <summary>Fine-tuning or evaluating a BERT-family sequence classifier with the Trainer: tokenises each text once (the
/// token ids are kept, as HuggingFace's <c>dataset.map</c> keeps them), collates batches in the DataLoader's background
/// thread with dynamic padding, and feeds the model Int32 tensors of ids, positions and token types and a padding mask in
/// the model's dtype.</summary>
public sealed class TextClassificationTask<TExample> : ITrainingTask<TExample, TextBatch>, IExampleLength<TExample>
{
    private readonly ISequenceClassifier _model;
    private readonly BertTokenizer _tokenizer;
    private readonly Func<TExample, string> _text;
    private readonly Func<TExample, int> _label;
    private readonly Dictionary<(int, int), (Tensor Ids, Tensor Positions, Tensor Types, Tensor Mask)> _inputs = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _tokens = new(StringComparer.Ordinal);

    /// <param name="maxLength">Tokens per example at most ([CLS] and [SEP] included); longer texts are truncated.</param>
    /// <param name="padToMaxLength">Pad every batch to <paramref name="maxLength"/>. By default (false) each batch is
    /// padded to its longest example rounded up to a multiple of <paramref name="padToMultipleOf"/> (HuggingFace's
    /// DataCollatorWithPadding with <c>pad_to_multiple_of</c>): short sentences cost short sequences.</param>
    /// <param name="padToMultipleOf">The rounding of dynamic padding; it bounds the number of distinct batch shapes
    /// (each gets an activation plan, all sharing the largest one's memory).</param>
    public TextClassificationTask(ISequenceClassifier model, BertTokenizer tokenizer, Func<TExample, string> text, Func<TExample, int> label,
        int maxLength = 128, bool padToMaxLength = false, int padToMultipleOf = 8)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must leave room for [CLS] and [SEP]");
        if (padToMultipleOf < 1) throw new ArgumentOutOfRangeException(nameof(padToMultipleOf), padToMultipleOf, "must be positive");
        PadToMaxLength = padToMaxLength;
        PadToMultipleOf = padToMultipleOf;
        _model = model;
        _tokenizer = tokenizer;
        _text = text;
        _label = label;
        MaxLength = maxLength;
    }

    public Module Model => _model.Module;
    public int Classes => _model.Config.NumLabels;
    public int MaxLength { get; }
    public bool PadToMaxLength { get; }
    public int PadToMultipleOf { get; }

    public TextBatch Create(int capacity) => new(capacity, MaxLength);

    /// <summary>[CLS] ids [SEP] of a text, truncated to <see cref="MaxLength"/>; tokenised on first use, then cached.</summary>
    private int[] Tokens(TExample example)
    {
        var text = _text(example);
        if (_tokens.TryGetValue(text, out var row)) return row;
        return _tokens.GetOrAdd(text, _tokenizer.EncodeTruncatedIds(text, MaxLength));
    }

    /// <summary>Tokens of the example, [CLS] and [SEP] included (for <see cref="TrainingArguments.GroupByLength"/>).</summary>
    public int Length(TExample example) => Tokens(example).Length;

    /// <summary>The padded length of a batch whose longest example has <paramref name="longest"/> tokens.</summary>
    public int PaddedLength(int longest)
        => PadToMaxLength ? MaxLength : Math.Min(MaxLength, (longest + PadToMultipleOf - 1) / PadToMultipleOf * PadToMultipleOf);

    public void Collate(IReadOnlyList<TExample> data, ReadOnlySpan<int> indices, TextBatch batch)
    {
        int longest = 1;
        for (int i = 0; i < indices.Length; i++) longest = Math.Max(longest, Tokens(data[indices[i]]).Length);
        int seq = PaddedLength(longest);
        batch.SequenceLength = seq;
        for (int i = 0; i < indices.Length; i++)
        {
            var row = Tokens(data[indices[i]]);
            var ids = batch.Ids.AsSpan(i * seq, seq);
            var mask = batch.Mask.AsSpan(i * seq, seq);
            ids.Clear();
            mask.Clear();
            batch.Types.AsSpan(i * seq, seq).Clear();
            row.CopyTo(ids);
            mask.Slice(0, row.Length).Fill(1);
            batch.Labels[i] = _label(data[indices[i]]);
        }
    }

    private (Tensor Ids, Tensor Positions, Tensor Types, Tensor Mask) Inputs(TextBatch batch, int count)
    {
        int seq = batch.SequenceLength;
        if (!_inputs.TryGetValue((count, seq), out var t))
        {
            var shape = new Shape(count, seq);
            t = (Tensor.Zeros(shape, DType.Int32, Model.Device), Tensor.From<int>(PositionIds(count, seq), shape, DType.Int32, Model.Device),
                Tensor.Zeros(shape, DType.Int32, Model.Device), Tensor.Zeros(shape, Model.DType, Model.Device));
            _inputs[(count, seq)] = t;
        }
        t.Ids.CopyFrom<int>(batch.Ids.AsSpan(0, count * seq));
        t.Types.CopyFrom<int>(batch.Types.AsSpan(0, count * seq));
        t.Mask.CopyFrom<int>(batch.Mask.AsSpan(0, count * seq));
        return t;
    }

    // not a lambda: its closure over seq would be allocated on every call, cache hit or not
    private static int[] PositionIds(int count, int seq)
    {
        var positions = new int[count * seq];
        for (int i = 0; i < positions.Length; i++) positions[i] = i % seq;
        return positions;
    }

    public double Loss(TextBatch batch, int count)
    {
        var (ids, positions, types, mask) = Inputs(batch, count);
        return _model.Loss(ids, positions, types, mask, batch.Labels.AsSpan(0, count));
    }

    public void Backward() => _model.Backward();

    public void Logits(TextBatch batch, int count, Span<float> logits)
    {
        var (ids, positions, types, mask) = Inputs(batch, count);
        var y = _model.Logits(ids, positions, types, mask);
        y.ToArray().CopyTo(logits);
    }

    public int Label(TExample example) => _label(example);
}
