using System.Diagnostics;
using System.Globalization;
using FashionMnistSample;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Training;

// Fashion-MNIST: by default the Trainer (AdamW, cosine schedule, dropout, evaluation and checkpoints each epoch);
// with --loop, PyTorch's quickstart written as an explicit loop (Adam 1e-3, 5 epochs). Both print one line per epoch,
// save the weights as safetensors, reload them into a new model and evaluate again.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

int? epochsOption = null;
int batchSize = 64, seed = 42;
string? dataDir = null, output = "runs/fashion-mnist";
string device = "cpu";
bool quick = false, loop = false;
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
        case "--loop": loop = true; break;
        case "--help" or "-h":
            Console.WriteLine("FashionMnist [--loop] [--epochs N] [--batch-size N] [--data DIR] [--device cpu|cuda|...] [--output DIR] [--seed N] [--quick]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
            return 2;
    }
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
int epochs = epochsOption ?? (loop ? 5 : 10);
if (quick)
{
    epochs = 1;
    train = train.Take(5000);
    test = test.Take(2000);
}
var dev = Device.Parse(device);
Console.WriteLine($"device: {dev.Name}, {train.Count} training and {test.Count} test images, batch {batchSize}, {epochs} epoch(s), {(loop ? "explicit loop" : "Trainer")}");
return loop ? ExplicitLoop() : WithTrainer();

int WithTrainer()
{
    using var model = new FashionMlpDropout(dev, seed);
    var trainSet = Dataset.FromImageSet(train);
    var testSet = Dataset.FromImageSet(test);
    var args = new TrainingArguments
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
    var epochLine = new EpochLinePrinter();
    var trainer = Trainer.ForClassification(model, args, trainSet, testSet, FashionMnist.Features, 10,
        x => x.Pixels, x => x.Label, [epochLine], TextWriter.Null);
    var result = trainer.Train();
    var weights = Path.Combine(output, "model.safetensors");
    model.Save(weights);
    Console.WriteLine($"saved {weights}; checkpoints, metrics.jsonl and loss.png/metrics.png in {output}");
    using var reloaded = new FashionMlpDropout(dev, seed + 1);
    reloaded.Load(weights);
    Console.WriteLine($"reloaded: test accuracy {Evaluate(reloaded, test):F2}%");
    return 0;
}

int ExplicitLoop()
{
    using var model = new FashionMlp(dev, seed);
    using var optimizer = new Adam(model.Parameters, lr: 1e-3);
    // reusable host buffers: full batches, and the last partial one (PyTorch's DataLoader keeps it too)
    using var fullBatch = Tensor.Zeros(new Shape(batchSize, FashionMnist.Features), DType.Float32, dev);
    using var lastBatch = Tensor.Zeros(new Shape(Math.Max(1, train.Count % batchSize), FashionMnist.Features), DType.Float32, dev);
    var host = new float[batchSize * FashionMnist.Features]; // staging for GPU devices
    var fullLabels = new int[batchSize];
    var lastLabels = new int[Math.Max(1, train.Count % batchSize)];
    var order = Enumerable.Range(0, train.Count).ToArray();
    var rng = new Random(seed);
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        var clock = Stopwatch.StartNew();
        rng.Shuffle(order);
        model.Train();
        double lossSum = 0;
        int batches = 0;
        for (int start = 0; start < train.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, train.Count - start);
            var batch = n == batchSize ? fullBatch : lastBatch;
            var labels = n == batchSize ? fullLabels : lastLabels;
            var x = dev.IsCpu ? batch.AsSpan<float>() : host.AsSpan(0, n * FashionMnist.Features);
            for (int b = 0; b < n; b++)
            {
                int index = order[start + b];
                train.Image(index).CopyTo(x.Slice(b * FashionMnist.Features, FashionMnist.Features));
                labels[b] = train.Labels[index];
            }
            if (!dev.IsCpu) batch.CopyFrom<float>(x);
            double loss = model.CrossEntropy(batch, labels);
            if (epoch == 1 && batches == 0) Console.WriteLine($"first batch: loss {loss:F4}");
            lossSum += loss;
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
            batches++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"epoch {epoch}: train loss {lossSum / batches:F4}, test accuracy {Evaluate(model, test):F2}%, {seconds:F1} s");
    }
    Directory.CreateDirectory(output);
    var weights = Path.Combine(output, "model.safetensors");
    model.Save(weights);
    Console.WriteLine($"saved {weights}");
    using var reloaded = new FashionMlp(dev, seed: seed + 1);
    reloaded.Load(weights);
    Console.WriteLine($"reloaded: test accuracy {Evaluate(reloaded, test):F2}%");
    return 0;
}

static double Evaluate(IModel model, ImageSet set)
{
    model.Eval();
    const int evalBatch = 1000;
    int correct = 0;
    var device = ((Module)model).Device;
    for (int start = 0; start < set.Count; start += evalBatch)
    {
        int n = Math.Min(evalBatch, set.Count - start);
        using var x = Tensor.From<float>(set.Images.AsSpan(start * FashionMnist.Features, n * FashionMnist.Features), new Shape(n, FashionMnist.Features), DType.Float32, device);
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
