
namespace ModelGen.Transformers;

public sealed record ClassificationResult(string Label, double Score);

/// <summary>HuggingFace's pipeline(...) entry points.</summary>
public static class Pipeline
{
    /// <summary>The batch size pipelines use unless told otherwise (HuggingFace's <c>batch_size</c>).</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>"sentiment-analysis" / "text-classification" or "feature-extraction" from a model directory
    /// (config.json, model.safetensors, vocab.txt or tokenizer.json).</summary>
    public static IDisposable Create(string task, string modelDirectory, Device? device = null, int batchSize = DefaultBatchSize) => task switch
    {
        "sentiment-analysis" or "text-classification" => TextClassification(modelDirectory, device, batchSize),
        "feature-extraction" => FeatureExtraction(modelDirectory, device, batchSize),
        _ => throw new ArgumentException($"Unknown pipeline task '{task}': sentiment-analysis, text-classification, feature-extraction."),
    };

    public static TextClassificationPipeline TextClassification(string modelDirectory, Device? device = null, int batchSize = DefaultBatchSize)
        => new((ISequenceClassifier)AutoModel.FromPretrained(modelDirectory, device), BertTokenizer.FromPretrained(modelDirectory), batchSize: batchSize);

    public static FeatureExtractionPipeline FeatureExtraction(string modelDirectory, Device? device = null, int batchSize = DefaultBatchSize)
        => new(BertModel.FromPretrained(modelDirectory, device), BertTokenizer.FromPretrained(modelDirectory), batchSize: batchSize);
}

/// <summary>How every pipeline feeds a BERT-family model: the texts are sorted by length in characters, longest first
/// (as sentence-transformers' <c>encode</c> does), and cut into batches of at most <see cref="BatchSize"/>; each batch
/// is tokenised when it runs (truncated to the model's maximum length) and padded only to its own longest text, so
/// memory does not grow with the number of texts beyond the texts and the results. Results come back in input order.
/// Calls are serialised: one model, one set of activation buffers, so concurrent calls are safe.</summary>
public abstract class BatchingPipeline : IDisposable
{
    private readonly object _lock = new();
    private readonly Module _module;
    private int _batchSize;

    private protected BatchingPipeline(Module module, BertTokenizer tokenizer, int maxPositions, int? maxLength, int batchSize)
    {
        _module = module;
        Tokenizer = tokenizer;
        int limit = Math.Min(maxLength ?? tokenizer.ModelMaxLength, maxPositions);
        if (limit < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), limit, "the maximum length must leave room for [CLS] and [SEP]");
        MaxLength = limit;
        BatchSize = batchSize;
    }

    public BertTokenizer Tokenizer { get; }

    /// <summary>Tokens per text at most, [CLS] and [SEP] included: the smaller of the tokenizer's model_max_length (or
    /// the length given) and the model's position table. Longer texts are truncated, as HuggingFace's
    /// <c>truncation=True</c> does.</summary>
    public int MaxLength { get; }

    /// <summary>Texts per forward pass (HuggingFace's <c>batch_size</c>; default <see cref="Pipeline.DefaultBatchSize"/>).</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "the batch size must be positive");
    }

    /// <summary>Runs the model over batches of texts sorted by length, longest first (by characters, as
    /// sentence-transformers' <c>encode</c> sorts, so that only one batch is tokenised at a time and memory does not grow
    /// with the number of texts). Each batch is tokenised ([CLS] ids [SEP], truncated to <see cref="MaxLength"/>) and
    /// padded to its own longest text. <paramref name="forward"/> gets the batch's text indices, their tokens, the padded
    /// length and the model's output (valid during the call), and copies out what it needs.</summary>
    private protected void ForEachBatch(IReadOnlyList<string> texts, int? batchSize, Func<Tensor, Tensor, Tensor, Tensor, Tensor> run,
        Action<int[], int[][], int, Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int size = batchSize ?? BatchSize;
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), size, "the batch size must be positive");
        for (int i = 0; i < texts.Count; i++)
            if (texts[i] is null) throw new ArgumentException($"texts[{i}] is null", nameof(texts));
        if (texts.Count == 0) return;
        var order = Enumerable.Range(0, texts.Count).OrderByDescending(i => texts[i].Length).ToArray(); // stable: ties keep input order
        int capacity = Math.Min(size, order.Length) * MaxLength; // one set of input buffers for the call, not one per batch
        var idBuffer = new int[capacity];
        var maskBuffer = new float[capacity];
        var positionBuffer = new int[capacity];
        lock (_lock)
        {
            _module.Eval();
            for (int start = 0; start < order.Length; start += size)
            {
                var indices = order.AsSpan(start, Math.Min(size, order.Length - start)).ToArray();
                int batch = indices.Length;
                var tokens = new int[batch][];
                int seq = 0;
                for (int b = 0; b < batch; b++)
                {
                    tokens[b] = Tokenizer.EncodeTruncatedIds(texts[indices[b]], MaxLength);
                    seq = Math.Max(seq, tokens[b].Length);
                }
                var ids = idBuffer.AsSpan(0, batch * seq);
                var mask = maskBuffer.AsSpan(0, batch * seq);
                var positions = positionBuffer.AsSpan(0, batch * seq);
                ids.Clear();
                mask.Clear();
                for (int b = 0; b < batch; b++)
                {
                    var row = tokens[b];
                    for (int t = 0; t < seq; t++)
                    {
                        positions[b * seq + t] = t;
                        if (t >= row.Length) continue;
                        ids[b * seq + t] = row[t];
                        mask[b * seq + t] = 1;
                    }
                }
                var shape = new Shape(batch, seq);
                using var idTensor = Tensor.From<int>(ids, shape, DType.Int32, _module.Device);
                using var positionTensor = Tensor.From<int>(positions, shape, DType.Int32, _module.Device);
                using var typeTensor = Tensor.Zeros(shape, DType.Int32, _module.Device);
                using var maskTensor = Tensor.From<float>(mask, shape, _module.DType, _module.Device);
                forward(indices, tokens, seq, run(idTensor, positionTensor, typeTensor, maskTensor));
            }
        }
    }

    public void Dispose() => _module.Dispose();
}

