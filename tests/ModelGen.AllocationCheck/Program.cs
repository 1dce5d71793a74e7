using ModelGen;
using ModelGen.Optim;
using ModelGen.Training;
using ModelGen.Transformers;

// Measures the managed bytes that 100 training steps allocate on all threads (GC.GetTotalAllocatedBytes(precise: true)),
// after warm-up, in a process of its own (a test host's threads allocate by themselves). Prints "allocated N bytes".
//   [mlp] [BATCH]  the quickstart MLP with Adam (default batch 64)
//   cnn            the FashionCnn sample's model (conv–BatchNorm–ReLU–pool ×2, dropout) with AdamW, batch 64
//   bert           a BERT classifier fine-tuned through TextClassificationTask and the Trainer: dynamic padding,
//                  token ids cached (tokenised once, in the first epoch), collation in the DataLoader's thread,
//                  forward, loss, backward, gradient clipping, AdamW and the schedule
var mode = args.Length > 0 && !char.IsDigit(args[0][0]) ? args[0] : "mlp";
return mode switch
{
    "mlp" => Report(MlpSteps(args.Length > 0 && char.IsDigit(args[0][0]) ? int.Parse(args[0]) : args.Length > 1 ? int.Parse(args[1]) : 64)),
    "cnn" => Report(CnnSteps()),
    "bert" => Report(BertTrainerSteps()),
    "bert-step" => Report(BertTaskSteps()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ModelGen.AllocationCheck [mlp] [BATCH] | cnn | bert");
    return 2;
}

static int Report(long bytes)
{
    Console.WriteLine($"allocated {bytes} bytes");
    return 0;
}

static long Measure(Action step, int warmUp = 300)
{
    for (int i = 0; i < warmUp; i++) step();
    Thread.Sleep(300); // let the JIT finish tiering up the hot methods
    for (int i = 0; i < 50; i++) step();
    long before = GC.GetTotalAllocatedBytes(precise: true);
    for (int i = 0; i < 100; i++) step();
    return GC.GetTotalAllocatedBytes(precise: true) - before;
}

static long MlpSteps(int batch)
{
    var rng = new Random(3);
    var data = new float[batch * 784];
    for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
    var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
    using var x = Tensor.From(data, batch, 784);
    using var model = new Mlp(Device.Cpu, seed: 1);
    using var optimizer = new Adam(model.Parameters, lr: 1e-3);
    return Measure(() =>
    {
        model.CrossEntropy(x, labels);
        model.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
    });
}

static long CnnSteps()
{
    const int batch = 64;
    var rng = new Random(4);
    var data = new float[batch * 784];
    for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
    var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
    using var x = Tensor.From(data, batch, 1, 28, 28);
    using var model = new FashionCnnSample.FashionCnn(Device.Cpu, seed: 1); // the sample's own model (linked)
    using var optimizer = new AdamW(model.Parameters, lr: 1e-3);
    return Measure(() =>
    {
        model.CrossEntropy(x, labels);
        model.Backward();
        optimizer.Step();
        optimizer.ZeroGrad();
    }, warmUp: 60);
}

static long BertTrainerSteps()
{
    string[] words = ["the", "movie", "was", "great", "bad", "not", "good", "i", "love", "hate", "it", "plot", "boring", "fun", "very", "and"];
    var tokenizer = BertTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. words]);
    var rng = new Random(5);
    var examples = Enumerable.Range(0, 4000).Select(_ =>
    {
        var text = string.Join(' ', Enumerable.Range(0, rng.Next(1, 60)).Select(_ => words[rng.Next(words.Length)]));
        return (Text: text, Label: text.Contains("great") ? 1 : 0);
    }).ToList();
    var sizes = new EncoderSizes(tokenizer.VocabSize, 64, 2, 4, 128, 64, 2, 1e-12, 0.1);
    using var model = new BertForSequenceClassification(sizes, 2, Device.Cpu, seed: 3);
    var task = new TextClassificationTask<(string Text, int Label)>(model, tokenizer, e => e.Text, e => e.Label, maxLength: 64);
    var args = new TrainingArguments
    {
        OutputDir = Directory.CreateTempSubdirectory("modelgen-allocation").FullName, PerDeviceTrainBatchSize = 32, NumTrainEpochs = 3,
        ProgressBar = false, EvaluationStrategy = IntervalStrategy.No, SaveStrategy = IntervalStrategy.No,
        LoggingStrategy = IntervalStrategy.No, LearningRate = 1e-4,
    };
    // 125 steps per epoch: the first epoch tokenises every text and meets every padded length; steps 150–250 lie
    // inside the second epoch
    var meter = new StepMeter(150, 250);
    var trainer = new Trainer<(string Text, int Label), TextBatch>(task, args, examples, null, callbacks: [meter], output: TextWriter.Null);
    trainer.Train();
    Directory.Delete(args.OutputDir, recursive: true);
    return meter.Allocated;
}

static long BertTaskSteps()
{
    var tokenizer = BertTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]);
    var sizes = new EncoderSizes(tokenizer.VocabSize, 64, 2, 4, 128, 64, 2, 1e-12, 0.1);
    using var model = new BertForSequenceClassification(sizes, 2, Device.Cpu, seed: 3);
    var task = new TextClassificationTask<(string Text, int Label)>(model, tokenizer, e => e.Text, e => e.Label, maxLength: 64);
    var data = Enumerable.Range(0, 32).Select(i => (Text: string.Join(' ', Enumerable.Repeat("a b", i + 1)), Label: i % 2)).ToList();
    var batch = task.Create(32);
    var indices = Enumerable.Range(0, 32).ToArray();
    using var optimizer = new AdamW(model.Parameters, lr: 1e-4);
    return Measure(() =>
    {
        task.Collate(data, indices, batch);
        task.Loss(batch, 32);
        task.Backward();
        GradientClipping.ClipByGlobalNorm(optimizer.Parameters, 1.0);
        optimizer.Step();
        optimizer.ZeroGrad();
    }, warmUp: 50);
}

sealed class StepMeter(int from, int to) : TrainerCallback
{
    private readonly long[] _trace = new long[to + 1];
    private long _before;
    public long Allocated { get; private set; } = -1;

    public override void OnStepEnd(TrainerState state, double loss)
    {
        long now = GC.GetTotalAllocatedBytes(precise: true);
        if (state.GlobalStep <= to) _trace[state.GlobalStep] = now;
        if (state.GlobalStep == from) _before = now;
        if (state.GlobalStep != to) return;
        Allocated = now - _before;
        if (Environment.GetEnvironmentVariable("MODELGEN_ALLOC_TRACE") == "1") // step:bytes for every step that allocated
            for (int i = 2; i <= to; i++) if (_trace[i] != _trace[i - 1]) Console.Error.Write($"{i}:{_trace[i] - _trace[i - 1]} ");
    }
}

[Model]
public partial class Mlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}
