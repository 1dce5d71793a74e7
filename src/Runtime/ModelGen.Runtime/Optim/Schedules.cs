namespace ModelGen.Optim;

public enum ScheduleKind
{
    Constant,
    ConstantWithWarmup,
    Linear,
    Cosine,
    Step,
}

/// <summary>
/// Learning-rate schedules as factors of each group's initial rate, with HuggingFace's formulas:
/// linear: step/warmup during warm-up, then (total − step)/(total − warmup), floored at 0;
/// cosine: step/warmup, then ½(1 + cos(π · 2 · cycles · progress)), cycles = ½;
/// step: γ^⌊step / stepSize⌋ (PyTorch's StepLR, counted in optimizer steps).
/// </summary>
public sealed class LearningRateScheduler
{
    private readonly Optimizer _optimizer;

    public LearningRateScheduler(Optimizer optimizer, ScheduleKind kind, long totalSteps = 0, long warmupSteps = 0,
        long stepSize = 1, double gamma = 0.1, double cycles = 0.5)
    {
        if (kind is ScheduleKind.Linear or ScheduleKind.Cosine && totalSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"A {kind} schedule needs the total number of steps.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps));
        _optimizer = optimizer;
        Kind = kind;
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
        StepSize = Math.Max(1, stepSize);
        Gamma = gamma;
        Cycles = cycles;
        Apply();
    }

    public ScheduleKind Kind { get; }
    public long TotalSteps { get; }
    public long WarmupSteps { get; }
    public long StepSize { get; }
    public double Gamma { get; }
    public double Cycles { get; }

    /// <summary>Scheduler steps taken (the rate in force is the one for this step).</summary>
    public long CurrentStep { get; private set; }

    public double Factor(long step) => Kind switch
    {
        ScheduleKind.Constant => 1,
        ScheduleKind.ConstantWithWarmup => step < WarmupSteps ? (double)step / Math.Max(1, WarmupSteps) : 1,
        ScheduleKind.Linear => step < WarmupSteps
            ? (double)step / Math.Max(1, WarmupSteps)
            : Math.Max(0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps)),
        ScheduleKind.Cosine => step < WarmupSteps
            ? (double)step / Math.Max(1, WarmupSteps)
            : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * Cycles * 2 * ((double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps))))),
        ScheduleKind.Step => Math.Pow(Gamma, step / StepSize),
        _ => 1,
    };

    /// <summary>Advances one step (call after optimizer.Step(), as in PyTorch) and sets the groups' rates.</summary>
    public void Step()
    {
        CurrentStep++;
        Apply();
    }

    /// <summary>Jumps to a step (resuming from a checkpoint).</summary>
    public void SetStep(long step)
    {
        CurrentStep = step;
        Apply();
    }

    private void Apply()
    {
        double factor = Factor(CurrentStep);
        var groups = _optimizer.Groups; // indexed: a foreach over the interface would allocate an enumerator each step
        for (int i = 0; i < groups.Count; i++) groups[i].LearningRate = groups[i].InitialLearningRate * factor;
    }
}

public static class GradientClipping
{
    /// <summary>Scales all gradients so that their global L2 norm is at most <paramref name="maxNorm"/> (PyTorch's
    /// clip_grad_norm_: coefficient maxNorm / (norm + 1e-6), applied when below 1). Returns the norm before clipping.</summary>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
        => parameters is IReadOnlyList<Parameter> list ? ClipByGlobalNorm(list, maxNorm) : ClipByGlobalNorm(parameters.ToList(), maxNorm);

    /// <inheritdoc cref="ClipByGlobalNorm(IEnumerable{Parameter}, double)"/>
    /// <remarks>Indexes the list instead of enumerating it, so that a training step's clipping allocates nothing.</remarks>
    public static double ClipByGlobalNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        double sumSquares = 0;
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i].RequiresGrad) sumSquares += Ops.SumOfSquares(parameters[i].Grad);
        double norm = Math.Sqrt(sumSquares);
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
            for (int i = 0; i < parameters.Count; i++)
                if (parameters[i].RequiresGrad) Ops.Scale(parameters[i].Grad, coefficient);
        return norm;
    }
}
