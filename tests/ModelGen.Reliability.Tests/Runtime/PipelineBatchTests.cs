using ModelGen.Transformers;

namespace ModelGen.Reliability.Tests.Runtime;

/// <summary>Pipelines batch internally (sorted by length, each batch padded to its own longest text, truncated at the
/// model's maximum length, results in input order): a tiny random BERT gives the same labels and scores for 2,000 texts
/// of 1 to 600 words in one call as in 2,000 one-by-one calls.</summary>
public class PipelineBatchTests
{
    private static List<string> Texts(int count, int minWords, int maxWords, int seed)
    {
        var words = TinyBert.Vocabulary.Skip(5).Append("unknownword").ToArray();
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => string.Join(' ', Enumerable.Range(0, rng.Next(minWords, maxWords + 1)).Select(_ => words[rng.Next(words.Length)]))).ToList();
    }

    [Test]
    public void TwoThousandTexts_InOneCall_MatchOneByOneCalls()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-batching").FullName, maxPositions: 512);
        try
        {
            using var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            Assert.That(pipeline.BatchSize, Is.EqualTo(32));
            Assert.That(pipeline.MaxLength, Is.EqualTo(512), "truncation at the model's 512 positions");
            var texts = Texts(2000, 1, 600, seed: 3);
            var batched = pipeline.Run(texts, topK: 2);
            Assert.That(batched, Has.Count.EqualTo(texts.Count));
            double worst = 0;
            for (int i = 0; i < texts.Count; i++)
            {
                var single = pipeline.Run(texts[i], topK: 2);
                Assert.That(batched[i].Select(r => r.Label), Is.EqualTo(single.Select(r => r.Label)), $"text {i}");
                for (int c = 0; c < single.Count; c++) worst = Math.Max(worst, Math.Abs(batched[i][c].Score - single[c].Score));
            }
            TestContext.Out.WriteLine($"largest score difference {worst:E2}");
            Assert.That(worst, Is.LessThanOrEqualTo(1e-5));
            // another batch size, one that does not divide the count, gives the same
            var small = pipeline.Run(texts.Take(101).ToList(), topK: 2, batchSize: 7);
            for (int i = 0; i < small.Count; i++) Assert.That(small[i][0].Score, Is.EqualTo(batched[i][0].Score).Within(1e-5), $"text {i}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void EmptyInput_GivesEmptyResults_AndBadBatchSizesAreRefused()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-batching-empty").FullName);
        try
        {
            using var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            Assert.That(pipeline.Run(Array.Empty<string>()), Is.Empty);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Run(["fun"], batchSize: 0))!;
            Assert.That(e.Message, Does.Contain("batch size"));
            Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.BatchSize = -1);
            Assert.That(pipeline.Run("fun")[0].Label, Is.AnyOf("NEGATIVE", "POSITIVE"), "still usable");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void FeatureExtraction_BatchedMatchesOneByOne_InInputOrder()
    {
        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-batching-features").FullName, maxPositions: 128);
        try
        {
            using var pipeline = Pipeline.FeatureExtraction(dir, Device.Cpu, batchSize: 5);
            var texts = Texts(37, 0, 150, seed: 4);
            var hidden = pipeline.Run(texts);
            var embeddings = pipeline.SentenceEmbeddings(texts);
            Assert.That(pipeline.Run(Array.Empty<string>()), Is.Empty);
            Assert.That(pipeline.SentenceEmbeddings(Array.Empty<string>()), Is.Empty);
            for (int i = 0; i < texts.Count; i++)
            {
                var one = pipeline.Run([texts[i]])[0];
                int tokens = Math.Min(128, pipeline.Tokenizer.EncodeToIds(texts[i]).Length + 2);
                Assert.That(hidden[i].GetLength(0), Is.EqualTo(tokens), $"text {i}: padding removed, truncated at 128");
                Assert.That(one.GetLength(0), Is.EqualTo(tokens));
                for (int t = 0; t < tokens; t++)
                    for (int c = 0; c < one.GetLength(1); c++)
                        Assert.That(hidden[i][t, c], Is.EqualTo(one[t, c]).Within(1e-5), $"text {i} token {t}");
                var e = pipeline.SentenceEmbeddings([texts[i]])[0];
                for (int c = 0; c < e.Length; c++) Assert.That(embeddings[i][c], Is.EqualTo(e[c]).Within(1e-5));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
