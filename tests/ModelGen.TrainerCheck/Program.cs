using System.Globalization;
using System.Security.Cryptography;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Training;

// A small, seeded Trainer run for the resume and crash tests: prints "step N loss L" for every optimizer step and
// "weights H" (a hash of every parameter's bytes) at the end.
// Usage: TrainerCheck --out DIR [--steps N] [--save-steps N] [--resume CHECKPOINT]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string output = "runs/trainer-check";
string? resume = null;
int steps = 20, saveSteps = 5;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out": output = args[++i]; break;
        case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--save-steps": saveSteps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--resume": resume = args[++i]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var rng = new Random(11);
var examples = Enumerable.Range(0, 300).Select(i =>
{
    var x = Enumerable.Range(0, 12).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    int label = (x[0] + x[1] > 0 ? 1 : 0) + (x[2] > 0.3f ? 2 : 0);
    return new LabeledImage(x, label);
}).ToList();
var (train, eval) = Dataset.From(examples).TrainTestSplit(0.2, seed: 3, stratifyBy: e => e.Label);

using var model = new CheckModel(Device.Cpu, seed: 5);
var trainingArgs = new TrainingArguments
{
    OutputDir = output,
    LearningRate = 3e-3,
    PerDeviceTrainBatchSize = 16,
    PerDeviceEvalBatchSize = 32,
    MaxSteps = steps,
    GradientAccumulationSteps = 2,
    WarmupSteps = 3,
    WeightDecay = 0.01,
    MaxGradNorm = 0.5,
    LoggingSteps = 1,
    EvaluationStrategy = IntervalStrategy.Steps,
    EvalSteps = 5,
    SaveStrategy = IntervalStrategy.Steps,
    SaveSteps = saveSteps,
    Seed = 7,
    ProgressBar = false,
};
var trainer = Trainer.ForClassification(model, trainingArgs, train, eval, 12, 4, e => e.Pixels, e => e.Label, [new StepPrinter()], TextWriter.Null);
trainer.Train(resume);
var bytes = model.Parameters.SelectMany(p => p.Value.ToArray().SelectMany(BitConverter.GetBytes)).ToArray();
Console.WriteLine($"weights {Convert.ToHexString(SHA256.HashData(bytes))}");
return 0;

sealed class StepPrinter : TrainerCallback
{
    public override void OnLog(TrainerState state, IReadOnlyDictionary<string, double> logs)
    {
        if (logs.TryGetValue("loss", out var loss)) Console.WriteLine($"step {state.GlobalStep} loss {loss:R}");
        if (logs.TryGetValue("eval_loss", out var evalLoss)) Console.WriteLine($"step {state.GlobalStep} eval_loss {evalLoss:R}");
    }
}

[Model]
public partial class CheckModel
{
    [Layer] readonly Linear fc1 = new(12, 32);
    [Layer] readonly Dropout drop = new(0.1);
    [Layer] readonly Linear fc2 = new(32, 4);
    Tensor Forward(Tensor x) => fc2.Apply(drop.Apply(Gelu(fc1.Apply(x))));
}
