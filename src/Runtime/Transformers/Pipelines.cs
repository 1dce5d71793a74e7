using ModelGen.Text;

namespace ModelGen.Transformers;

public sealed record ClassificationResult(string Label, double Score);

/// <summary>HuggingFace's pipeline(...) entry points.</summary>
public static class Pipeline
{
    /// <summary>"sentiment-analysis" / "text-classification" or "feature-extraction" from a model directory
    /// (config.json, model.safetensors, vocab.txt or tokenizer.json).</summary>
    public static IDisposable Create(string task, string modelDirectory, Device? device = null) => task switch
    {
        "sentiment-analysis" or "text-classification" => TextClassification(modelDirectory, device),
        "feature-extraction" => FeatureExtraction(modelDirectory, device),
        _ => throw new ArgumentException($"Unknown pipeline task '{task}': sentiment-analysis, text-classification, feature-extraction."),
    };

    public static TextClassificationPipeline TextClassification(string modelDirectory, Device? device = null)
        => new((ISequenceClassifier)AutoModel.FromPretrained(modelDirectory, device), BertTokenizer.FromPretrained(modelDirectory));

    public static FeatureExtractionPipeline FeatureExtraction(string modelDirectory, Device? device = null)
        => new(BertModel.FromPretrained(modelDirectory, device), BertTokenizer.FromPretrained(modelDirectory));
}

/// <summary>Text classification: text → labels with softmax scores, best first. Safe for concurrent calls (they are
/// serialised: one model, one set of activation buffers).</summary>
public sealed class TextClassificationPipeline(ISequenceClassifier model, BertTokenizer tokenizer, int maxLength = 512) : IDisposable
{
    private readonly object _lock = new();

    public ISequenceClassifier Model { get; } = model;
    public BertTokenizer Tokenizer { get; } = tokenizer;

    public IReadOnlyList<ClassificationResult> Run(string text, int topK = 1) => Run([text], topK)[0];

    public IReadOnlyList<IReadOnlyList<ClassificationResult>> Run(IReadOnlyList<string> texts, int topK = 1)
    {
        var encoding = Tokenizer.EncodeBatch(texts, maxLength: maxLength, padding: Padding.Longest);
        int batch = encoding.BatchSize, seq = encoding.SequenceLength;
        float[] logits;
        lock (_lock)
        {
            var module = Model.Module;
            module.Eval();
            var shape = new Shape(batch, seq);
            using var ids = Tensor.Zeros(shape, module.DType, module.Device);
            using var types = Tensor.Zeros(shape, module.DType, module.Device);
            using var mask = Tensor.Zeros(shape, module.DType, module.Device);
            using var positions = Tensor.From<float>(Enumerable.Range(0, batch * seq).Select(i => (float)(i % seq)).ToArray(), shape, module.DType, module.Device);
            ids.CopyFrom<int>(encoding.InputIds);
            types.CopyFrom<int>(encoding.TokenTypeIds);
            mask.CopyFrom<int>(encoding.AttentionMask);
            logits = Model.Logits(ids, positions, types, mask).ToArray();
        }
        int classes = logits.Length / batch;
        var results = new List<IReadOnlyList<ClassificationResult>>(batch);
        for (int b = 0; b < batch; b++)
        {
            var row = logits.AsSpan(b * classes, classes);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            var scores = new List<ClassificationResult>(classes);
            for (int c = 0; c < classes; c++) scores.Add(new ClassificationResult(Model.Config.GetLabel(c), Math.Exp(row[c] - max) / sum));
            results.Add(scores.OrderByDescending(s => s.Score).Take(Math.Max(1, topK)).ToList());
        }
        return results;
    }

    public void Dispose() => Model.Module.Dispose();
}

/// <summary>Feature extraction: token-level hidden states, and sentence embeddings as sentence-transformers computes
/// them (mean over the attention mask, L2-normalised).</summary>
public sealed class FeatureExtractionPipeline(BertModel model, BertTokenizer tokenizer, int maxLength = 512) : IDisposable
{
    private readonly object _lock = new();

    public BertModel Model { get; } = model;
    public BertTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>last_hidden_state per text: [tokens, hidden] (padding removed).</summary>
    public IReadOnlyList<float[,]> Run(IReadOnlyList<string> texts)
    {
        var (hidden, encoding) = Forward(texts);
        int h = Model.Sizes.Hidden, seq = encoding.SequenceLength;
        var result = new List<float[,]>();
        for (int b = 0; b < texts.Count; b++)
        {
            int tokens = encoding[b].AttentionMask.Count(m => m == 1);
            var m = new float[tokens, h];
            for (int t = 0; t < tokens; t++)
                for (int c = 0; c < h; c++) m[t, c] = hidden[(b * seq + t) * h + c];
            result.Add(m);
        }
        return result;
    }

    /// <summary>Mean-pooled, L2-normalised sentence embeddings (all-MiniLM-L6-v2's recipe).</summary>
    public float[][] SentenceEmbeddings(IReadOnlyList<string> texts)
    {
        var (hidden, encoding) = Forward(texts);
        int h = Model.Sizes.Hidden, seq = encoding.SequenceLength;
        var result = new float[texts.Count][];
        for (int b = 0; b < texts.Count; b++)
        {
            var sum = new double[h];
            int count = 0;
            for (int t = 0; t < seq; t++)
            {
                if (encoding.AttentionMask[b * seq + t] == 0) continue;
                count++;
                for (int c = 0; c < h; c++) sum[c] += hidden[(b * seq + t) * h + c];
            }
            double norm = Math.Sqrt(sum.Sum(v => (v / count) * (v / count)));
            result[b] = sum.Select(v => (float)(v / count / Math.Max(norm, 1e-12))).ToArray();
        }
        return result;
    }

    private (float[] Hidden, BatchEncoding Encoding) Forward(IReadOnlyList<string> texts)
    {
        var encoding = Tokenizer.EncodeBatch(texts, maxLength: maxLength, padding: Padding.Longest);
        int batch = encoding.BatchSize, seq = encoding.SequenceLength;
        lock (_lock)
        {
            Model.Eval();
            var shape = new Shape(batch, seq);
            using var ids = Tensor.Zeros(shape, Model.DType, Model.Device);
            using var types = Tensor.Zeros(shape, Model.DType, Model.Device);
            using var mask = Tensor.Zeros(shape, Model.DType, Model.Device);
            using var positions = Tensor.From<float>(Enumerable.Range(0, batch * seq).Select(i => (float)(i % seq)).ToArray(), shape, Model.DType, Model.Device);
            ids.CopyFrom<int>(encoding.InputIds);
            types.CopyFrom<int>(encoding.TokenTypeIds);
            mask.CopyFrom<int>(encoding.AttentionMask);
            return (Model.Run(ids, positions, types, mask).ToArray(), encoding);
        }
    }

    public void Dispose() => Model.Dispose();
}
