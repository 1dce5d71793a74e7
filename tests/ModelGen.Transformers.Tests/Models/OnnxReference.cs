using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelGen.Transformers.Tests;

/// <summary>
/// ONNX Runtime (CPU) as the independent reference for BERT forward passes: runs an exported BERT encoder such as
/// all-MiniLM-L6-v2 (inputs input_ids, attention_mask, token_type_ids as int64 [batch, seq]; outputs
/// last_hidden_state [batch, seq, hidden] and the pooler output [batch, hidden]). Sessions are cached per file.
/// </summary>
public static class OnnxReference
{
    private static readonly ConcurrentDictionary<string, Lazy<InferenceSession>> Sessions = new(StringComparer.Ordinal);

    /// <summary>Runs the model. Returns last_hidden_state (flat, [batch, seq, hidden] row-major) and the pooler output
    /// (flat, [batch, hidden]; empty when the model has no second output).</summary>
    public static (float[] LastHiddenState, float[] PoolerOutput) Run(string onnxPath, long[] ids, long[] mask, long[] types, int batch, int seq)
    {
        ArgumentNullException.ThrowIfNull(onnxPath);
        foreach (var (name, values) in new[] { ("ids", ids), ("mask", mask), ("types", types) })
            if (values.Length != batch * seq)
                throw new ArgumentException($"{name} has {values.Length} values; batch {batch} × seq {seq} needs {batch * seq}.", name);

        var session = Sessions.GetOrAdd(Path.GetFullPath(onnxPath), p => new Lazy<InferenceSession>(() => Open(p))).Value;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [batch, seq])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [batch, seq])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, [batch, seq])),
        };
        using var results = session.Run(inputs);
        float[] hidden = [], pooler = [];
        foreach (var r in results)
        {
            if (r.Name == "last_hidden_state") hidden = r.AsTensor<float>().ToArray();
            else if (pooler.Length == 0) pooler = r.AsTensor<float>().ToArray(); // all-MiniLM-L6-v2 names it "924"
        }
        if (hidden.Length == 0) throw new InvalidOperationException($"{onnxPath}: no output named last_hidden_state.");
        return (hidden, pooler);
    }

    /// <summary>sentence-transformers' pooling: the mean of the token vectors where mask = 1, then (optionally) L2-normalised.
    /// Returns [batch, hidden] flat.</summary>
    public static float[] MeanPool(float[] lastHiddenState, long[] mask, int batch, int seq, bool normalize = true)
    {
        int hidden = lastHiddenState.Length / (batch * seq);
        var result = new float[batch * hidden];
        for (int b = 0; b < batch; b++)
        {
            var sum = new double[hidden];
            double count = 0;
            for (int t = 0; t < seq; t++)
            {
                if (mask[b * seq + t] == 0) continue;
                count++;
                for (int i = 0; i < hidden; i++) sum[i] += lastHiddenState[(b * seq + t) * hidden + i];
            }
            count = Math.Max(count, 1e-9);
            double norm = 0;
            for (int i = 0; i < hidden; i++)
            {
                sum[i] /= count;
                norm += sum[i] * sum[i];
            }
            double scale = normalize ? 1 / Math.Max(Math.Sqrt(norm), 1e-12) : 1;
            for (int i = 0; i < hidden; i++) result[b * hidden + i] = (float)(sum[i] * scale);
        }
        return result;
    }

    private static InferenceSession Open(string path)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        return new InferenceSession(path, options);
    }
}
