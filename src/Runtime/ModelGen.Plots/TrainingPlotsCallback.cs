using ModelGen.Training;

namespace ModelGen.Plots;

/// <summary>Writes PNG plots of the run's log when training ends (rank 0 only): loss.png (training and evaluation
/// loss by step) and metrics.png (the other evaluation metrics), in the run's output directory or in
/// <paramref name="directory"/>. Add it as HuggingFace adds a <c>report_to</c> integration:
/// <c>new Trainer&lt;...&gt;(task, args, train, eval, callbacks: [new TrainingPlotsCallback()])</c>.</summary>
public sealed class TrainingPlotsCallback(string? directory = null, TextWriter? output = null) : TrainerCallback
{
    /// <summary>The files written at the end of the last run.</summary>
    public IReadOnlyList<string> Written { get; private set; } = [];

    public override bool WritesPlots => true;

    public override void OnTrainEnd(TrainerState state, TrainingArguments args)
    {
        if (!state.IsWorldProcessZero) return;
        var target = directory ?? args.OutputDir;
        Directory.CreateDirectory(target);
        Written = TrainingPlots.Write(target, state.LogHistory);
        if (Written.Count > 0) (output ?? Console.Out).WriteLine($"plots: {string.Join(", ", Written)}");
    }
}
