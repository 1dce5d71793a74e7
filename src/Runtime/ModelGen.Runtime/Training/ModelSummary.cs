using System.Text;

namespace ModelGen.Training;

/// <summary>A printable summary of a model: each layer's parameters with shapes and counts, and the totals.</summary>
public static class ModelSummary
{
    public static string Format(Module model)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{model.GetType().Name} on {model.Device.Name} ({model.DType})");
        sb.AppendLine($"  {"parameter",-40} {"shape",-16} {"count",12}");
        long total = 0, trainable = 0;
        foreach (var p in model.Parameters)
        {
            total += p.Value.Count;
            if (p.RequiresGrad) trainable += p.Value.Count;
            sb.AppendLine($"  {p.Name + (p.RequiresGrad ? "" : " (frozen)"),-40} {p.Shape,-16} {p.Value.Count,12:N0}");
        }
        sb.AppendLine($"  total {total:N0} parameters, {trainable:N0} trainable");
        return sb.ToString();
    }
}
