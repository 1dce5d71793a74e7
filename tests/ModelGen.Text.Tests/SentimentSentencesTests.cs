using System.Formats.Tar;
using System.IO.Compression;
using ModelGen.Data;
using ModelGen.Text.Datasets;

namespace ModelGen.Text.Tests;

/// <summary>The UCI sentiment sentences loader: the real files (fetched with npm on first use) and synthetic ones.</summary>
[TestFixture]
public sealed class SentimentSentencesTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("modelgen-sentiment").FullName;

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void RealDataHasThreeThousandBalancedSentences()
    {
        var all = SentimentSentences.Load();
        Assert.That(all, Has.Count.EqualTo(3000));
        foreach (var source in SentimentSentences.Sources)
        {
            var rows = all.Where(s => s.Source == source).ToList();
            Assert.That(rows, Has.Count.EqualTo(1000), source);
            Assert.That(rows.Count(s => s.Label == 1), Is.EqualTo(500), source);
        }
        Assert.That(all.Select(s => s.Source).Distinct(), Is.EqualTo(new[] { "amazon", "imdb", "yelp" }), "amazon, then imdb, then yelp");
        Assert.That(all[0], Is.EqualTo(new SentimentSentence("So there is no way for me to plug it in here in the US unless I go by a converter.", 0, "amazon")));
        Assert.That(all[2000].Text, Is.EqualTo("Wow... Loved this place."));
        Assert.That(all.All(s => !string.IsNullOrWhiteSpace(s.Text)));
        var longest = all.Max(s => s.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.That(longest, Is.InRange(60, 80));
    }

    private static string Json(params (string Text, string Class)[] rows) =>
        "[" + string.Join(",", rows.Select(r => $"{{\"text\":{System.Text.Json.JsonSerializer.Serialize(r.Text)},\"class\":{r.Class}}}")) + "]";

    private void WriteFixtures(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "amazon.json"), Json(("good phone", "1"), ("bad phone", "0"), ("", "null")));
        File.WriteAllText(Path.Combine(dir, "imdb.json"), Json(("great film", "1")));
        File.WriteAllText(Path.Combine(dir, "yelp.json"), Json(("awful food", "0"), ("", "null")));
    }

    [Test]
    public void TrailingEmptyRowsAreSkippedWithAWarning()
    {
        WriteFixtures(_dir);
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        IReadOnlyList<SentimentSentence> rows;
        try
        {
            rows = SentimentSentences.Load(_dir);
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.That(rows, Is.EqualTo(new[]
        {
            new SentimentSentence("good phone", 1, "amazon"), new SentimentSentence("bad phone", 0, "amazon"),
            new SentimentSentence("great film", 1, "imdb"), new SentimentSentence("awful food", 0, "yelp"),
        }));
        var warnings = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(warnings, Has.Length.EqualTo(2));
        Assert.That(warnings[0], Does.StartWith("warning: ").And.Contain("amazon.json").And.Contain("row 2"));
    }

    [Test]
    public void FilesInTheNpmPackageLayoutAreFound()
    {
        WriteFixtures(Path.Combine(_dir, "package", "test", "fixtures"));
        Assert.That(SentimentSentences.Load(_dir), Has.Count.EqualTo(4));
    }

    [Test]
    public void AnExistingTarballIsExtractedWithoutNpm()
    {
        var src = Path.Combine(_dir, "src");
        WriteFixtures(src);
        using (var file = File.Create(Path.Combine(_dir, "sentiment-5.0.2.tgz")))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var name in new[] { "amazon", "imdb", "yelp" })
                tar.WriteEntry(Path.Combine(src, name + ".json"), "package/test/fixtures/" + name + ".json");
            tar.WriteEntry(Path.Combine(src, "amazon.json"), "package/test/fixtures/corpus.json");
            tar.WriteEntry(Path.Combine(src, "amazon.json"), "package/README.json");
        }
        Directory.Delete(src, recursive: true);
        var rows = SentimentSentences.Load(_dir);
        Assert.That(rows, Has.Count.EqualTo(4));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "sentiment-5.0.2.tgz", "amazon.json", "imdb.json", "yelp.json" }), "only the three fixtures are extracted");
    }

    [Test]
    public void BadRowsAreErrorsNamingTheFile()
    {
        var path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, Json(("ok", "1"), ("two", "2")));
        Assert.That(() => SentimentSentences.ReadFile(path, "x"), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path).And.Message.Contains("row 1"));
        File.WriteAllText(path, "{\"text\": \"not an array\"}");
        Assert.That(() => SentimentSentences.ReadFile(path, "x"), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path));
        File.WriteAllText(path, "[{");
        Assert.That(() => SentimentSentences.ReadFile(path, "x"), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path));
    }

    [Test]
    public void DefaultCacheDirectoryFollowsModelgenData()
    {
        var saved = Environment.GetEnvironmentVariable("MODELGEN_DATA");
        try
        {
            Environment.SetEnvironmentVariable("MODELGEN_DATA", _dir);
            Assert.That(SentimentSentences.DefaultCacheDirectory(), Is.EqualTo(Path.Combine(_dir, "sentiment")));
            Environment.SetEnvironmentVariable("MODELGEN_DATA", null);
            Assert.That(SentimentSentences.DefaultCacheDirectory(), Does.EndWith(Path.Combine(".cache", "modelgen", "sentiment")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MODELGEN_DATA", saved);
        }
    }
}
