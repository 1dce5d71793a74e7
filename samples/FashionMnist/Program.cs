using System.Diagnostics;
using System.Globalization;
using FashionMnistSample;
using FashionSamples;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Plots;
using ModelGen.Training;

// Fashion-MNIST: by default the Trainer (AdamW, cosine schedule, dropout, evaluation and checkpoints each epoch);
// with --loop, PyTorch's quickstart written as an explicit loop (Adam 1e-3, 5 epochs). Both print one line per epoch,
// save the weights as safetensors, reload them into a new model and evaluate again.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = FashionOptions.Parse(args, "FashionMnist [--loop] [--epochs N] [--batch-size N] [--data DIR] [--device cpu|cuda|...] [--output DIR] [--seed N] [--quick]",
    "runs/fashion-mnist", allowLoop: true, out int exitCode);
if (options is null) return exitCode;
bool loop = options.Loop;
int batchSize = options.BatchSize, seed = options.Seed;
string output = options.Output;
if (options.LoadData(defaultEpochs: loop ? 5 : 10) is not var (train, test, epochs)) return 1;
var dev = Device.Parse(options.Device);
var imageShape = new Shape(FashionMnist.Features);
Console.WriteLine($"device: {dev.Name}, {train.Count} training and {test.Count} test images, batch {batchSize}, {epochs} epoch(s), {(loop ? "explicit loop" : "Trainer")}");
return loop ? ExplicitLoop() : WithTrainer();

int WithTrainer()
{
    using var model = new FashionMlpDropout(dev, seed);
    var trainSet = Dataset.FromImageSet(train);
    var testSet = Dataset.FromImageSet(test);
    var args = options.TrainingArguments(epochs);
    var epochLine = new EpochLinePrinter();
    var trainer = Trainer.ForClassification(model, args, trainSet, testSet, FashionMnist.Features, 10,
        x => x.Pixels, x => x.Label, [epochLine, new TrainingPlotsCallback(output: TextWriter.Null)], TextWriter.Null);
    var result = trainer.Train();
    var weights = Path.Combine(output, "model.safetensors");
    model.Save(weights);
    Console.WriteLine($"saved {weights}; checkpoints, metrics.jsonl and loss.png/metrics.png in {output}");
    using var reloaded = new FashionMlpDropout(dev, seed + 1);
    reloaded.Load(weights);
    Console.WriteLine($"reloaded: test accuracy {FashionEvaluation.Accuracy(reloaded, test, imageShape):F2}%");
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
        Console.WriteLine($"epoch {epoch}: train loss {lossSum / batches:F4}, test accuracy {FashionEvaluation.Accuracy(model, test, imageShape):F2}%, {seconds:F1} s");
    }
    Directory.CreateDirectory(output);
    var weights = Path.Combine(output, "model.safetensors");
    model.Save(weights);
    Console.WriteLine($"saved {weights}");
    using var reloaded = new FashionMlp(dev, seed: seed + 1);
    reloaded.Load(weights);
    Console.WriteLine($"reloaded: test accuracy {FashionEvaluation.Accuracy(reloaded, test, imageShape):F2}%");
    return 0;
}
