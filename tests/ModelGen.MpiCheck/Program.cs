using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ModelGen;
using ModelGen.Data;
using ModelGen.Distributed;
using ModelGen.Training;

// Data-parallel Trainer runs for the MPI tests and the measurements of docs/distributed.md. The same program runs as
// one process (`dotnet ModelGen.MpiCheck.dll`) or as N ranks (`mpirun.mpich -np N dotnet ModelGen.MpiCheck.dll`); the
// global batch is fixed, so each of N ranks trains on global-batch/N examples per step.
// Each rank prints "rank R/W weights HASH", "rank R/W allreduce ..." and writes its parameters (float32, in order) to
// OUT/weights-rankR.bin.
// Usage: MpiCheck --out DIR [--steps N] [--global-batch N] [--save-steps N] [--resume CHECKPOINT] [--timeout S]
//                 [--bucket-bytes N] [--bench] [--epochs N]
// --bench: the quickstart MLP (784-512-512-10) on 60,000 synthetic 784-feature examples, global batch 64, one epoch.
// MODELGEN_MPICHECK_FAIL=exit:S|hang:S|throw:S makes rank 1 exit, hang or throw just before step S's all-reduce (S ≥ 2).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string output = "runs/mpi-check";
string? resume = null;
int steps = 10, saveSteps = 0, epochs = 1;
int? globalBatchOption = null;
bool stepsGiven = false;
int? bucketBytes = null;
double? timeout = null;
bool bench = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out": output = args[++i]; break;
        case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); stepsGiven = true; break;
        case "--global-batch": globalBatchOption = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--save-steps": saveSteps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--resume": resume = args[++i]; break;
        case "--timeout": timeout = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--bucket-bytes": bucketBytes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--bench": bench = true; break;
        case "--epochs": epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

int globalBatch = globalBatchOption ?? (bench ? 64 : 32); // --bench: the quickstart's batch of 64
var options = new MpiOptions();
if (timeout is double t) options = options with { CollectiveTimeout = TimeSpan.FromSeconds(t) };
if (bucketBytes is int b) options = options with { BucketBytes = b };
using var backend = MpiBackend.FromLaunch(options);
int rank = backend.Rank, world = backend.WorldSize;
if (globalBatch % world != 0) { Console.Error.WriteLine($"--global-batch {globalBatch} is not a multiple of {world} ranks"); return 2; }
Directory.CreateDirectory(output);

// the same synthetic data on every rank (each rank's DataLoader reads its own shard of it)
int features = bench ? 784 : 16, classes = 10, count = bench ? 60_000 : 512;
var rng = new Random(11);
var examples = new LabeledImage[count];
for (int n = 0; n < count; n++)
{
    var x = new float[features];
    for (int f = 0; f < features; f++) x[f] = rng.NextSingle() * 2 - 1;
    examples[n] = new LabeledImage(x, (x[0] + x[1] > 0 ? 1 : 0) + (x[2] > 0.3f ? 2 : 0) + (x[3] > 0 ? 4 : 0));
}

using Module model = bench ? new BenchMlp(Device.Cpu, seed: 5) : new CheckMlp(Device.Cpu, seed: 5);
var trainingArgs = new TrainingArguments
{
    OutputDir = output,
    LearningRate = bench ? 1e-3 : 1e-2,
    PerDeviceTrainBatchSize = globalBatch / world,
    NumTrainEpochs = epochs,
    MaxSteps = bench && !stepsGiven ? -1 : steps,
    WarmupSteps = bench ? 0 : 2,
    WeightDecay = 0.01,
    MaxGradNorm = 1.0,
    LoggingSteps = bench ? 100_000 : 5,
    SaveStrategy = saveSteps > 0 ? IntervalStrategy.Steps : IntervalStrategy.No,
    SaveSteps = Math.Max(1, saveSteps),
    Seed = 7,
    ProgressBar = false,
    Distributed = backend,
};
var trainer = Trainer.ForClassification(model, trainingArgs, examples, null, features, classes, e => e.Pixels, e => e.Label,
    [new StepPrinter(rank), new FailureInjection(rank)], rank == 0 ? Console.Out : TextWriter.Null);
