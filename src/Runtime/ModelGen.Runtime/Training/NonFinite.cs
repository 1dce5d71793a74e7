namespace ModelGen.Training;

/// <summary>What the Trainer does when a step's loss, or (with <see cref="TrainingArguments.CheckNonFiniteGradients"/>)
/// one of its gradients, is NaN or infinite.</summary>
public enum NonFiniteAction
{
    /// <summary>Stop with a <see cref="NonFiniteException"/> naming the step and the first non-finite tensor; the
    /// weights are not updated, so the last checkpoint and the model hold the last good state.</summary>
    Stop,

    /// <summary>Skip that step's optimizer update (its gradients are dropped, the schedule still advances), report it
    /// and count it in <see cref="TrainerState.SkippedSteps"/>, and go on.</summary>
    SkipStep,
}

/// <summary>Training stopped on a NaN or infinite loss or gradient (<see cref="NonFiniteAction.Stop"/>).</summary>
public sealed class NonFiniteException(long step, string tensor, string message) : InvalidOperationException(message)
{
    /// <summary>The optimizer step (1-based) whose loss or gradient was not finite.</summary>
    public long Step { get; } = step;

    /// <summary>The first non-finite tensor: "loss", or a gradient named after its parameter, e.g. "fc1.weight.grad".</summary>
    public string Tensor { get; } = tensor;
}

/// <summary>Finds the first non-finite gradient or parameter, cheaply: one sum of squares per tensor (in float64, so
/// any finite float32 tensor sums to a finite value); only a tensor whose sum is not finite is searched element by
/// element, on the host.</summary>
internal static class NonFiniteCheck
{
    /// <summary>The first parameter whose gradient holds a NaN or an infinity, and where (" (NaN at index 3)").</summary>
    public static (string Name, string Where)? FirstNonFiniteGradient(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (p.RequiresGrad && Describe(p.Grad) is { } where) return (p.Name, where);
        return null;
    }

    /// <summary>The first parameter whose value holds a NaN or an infinity, and where.</summary>
    public static (string Name, string Where)? FirstNonFiniteValue(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (Describe(p.Value) is { } where) return (p.Name, where);
        return null;
    }

    /// <summary>Null when every element is finite, else " (NaN at index 3)".</summary>
    private static string? Describe(Tensor t)
    {
        if (double.IsFinite(Ops.SumOfSquares(t))) return null;
        var values = t.DType == DType.Float64 ? t.ToDoubleArray() : Array.ConvertAll(t.ToArray(), v => (double)v);
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i])) return $" ({values[i].ToString(System.Globalization.CultureInfo.InvariantCulture)} at index {i})";
        return null; // finite float64 values whose squares overflow
    }
}

/// <summary>Checkpoint helpers.</summary>
public static partial class Trainer
{
    /// <summary>The latest complete checkpoint-N folder in <paramref name="outputDir"/> (the highest N), or null when
    /// there is none. Temporary folders (".checkpoint-N.tmp-*", left by a crash during a save) are ignored, and so is
    /// a checkpoint-N folder without its trainer_state.json.</summary>
    public static string? LatestCheckpoint(string outputDir)
    {
        ArgumentNullException.ThrowIfNull(outputDir);
        if (!Directory.Exists(outputDir)) return null;
        return Directory.GetDirectories(outputDir, "checkpoint-*")
            .Select(d => (Dir: d, Step: long.TryParse(Path.GetFileName(d)["checkpoint-".Length..], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : -1))
            .Where(c => c.Step >= 0 && File.Exists(Path.Combine(c.Dir, "trainer_state.json")))
            .OrderByDescending(c => c.Step)
            .Select(c => c.Dir)
            .FirstOrDefault();
    }
}
