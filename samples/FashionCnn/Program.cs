using System.Globalization;
using FashionCnnSample;
using FashionSamples;
using ModelGen;
using ModelGen.Data;
using ModelGen.Plots;
using ModelGen.Training;

// Fashion-MNIST with a CNN: two conv–BatchNorm–ReLU–max-pool blocks and a linear head, trained by the Trainer (AdamW,
// cosine schedule, evaluation and checkpoints each epoch). Prints one line per epoch, saves the weights and the
// BatchNorm running statistics as safetensors, reloads them into a new model and evaluates again.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var options = FashionOptions.Parse(args, "FashionCnn [--epochs N] [--batch-size N] [--data DIR] [--device cpu|cuda|ilgpu-cpu] [--output DIR] [--seed N] [--quick]",
    "runs/fashion-cnn", allowLoop: false, out int exitCode);
if (options is null) return exitCode;

Device dev;
try
{
    dev = Device.Parse(options.Device);
}
catch (ArgumentException e)
{
    // an unknown name, or a GPU that is not there (the message says what the driver reported)
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options.LoadData(defaultEpochs: 10) is not var (train, test, epochs)) return 1;
Console.WriteLine($"device: {dev.Name}, {train.Count} training and {test.Count} test images, batch {options.BatchSize}, {epochs} epoch(s), Trainer");

var imageShape = new Shape(1, 28, 28);
using var model = new FashionCnn(dev, options.Seed);
var trainArgs = options.TrainingArguments(epochs);
var trainer = Trainer.ForClassification(model, trainArgs, Dataset.FromImageSet(train), Dataset.FromImageSet(test), FashionMnist.Features, 10,
    x => x.Pixels, x => x.Label, [new EpochLinePrinter(), new TrainingPlotsCallback(output: TextWriter.Null)], TextWriter.Null, exampleShape: imageShape);
trainer.Train();
var weights = Path.Combine(options.Output, "model.safetensors");
model.Save(weights);
Console.WriteLine($"saved {weights} ({model.Parameters.Count} parameters and {model.Buffers.Count} BatchNorm buffers); checkpoints, metrics.jsonl and loss.png/metrics.png in {options.Output}");
using var reloaded = new FashionCnn(dev, options.Seed + 1);
reloaded.Load(weights);
Console.WriteLine($"reloaded: test accuracy {FashionEvaluation.Accuracy(reloaded, test, imageShape):F2}%");
return 0;
