namespace ModelGen.Plots;

/// <summary>PNG plots of a training run's log: training and evaluation loss, and evaluation metrics, by step.</summary>
public static class TrainingPlots
{
    public static IReadOnlyList<string> Write(string outputDir, IReadOnlyList<Dictionary<string, double>> history)
    {
        var written = new List<string>();
        var loss = new ScottPlot.Plot();
        AddSeries(loss, history, "loss", "training loss");
        AddSeries(loss, history, "eval_loss", "evaluation loss");
        if (loss.GetPlottables().Any())
        {
            loss.Title("Loss");
            loss.XLabel("step");
            loss.ShowLegend();
            var path = Path.Combine(outputDir, "loss.png");
            loss.SavePng(path, 800, 500);
            written.Add(path);
        }
        var metrics = new ScottPlot.Plot();
        foreach (var key in history.SelectMany(h => h.Keys).Distinct()
                     .Where(k => k.StartsWith("eval_", StringComparison.Ordinal) && k != "eval_loss" && !char.IsDigit(k[^1])))
            AddSeries(metrics, history, key, key["eval_".Length..]);
        if (metrics.GetPlottables().Any())
        {
            metrics.Title("Evaluation metrics");
            metrics.XLabel("step");
            metrics.ShowLegend();
            var path = Path.Combine(outputDir, "metrics.png");
            metrics.SavePng(path, 800, 500);
            written.Add(path);
        }
        return written;
    }

    private static void AddSeries(ScottPlot.Plot plot, IReadOnlyList<Dictionary<string, double>> history, string key, string label)
    {
        var points = history.Where(h => h.ContainsKey(key) && h.ContainsKey("step")).Select(h => (X: h["step"], Y: h[key])).ToArray();
        if (points.Length == 0) return;
        var series = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
        series.LegendText = label;
    }
}
