using System.Diagnostics;
using System.Globalization;
using ModelGen;
using ModelGen.Data;
using ModelGen.Transformers;
using ModelGen.Text.Datasets;

// The text-classification pipeline on many long texts, in a process of its own so that its peak working set can be
// compared between input counts (PipelineBatchingTests):
//   texts FILE COUNT MIN_WORDS MAX_WORDS SEED   real UCI sentences concatenated into COUNT texts of MIN..MAX words
//   model DIR                                   a tiny random BERT classifier with MiniLM's real vocabulary, 512 positions
//   run DIR FILE COUNT                          classifies the first COUNT texts of FILE in one Run call; prints the
//                                               peak working set and a digest of the results
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
switch (args[0])
{
    case "texts":
    {
        int count = int.Parse(args[2]), min = int.Parse(args[3]), max = int.Parse(args[4]);
        var rng = new Random(int.Parse(args[5]));
        var sentences = SentimentSentences.Load().Select(s => s.Text).ToArray();
        using var file = new StreamWriter(args[1]);
        for (int i = 0; i < count; i++)
        {
            int words = rng.Next(min, max + 1);
            var text = new List<string>(words);
            while (text.Count < words) text.AddRange(sentences[rng.Next(sentences.Length)].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            file.WriteLine(string.Join(' ', text.Take(words)));
        }
        return 0;
    }
    case "model":
    {
        var (vocabPath, _) = MiniLmResources.Extract(Path.Combine(args[1], "raw"));
        var tokenizer = BertTokenizer.FromVocabFile(vocabPath);
        var sizes = new EncoderSizes(tokenizer.VocabSize, 32, 2, 4, 64, 512, 2, 1e-12, 0.1);
        using var model = new BertForSequenceClassification(sizes, 2, Device.Cpu, seed: 5);
        model.Config = new BertConfig
        {
            VocabSize = sizes.VocabSize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64,
            MaxPositionEmbeddings = 512, NumLabels = 2,
            Id2Label = new Dictionary<int, string> { [0] = "NEGATIVE", [1] = "POSITIVE" },
            Label2Id = new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 },
        };
        model.SavePretrained(args[1]);
        tokenizer.SavePretrained(args[1]);
        return 0;
    }
    case "run":
    {
        var texts = File.ReadLines(args[2]).Take(int.Parse(args[3])).ToList();
        using var pipeline = Pipeline.TextClassification(args[1], Device.Cpu);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        Console.WriteLine($"working set before run {process.WorkingSet64} bytes (peak so far {process.PeakWorkingSet64})");
        var clock = Stopwatch.StartNew();
        var results = pipeline.Run(texts);
        double digest = results.Select((r, i) => (i % 7 + 1) * r[0].Score * (r[0].Label == "POSITIVE" ? 1 : -1)).Sum();
        Console.WriteLine($"classified {results.Count} texts in {clock.Elapsed.TotalSeconds:F1} s, digest {digest:R}");
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64} bytes");
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine($"managed heap {gc.HeapSizeBytes / 1e6:F1} MB (peak committed {gc.TotalCommittedBytes / 1e6:F1} MB), live native blocks {Device.Cpu.LiveAllocations}, pipeline max length {pipeline.MaxLength}");
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: texts FILE COUNT MIN_WORDS MAX_WORDS SEED | model DIR | run DIR FILE COUNT");
        return 2;
}
