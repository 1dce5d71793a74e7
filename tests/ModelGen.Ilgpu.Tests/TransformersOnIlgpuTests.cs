using ModelGen.Optim;
using ModelGen.Training;
using ModelGen.Transformers;

namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// BERT and DistilBERT on the ILGPU engine against the CPU engine, from the same seed (so the same weights and the same
/// dropout masks: the masks are drawn from counters, not from a stream), in training mode with padding: the loss, every
/// parameter's gradient, and the parameters after 3 AdamW steps agree element-wise (<see cref="Agreement"/>); and the
/// Trainer (AdamW with its two parameter groups, gradient clipping, linear schedule, dynamic padding) ends 3 steps on the
/// same parameters. The optimizer steps of the first test start from the same gradients (CnnComparison.SyncGradients
/// says why); the Trainer's run lets every difference accumulate, at HuggingFace's learning rate for BERT fine-tuning
/// (5e-5), and leaves the key projections' biases out: their gradient is zero in exact arithmetic (q·b_k adds the same
/// number to every score of a row, and softmax ignores that), so both engines hold rounding noise there, which Adam turns
/// into ±lr steps in arbitrary directions; the first test asserts that noise stays below 1e-6. <see cref="TransformerAgreement"/> holds the comparisons; the ILGPU CPU accelerator runs them here,
/// <see cref="TransformersOnCudaTests"/> on a GPU.
/// </summary>
public class TransformersOnIlgpuTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    [TestCase("bert")]
    [TestCase("distilbert")]
    public void LossGradientsAndAdamWSteps_AgreeWithTheCpuEngine(string architecture) => TransformerAgreement.TaskSteps(Gpu, architecture);

    [Test]
    public void TheTrainer_EndsOnTheSameParameters() => TransformerAgreement.Trainer(Gpu);
}

/// <summary>The same comparisons on a CUDA device (MODELGEN_GPU_DEVICE, default cuda): run by the GPU bundle.</summary>
[Category("Gpu")]
public class TransformersOnCudaTests
{
    private static Device Gpu => Device.Parse(Environment.GetEnvironmentVariable("MODELGEN_GPU_DEVICE") ?? "cuda");

    [TestCase("bert")]
    [TestCase("distilbert")]
    public void LossGradientsAndAdamWSteps_AgreeWithTheCpuEngine(string architecture) => TransformerAgreement.TaskSteps(Gpu, architecture);

    [Test]
    public void TheTrainer_EndsOnTheSameParameters() => TransformerAgreement.Trainer(Gpu);
}

internal static class TransformerAgreement
{
    private static readonly string[] Words = ["the", "movie", "was", "great", "bad", "not", "good", "i", "love", "hate", "it", "plot", "boring", "fun"];

    public sealed record Example(string Text, int Label);

