using ModelGen.Data;
using ModelGen.Text.Augmentation;
using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class DatasetAugmentationTests
{
    private sealed record Review(string Text, int Label, string Source);

    private static readonly TextAugmenter Augmenter = new(new SynonymTable(new Dictionary<string, string[]>
    {
        ["movie"] = ["film", "picture"],
        ["good"] = ["fine", "decent"],
        ["bad"] = ["poor", "awful"],
        ["food"] = ["meal"],
        ["great"] = ["outstanding"],
    }), new TextAugmenterOptions { SynonymReplacementRate = 0.3, RandomInsertionRate = 0.3, RandomSwapRate = 0.3, RandomDeletionRate = 0.3 });

    private static Dataset<Review> Reviews(int count = 40)
        => Dataset.From(Enumerable.Range(0, count).Select(i => new Review(
            $"{TextDataFiles.Sentences[i % TextDataFiles.Sentences.Length]} (review {i})", i % 2, i % 3 == 0 ? "imdb" : "yelp")));

    [Test]
    public void Augment_ReturnsOriginalsThenCopies_WithLabelsAndOtherFieldsKept()
    {
        var data = Reviews();
        var augmented = data.Augment(2, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 1);
        Assert.That(augmented.Count, Is.EqualTo(data.Count * 3));
        Assert.That(augmented.Take(data.Count), Is.EqualTo(data));
        for (int i = 0; i < data.Count; i++)
            for (int c = 0; c < 2; c++)
            {
                var copy = augmented[data.Count + 2 * i + c];
                Assert.That((copy.Label, copy.Source), Is.EqualTo((data[i].Label, data[i].Source)));
                Assert.That(copy.Text, Does.Match($@"\([^()]*\b{i}\b[^()]*\)$"), "the number is protected and the brackets stay");
            }
    }

    [Test]
    public void AugmentTagged_MarksCopiesWithTheirSource_AndIsDeterministic()
    {
        var data = Reviews(12);
        var tagged = data.AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 9);
        Assert.That(tagged.Count(a => !a.IsAugmented), Is.EqualTo(12));
        Assert.That(tagged.Where(a => !a.IsAugmented).Select(a => a.SourceIndex), Is.EqualTo(Enumerable.Range(0, 12)));
        Assert.That(tagged.Where(a => a.IsAugmented).GroupBy(a => a.SourceIndex).Select(g => g.Count()), Is.All.EqualTo(3));
        Assert.That(tagged.Originals().Rows(), Is.EqualTo(data));
        Assert.That(tagged.Select(a => a.Row), Is.EqualTo(data.AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 9).Select(a => a.Row)));

        // A copy depends only on (seed, source index, copy number), not on the other rows.
        var alone = Dataset.From([data[5]]).AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 9);
        Assert.That(alone.Where(a => a.IsAugmented).Select(a => a.Row.Text), Is.Not.EqualTo(tagged.Where(a => a.IsAugmented && a.SourceIndex == 5).Select(a => a.Row.Text)),
            "the source index is part of the seed");
        Assert.That(Augmenter.Augment(data[5].Text, DatasetAugmentation.DeriveSeed(9, 5, 1)),
            Is.EqualTo(tagged.Where(a => a.IsAugmented && a.SourceIndex == 5).ElementAt(1).Row.Text));

        var dropped = Dataset.From([new Review("12345", 1, "x")]).AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 9, dropUnchanged: true);
        Assert.That(dropped.Count, Is.EqualTo(1), "a text with nothing to change gives no copies");
    }

    [Test]
    public void SplitThenAugment_KeepsAugmentedRowsOutOfTheTestSplit()
    {
        var data = Reviews(100);
        var (train, test) = data.SplitThenAugment(0.2, seed: 3, copiesPerExample: 2, r => r.Text, (r, t) => r with { Text = t }, Augmenter, stratifyBy: r => r.Label);
        Assert.That(test.Count, Is.EqualTo(20));
        Assert.That(train.Count, Is.EqualTo(80 * 3));
        Assert.That(test.All(a => !a.IsAugmented), Is.True);
        Assert.That(test.EnsureNoAugmented(), Is.SameAs(test));
        DatasetAugmentation.EnsureDisjointSources(train, test);
        Assert.That(train.Select(a => a.SourceIndex).Concat(test.Select(a => a.SourceIndex)).Distinct().Order(), Is.EqualTo(Enumerable.Range(0, 100)));
        Assert.That(test.Count(a => a.Row.Label == 1), Is.EqualTo(10), "stratified");
        foreach (var a in train.Concat(test)) Assert.That(a.Row.Label, Is.EqualTo(data[a.SourceIndex].Label));

        var e = Assert.Throws<InvalidOperationException>(() => train.EnsureNoAugmented("test split"));
        Assert.That(e!.Message, Does.Contain("test split"));

        // The original rows of each part are the plain split of the same seed.
        var (plainTrain, plainTest) = Dataset.From(data.Select((r, i) => (i, r))).TrainTestSplit(0.2, 3, p => p.r.Label);
        Assert.That(test.Select(a => a.SourceIndex), Is.EqualTo(plainTest.Select(p => p.i)));
        Assert.That(train.Originals().Select(a => a.SourceIndex), Is.EqualTo(plainTrain.Select(p => p.i)));

        // Augmenting before splitting leaks: copies of test rows end up in training. The quality report shows it.
        var leaky = data.AugmentTagged(2, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 3).TrainTestSplit(0.2, seed: 3);
        int sharedSources = leaky.Test.Select(a => a.SourceIndex).Intersect(leaky.Train.Select(a => a.SourceIndex)).Count();
        Assert.That(sharedSources, Is.GreaterThan(0));
        Assert.Throws<InvalidOperationException>(() => DatasetAugmentation.EnsureDisjointSources(leaky.Train, leaky.Test));
        var report = DataQuality.Report(train, test, a => a.Row.Text);
        Assert.That(report.ExactOverlap, Is.Zero);
    }

    [Test]
    public void CleanThenAugment_ThroughMap()
    {
        var data = Dataset.From([new Review("Great movie!!!<br /><br />Loved it &amp; the food 😍", 1, "imdb")]);
        var cleaner = TextCleaner.All;
        var cleaned = data.Map(r => r with { Text = cleaner.Clean(r.Text) });
        Assert.That(cleaned[0].Text, Is.EqualTo("Great movie! Loved it & the food"));
        var augmented = cleaned.Augment(4, r => r.Text, (r, t) => r with { Text = t }, Augmenter, seed: 2);
        Assert.That(augmented.Count, Is.EqualTo(5));
        Assert.That(augmented.Select(r => r.Label), Is.All.EqualTo(1));
        Assert.That(augmented.Skip(1).Select(r => r.Text), Is.All.Not.EqualTo(cleaned[0].Text));
    }
}
