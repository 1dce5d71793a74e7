using ModelGen.Data;
using ModelGen.Tests.Graphs;
using ModelGen.Training;

namespace ModelGen.Tests.Training;

[NonParallelizable]
public class TrainerTests
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

    private static (Trainer<LabeledImage, FeatureBatch> Trainer, FanOut Model) Create(string dir, TrainingArguments? args = null, IEnumerable<TrainerCallback>? callbacks = null, TextWriter? output = null)
    {
        var model = new FanOut(Device.Cpu, 1);
        var arguments = args ?? new TrainingArguments
        {
            OutputDir = dir, LearningRate = 0.05, PerDeviceTrainBatchSize = 16, NumTrainEpochs = 4, ProgressBar = false,
            EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch, LoggingStrategy = IntervalStrategy.Epoch,
        };
        var trainer = Trainer.ForClassification(model, arguments, Data(200, 1), Data(60, 2), 5, 3, e => e.Pixels, e => e.Label, callbacks, output ?? TextWriter.Null);
        return (trainer, model);
    }

    [Test]
    public void Train_LearnsEvaluatesAndWritesCheckpointsAndLogs_AndSaysHowToGetPlots()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-trainer").FullName;
        var output = new StringWriter();
        var (trainer, model) = Create(dir, output: output);
        using var _ = model;
        var before = trainer.Evaluate();
        var result = trainer.Train();
        var after = trainer.Evaluate();
        Assert.That(after["eval_loss"], Is.LessThan(before["eval_loss"]));
        Assert.That(after["eval_accuracy"], Is.GreaterThan(0.7));
        Assert.That(result.GlobalStep, Is.EqualTo(4 * 13));
        foreach (var step in new[] { 13, 26, 39, 52 })
        {
            Assert.That(File.Exists(Path.Combine(dir, $"checkpoint-{step}", "model.safetensors")), Is.True);
            Assert.That(File.Exists(Path.Combine(dir, $"checkpoint-{step}", "trainer_state.json")), Is.True);
            Assert.That(File.Exists(Path.Combine(dir, $"checkpoint-{step}", "optimizer.safetensors")), Is.True);
        }
        Assert.That(File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")), Has.Length.GreaterThanOrEqualTo(8));
        // the core writes no plots (ModelGen.Plots' TrainingPlotsCallback does; tested there) and says how to get them
        Assert.That(Directory.GetFiles(dir, "*.png"), Is.Empty);
        Assert.That(output.ToString(), Does.Contain($"training log: {Path.Combine(dir, "metrics.jsonl")} (for PNG plots of it, add the ModelGen.Plots package and callbacks: [new TrainingPlotsCallback()])"));
        var prediction = trainer.Predict(Data(60, 2));
        Assert.That(prediction.Metrics["test_accuracy"], Is.EqualTo(after["eval_accuracy"]));
        Directory.Delete(dir, true);
    }

    [Test]
    public void SameSeed_SameLosses()
    {
        double[] Run()
        {
            var dir = Directory.CreateTempSubdirectory("modelgen-seed").FullName;
            var losses = new List<double>();
            var (trainer, model) = Create(dir, callbacks: [new LossRecorder(losses)]);
            using var _ = model;
            trainer.Train();
            Directory.Delete(dir, true);
            return losses.ToArray();
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    private sealed class LossRecorder(List<double> losses) : TrainerCallback
    {
        public override void OnStepEnd(TrainerState state, double loss) => losses.Add(loss);
    }

    [Test]
    public void SaveTotalLimit_KeepsTheNewestAndTheBest_AndLoadBestModelAtEnd()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-limit").FullName;
        var args = new TrainingArguments
        {
            OutputDir = dir, LearningRate = 0.01, PerDeviceTrainBatchSize = 16, NumTrainEpochs = 5, ProgressBar = false,
            EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch, SaveTotalLimit = 2,
            LoadBestModelAtEnd = true, MetricForBestModel = "accuracy",
        };
        var (trainer, model) = Create(dir, args);
        using var _ = model;
        trainer.Train();
        var kept = Directory.GetDirectories(dir, "checkpoint-*").Select(Path.GetFileName).ToList();
        Assert.That(kept.Count, Is.LessThanOrEqualTo(3));
        Assert.That(kept, Does.Contain("checkpoint-65"));
        Assert.That(trainer.State.BestModelCheckpoint, Is.Not.Null);
        Assert.That(kept, Does.Contain(Path.GetFileName(trainer.State.BestModelCheckpoint!)));
        Assert.That(trainer.Evaluate()["eval_accuracy"], Is.EqualTo(trainer.State.BestMetric));
        Directory.Delete(dir, true);
    }

    [Test]
    public void EarlyStopping_StopsWhenTheMetricStalls()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-early").FullName;
        var args = new TrainingArguments
        {
            OutputDir = dir, LearningRate = 0, PerDeviceTrainBatchSize = 16, NumTrainEpochs = 10, ProgressBar = false,
            EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No,
        };
        var (trainer, model) = Create(dir, args, [new EarlyStoppingCallback(patience: 2)]);
        using var _ = model;
        trainer.Train();
        Assert.That(trainer.State.GlobalStep, Is.EqualTo(3 * 13), "a learning rate of 0 never improves: stop after 1 + 2 evaluations");
        Directory.Delete(dir, true);
    }

    [Test]
    public void AFailedSave_LeavesThePreviousCheckpointIntact()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-fault").FullName;
        var (trainer, model) = Create(dir);
        using var _ = model;
        var good = trainer.SaveCheckpoint();
        var goodBytes = Directory.GetFiles(good).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        trainer.Evaluate();
        model.Parameters[0].Value.CopyFrom<float>(Enumerable.Repeat(9f, model.Parameters[0].Value.Count).ToArray());
        try
        {
            Environment.SetEnvironmentVariable("MODELGEN_TEST_WRITE_FAULT", "fail-after:100:model");
            Assert.Throws<IOException>(() => trainer.SaveCheckpoint());
        }
        finally
        {
            Environment.SetEnvironmentVariable("MODELGEN_TEST_WRITE_FAULT", null);
        }
        Assert.That(Directory.GetDirectories(dir), Has.Length.EqualTo(1), "no partial checkpoint folder is left");
        foreach (var (name, bytes) in goodBytes) Assert.That(File.ReadAllBytes(Path.Combine(good, name)), Is.EqualTo(bytes), name);
        using var reloaded = new FanOut(Device.Cpu, 7);
        reloaded.Load(Path.Combine(good, "model.safetensors"));
        Directory.Delete(dir, true);
    }
}
