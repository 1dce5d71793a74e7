using ModelGen.Testing;
using ModelGen.Data;
using ModelGen.Training;

namespace ModelGen.Reliability.Tests.Training;

/// <summary>A long Trainer run (evaluation, logging and rotating checkpoints included) keeps managed memory, the C heap
/// (where tensors live), the process's working set and private bytes, and its open handles flat after warm-up.
/// MODELGEN_LONG_STEPS sets the steps (1,000 here, 10,000 in scripts/reliability-full.sh).</summary>
public sealed class LongRunTests
{
    private static int Steps => Fuzz.FuzzRunner.EnvInt("MODELGEN_LONG_STEPS", 1000);

    [Test]
    public void ManyTrainingSteps_KeepMemoryAndHandlesFlat()
    {
        int steps = Steps, evalSteps = Math.Max(50, steps / 10), warmup = evalSteps + 1; // after the first evaluation made its plan
        var dir = Directory.CreateTempSubdirectory("modelgen-longrun").FullName;
        try
        {
            NativeMemory.Snapshot? atWarmup = null, atEnd = null;
            long liveAtWarmup = 0, liveAtEnd = 0;
            var probe = new Probe(state =>
            {
                if (state.GlobalStep == warmup) (atWarmup, liveAtWarmup) = (NativeMemory.Measure(), Device.Cpu.LiveAllocations);
                if (state.GlobalStep == steps) (atEnd, liveAtEnd) = (NativeMemory.Measure(), Device.Cpu.LiveAllocations);
            });
            using var model = new SoakMlp(Device.Cpu, seed: 5);
            var data = TestData.Examples(320, 12, 4, seed: 11);
            var args = new TrainingArguments
            {
                OutputDir = dir, LearningRate = 3e-3, PerDeviceTrainBatchSize = 16, PerDeviceEvalBatchSize = 32, MaxSteps = steps,
                LoggingSteps = 100, EvaluationStrategy = IntervalStrategy.Steps, EvalSteps = evalSteps,
                SaveStrategy = IntervalStrategy.Steps, SaveSteps = Math.Max(50, steps / 5), SaveTotalLimit = 2,
                ProgressBar = false, CheckNonFiniteGradients = true,
            };
            var trainer = Trainer.ForClassification(model, args, data, data.Take(64).ToList(), 12, 4, e => e.Pixels, e => e.Label, [probe], TextWriter.Null);
            var result = trainer.Train();
            Assert.That(result.GlobalStep, Is.EqualTo(steps));
            Assert.That(atWarmup, Is.Not.Null);
            Assert.That(atEnd, Is.Not.Null);
            var (a, b) = (atWarmup!, atEnd!);
            TestContext.Out.WriteLine($"{steps} steps; at step {warmup}: {a}, {liveAtWarmup} live tensor blocks");
            TestContext.Out.WriteLine($"{steps} steps; at step {steps}: {b}, {liveAtEnd} live tensor blocks");
            Assert.Multiple(() =>
            {
                Assert.That(liveAtEnd, Is.EqualTo(liveAtWarmup), "native blocks of the CPU engine (tensors, plans, optimizer state)");
                // generous margins: a leak of a tensor, a buffer or a file per step exceeds them many times over
                Assert.That(b.Managed - a.Managed, Is.LessThan(2L << 20), "managed bytes after a full collection");
                // the C heap moves by a few MiB with the runtime's own allocations (see the per-step test below for tensors)
                if (a.Heap is { } h0 && b.Heap is { } h1) Assert.That(h1 - h0, Is.LessThan(8L << 20), "C heap in use");
                Assert.That(b.WorkingSet - a.WorkingSet, Is.LessThan(64L << 20), "working set");
                Assert.That(b.PrivateBytes - a.PrivateBytes, Is.LessThan(64L << 20), "private bytes");
                Assert.That(b.Handles - a.Handles, Is.LessThanOrEqualTo(4), "open handles");
            });
            Assert.That(Directory.GetDirectories(dir, "checkpoint-*"), Has.Length.EqualTo(2), "SaveTotalLimit keeps two checkpoints");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>The training step itself (forward, loss, backward, AdamW) takes no native memory once warm: the CPU
    /// engine's count of live blocks is exactly the same after 10,000 steps. The C heap is also used by the runtime (the
    /// JIT, new thread-pool threads), so it is measured over five windows of 2,000 steps with a margin: a leak of 128
    /// bytes a step would show in every window; that noise does not.</summary>
    [Test]
    public void TrainingSteps_TakeNoNativeMemory()
    {
        Requirement.That(NativeMemory.HeapInUse() is not null, "the C-heap check needs glibc's mallinfo2");
        using var model = new SoakMlp(Device.Cpu, seed: 5);
        using var optimizer = new ModelGen.Optim.AdamW(model.Parameters, 1e-3);
        var data = TestData.Examples(16, 12, 4, seed: 3);
        using var x = Tensor.From(data.SelectMany(e => e.Pixels).ToArray(), 16, 12);
        var labels = data.Select(e => e.Label).ToArray();
        void Step()
        {
            model.CrossEntropy(x, labels);
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        for (int i = 0; i < 300; i++) Step();
        Thread.Sleep(300); // let the JIT finish tiering up the hot methods
        long live = Device.Cpu.LiveAllocations;
        var windows = new List<long>();
        for (int w = 0; w < 5; w++)
        {
            long before = NativeMemory.HeapInUse()!.Value;
            for (int i = 0; i < 2000; i++) Step();
            windows.Add(NativeMemory.HeapInUse()!.Value - before);
        }
        TestContext.Out.WriteLine($"C heap change per window of 2,000 steps: {string.Join(", ", windows)} bytes; live blocks {live} → {Device.Cpu.LiveAllocations}");
        Assert.That(Device.Cpu.LiveAllocations, Is.EqualTo(live), "the CPU engine's native blocks: exactly the same after 10,000 steps");
        Assert.That(windows.Min(), Is.LessThan(256 << 10), "C heap bytes taken by 2,000 training steps (the quietest window)");
    }

    private sealed class Probe(Action<TrainerState> action) : TrainerCallback
    {
        public override void OnStepEnd(TrainerState state, double loss) => action(state);
    }
}
