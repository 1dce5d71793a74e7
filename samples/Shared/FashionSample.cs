using System.Diagnostics;
using System.Globalization;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Training;

namespace FashionSamples;

/// <summary>The command line both Fashion-MNIST samples take.</summary>
public sealed record FashionOptions(int? Epochs, int BatchSize, int Seed, string? DataDir, string Output, string Device, bool Quick, bool Loop)
{
    /// <summary>Parses the options; null with <paramref name="exitCode"/> set when the program should stop (--help: 0,
    /// an unknown option: 2). <c>--loop</c> is accepted only when <paramref name="allowLoop"/>.</summary>
    public static FashionOptions? Parse(string[] args, string usage, string defaultOutput, bool allowLoop, out int exitCode)
    {
        exitCode = 0;
        int? epochs = null;
        int batchSize = 64, seed = 42;
        string? dataDir = null;
        string output = defaultOutput, device = "cpu";
        bool quick = false, loop = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-size": batchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--data": dataDir = Next(); break;
                case "--device": device = Next(); break;
                case "--output": output = Next(); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--quick": quick = true; break;
                case "--loop" when allowLoop: loop = true; break;
                case "--help" or "-h":
                    Console.WriteLine(usage);
                    return null;
                default:
                    Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
                    exitCode = 2;
                    return null;
            }
        }
        return new FashionOptions(epochs, batchSize, seed, dataDir, output, device, quick, loop);
    }

    /// <summary>Loads the data (the first 5,000 training and 2,000 test images and one epoch with --quick); null with
    /// the reason printed when the files are missing.</summary>
    public (ImageSet Train, ImageSet Test, int Epochs)? LoadData(int defaultEpochs)
    {
        FashionMnist data;
        try
        {
            data = FashionMnist.Load(DataDir);
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
        if (Quick) return (data.Train.Take(5000), data.Test.Take(2000), 1);
        return (data.Train, data.Test, Epochs ?? defaultEpochs);
    }

    /// <summary>The Trainer settings both samples use: AdamW 1e-3 with weight decay 1e-4, cosine schedule, evaluation,
    /// logging and a checkpoint (the last two kept) each epoch.</summary>
    public TrainingArguments TrainingArguments(int epochs) => new()
    {
        OutputDir = Output,
        LearningRate = 1e-3,
        PerDeviceTrainBatchSize = BatchSize,
        PerDeviceEvalBatchSize = 1000,
        NumTrainEpochs = epochs,
        WeightDecay = 1e-4,
        LrSchedulerType = ScheduleKind.Cosine,
        MaxGradNorm = 0,
        Seed = Seed,
        EvaluationStrategy = IntervalStrategy.Epoch,
        SaveStrategy = IntervalStrategy.Epoch,
        LoggingStrategy = IntervalStrategy.Epoch,
        SaveTotalLimit = 2,
        LoadBestModelAtEnd = false,
    };
}

public static class FashionEvaluation
{
    /// <summary>Test accuracy in percent, in batches of 1,000 images of the given per-image shape, in eval mode.</summary>
    public static double Accuracy(IModel model, ImageSet set, Shape imageShape)
    {
        model.Eval();
        const int evalBatch = 1000;
        int correct = 0;
        var device = ((Module)model).Device;
        for (int start = 0; start < set.Count; start += evalBatch)
        {
            int n = Math.Min(evalBatch, set.Count - start);
            using var x = Tensor.From<float>(set.Images.AsSpan(start * FashionMnist.Features, n * FashionMnist.Features), new Shape([n, .. imageShape.Dims]), DType.Float32, device);
            var logits = model.Run(x).ToArray().AsSpan();
            for (int i = 0; i < n; i++)
            {
                var row = logits.Slice(i * 10, 10);
                int best = 0;
                for (int c = 1; c < 10; c++) if (row[c] > row[best]) best = c;
                if (best == set.Labels[start + i]) correct++;
            }
        }
        model.Train();
        return 100.0 * correct / set.Count;
    }
}

/// <summary>Prints the samples' per-epoch line from the Trainer's logs: training loss, test accuracy, seconds.</summary>
public sealed class EpochLinePrinter : TrainerCallback
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _trainLoss;
    private bool _first = true;

    public override void OnStepEnd(TrainerState state, double loss)
    {
        if (_first) Console.WriteLine($"first batch: loss {loss:F4}");
        _first = false;
    }

    public override void OnLog(TrainerState state, IReadOnlyDictionary<string, double> logs)
    {
        if (logs.TryGetValue("loss", out var loss)) _trainLoss = loss;
    }

    public override void OnEvaluate(TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        int epoch = (int)Math.Round(state.Epoch);
        Console.WriteLine($"epoch {epoch}: train loss {_trainLoss:F4}, test accuracy {100 * metrics["eval_accuracy"]:F2}%, {_clock.Elapsed.TotalSeconds:F1} s");
        _clock.Restart();
    }
}