    public static BertTokenizer Tokenizer() => BertTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Words]);

    /// <summary>Sentences of 1–20 words (or up to <paramref name="maxWords"/>): a batch of them is padded, so the
    /// attention mask matters.</summary>
    public static List<Example> Data(int count, int seed, int maxWords = 20)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var text = string.Join(' ', Enumerable.Range(0, rng.Next(1, Math.Min(20, maxWords) + 1)).Select(_ => Words[rng.Next(Words.Length)]));
            return new Example(text, text.Contains("great") || text.Contains("love") ? 1 : 0);
        }).ToList();
    }

    /// <summary>2 layers, hidden 32, 4 heads, intermediate 64, all three dropouts at 0.1.</summary>
    public static EncoderSizes Sizes(int vocabulary) => new(vocabulary, 32, 2, 4, 64, 64, 2, 1e-12, 0.1);

    /// <summary>all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads, intermediate 1536, its 30,522-token vocabulary),
    /// random weights.</summary>
    public static EncoderSizes MiniLmSizes => new(30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0.1);

    public static ISequenceClassifier Create(string architecture, Device device, int vocabulary, EncoderSizes? sizes = null) => architecture switch
    {
        "bert" => new BertForSequenceClassification(sizes ?? Sizes(vocabulary), 2, device, seed: 7),
        "distilbert" => new DistilBertForSequenceClassification(sizes ?? Sizes(vocabulary), 2, device, seed: 7),
        _ => throw new ArgumentException(architecture),
    };

    public const double LearningRate = 5e-5;

    private static bool IsKeyBias(string name) => name.EndsWith(".key.bias", StringComparison.Ordinal);

    /// <summary>Loss, gradients and parameters over <paramref name="steps"/> AdamW steps on one padded batch of
    /// <paramref name="batchSize"/> sentences (at most <paramref name="maxLength"/> tokens).</summary>
    public static void TaskSteps(Device gpu, string architecture, EncoderSizes? sizes = null, int batchSize = 5, int maxLength = 24, int steps = 3)
    {
        var tokenizer = Tokenizer();
        var cpuModel = Create(architecture, Device.Cpu, tokenizer.VocabSize, sizes);
        var gpuModel = Create(architecture, gpu, tokenizer.VocabSize, sizes);
        using var cpuModule = cpuModel.Module;
        using var gpuModule = gpuModel.Module;
        foreach (var p in cpuModule.Parameters)
            Assert.That(gpuModule.Parameter(p.Name).Value.ToArray(), Is.EqualTo(p.Value.ToArray()), $"same initial {p.Name}");
        var cpuTask = new TextClassificationTask<Example>(cpuModel, tokenizer, e => e.Text, e => e.Label, maxLength: maxLength);
        var gpuTask = new TextClassificationTask<Example>(gpuModel, tokenizer, e => e.Text, e => e.Label, maxLength: maxLength);
        var data = Data(batchSize, 11, maxWords: maxLength);
        var batch = cpuTask.Create(batchSize);
        cpuTask.Collate(data, Enumerable.Range(0, batchSize).ToArray(), batch);
        Assert.That(batch.Mask.Take(batchSize * batch.SequenceLength).Count(m => m == 0), Is.GreaterThan(0), "the batch has padding");
        using var cpuOptimizer = new AdamW(cpuModule.Parameters, lr: LearningRate);
        using var gpuOptimizer = new AdamW(gpuModule.Parameters, lr: LearningRate);
        double worstGradient = 0, worstParameter = 0;
        var failures = new List<string>();
        for (int step = 0; step < steps; step++)
        {
            double cpuLoss = cpuTask.Loss(batch, batchSize), gpuLoss = gpuTask.Loss(batch, batchSize);
            Agreement.AssertLossClose(gpuLoss, cpuLoss, $"{architecture}: loss at step {step}");
            cpuTask.Backward();
            gpuTask.Backward();
            foreach (var p in cpuModule.Parameters)
            {
                var actual = gpuModule.Parameter(p.Name).Grad.ToArray();
                var expected = p.Grad.ToArray();
                if (Agreement.Check(actual, expected, $"{architecture}: d{p.Name} at step {step}") is { } failure) failures.Add(failure);
                if (IsKeyBias(p.Name))
                    Assert.That(Math.Max(actual.Max(Math.Abs), expected.Max(Math.Abs)), Is.LessThan(1e-6), $"{p.Name}: zero in exact arithmetic");
                worstGradient = Math.Max(worstGradient, Agreement.WorstFraction(actual, expected));
            }
            CnnComparison.SyncGradients(cpuModule, gpuModule);
            cpuOptimizer.Step();
            gpuOptimizer.Step();
            cpuOptimizer.ZeroGrad();
            gpuOptimizer.ZeroGrad();
            foreach (var p in cpuModule.Parameters)
            {
                var actual = gpuModule.Parameter(p.Name).Value.ToArray();
                var expected = p.Value.ToArray();
                if (Agreement.Check(actual, expected, $"{architecture}: {p.Name} after AdamW step {step + 1}") is { } failure) failures.Add(failure);
                worstParameter = Math.Max(worstParameter, Agreement.WorstFraction(actual, expected));
            }
        }
        Assert.That(failures, Is.Empty);
        Report.Line($"{architecture} on {gpu.Name}: worst gradient at {worstGradient:F3}, worst parameter at {worstParameter:F3} of the tolerance");
    }

    public static void Trainer(Device gpu)
    {
        var tokenizer = Tokenizer();
        var train = Data(23, 5);
        var parameters = new List<float[]>[2];
        string[]? names = null;
        var devices = new[] { Device.Cpu, gpu };
        for (int run = 0; run < 2; run++)
        {
            var model = (BertForSequenceClassification)Create("bert", devices[run], tokenizer.VocabSize);
            using var _ = model;
            var task = new TextClassificationTask<Example>(model, tokenizer, e => e.Text, e => e.Label, maxLength: 24);
            var args = new TrainingArguments
            {
                OutputDir = Directory.CreateTempSubdirectory("modelgen-ilgpu-trainer").FullName, PerDeviceTrainBatchSize = 8, MaxSteps = 3,
                LearningRate = LearningRate, WeightDecay = 0.01, WarmupSteps = 1, MaxGradNorm = 0.5, ProgressBar = false,
                SaveStrategy = IntervalStrategy.No, LoggingStrategy = IntervalStrategy.No,
            };
            new Trainer<Example, TextBatch>(task, args, train, output: TextWriter.Null).Train();
            Directory.Delete(args.OutputDir, recursive: true);
            parameters[run] = model.Parameters.Select(p => p.Value.ToArray()).ToList();
            names = model.Parameters.Select(p => p.Name).ToArray();
        }
        var failures = Enumerable.Range(0, names!.Length).Where(i => !IsKeyBias(names[i]))
            .Select(i => Agreement.Check(parameters[1][i], parameters[0][i], $"{names[i]} after 3 Trainer steps")).OfType<string>().ToList();
        Assert.That(failures, Is.Empty);
        double worst = Enumerable.Range(0, names.Length).Where(i => !IsKeyBias(names[i])).Max(i => Agreement.WorstFraction(parameters[1][i], parameters[0][i]));
        Report.Line($"Trainer, 3 steps on {gpu.Name}: worst parameter at {worst:F3} of the tolerance");
    }
}
