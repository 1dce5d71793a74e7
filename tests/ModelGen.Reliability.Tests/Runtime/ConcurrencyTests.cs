using ModelGen.Transformers;

namespace ModelGen.Reliability.Tests.Runtime;

/// <summary>The text-classification pipeline is safe for concurrent calls: threads × calls on a tiny random BERT give
/// exactly the results of the same calls made one after another. MODELGEN_CONCURRENCY_CALLS sets the calls per thread
/// (25 here, 1000 in scripts/reliability-full.sh).</summary>
public sealed class ConcurrencyTests
{
    private const int Threads = 8;
    private static int CallsPerThread => Fuzz.FuzzRunner.EnvInt("MODELGEN_CONCURRENCY_CALLS", 25);

    [Test]
    public void ConcurrentCalls_GiveTheSequentialResults()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-concurrency").FullName);
        try
        {
            using var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            // what each call asks: one sentence, or a batch of several (padding differs between calls)
            string[] Request(int thread, int call)
            {
                int i = thread * 7919 + call * 104729;
                var s = TinyBert.Sentences;
                return (i % 3) switch { 0 => [s[i % s.Length]], 1 => [s[i % s.Length], s[(i / 3) % s.Length]], _ => s.Take(1 + i % s.Length).ToArray() };
            }
            string Format(IReadOnlyList<IReadOnlyList<ClassificationResult>> r) =>
                string.Join(" | ", r.Select(labels => string.Join(",", labels.Select(l => $"{l.Label}:{l.Score:R}"))));

            var expected = new Dictionary<string, string>();
            foreach (var t in Enumerable.Range(0, Threads))
                foreach (var c in Enumerable.Range(0, CallsPerThread))
                {
                    var texts = Request(t, c);
                    var key = string.Join("\n", texts);
                    if (!expected.ContainsKey(key)) expected[key] = Format(pipeline.Run(texts, topK: 2));
                }

            var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
            using var start = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int c = 0; c < CallsPerThread; c++)
                {
                    var texts = Request(t, c);
                    var got = Format(pipeline.Run(texts, topK: 2));
                    if (got != expected[string.Join("\n", texts)]) mismatches.Add($"thread {t} call {c}: {got}");
                }
            })).ToList();
            foreach (var th in threads) th.Start();
            foreach (var th in threads) Assert.That(th.Join(TimeSpan.FromMinutes(10)), Is.True, "a thread did not finish (deadlock?)");

            TestContext.Out.WriteLine($"{Threads} threads x {CallsPerThread} calls, {expected.Count} distinct requests, {mismatches.Count} mismatches");
            Assert.That(mismatches, Is.Empty);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
