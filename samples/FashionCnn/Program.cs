using System.Diagnostics;
using System.Globalization;
using FashionCnnSample;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Training;

// Fashion-MNIST with a CNN: two conv–BatchNorm–ReLU–max-pool blocks and a linear head, trained by the Trainer (AdamW,
// cosine schedule, evaluation and checkpoints each epoch). Prints one line per epoch, saves the weights and the
// BatchNorm running statistics as safetensors, reloads them into a new model and evaluates again.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

int? epochsOption = null;
int batchSize = 64, seed = 42;
string? dataDir = null, output = "runs/fashion-cnn";
string device = "cpu";
bool quick = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochsOption = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch-size": batchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--data": dataDir = Next(); break;
        case "--device": device = Next(); break;
        case "--output": output = Next(); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--quick": quick = true; break;
        case "--help" or "-h":
            Console.WriteLine("FashionCnn [--epochs N] [--batch-size N] [--data DIR] [--device cpu] [--output DIR] [--seed N] [--quick]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
            return 2;
    }
}

var dev = Device.Parse(device);
if (!dev.IsCpu)
{
    Console.Error.WriteLine($"FashionCnn runs on the CPU engine: the ILGPU kernels of Conv2d, the poolings and BatchNorm2d are not written yet (got --device {device}; use --device cpu).");
    return 2;
}

FashionMnist data;
try
{
    data = FashionMnist.Load(dataDir);
}
catch (FileNotFoundException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
var train = data.Train;
var test = data.Test;
int epochs = epochsOption ?? 10;
if (quick)
{
    epochs = 1;
    train = train.Take(5000);
    test = test.Take(2000);
}
Console.WriteLine($"device: {dev.Name}, {train.Count} training and {test.Count} test images, batch {batchSize}, {epochs} epoch(s), Trainer");

var imageShape = new Shape(1, 28, 28);
using var model = new FashionCnn(dev, seed);
var trainArgs = new TrainingArguments
{
    OutputDir = output,
    LearningRate = 1e-3,
    PerDeviceTrainBatchSize = batchSize,
    PerDeviceEvalBatchSize = 1000,
    NumTrainEpochs = epochs,
    WeightDecay = 1e-4,
    LrSchedulerType = ScheduleKind.Cosine,
    MaxGradNorm = 0,
    Seed = seed,
    EvaluationStrategy = IntervalStrategy.Epoch,
    SaveStrategy = IntervalStrategy.Epoch,
    LoggingStrategy = IntervalStrategy.Epoch,
    SaveTotalLimit = 2,
    LoadBestModelAtEnd = false,
};
var trainer = Trainer.ForClassification(model, trainArgs, Dataset.FromImageSet(train), Dataset.FromImageSet(test), FashionMnist.Features, 10,
    x => x.Pixels, x => x.Label, [new EpochLinePrinter()], TextWriter.Null, exampleShape: imageShape);
trainer.Train();
var weights = Path.Combine(output, "model.safetensors");
model.Save(weights);
Console.WriteLine($"saved {weights} ({model.Parameters.Count} parameters and {model.Buffers.Count} BatchNorm buffers); checkpoints, metrics.jsonl and loss.png/metrics.png in {output}");
using var reloaded = new FashionCnn(dev, seed + 1);
reloaded.Load(weights);
Console.WriteLine($"reloaded: test accuracy {Evaluate(reloaded, test):F2}%");
return 0;

static double Evaluate(FashionCnn model, ImageSet set)
{
    model.Eval();
    const int evalBatch = 1000;
    int correct = 0;
    for (int start = 0; start < set.Count; start += evalBatch)
    {
        int n = Math.Min(evalBatch, set.Count - start);
        using var x = Tensor.From<float>(set.Images.AsSpan(start * FashionMnist.Features, n * FashionMnist.Features), new Shape(n, 1, 28, 28), DType.Float32, model.Device);
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

/// <summary>Prints the sample's per-epoch line from the Trainer's logs: training loss, test accuracy, seconds.</summary>
sealed class EpochLinePrinter : TrainerCallback
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
