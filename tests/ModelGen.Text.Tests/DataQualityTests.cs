using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class DataQualityTests
{
    [Test]
    public void Report_CountsDuplicatesAndOverlap()
    {
        string[] train = ["Great movie!", "great  movie", "Bad.", "Great movie!", "Café au lait was fine", "", "!!!"];
        string[] test = ["GREAT MOVIE!!", "Bad.", "A new review", "Cafe au lait was fine", "Bad."];
        var report = DataQuality.Report(train, test, t => t, maxExamples: 10);

        Assert.That(report.Train.Count, Is.EqualTo(7));
        Assert.That(report.Train.EmptyTexts, Is.EqualTo(2));
        Assert.That(report.Train.ExactDuplicates, Is.EqualTo(1));
        Assert.That(report.Train.NormalizedDuplicates, Is.EqualTo(2));
        Assert.That(report.Train.DuplicateGroups, Is.EqualTo(1));
        Assert.That(report.Train.Examples[0].Indices, Is.EqualTo(new[] { 0, 1, 3 }));
        Assert.That(report.Train.Examples[0].Exact, Is.False);

        Assert.That(report.Test.ExactDuplicates, Is.EqualTo(1));
        Assert.That(report.Test.Examples[0], Is.EqualTo(report.Test.Examples[0] with { Text = "Bad.", Exact = true }));

        Assert.That(report.ExactOverlap, Is.EqualTo(2));      // "Bad." twice
        Assert.That(report.NormalizedOverlap, Is.EqualTo(4)); // + "GREAT MOVIE!!", "Cafe au lait was fine"
        Assert.That(report.OverlapFraction, Is.EqualTo(0.8));
        Assert.That(report.OverlapExamples.Select(e => (e.TestIndex, e.TrainIndex, e.Exact)),
            Is.EqualTo(new[] { (0, 0, false), (1, 2, true), (3, 4, false), (4, 2, true) }));
        Assert.That(report.ToString(), Does.Contain("train/test overlap: 2 exact, 4 normalised"));
        TestContext.Out.WriteLine(report);
    }

    [Test]
    public void Normalization()
    {
        Assert.That(DataQuality.NormalizeForComparison("  Café — déjà VU!! "), Is.EqualTo("cafe deja vu"));
        Assert.That(DataQuality.NormalizeForComparison("ﬁne ②"), Is.EqualTo("fine 2"));
        Assert.That(DataQuality.NormalizeForComparison("東京 tower"), Is.EqualTo("東京 tower"));
        Assert.That(DataQuality.NormalizeForComparison("?!"), Is.EqualTo(""));
    }

    [Test]
    public void CleanSets_HaveNothingToReport()
    {
        var report = DataQuality.Report(TextDataFiles.Sentences.Take(20), TextDataFiles.Sentences.Skip(20), s => s);
        Assert.That((report.Train.ExactDuplicates, report.Train.NormalizedDuplicates, report.Test.NormalizedDuplicates, report.NormalizedOverlap), Is.EqualTo((0, 0, 0, 0)));
        Assert.That(report.OverlapExamples, Is.Empty);
        Assert.That(DataQuality.Analyze(Array.Empty<string>(), s => s).Count, Is.Zero);
    }
}
