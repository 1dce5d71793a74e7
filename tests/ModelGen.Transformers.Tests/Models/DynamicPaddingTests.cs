using ModelGen.Data;
using ModelGen.Training;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>Fine-tuning with dynamic padding (the default of TextClassificationTask) and with GroupByLength: batches
/// are padded to their longest example rounded up to a multiple of 8, every shape gets one activation plan in the first
/// epoch and none after it, and all plans share one activation block sized for the largest.</summary>
[NonParallelizable]
[Category("CpuEngine")]
public class DynamicPaddingTests
{
    private static readonly string[] Words = ["the", "movie", "was", "great", "bad", "not", "good", "i", "love", "hate", "it", "plot", "boring", "fun"];

    private sealed record Example(string Text, int Label);

    private static List<Example> Data(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var text = string.Join(' ', Enumerable.Range(0, rng.Next(1, 40)).Select(_ => Words[rng.Next(Words.Length)]));
            return new Example(text, text.Contains("great") || text.Contains("love") ? 1 : 0);
        }).ToList();
    }

    private sealed class PlanCounter(Module model) : TrainerCallback
    {
        public List<int> AtEpochEnd { get; } = new();
        public override void OnEpochEnd(TrainerState state) => AtEpochEnd.Add(model.Modules().Sum(m => m.PlansBuilt));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void DynamicPadding_BuildsPlansInTheFirstEpochOnly(bool groupByLength)
    {
        var tokenizer = BertTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Words]);
        var sizes = new EncoderSizes(tokenizer.VocabSize, 16, 2, 2, 32, 64, 2, 1e-12, 0.1);
        using var model = new BertForSequenceClassification(sizes, 2, Device.Cpu, seed: 3);
        var task = new TextClassificationTask<Example>(model, tokenizer, e => e.Text, e => e.Label, maxLength: 48);
        Assert.That(task.PadToMaxLength, Is.False, "dynamic padding is the default");
        Assert.That(task.PaddedLength(1), Is.EqualTo(8));
        Assert.That(task.PaddedLength(17), Is.EqualTo(24));
        Assert.That(task.PaddedLength(45), Is.EqualTo(48), "capped at the maximum length");

        var batch = task.Create(4);
        var train = Data(203, 1); // 203 = 12 batches of 16 and one of 11
        task.Collate(train, [0, 1, 2], batch);
        int longest = new[] { 0, 1, 2 }.Max(i => task.Length(train[i]));
        Assert.That(batch.SequenceLength, Is.EqualTo(task.PaddedLength(longest)));
        Assert.That(batch.Mask.AsSpan(0, batch.SequenceLength).ToArray().Count(m => m == 1), Is.EqualTo(task.Length(train[0])));

        var counter = new PlanCounter(model);
        var args = new TrainingArguments
        {
            OutputDir = Directory.CreateTempSubdirectory("modelgen-dynamic-padding").FullName, PerDeviceTrainBatchSize = 16, PerDeviceEvalBatchSize = 32,
            NumTrainEpochs = 3, ProgressBar = false, EvaluationStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.No,
            LoggingStrategy = IntervalStrategy.No, GroupByLength = groupByLength, LearningRate = 1e-3,
        };
        var trainer = new Trainer<Example, TextBatch>(task, args, train, Data(70, 2), callbacks: [counter], output: TextWriter.Null);
        trainer.Train();
        Directory.Delete(args.OutputDir, recursive: true);
        TestContext.Out.WriteLine($"plans built at the end of each epoch: {string.Join(", ", counter.AtEpochEnd)}");
        Assert.That(counter.AtEpochEnd, Has.Count.EqualTo(3));
        Assert.That(counter.AtEpochEnd[0], Is.GreaterThan(model.Modules().Count()), "several shapes were seen");
        // evaluation runs after OnEpochEnd, so its shapes first appear in epoch 2's count; from then on nothing is built
        Assert.That(counter.AtEpochEnd[2], Is.EqualTo(counter.AtEpochEnd[1]), "no plan is built after warm-up");
    }

    [Test]
    public void GroupByLength_BatchesSimilarLengths_StillShuffledAndComplete()
    {
        var lengths = Enumerable.Range(0, 1000).Select(i => (i * 7919) % 97 + 1).ToArray();
        var data = Enumerable.Range(0, 1000).ToList();
        var loader = new DataLoader<int, int[]>(data, 10, new IndexCollator(), shuffle: true, seed: 5, groupByLength: i => lengths[i]);
        var order = loader.Order(0);
        Assert.That(order.OrderBy(i => i), Is.EqualTo(data), "every example once");
        Assert.That(lengths[order[0]], Is.EqualTo(lengths.Max()), "the longest example first");
        Assert.That(loader.Order(1), Is.Not.EqualTo(order), "a new order each epoch");
        double Spread(int[] o) => Enumerable.Range(0, o.Length / 10).Average(b => o.Skip(b * 10).Take(10).Max(i => lengths[i]) - o.Skip(b * 10).Take(10).Min(i => lengths[i]));
        var plain = new DataLoader<int, int[]>(data, 10, new IndexCollator(), shuffle: true, seed: 5).Order(0);
        TestContext.Out.WriteLine($"mean length spread per batch: grouped {Spread(order):F1}, shuffled {Spread(plain):F1}");
        Assert.That(Spread(order), Is.LessThan(Spread(plain) / 5));
    }

    private sealed class IndexCollator : IBatchCollator<int, int[]>
    {
        public int[] Create(int capacity) => new int[capacity];
        public void Collate(IReadOnlyList<int> data, ReadOnlySpan<int> indices, int[] batch) => indices.CopyTo(batch);
    }
}
