using ModelGen.Text;
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

/// <summary>Fine-tuning or evaluating a BERT-family sequence classifier with the Trainer: tokenises in the DataLoader's
/// background thread and feeds the model float tensors of ids, positions, token types and the padding mask.</summary>
public sealed class TextClassificationTask<TExample> : ITrainingTask<TExample, TextBatch>
{
    private readonly ISequenceClassifier _model;
    private readonly BertTokenizer _tokenizer;
    private readonly Func<TExample, string> _text;
    private readonly Func<TExample, int> _label;
    private readonly Dictionary<(int, int), (Tensor Ids, Tensor Positions, Tensor Types, Tensor Mask)> _inputs = new();

    /// <param name="padToMaxLength">Pad every batch to <paramref name="maxLength"/> (one activation plan serves every
    /// batch; plans are large for transformers); otherwise to the longest example rounded up to a multiple of 16.</param>
    public TextClassificationTask(ISequenceClassifier model, BertTokenizer tokenizer, Func<TExample, string> text, Func<TExample, int> label,
        int maxLength = 128, bool padToMaxLength = true)
    {
        PadToMaxLength = padToMaxLength;
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

    public TextBatch Create(int capacity) => new(capacity, MaxLength);

    public void Collate(IReadOnlyList<TExample> data, ReadOnlySpan<int> indices, TextBatch batch)
    {
        var encodings = new Encoding[indices.Length];
        int longest = 1;
        for (int i = 0; i < indices.Length; i++)
        {
            encodings[i] = _tokenizer.Encode(_text(data[indices[i]]), maxLength: MaxLength);
            longest = Math.Max(longest, encodings[i].Length);
            batch.Labels[i] = _label(data[indices[i]]);
        }
        int seq = PadToMaxLength ? MaxLength : Math.Min(MaxLength, (longest + 15) / 16 * 16);
        batch.SequenceLength = seq;
        for (int i = 0; i < indices.Length; i++)
        {
            var e = encodings[i];
            var ids = batch.Ids.AsSpan(i * seq, seq);
            var mask = batch.Mask.AsSpan(i * seq, seq);
            var types = batch.Types.AsSpan(i * seq, seq);
            ids.Clear();
            mask.Clear();
            types.Clear();
            e.InputIds.CopyTo(ids);
            e.AttentionMask.CopyTo(mask);
            e.TokenTypeIds.CopyTo(types);
        }
    }

    private (Tensor Ids, Tensor Positions, Tensor Types, Tensor Mask) Inputs(TextBatch batch, int count)
    {
        int seq = batch.SequenceLength;
        if (!_inputs.TryGetValue((count, seq), out var t))
        {
            var shape = new Shape(count, seq);
            var positions = Enumerable.Range(0, count * seq).Select(i => (float)(i % seq)).ToArray();
            t = (Tensor.Zeros(shape, Model.DType, Model.Device), Tensor.From<float>(positions, shape, Model.DType, Model.Device),
                Tensor.Zeros(shape, Model.DType, Model.Device), Tensor.Zeros(shape, Model.DType, Model.Device));
            _inputs[(count, seq)] = t;
        }
        t.Ids.CopyFrom<int>(batch.Ids.AsSpan(0, count * seq));
        t.Types.CopyFrom<int>(batch.Types.AsSpan(0, count * seq));
        t.Mask.CopyFrom<int>(batch.Mask.AsSpan(0, count * seq));
        return t;
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