/// <summary>Text classification: text → labels with softmax scores, best first.</summary>
public sealed class TextClassificationPipeline(ISequenceClassifier model, BertTokenizer tokenizer, int? maxLength = null, int batchSize = Pipeline.DefaultBatchSize)
    : BatchingPipeline(model.Module, tokenizer, model.Config.MaxPositionEmbeddings, maxLength, batchSize)
{
    public ISequenceClassifier Model { get; } = model;

    public IReadOnlyList<ClassificationResult> Run(string text, int topK = 1) => Run([text], topK)[0];

    /// <param name="batchSize">Texts per forward pass for this call; null means <see cref="BatchingPipeline.BatchSize"/>.</param>
    public IReadOnlyList<IReadOnlyList<ClassificationResult>> Run(IReadOnlyList<string> texts, int topK = 1, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new IReadOnlyList<ClassificationResult>[texts.Count];
        int classes = Model.Config.NumLabels;
        ForEachBatch(texts, batchSize, Model.Logits, (indices, _, _, output) =>
        {
            var logits = output.ToArray();
            for (int b = 0; b < indices.Length; b++) results[indices[b]] = Scores(logits.AsSpan(b * classes, classes), topK);
        });
        return results;
    }

    private List<ClassificationResult> Scores(ReadOnlySpan<float> row, int topK)
    {
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        var scores = new List<ClassificationResult>(row.Length);
        for (int c = 0; c < row.Length; c++) scores.Add(new ClassificationResult(Model.Config.GetLabel(c), Math.Exp(row[c] - max) / sum));
        return scores.OrderByDescending(s => s.Score).Take(Math.Max(1, topK)).ToList();
    }
}

/// <summary>Feature extraction: token-level hidden states, and sentence embeddings as sentence-transformers computes
/// them (mean over the attention mask, L2-normalised).</summary>
public sealed class FeatureExtractionPipeline(BertModel model, BertTokenizer tokenizer, int? maxLength = null, int batchSize = Pipeline.DefaultBatchSize)
    : BatchingPipeline(model, tokenizer, model.Sizes.MaxPositions, maxLength, batchSize)
{
    public BertModel Model { get; } = model;

    /// <summary>last_hidden_state per text: [tokens, hidden] (padding removed).</summary>
    public IReadOnlyList<float[,]> Run(IReadOnlyList<string> texts, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][,];
        int h = Model.Sizes.Hidden;
        ForEachBatch(texts, batchSize, Model.Run, (indices, tokens, seq, output) =>
        {
            var hidden = output.ToArray();
            for (int b = 0; b < indices.Length; b++)
            {
                int count = tokens[b].Length;
                var m = new float[count, h];
                for (int t = 0; t < count; t++)
                    for (int c = 0; c < h; c++) m[t, c] = hidden[(b * seq + t) * h + c];
                result[indices[b]] = m;
            }
        });
        return result;
    }

    /// <summary>Mean-pooled, L2-normalised sentence embeddings (all-MiniLM-L6-v2's recipe).</summary>
    public float[][] SentenceEmbeddings(IReadOnlyList<string> texts, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        int h = Model.Sizes.Hidden;
        ForEachBatch(texts, batchSize, Model.Run, (indices, tokens, seq, output) =>
        {
            var hidden = output.ToArray();
            var sum = new double[h];
            for (int b = 0; b < indices.Length; b++)
            {
                Array.Clear(sum);
                int count = tokens[b].Length;
                for (int t = 0; t < count; t++)
                    for (int c = 0; c < h; c++) sum[c] += hidden[(b * seq + t) * h + c];
                double norm = 0;
                foreach (var v in sum) norm += (v / count) * (v / count);
                norm = Math.Sqrt(norm);
                var embedding = new float[h];
                for (int c = 0; c < h; c++) embedding[c] = (float)(sum[c] / count / Math.Max(norm, 1e-12));
                result[indices[b]] = embedding;
            }
        });
        return result;
    }
}
