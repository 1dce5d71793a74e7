using ModelGen.Data;
using ModelGen.IO;
using ModelGen.Training;

namespace ModelGen.Reliability.Tests.Training;

/// <summary>A NaN or infinite loss or gradient: the Trainer stops with a message naming the step and the first
/// non-finite tensor, before the weights are touched, and the last good checkpoint stays intact; or, with
/// <see cref="NonFiniteAction.SkipStep"/>, skips that update and goes on.</summary>
public sealed class NonFiniteTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("modelgen-nonfinite").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, true);

    /// <summary>The classification task with faults injected: a NaN loss at the given optimizer steps, or a NaN or
    /// infinity written into a named gradient after the backward pass of the given steps.</summary>
    private sealed class FaultyTask(ClassificationTask<LabeledImage> inner) : ITrainingTask<LabeledImage, FeatureBatch>
    {
        private int _losses;

        public HashSet<int> NaNLossAt { get; } = [];
        public Dictionary<int, (string Parameter, int Index, float Value)> BadGradientAt { get; } = [];

        public Module Model => inner.Model;
        public int Classes => inner.Classes;
        public FeatureBatch Create(int capacity) => inner.Create(capacity);
        public void Collate(IReadOnlyList<LabeledImage> data, ReadOnlySpan<int> indices, FeatureBatch batch) => inner.Collate(data, indices, batch);
        public void Logits(FeatureBatch batch, int count, Span<float> logits) => inner.Logits(batch, count, logits);
        public int Label(LabeledImage example) => inner.Label(example);

        public double Loss(FeatureBatch batch, int count)
        {
            double loss = inner.Loss(batch, count);
            if (Model.Training) _losses++; // training batches only (evaluation also computes losses)
            return Model.Training && NaNLossAt.Contains(_losses) ? double.NaN : loss;
        }

        public void Backward()
        {
            inner.Backward();
            if (BadGradientAt.TryGetValue(_losses, out var bad))
            {
                var grad = Model.Parameter(bad.Parameter).Grad;
                var values = grad.ToArray();
                values[bad.Index] = bad.Value;
                grad.CopyFrom<float>(values);
            }
        }
    }

    private (Trainer<LabeledImage, FeatureBatch> Trainer, TinyMlp Model, FaultyTask Task, StringWriter Output) Create(TrainingArguments? args = null,
        IEnumerable<TrainerCallback>? callbacks = null)
    {
        var model = new TinyMlp(Device.Cpu, seed: 3);
        var task = new FaultyTask(new ClassificationTask<LabeledImage>(model, 4, 3, e => e.Pixels, e => e.Label));
        args ??= new TrainingArguments();
        args = args with
        {
            OutputDir = _dir, LearningRate = 1e-2, PerDeviceTrainBatchSize = 8, MaxSteps = 20, SaveSteps = 5, LoggingSteps = 1,
            ProgressBar = false, WarmupSteps = 0,
        };
        var output = new StringWriter();
        var trainer = new Trainer<LabeledImage, FeatureBatch>(task, args, TestData.Examples(96, 4, 3, seed: 1), null, null, callbacks, output);
        return (trainer, model, task, output);
    }

    private static Dictionary<string, byte[]> Snapshot(string checkpoint) =>
        Directory.GetFiles(checkpoint).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertFinite(Module model)
    {
        foreach (var p in model.Parameters)
            Assert.That(p.Value.ToArray().All(float.IsFinite), Is.True, $"{p.Name} holds a non-finite value");
    }

    [Test]
    public void NaNLoss_Stops_NamingTheStep_AndTheLastCheckpointStaysIntact()
    {
        var snapshots = new Dictionary<string, Dictionary<string, byte[]>>();
        var (trainer, model, task, _) = Create(callbacks: [new SaveProbe((_, dir) => snapshots[dir] = Snapshot(dir))]);
        using var _ = model;
        task.NaNLossAt.Add(12);

        var e = Assert.Throws<NonFiniteException>(() => trainer.Train())!;
        Assert.That(e.Step, Is.EqualTo(12));
        Assert.That(e.Tensor, Is.EqualTo("loss"));
        var checkpoint10 = Path.Combine(_dir, "checkpoint-10");
        Assert.That(e.Message, Does.Contain("loss NaN at step 12").And.Contain(checkpoint10).And.Contain("not updated"));
        Assert.That(trainer.State.GlobalStep, Is.EqualTo(11));

        // the checkpoints written before are byte for byte as saved, the latest is checkpoint-10, and it loads
        Assert.That(snapshots.Keys.Select(Path.GetFileName), Is.EquivalentTo(new[] { "checkpoint-5", "checkpoint-10" }));
        foreach (var (dir, files) in snapshots)
            foreach (var (name, bytes) in files)
                Assert.That(File.ReadAllBytes(Path.Combine(dir, name)), Is.EqualTo(bytes), $"{dir}/{name}");
        Assert.That(Trainer.LatestCheckpoint(_dir), Is.EqualTo(checkpoint10));
        using var reloaded = new TinyMlp(Device.Cpu, seed: 9);
        reloaded.Load(Path.Combine(checkpoint10, "model.safetensors"));
        AssertFinite(reloaded);
        AssertFinite(model);
    }

    [Test]
    public void NaNWeights_StopAtTheNextLoss_NamingTheFirstNonFiniteParameter()
    {
        // a corrupted update (simulated): fc2.weight[5] becomes NaN after step 7
        TinyMlp? target = null;
        var corrupt = new OnStep(state =>
        {
            if (state.GlobalStep != 7) return;
            var w = target!.Parameter("fc2.weight").Value;
            var values = w.ToArray();
            values[5] = float.NaN;
            w.CopyFrom<float>(values);
        });
        var (trainer, model, _, _) = Create(callbacks: [corrupt]);
        using var _ = target = model;
        var e = Assert.Throws<NonFiniteException>(() => trainer.Train())!;
        Assert.That(e.Step, Is.EqualTo(8));
        Assert.That(e.Tensor, Is.EqualTo("loss"));
        Assert.That(e.Message, Does.Contain("at step 8").And.Contain("the first non-finite parameter is fc2.weight (NaN at index 5)")
            .And.Contain(Path.Combine(_dir, "checkpoint-5")));
    }

    [Test]
    public void NonFiniteGradient_Stops_NamingTheGradient_BeforeTheUpdate()
    {
        TinyMlp? target = null;
        List<float[]>? afterStep5 = null;
        var snapshot = new OnStep(state =>
        {
            if (state.GlobalStep == 5) afterStep5 = target!.Parameters.Select(p => p.Value.ToArray()).ToList();
        });
        var (trainer, model, task, _) = Create(new TrainingArguments { CheckNonFiniteGradients = true }, [snapshot]);
        using var _ = target = model;
        task.BadGradientAt[6] = ("fc1.bias", 2, float.PositiveInfinity);

        var e = Assert.Throws<NonFiniteException>(() => trainer.Train())!;
        Assert.That(e.Step, Is.EqualTo(6));
        Assert.That(e.Tensor, Is.EqualTo("fc1.bias.grad"));
        Assert.That(e.Message, Does.Contain("gradient fc1.bias.grad (Infinity at index 2) at step 6"));
        Assert.That(model.Parameters.Select(p => p.Value.ToArray()), Is.EqualTo(afterStep5), "the bad gradient never reached the weights");
    }

    [Test]
    public void SkipStep_SkipsTheBadUpdates_AndFinishes()
    {
        var (trainer, model, task, output) = Create(new TrainingArguments { NonFinite = NonFiniteAction.SkipStep, CheckNonFiniteGradients = true });
        using var _ = model;
        task.NaNLossAt.Add(4);
        task.BadGradientAt[9] = ("fc2.weight", 0, float.NaN);
        var result = trainer.Train();
        Assert.That(result.GlobalStep, Is.EqualTo(20));
        Assert.That(trainer.State.SkippedSteps, Is.EqualTo(2));
        var text = output.ToString();
        Assert.That(text, Does.Contain("step 4: skipped the update (non-finite loss NaN)"));
        Assert.That(text, Does.Contain("step 9: skipped the update (non-finite gradient fc2.weight.grad (NaN at index 0))"));
        AssertFinite(model);
        Assert.That(double.IsFinite(result.TrainingLoss), Is.True);
        Assert.That(trainer.State.LogHistory.Where(l => l.ContainsKey("loss")).All(l => double.IsFinite(l["loss"])), Is.True, "metrics.jsonl holds no NaN");
    }

    private sealed class SaveProbe(Action<TrainerState, string> action) : TrainerCallback
    {
        public override void OnSave(TrainerState state, string checkpoint) => action(state, checkpoint);
    }

    private sealed class OnStep(Action<TrainerState> action) : TrainerCallback
    {
        public override void OnStepEnd(TrainerState state, double loss) => action(state);
    }
}
