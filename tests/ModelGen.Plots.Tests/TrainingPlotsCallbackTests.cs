using ModelGen.Data;
using ModelGen.Training;

namespace ModelGen.Plots.Tests;

[Model]
public partial class Classifier
{
    [Layer] readonly Linear fc1 = new(5, 16);
    [Layer] readonly Linear fc2 = new(16, 3);
    Tensor Forward(Tensor x) => fc2.Apply(Tanh(fc1.Apply(x)));
}

/// <summary>TrainingPlotsCallback: loss.png and metrics.png of a real run, written once at the end on rank 0, and the
/// Trainer's hint about plots left out when the callback is there.</summary>
public class TrainingPlotsCallbackTests
{
    private static List<LabeledImage> Data(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 5).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            return new LabeledImage(x, x[0] + x[1] > 0 ? 1 : x[2] > 0 ? 2 : 0);
        }).ToList();
    }

    private static (string Dir, string Output, TrainingPlotsCallback Plots) Train(string? plotsDirectory = null)
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-plots").FullName;
        using var model = new Classifier(Device.Cpu, 1);
        var args = new TrainingArguments
        {
            OutputDir = dir, LearningRate = 0.05, PerDeviceTrainBatchSize = 16, NumTrainEpochs = 3, ProgressBar = false,
            EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No, LoggingStrategy = IntervalStrategy.Epoch,
        };
        var plots = new TrainingPlotsCallback(plotsDirectory, TextWriter.Null);
        var output = new StringWriter();
        Trainer.ForClassification(model, args, Data(200, 1), Data(60, 2), 5, 3, e => e.Pixels, e => e.Label, [plots], output).Train();
        return (dir, output.ToString(), plots);
    }

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.That(bytes.Length, Is.GreaterThan(1000), path);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), $"{path} is a PNG");
    }

    [Test]
    public void WritesLossAndMetricsPngs_InTheOutputDirectory()
    {
        var (dir, output, plots) = Train();
        AssertPng(Path.Combine(dir, "loss.png"));
        AssertPng(Path.Combine(dir, "metrics.png"));
        Assert.That(plots.Written, Is.EqualTo(new[] { Path.Combine(dir, "loss.png"), Path.Combine(dir, "metrics.png") }));
        Assert.That(output, Does.Not.Contain("ModelGen.Plots package"), "no hint when the callback is there");
        Directory.Delete(dir, true);
    }

    [Test]
    public void WritesIntoTheGivenDirectory()
    {
        var target = Path.Combine(Path.GetTempPath(), "modelgen-plots-" + Guid.NewGuid().ToString("N"));
        var (dir, _, _) = Train(target);
        AssertPng(Path.Combine(target, "loss.png"));
        Assert.That(Directory.GetFiles(dir, "*.png"), Is.Empty);
        Directory.Delete(dir, true);
        Directory.Delete(target, true);
    }
}
