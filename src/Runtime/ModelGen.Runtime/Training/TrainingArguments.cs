using ModelGen.Optim;

namespace ModelGen.Training;

public enum IntervalStrategy
{
    No,
    Steps,
    Epoch,
}

/// <summary>HuggingFace's TrainingArguments with .NET names and the same defaults.</summary>
public sealed record TrainingArguments
{
    public string OutputDir { get; init; } = "runs/trainer";
    public double LearningRate { get; init; } = 5e-5;
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    public int PerDeviceEvalBatchSize { get; init; } = 8;
    public double NumTrainEpochs { get; init; } = 3;

    /// <summary>When positive, overrides <see cref="NumTrainEpochs"/>.</summary>
    public int MaxSteps { get; init; } = -1;
    public double WeightDecay { get; init; }
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    public int WarmupSteps { get; init; }
    public double WarmupRatio { get; init; }
    public ScheduleKind LrSchedulerType { get; init; } = ScheduleKind.Linear;
    public double MaxGradNorm { get; init; } = 1.0;
    public int GradientAccumulationSteps { get; init; } = 1;
    public int Seed { get; init; } = 42;
    public IntervalStrategy EvaluationStrategy { get; init; } = IntervalStrategy.No;
    public int EvalSteps { get; init; } = 500;
    public IntervalStrategy LoggingStrategy { get; init; } = IntervalStrategy.Steps;
    public int LoggingSteps { get; init; } = 500;
    public IntervalStrategy SaveStrategy { get; init; } = IntervalStrategy.Steps;
    public int SaveSteps { get; init; } = 500;
    public int? SaveTotalLimit { get; init; }
    public bool LoadBestModelAtEnd { get; init; }
    public string MetricForBestModel { get; init; } = "loss";

    /// <summary>Whether a larger metric is better (null: false for metrics whose name contains "loss", else true).</summary>
    public bool? GreaterIsBetter { get; init; }
    public bool DropLastBatch { get; init; }
    /// <summary>Batches of examples of similar length, still shuffled (HuggingFace's <c>group_by_length</c>): with dynamic
    /// padding each batch pads less. Needs a task whose examples have a length (<see cref="IExampleLength{TExample}"/>,
    /// such as TextClassificationTask).</summary>
    public bool GroupByLength { get; init; }

    /// <summary>Weight decay is not applied to biases and normalisation weights (HuggingFace's grouping).</summary>
    public bool DecayOnlyWeights { get; init; } = true;

    /// <summary>Show a live progress bar (it is also off when the output is redirected).</summary>
    public bool ProgressBar { get; init; } = true;

    /// <summary>Data-parallel training across processes (e.g. MPI); null: a single process.</summary>
    public IDistributedBackend? Distributed { get; init; }

    /// <summary>What to do when a step's loss (or, with <see cref="CheckNonFiniteGradients"/>, a gradient) is NaN or
    /// infinite: stop with a <see cref="NonFiniteException"/> (the default) or skip that step's update.</summary>
    public NonFiniteAction NonFinite { get; init; } = NonFiniteAction.Stop;

    /// <summary>Before each optimizer step, check every gradient for NaN and infinities (one pass over each) and name
    /// the first bad one; without it only the loss is checked.</summary>
    public bool CheckNonFiniteGradients { get; init; }

    public void Validate()
    {
        if (!(LearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"LearningRate {LearningRate} must be ≥ 0.");
        if (PerDeviceTrainBatchSize <= 0 || PerDeviceEvalBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(PerDeviceTrainBatchSize), "Batch sizes must be positive.");
        if (GradientAccumulationSteps <= 0) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), "GradientAccumulationSteps must be positive.");
        if (LoadBestModelAtEnd && (EvaluationStrategy == IntervalStrategy.No || SaveStrategy == IntervalStrategy.No))
            throw new ArgumentException("LoadBestModelAtEnd needs an evaluation strategy and a save strategy.");
        if (LoadBestModelAtEnd && EvaluationStrategy != SaveStrategy)
            throw new ArgumentException("LoadBestModelAtEnd needs the same evaluation and save strategies (as in HuggingFace).");
    }
}