var clock = Stopwatch.StartNew();
var result = trainer.Train(resume);
clock.Stop();

var weights = model.Parameters.SelectMany(p => p.Value.ToArray()).ToArray();
var bytes = new byte[weights.Length * sizeof(float)];
Buffer.BlockCopy(weights, 0, bytes, 0, bytes.Length);
File.WriteAllBytes(Path.Combine(output, $"weights-rank{rank}.bin"), bytes);
Console.WriteLine($"rank {rank}/{world} weights {Convert.ToHexString(SHA256.HashData(bytes))} after step {result.GlobalStep}");
long stepsRun = result.GlobalStep - (resume is null ? 0 : StartStep(resume));
if (backend is MpiBackend mpi)
{
    double comm = mpi.CommunicationTime.TotalSeconds, total = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"rank {rank}/{world} allreduce {mpi.AllreduceCalls} calls, {mpi.GradientAllreduceCalls} for gradients over {mpi.GradientSteps} steps "
                      + $"({(double)mpi.GradientAllreduceCalls / Math.Max(1, mpi.GradientSteps):0.##} per step), {mpi.BytesReduced} bytes all-reduced, "
                      + $"{mpi.BroadcastCalls} broadcasts, {mpi.BarrierCalls} barriers");
    Console.WriteLine($"rank {rank}/{world} time {total:F2} s, {1000 * total / Math.Max(1, mpi.GradientSteps):F2} ms per step, communication {comm:F2} s ({100 * comm / total:F1}%)");
}
else
    Console.WriteLine($"rank 0/1 time {clock.Elapsed.TotalSeconds:F2} s, {1000 * clock.Elapsed.TotalSeconds / Math.Max(1, stepsRun):F2} ms per step, communication 0 s");
return 0;

static long StartStep(string checkpoint) => long.Parse(Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpoint))["checkpoint-".Length..], CultureInfo.InvariantCulture);

sealed class StepPrinter(int rank) : TrainerCallback
{
    public override void OnLog(TrainerState state, IReadOnlyDictionary<string, double> logs)
    {
        if (logs.TryGetValue("loss", out var loss)) Console.WriteLine($"rank {rank} step {state.GlobalStep} loss {loss:R}");
    }
}

/// <summary>MODELGEN_MPICHECK_FAIL=exit:S|hang:S|throw:S: rank 1 fails right after step S−1, before step S's all-reduce.</summary>
sealed class FailureInjection(int rank) : TrainerCallback
{
    private readonly string[] _spec = (Environment.GetEnvironmentVariable("MODELGEN_MPICHECK_FAIL") ?? "").Split(':');

    public override void OnStepEnd(TrainerState state, double loss)
    {
        if (rank != 1 || _spec.Length != 2 || state.GlobalStep != long.Parse(_spec[1], CultureInfo.InvariantCulture) - 1) return;
        Console.WriteLine($"rank 1: injected failure '{_spec[0]}' before step {state.GlobalStep + 1}");
        Console.Out.Flush();
        switch (_spec[0])
        {
            case "exit": Environment.Exit(3); break;
            case "hang": Thread.Sleep(Timeout.Infinite); break;
            case "throw": throw new InvalidOperationException($"injected failure before step {state.GlobalStep + 1}");
        }
    }
}

[Model]
public partial class CheckMlp
{
    [Layer] readonly Linear fc1 = new(16, 64);
    [Layer] readonly Linear fc2 = new(64, 64);
    [Layer] readonly Linear fc3 = new(64, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Tanh(fc2.Apply(Relu(fc1.Apply(x)))));
}

/// <summary>PyTorch's quickstart MLP (the Fashion-MNIST sample's model): 669,706 parameters, 2.7 MB of gradients.</summary>
[Model]
public partial class BenchMlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}
