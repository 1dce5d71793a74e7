using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelGen.Data;
using ModelGen.IO;
using ModelGen.Optim;
using Spectre.Console;

namespace ModelGen.Training;

public sealed record TrainOutput(long GlobalStep, double TrainingLoss, IReadOnlyDictionary<string, double> Metrics);

public sealed record PredictionOutput(EvalPrediction Prediction, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// HuggingFace's Trainer for ModelGen models: AdamW with the usual parameter groups, a learning-rate schedule, gradient
/// clipping and accumulation, evaluation, logging (metrics.jsonl; PNG plots with ModelGen.Plots' TrainingPlotsCallback), checkpoints (checkpoint-N/ with the
/// model, optimizer, scheduler and RNG state and trainer_state.json, each written atomically) and exact resumption.
/// </summary>
public sealed class Trainer<TExample, TBatch> where TBatch : class
{
    private readonly ITrainingTask<TExample, TBatch> _task;
    private readonly IReadOnlyList<TExample> _train;
    private readonly IReadOnlyList<TExample>? _eval;
    private readonly Func<EvalPrediction, Dictionary<string, double>> _computeMetrics;
    private readonly List<TrainerCallback> _callbacks;
    private readonly TextWriter _out;
    private StreamWriter? _metricsLog;

    public Trainer(ITrainingTask<TExample, TBatch> task, TrainingArguments args, IReadOnlyList<TExample> train,
        IReadOnlyList<TExample>? eval = null, Func<EvalPrediction, Dictionary<string, double>>? computeMetrics = null,
        IEnumerable<TrainerCallback>? callbacks = null, TextWriter? output = null)
    {
        args.Validate();
        _task = task;
        Args = args;
        _train = train;
        _eval = eval;
        _computeMetrics = computeMetrics ?? ClassificationReport.Compute;
        _callbacks = callbacks?.ToList() ?? new List<TrainerCallback>();
        foreach (var early in _callbacks.OfType<EarlyStoppingCallback>())
        {
            early.Metric = MetricKey;
            early.GreaterIsBetter = GreaterIsBetter;
        }
        _out = output ?? Console.Out;
        var groups = args.DecayOnlyWeights
            ? ParameterGroup.WithoutDecayOnBiasAndNorm(task.Model.Parameters.Where(p => p.RequiresGrad), args.WeightDecay)
            : [new ParameterGroup(task.Model.Parameters.Where(p => p.RequiresGrad), weightDecay: args.WeightDecay)];
        Optimizer = new AdamW(groups, args.LearningRate, args.AdamBeta1, args.AdamBeta2, args.AdamEpsilon, args.WeightDecay);
        Distributed = args.Distributed ?? SingleProcess.Instance;
        Func<TExample, int>? length = null;
        if (args.GroupByLength)
            length = task is IExampleLength<TExample> lengths ? lengths.Length
                : throw new ArgumentException($"GroupByLength needs a task whose examples have a length (IExampleLength<{typeof(TExample).Name}>, as TextClassificationTask has); {task.GetType().Name} has none.", nameof(args));
        Loader = new DataLoader<TExample, TBatch>(train, args.PerDeviceTrainBatchSize, task, shuffle: true, seed: args.Seed, dropLast: args.DropLastBatch,
            rank: Distributed.Rank, worldSize: Distributed.WorldSize, groupByLength: length);
        // an epoch ends with an optimizer step even when its last accumulation is short (as HuggingFace does)
        State.StepsPerEpoch = Math.Max(1, (Loader.Count + args.GradientAccumulationSteps - 1) / args.GradientAccumulationSteps);
        State.MaxSteps = args.MaxSteps > 0 ? args.MaxSteps : (long)Math.Ceiling(args.NumTrainEpochs * State.StepsPerEpoch);
        long warmup = args.WarmupSteps > 0 ? args.WarmupSteps : (long)Math.Ceiling(args.WarmupRatio * State.MaxSteps);
        Scheduler = new LearningRateScheduler(Optimizer, args.LrSchedulerType, State.MaxSteps, warmup);
    }

    public TrainingArguments Args { get; }
    public TrainerState State { get; } = new();
    public Optimizer Optimizer { get; }
    public LearningRateScheduler Scheduler { get; }
    public DataLoader<TExample, TBatch> Loader { get; }
    public IDistributedBackend Distributed { get; }

    /// <summary>Rank 0 (or the only process) logs, evaluates and writes checkpoints.</summary>
    private bool IsMain => Distributed.Rank == 0;

    private string MetricKey => Args.MetricForBestModel.StartsWith("eval_", StringComparison.Ordinal) ? Args.MetricForBestModel : "eval_" + Args.MetricForBestModel;
    private bool GreaterIsBetter => Args.GreaterIsBetter ?? !Args.MetricForBestModel.Contains("loss", StringComparison.Ordinal);

    /// <summary>Trains, optionally resuming from a checkpoint folder written by an earlier run.</summary>
    public TrainOutput Train(string? resumeFromCheckpoint = null)
    {
        Directory.CreateDirectory(Args.OutputDir);
        State.IsWorldProcessZero = IsMain;
        _metricsLog = IsMain ? new StreamWriter(Path.Combine(Args.OutputDir, "metrics.jsonl"), append: resumeFromCheckpoint is not null) { AutoFlush = true } : null;
        // ranks draw different dropout masks: rank r trains with the model seed + r·1000003 (rank 0 keeps it)
        int seed = _task.Model.Seed;
        _task.Model.Seed = unchecked(seed + Distributed.Rank * 1_000_003);
        try
        {
            return TrainLoop(resumeFromCheckpoint);
        }
        catch (Exception e) when (Distributed.WorldSize > 1)
        {
            // the other ranks would wait for this one in the next collective: end the whole job now
            Distributed.Abort($"{e.GetType().Name} at step {State.GlobalStep + 1}: {e.Message}\n{e}");
            throw;
        }
        finally
        {
            _task.Model.Seed = seed;
            _metricsLog?.Dispose();
            _metricsLog = null;
        }
    }

    private TrainOutput TrainLoop(string? resume)
    {
        var model = _task.Model;
        int epochs = (int)Math.Ceiling((double)State.MaxSteps / State.StepsPerEpoch);
        int startEpoch = 0, skipBatches = 0;
        if (resume is not null)
        {
            LoadCheckpoint(resume);
            startEpoch = (int)(State.GlobalStep / State.StepsPerEpoch);
            skipBatches = (int)(State.GlobalStep % State.StepsPerEpoch) * Args.GradientAccumulationSteps;
            if (IsMain) _out.WriteLine($"resuming from {resume} at step {State.GlobalStep} (epoch {startEpoch + 1}, skipping {skipBatches} batches)");
        }
        else if (IsMain)
        {
            _out.Write(ModelSummary.Format(model));
            _out.WriteLine($"{_train.Count} training examples, {Loader.Count} batches of {Args.PerDeviceTrainBatchSize} per epoch, {State.MaxSteps} optimizer steps, {epochs} epoch(s)");
        }
        if (IsMain && Distributed.WorldSize > 1)
            _out.WriteLine($"data-parallel on {Distributed.WorldSize} ranks: each reads {Loader.ShardSize} examples per epoch, global batch {Args.PerDeviceTrainBatchSize * Distributed.WorldSize}");
        Distributed.Broadcast(model.Parameters);
        foreach (var c in _callbacks) c.OnTrainBegin(State);

        bool interactive = IsMain && Args.ProgressBar && !Console.IsOutputRedirected && ReferenceEquals(_out, Console.Out);
        double lossSinceLog = 0, totalLoss = 0;
        int lossCount = 0, totalCount = 0;
        var clock = Stopwatch.StartNew();
        long startStep = State.GlobalStep;

        void Loop(ProgressTask? bar)
        {
            for (int epoch = startEpoch; epoch < epochs && !State.ShouldStop; epoch++)
            {
                model.Train();
                int micro = 0, batchIndex = 0;
                string? nonFinite = null; // why this step's update is skipped
                int batchesThisEpoch = Loader.Count;
                foreach (var (batch, count, _) in Loader.Epoch(epoch))
                {
                    if (batchIndex++ < skipBatches) continue;
                    double loss = _task.Loss(batch, count);
                    micro++;
                    if (double.IsFinite(loss))
                    {
                        _task.Backward();
                        lossSinceLog += loss;
                        lossCount++;
                        totalLoss += loss;
                        totalCount++;
                    }
                    else nonFinite ??= OnNonFinite("loss", $"loss {loss.ToString(CultureInfo.InvariantCulture)}", epoch, batchIndex);
                    bool lastOfEpoch = batchIndex == batchesThisEpoch;
                    if (micro % Args.GradientAccumulationSteps != 0 && !lastOfEpoch) continue;
                    if (micro > 1)
                        foreach (var p in Optimizer.Parameters) Ops.Scale(p.Grad, 1.0 / micro);
                    micro = 0;
                    Distributed.AverageGradients(Optimizer.Parameters, State.GlobalStep + 1);
                    if (nonFinite is null && Args.CheckNonFiniteGradients && NonFiniteCheck.FirstNonFiniteGradient(Optimizer.Parameters) is { } bad)
                        nonFinite = OnNonFinite(bad.Name, $"gradient {bad.Name}.grad{bad.Where}", epoch, batchIndex);
                    // a rank's non-finite loss leaves the averaged gradients finite: every rank skips that step together
                    if (Distributed.WorldSize > 1 && Args.NonFinite == NonFiniteAction.SkipStep && Distributed.Average(nonFinite is null ? 0 : 1) > 0)
                        nonFinite ??= "loss on another rank";
                    double lr = Optimizer.LearningRate;
                    if (nonFinite is null)
                    {
                        if (Args.MaxGradNorm > 0) GradientClipping.ClipByGlobalNorm(Optimizer.Parameters, Args.MaxGradNorm);
                        Optimizer.Step();
                    }
                    else
                    {
                        State.SkippedSteps++;
                        if (IsMain) _out.WriteLine($"step {State.GlobalStep + 1}: skipped the update (non-finite {nonFinite})");
                        nonFinite = null;
                    }
                    Scheduler.Step();
                    Optimizer.ZeroGrad();
                    State.GlobalStep++;
                    State.Epoch = epoch + (double)batchIndex / batchesThisEpoch;
                    foreach (var c in _callbacks) c.OnStepEnd(State, loss);
                    if (bar is not null)
                    {
                        double rate = (State.GlobalStep - startStep) * Args.PerDeviceTrainBatchSize * Args.GradientAccumulationSteps * Distributed.WorldSize / clock.Elapsed.TotalSeconds;
                        bar.Description = $"loss {loss:F4} lr {lr:E2} {rate:F0} samples/s";
                        bar.Value = State.GlobalStep;
                    }
                    if (Args.LoggingStrategy == IntervalStrategy.Steps && Args.LoggingSteps > 0 && State.GlobalStep % Args.LoggingSteps == 0 && lossCount > 0)
                    {
                        Log(new() { ["loss"] = Distributed.Average(lossSinceLog / lossCount), ["learning_rate"] = lr }, print: !interactive);
                        lossSinceLog = 0;
                        lossCount = 0;
                    }
                    bool evaluate = Args.EvaluationStrategy == IntervalStrategy.Steps && State.GlobalStep % Args.EvalSteps == 0;
                    bool save = Args.SaveStrategy == IntervalStrategy.Steps && State.GlobalStep % Args.SaveSteps == 0;
                    if (evaluate) EvaluateAndTrack();
                    if (save && IsMain) SaveCheckpoint();
                    if (evaluate || save) SyncRanks();
                    if (State.GlobalStep >= State.MaxSteps || State.ShouldStop) break;
                }
                skipBatches = 0;
                if (Args.LoggingStrategy == IntervalStrategy.Epoch && lossCount > 0)
                {
                    Log(new() { ["loss"] = Distributed.Average(lossSinceLog / lossCount), ["learning_rate"] = Optimizer.LearningRate }, print: !interactive);
                    lossSinceLog = 0;
                    lossCount = 0;
                }
                if (Args.EvaluationStrategy == IntervalStrategy.Epoch) EvaluateAndTrack();
                if (Args.SaveStrategy == IntervalStrategy.Epoch && IsMain) SaveCheckpoint();
                if (Args.EvaluationStrategy == IntervalStrategy.Epoch || Args.SaveStrategy == IntervalStrategy.Epoch) SyncRanks();
                foreach (var c in _callbacks) c.OnEpochEnd(State);
                if (State.GlobalStep >= State.MaxSteps) break;
            }
        }

        if (interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var bar = ctx.AddTask("training", maxValue: State.MaxSteps);
                    bar.Value = State.GlobalStep;
                    Loop(bar);
                });
        }
        else Loop(null);

        if (Args.LoadBestModelAtEnd && State.BestModelCheckpoint is { } best)
        {
            model.Load(Path.Combine(best, "model.safetensors"));
            _out.WriteLine($"loaded the best model ({MetricKey} = {State.BestMetric:F4}) from {best}");
        }
        foreach (var c in _callbacks) c.OnTrainEnd(State, Args);
        if (IsMain && !_callbacks.Any(c => c.WritesPlots))
            _out.WriteLine($"training log: {Path.Combine(Args.OutputDir, "metrics.jsonl")} (for PNG plots of it, add the ModelGen.Plots package and callbacks: [new TrainingPlotsCallback()])");
        var metrics = new Dictionary<string, double>
        {
            ["train_loss"] = Distributed.Average(totalCount == 0 ? 0 : totalLoss / totalCount),
            ["train_runtime"] = clock.Elapsed.TotalSeconds,
            ["train_samples_per_second"] = totalCount * Args.PerDeviceTrainBatchSize * Distributed.WorldSize / Math.Max(1e-9, clock.Elapsed.TotalSeconds),
        };
        return new TrainOutput(State.GlobalStep, metrics["train_loss"], metrics);
    }

    /// <summary>After work rank 0 does alone (evaluation, checkpoints): the other ranks wait for it (under the backend's
    /// long timeout) and every rank adopts rank 0's decision to stop early.</summary>
    private void SyncRanks()
    {
        if (Distributed.WorldSize == 1) return;
        Distributed.Barrier();
        State.ShouldStop = Distributed.Average(State.ShouldStop ? 1 : 0) > 0;
    }

    /// <summary>A non-finite loss or gradient in the coming step: throws (<see cref="NonFiniteAction.Stop"/>) or returns
    /// what to report (<see cref="NonFiniteAction.SkipStep"/>).</summary>
    private string OnNonFinite(string tensor, string what, int epoch, int batch)
    {
        if (Args.NonFinite == NonFiniteAction.SkipStep) return what;
        long step = State.GlobalStep + 1;
        string cause = tensor == "loss" && NonFiniteCheck.FirstNonFiniteValue(_task.Model.Parameters) is { } p
            ? $"; the first non-finite parameter is {p.Name}{p.Where}" : "";
        string kept = IsMain && Trainer.LatestCheckpoint(Args.OutputDir) is { } last ? $"the last checkpoint, {last}, is intact" : "no checkpoint was written";
        throw new NonFiniteException(step, tensor == "loss" ? tensor : tensor + ".grad",
            $"Non-finite {what} at step {step} (epoch {epoch + 1}, batch {batch}){cause}; the weights were not updated and {kept}.");
    }

    private void EvaluateAndTrack()
    {
        if (_eval is null || !IsMain) return;
        var metrics = Evaluate();
        if (metrics.TryGetValue(MetricKey, out var value))
        {
            bool better = State.BestMetric is null || (GreaterIsBetter ? value > State.BestMetric : value < State.BestMetric);
            if (better)
            {
                State.BestMetric = value;
                State.BestModelCheckpoint = Path.Combine(Args.OutputDir, $"checkpoint-{State.GlobalStep}");
            }
        }
    }

    /// <summary>Mean loss and the metrics of <c>ComputeMetrics</c> on a dataset (the eval set by default), keys prefixed "eval_".</summary>
    public Dictionary<string, double> Evaluate(IReadOnlyList<TExample>? data = null)
    {
        data ??= _eval ?? throw new InvalidOperationException("Evaluate() needs an evaluation dataset.");
        var (prediction, loss) = RunPrediction(data);
        var metrics = new Dictionary<string, double> { ["eval_loss"] = loss };
        foreach (var (k, v) in _computeMetrics(prediction)) metrics["eval_" + k] = v;
        Log(metrics, print: true);
        foreach (var c in _callbacks) c.OnEvaluate(State, metrics);
        return metrics;
    }

    /// <summary>Logits and predictions for a dataset, with metrics when it has labels.</summary>
    public PredictionOutput Predict(IReadOnlyList<TExample> data)
    {
        var (prediction, loss) = RunPrediction(data);
        var metrics = new Dictionary<string, double> { ["test_loss"] = loss };
        foreach (var (k, v) in _computeMetrics(prediction)) metrics["test_" + k] = v;
        return new PredictionOutput(prediction, metrics);
    }

    private (EvalPrediction, double) RunPrediction(IReadOnlyList<TExample> data)
    {
        var model = _task.Model;
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            var loader = new DataLoader<TExample, TBatch>(data, Args.PerDeviceEvalBatchSize, _task, shuffle: false, prefetch: true);
            int classes = _task.Classes;
            var logits = new float[data.Count * classes];
            var labels = new int[data.Count];
            double lossSum = 0;
            int row = 0;
            foreach (var (batch, count, indices) in loader.Epoch(0))
            {
                lossSum += _task.Loss(batch, count) * count;
                _task.Logits(batch, count, logits.AsSpan(row * classes, count * classes));
                for (int i = 0; i < count; i++) labels[row + i] = _task.Label(data[indices[i]]);
                row += count;
            }
            bool hasLabels = labels.All(l => l >= 0);
            return (new EvalPrediction(logits, data.Count, classes, hasLabels ? labels : null), data.Count == 0 ? 0 : lossSum / data.Count);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private void Log(Dictionary<string, double> values, bool print)
    {
        if (!IsMain) return;
        values["epoch"] = Math.Round(State.Epoch, 4);
        values["step"] = State.GlobalStep;
        State.LogHistory.Add(values);
        _metricsLog?.WriteLine(JsonSerializer.Serialize(values));
        foreach (var c in _callbacks) c.OnLog(State, values);
        if (print) _out.WriteLine(string.Join(", ", values.Where(kv => !kv.Key.Contains('_') || kv.Key.StartsWith("eval_", StringComparison.Ordinal) && !char.IsDigit(kv.Key[^1]) || kv.Key == "learning_rate")
            .Select(kv => $"{kv.Key} {kv.Value.ToString(kv.Key is "step" ? "F0" : "G5", CultureInfo.InvariantCulture)}")));
    }

    /// <summary>Writes outputDir/checkpoint-N/ atomically (a temporary folder renamed when complete) and enforces the
    /// save-total limit, never deleting the best checkpoint.</summary>
    public string SaveCheckpoint()
    {
        var final = Path.Combine(Args.OutputDir, $"checkpoint-{State.GlobalStep}");
        var temporary = Path.Combine(Args.OutputDir, $".checkpoint-{State.GlobalStep}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            _task.Model.Save(Path.Combine(temporary, "model.safetensors"));
            Optimizer.SaveState(Path.Combine(temporary, "optimizer.safetensors"));
            AtomicFile.WriteAllText(Path.Combine(temporary, "scheduler.json"), JsonSerializer.Serialize(new { step = Scheduler.CurrentStep, kind = Scheduler.Kind.ToString() }));
            AtomicFile.WriteAllText(Path.Combine(temporary, "rng_state.json"), JsonSerializer.Serialize(new { seed = Args.Seed, model_step = _task.Model.Step }));
            AtomicFile.WriteAllText(Path.Combine(temporary, "trainer_state.json"), JsonSerializer.Serialize(new
            {
                global_step = State.GlobalStep, epoch = State.Epoch, max_steps = State.MaxSteps, steps_per_epoch = State.StepsPerEpoch,
                best_metric = State.BestMetric, best_model_checkpoint = State.BestModelCheckpoint, log_history = State.LogHistory,
            }, new JsonSerializerOptions { WriteIndented = true }));
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temporary, final);
        }
        catch
        {
            try { Directory.Delete(temporary, recursive: true); } catch (IOException) { }
            throw;
        }
        foreach (var c in _callbacks) c.OnSave(State, final);
        RotateCheckpoints();
        return final;
    }

    private void RotateCheckpoints()
    {
        if (Args.SaveTotalLimit is not int limit || limit <= 0) return;
        var checkpoints = Directory.GetDirectories(Args.OutputDir, "checkpoint-*")
            .Select(d => (Dir: d, Step: long.TryParse(Path.GetFileName(d)["checkpoint-".Length..], out var s) ? s : -1))
            .Where(c => c.Step >= 0).OrderBy(c => c.Step).ToList();
        var best = State.BestModelCheckpoint is null ? null : Path.GetFullPath(State.BestModelCheckpoint);
        foreach (var (dir, _) in checkpoints.Take(Math.Max(0, checkpoints.Count - limit)))
            if (Path.GetFullPath(dir) != best) Directory.Delete(dir, recursive: true);
    }

    private void LoadCheckpoint(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint folder {dir} does not exist.");
        _task.Model.Load(Path.Combine(dir, "model.safetensors"));
        Optimizer.LoadState(Path.Combine(dir, "optimizer.safetensors"));
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "trainer_state.json")));
        var root = state.RootElement;
        State.GlobalStep = root.GetProperty("global_step").GetInt64();
        State.Epoch = root.GetProperty("epoch").GetDouble();
        State.BestMetric = root.GetProperty("best_metric").ValueKind == JsonValueKind.Number ? root.GetProperty("best_metric").GetDouble() : null;
        State.BestModelCheckpoint = root.GetProperty("best_model_checkpoint").GetString();
        State.LogHistory = JsonSerializer.Deserialize<List<Dictionary<string, double>>>(root.GetProperty("log_history").GetRawText()) ?? new();
        using var rng = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "rng_state.json")));
        _task.Model.Step = rng.RootElement.GetProperty("model_step").GetUInt64();
        using var scheduler = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "scheduler.json")));
        Scheduler.SetStep(scheduler.RootElement.GetProperty("step").GetInt64());
    }
}

/// <summary>Convenience constructors.</summary>
public static partial class Trainer
{
    /// <summary>A trainer for classifying fixed-size feature vectors with a single-input [Model]; with
    /// <paramref name="exampleShape"/> each example is fed in that shape (images [channels, height, width] for a CNN).</summary>
    public static Trainer<TExample, FeatureBatch> ForClassification<TExample>(Module model, TrainingArguments args,
        IReadOnlyList<TExample> train, IReadOnlyList<TExample>? eval, int features, int classes,
        Func<TExample, ReadOnlyMemory<float>> featuresOf, Func<TExample, int> labelOf,
        IEnumerable<TrainerCallback>? callbacks = null, TextWriter? output = null, Shape? exampleShape = null)
        => new(new ClassificationTask<TExample>(model, features, classes, featuresOf, labelOf, exampleShape), args, train, eval, null, callbacks, output);
}
