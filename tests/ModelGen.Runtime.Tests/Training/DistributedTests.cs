using ModelGen.Data;
using ModelGen.Tests.Graphs;
using ModelGen.Training;

namespace ModelGen.Tests.Training;

/// <summary>The Trainer's data-parallel hooks with a recording backend (no MPI): what a rank other than 0 does,. The MPI
/// backend is tested in ModelGen.Distributed.Tests, the MPI runs themselves in ModelGen.IntegrationTests/MpiTests.cs.</summary>
[NonParallelizable]
public class DistributedTests
{
    private static List<LabeledImage> Data(int n)
    {
        var rng = new Random(3);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 5).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            return new LabeledImage(x, x[0] > 0 ? 1 : 0);
        }).ToList();
    }

    private sealed class RecordingBackend(int rank, int worldSize) : IDistributedBackend
    {
        public List<string> Calls { get; } = new();
        public int Rank => rank;
        public int WorldSize => worldSize;
        public void Broadcast(IReadOnlyList<Parameter> parameters) => Calls.Add("broadcast");
        public void AverageGradients(IReadOnlyList<Parameter> parameters, long step) => Calls.Add($"gradients {step}");
        public double Average(double value)
        {
            Calls.Add("average");
            return value;
        }
        public void Barrier() => Calls.Add("barrier");
        public void Abort(string message) => Calls.Add("abort " + message);
        public void Dispose() { }
    }

    private sealed class SeedRecorder(Module model, List<int> seeds, int throwAtStep = 0) : TrainerCallback
    {
        public override void OnStepEnd(TrainerState state, double loss)
        {
            seeds.Add(model.Seed);
            if (state.GlobalStep == throwAtStep) throw new InvalidOperationException("boom");
        }
    }

    private static TrainingArguments Args(string dir, IDistributedBackend backend) => new()
    {
        OutputDir = dir, LearningRate = 0.05, PerDeviceTrainBatchSize = 8, MaxSteps = 6, ProgressBar = false,
        LoggingSteps = 3, SaveStrategy = IntervalStrategy.Steps, SaveSteps = 4, Distributed = backend,
    };

    [Test]
    public void Rank1_ReadsItsShard_OffsetsTheDropoutSeed_AndSynchronisesWithRank0()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-ddp").FullName;
        var backend = new RecordingBackend(1, 2);
        using var model = new FanOut(Device.Cpu, 1);
        var seeds = new List<int>();
        var output = new StringWriter();
        var trainer = Trainer.ForClassification(model, Args(dir, backend), Data(100), null, 5, 3, e => e.Pixels, e => e.Label, [new SeedRecorder(model, seeds)], output);
        Assert.That(trainer.Loader.ShardSize, Is.EqualTo(50));
        Assert.That(trainer.Loader.Order(0), Is.EquivalentTo(new DataLoader<LabeledImage, FeatureBatch>(Data(100), 8, null!, shuffle: true, seed: 42)
            .Order(0).Where((_, i) => i % 2 == 1)), "every second example of the epoch's order");

        trainer.Train();

        Assert.That(seeds, Has.Count.EqualTo(6).And.All.EqualTo(1 + 1_000_003), "rank 1 draws its own dropout masks");
        Assert.That(model.Seed, Is.EqualTo(1), "the model's seed is restored after training");
        Assert.That(backend.Calls[0], Is.EqualTo("broadcast"));
        Assert.That(backend.Calls.Where(c => c.StartsWith("gradients", StringComparison.Ordinal)), Is.EqualTo(Enumerable.Range(1, 6).Select(s => $"gradients {s}")));
        // losses logged at steps 3 and 6 and the final train_loss are averaged over the ranks; after rank 0's checkpoint
        // at step 4 the ranks meet in a barrier and agree on stopping
        Assert.That(backend.Calls.Count(c => c == "average"), Is.EqualTo(2 + 1 + 1));
        Assert.That(backend.Calls.IndexOf("barrier"), Is.EqualTo(backend.Calls.IndexOf("gradients 4") + 1));
        Assert.That(Directory.GetDirectories(dir, "checkpoint-*"), Is.Empty, "rank 1 writes no checkpoint");
        Assert.That(File.Exists(Path.Combine(dir, "metrics.jsonl")), Is.False, "nor logs");
        Assert.That(output.ToString(), Is.Empty, "nor prints");
        Directory.Delete(dir, true);
    }

    [Test]
    public void AnExceptionOnARank_AbortsTheJob_NamingTheStep()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-ddp").FullName;
        var backend = new RecordingBackend(0, 2);
        using var model = new FanOut(Device.Cpu, 1);
        var trainer = Trainer.ForClassification(model, Args(dir, backend), Data(100), null, 5, 3, e => e.Pixels, e => e.Label,
            [new SeedRecorder(model, new List<int>(), throwAtStep: 2)], TextWriter.Null);
        Assert.Throws<InvalidOperationException>(() => trainer.Train());
        Assert.That(backend.Calls.Last(), Does.StartWith("abort InvalidOperationException at step 3: boom"));
        Assert.That(model.Seed, Is.EqualTo(1));
        Directory.Delete(dir, true);
    }
}
