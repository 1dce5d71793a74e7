namespace ModelGen.Training;

/// <summary>The trainer's state, as in HuggingFace's TrainerState (written to trainer_state.json).</summary>
public sealed class TrainerState
{
    public long GlobalStep { get; set; }
    public double Epoch { get; set; }
    public long MaxSteps { get; set; }
    public int StepsPerEpoch { get; set; }
    public double? BestMetric { get; set; }
    public string? BestModelCheckpoint { get; set; }
    public List<Dictionary<string, double>> LogHistory { get; set; } = new();

    /// <summary>Whether this process is rank 0 (or the only one): the one that prints, logs and saves.</summary>
    public bool IsWorldProcessZero { get; set; } = true;
    public bool ShouldStop { get; set; }

    /// <summary>Optimizer steps skipped on a non-finite loss or gradient (<see cref="NonFiniteAction.SkipStep"/>).</summary>
    public long SkippedSteps { get; set; }
}

/// <summary>Hooks at the usual points of training (HuggingFace's TrainerCallback). Set state.ShouldStop to stop.</summary>
public abstract class TrainerCallback
{
    public virtual void OnTrainBegin(TrainerState state) { }
    public virtual void OnStepEnd(TrainerState state, double loss) { }
    public virtual void OnEpochEnd(TrainerState state) { }
    public virtual void OnEvaluate(TrainerState state, IReadOnlyDictionary<string, double> metrics) { }
    public virtual void OnSave(TrainerState state, string checkpoint) { }
    public virtual void OnLog(TrainerState state, IReadOnlyDictionary<string, double> logs) { }
    public virtual void OnTrainEnd(TrainerState state) { }

    /// <summary>At the end of training, with the run's arguments (its output directory); by default calls
    /// <see cref="OnTrainEnd(TrainerState)"/>.</summary>
    public virtual void OnTrainEnd(TrainerState state, TrainingArguments args) => OnTrainEnd(state);

    /// <summary>Whether this callback writes plots of the run (ModelGen.Plots' TrainingPlotsCallback does): without one,
    /// the Trainer's last message says how to get them.</summary>
    public virtual bool WritesPlots => false;
}

/// <summary>Stops when the metric for the best model has not improved for <paramref name="patience"/> evaluations.</summary>
public sealed class EarlyStoppingCallback(int patience, double threshold = 0) : TrainerCallback
{
    private int _bad;

    internal string Metric { get; set; } = "eval_loss";
    internal bool GreaterIsBetter { get; set; }
    private double? _best;

    public override void OnEvaluate(TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        if (!metrics.TryGetValue(Metric, out var value)) return;
        bool better = _best is null || (GreaterIsBetter ? value > _best + threshold : value < _best - threshold);
        if (better)
        {
            _best = value;
            _bad = 0;
        }
        else if (++_bad >= patience) state.ShouldStop = true;
    }
}
