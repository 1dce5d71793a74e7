using System.Text.RegularExpressions;
using ModelGen.Text.Augmentation;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class TextAugmenterTests
{
    private static readonly SynonymTable Table = new(new Dictionary<string, string[]>
    {
        ["good"] = ["fine", "decent"],
        ["movie"] = ["film"],
        ["acting"] = ["performance"],
        ["plot"] = ["story line"],
        ["great"] = ["outstanding"],
        ["bad"] = ["poor"],
    });

    private static TextAugmenter Only(AugmentationOperation op, double rate, ISynonymSource? source = null, TextAugmenterOptions? baseOptions = null)
    {
        var o = baseOptions ?? new TextAugmenterOptions();
        return new TextAugmenter(source ?? Table, o with
        {
            SynonymReplacementRate = op == AugmentationOperation.SynonymReplacement ? rate : 0,
            RandomInsertionRate = op == AugmentationOperation.RandomInsertion ? rate : 0,
            RandomSwapRate = op == AugmentationOperation.RandomSwap ? rate : 0,
            RandomDeletionRate = op == AugmentationOperation.RandomDeletion ? rate : 0,
        });
    }

    private static string[] Words(string text) => Regex.Matches(text, @"[\p{L}\p{N}'<>-]+").Select(m => m.Value).ToArray();

    [Test]
    public void SynonymReplacement_ReplacesEveryOccurrence_KeepingCaseAndPunctuation()
    {
        var augmenter = Only(AugmentationOperation.SynonymReplacement, 1.0);
        string result = augmenter.Augment("Good movie, good acting; the MOVIE plot!", seed: 1);
        Assert.That(result, Does.Match(@"^(Fine|Decent) film, (fine|decent) performance; the FILM story line!$"));
        var first = Regex.Match(result, "^(Fine|Decent)").Value.ToLowerInvariant();
        Assert.That(result, Does.Contain(", " + first + " "), "one synonym for every occurrence of a word");
    }

    [Test]
    public void SynonymReplacement_ChangesNWords()
    {
        // 10 words, rate 0.1 → n = 1 distinct word replaced.
        var augmenter = Only(AugmentationOperation.SynonymReplacement, 0.1);
        for (int seed = 0; seed < 20; seed++)
        {
            string result = augmenter.Augment("a good movie with great acting and a bad plot twist", seed);
            int changed = Words(result).Except(Words("a good movie with great acting and a bad plot twist")).Count();
            Assert.That(changed, Is.InRange(1, 2), result); // "story line" is two words
        }
    }

    [Test]
    public void RandomInsertion_AddsSynonymsOfWordsInTheSentence()
    {
        var augmenter = Only(AugmentationOperation.RandomInsertion, 0.25);
        const string text = "The movie had good acting overall.";
        for (int seed = 0; seed < 20; seed++)
        {
            string result = augmenter.Augment(text, seed);
            var added = Words(result).ToList();
            foreach (var w in Words(text)) added.Remove(w);
            Assert.That(added, Has.Count.EqualTo(1), result); // n = max(1, ⌊0.25·6⌋) = 1
            Assert.That(new[] { "film", "fine", "decent", "performance" }, Does.Contain(added[0]));
            Assert.That(result, Does.EndWith("."));
        }
    }

    [Test]
    public void RandomSwap_KeepsTheWordsAndThePunctuationPositions()
    {
        var augmenter = Only(AugmentationOperation.RandomSwap, 0.2);
        const string text = "I really loved this movie, honestly!";
        int changed = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            string result = augmenter.Augment(text, seed);
            Assert.That(Words(result).Order(), Is.EqualTo(Words(text).Order()));
            Assert.That(Regex.Replace(result, @"\w+", "w"), Is.EqualTo("w w w w w, w!"));
            if (result != text) changed++;
        }
        Assert.That(changed, Is.GreaterThan(15));
    }

    [Test]
    public void RandomDeletion_DeletesWithProbability_AndNeverEverything()
    {
        var augmenter = Only(AugmentationOperation.RandomDeletion, 0.5);
        const string text = "the quick brown fox jumps over the lazy dog";
        int deleted = 0;
        for (int seed = 0; seed < 50; seed++)
        {
            string result = augmenter.Augment(text, seed);
            Assert.That(result, Is.Not.Empty);
            deleted += 9 - Words(result).Length;
        }
        Assert.That(deleted / 50.0, Is.InRange(3.0, 6.0));

        var all = Only(AugmentationOperation.RandomDeletion, 1.0);
        for (int seed = 0; seed < 20; seed++)
        {
            Assert.That(Words(all.Augment("Terrible service!", seed)), Has.Length.EqualTo(1));
            Assert.That(all.Augment("Wow!", seed), Is.EqualTo("Wow!"), "a one-word text keeps its word");
        }
    }

    [Test]
    public void ProtectedTokens_AreNeverChangedSwappedOrDeleted()
    {
        var options = new TextAugmenterOptions
        {
            ProtectedWords = ["acting"],
            IsProtected = token => token.StartsWith("Model", StringComparison.Ordinal),
        };
        const string text = "ModelGen got 5 stars: good movie, not bad acting, mail <EMAIL> or see https://example.com/good now";
        string[] kept = ["ModelGen", "5", "not", "acting", "<EMAIL>", "https://example.com/good"];
        foreach (AugmentationOperation op in Enum.GetValues<AugmentationOperation>())
        {
            var augmenter = Only(op, 1.0, baseOptions: options);
            for (int seed = 0; seed < 20; seed++)
            {
                string result = augmenter.Augment(text, seed);
                foreach (var token in kept)
                    Assert.That(result, Does.Contain(token), $"{op}, seed {seed}: {result}");
                if (op == AugmentationOperation.RandomSwap)
                    Assert.That(result, Does.StartWith("ModelGen got 5").Or.Match("^ModelGen \\w+ 5"), result);
            }
        }
    }

    [Test]
    public void NegationProtection_CanBeSwitchedOff()
    {
        var augmenter = Only(AugmentationOperation.RandomDeletion, 1.0, baseOptions: new TextAugmenterOptions { ProtectNegations = false });
        Assert.That(Enumerable.Range(0, 20).Select(s => augmenter.Augment("not good at all", s)).Any(r => !r.Contains("not")), Is.True);
    }

    [Test]
    public void EdgeCases_EmptyBlankAndWordless()
    {
        var augmenter = new TextAugmenter(Table, new TextAugmenterOptions { Mode = AugmentationMode.AllOperations, RandomDeletionRate = 1.0 });
        Assert.That(augmenter.Augment("", 1), Is.EqualTo(""));
        Assert.That(augmenter.Augment("   ", 1), Is.EqualTo("   "));
        Assert.That(augmenter.Augment("!!! ??? 😀", 1), Is.EqualTo("!!! ??? 😀"));
        Assert.That(augmenter.Augment("<EMAIL>", 1), Is.EqualTo("<EMAIL>"));
        Assert.That(augmenter.Augment("  good movie \n", 3), Does.StartWith("  ").And.EndWith(" \n"), "outer whitespace is kept");
        Assert.That(augmenter.Augment("good", 5, seed: 1), Has.Count.EqualTo(5).And.All.Not.Empty);
    }

    [Test]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new TextAugmenter(Table, new TextAugmenterOptions
        {
            SynonymReplacementRate = 0, RandomInsertionRate = 0, RandomSwapRate = 0, RandomDeletionRate = 0,
        }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextAugmenter(Table, new TextAugmenterOptions { RandomSwapRate = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextAugmenter(Table, new TextAugmenterOptions { RandomSwapRate = double.NaN }));
    }

    [Test]
    public void FixedSeed_GivesAFixedResult()
    {
        // Pins the result for a seed: System.Random(seed) is the same algorithm in every process and on every platform.
        var augmenter = new TextAugmenter(Table);
        const string text = "A good movie with great acting and a bad plot.";
        var copies = augmenter.Augment(text, 4, seed: 2024);
        Assert.That(copies, Is.EqualTo(augmenter.Augment(text, 4, seed: 2024)));
        TestContext.Out.WriteLine(string.Join("\n", copies));
        Assert.That(copies, Is.EqualTo(ExpectedSeed2024));
    }

    private static readonly string[] ExpectedSeed2024 =
    [
        "A good movie with great acting and a poor plot.",
        "A good movie with great acting story line and a bad plot.",
        "A good movie with and acting great a bad plot.",
        "good movie great acting and bad plot.",
    ];

    [Test]
    public void Copies_CycleThroughTheOperations()
    {
        var augmenter = new TextAugmenter(Table, new TextAugmenterOptions { SynonymReplacementRate = 0.5, RandomInsertionRate = 0, RandomSwapRate = 0.5, RandomDeletionRate = 0 });
        Assert.That(augmenter.EnabledOperations, Is.EqualTo(new[] { AugmentationOperation.SynonymReplacement, AugmentationOperation.RandomSwap }));
        var copies = augmenter.Augment("good movie good acting", 4, seed: 3);
        int swaps = copies.Count(c => Words(c).Order().SequenceEqual(Words("good movie good acting").Order()));
        Assert.That(swaps, Is.EqualTo(2));
    }

    // ---- properties over real-looking sentences, with WordNet ----

    private sealed record Example(string Text, int Label);

    private static (string Text, int Label)[] RandomExamples(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => rng.Next(TextDataFiles.Sentences.Length))
            .Select(i => (TextDataFiles.Sentences[i], i % 2))
            .ToArray();
    }

    [Test]
    public void Properties_OverHundredSentences_WithWordNet()
    {
        var augmenter = new TextAugmenter(TextDataFiles.WordNet, new TextAugmenterOptions
        {
            SynonymReplacementRate = 0.2, RandomInsertionRate = 0.2, RandomSwapRate = 0.2, RandomDeletionRate = 0.2,
        });
        var examples = RandomExamples(100, seed: 11);
        var data = ModelGen.Data.Dataset.From(examples.Select(e => new Example(e.Text, e.Label)));
        var augmented = data.AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, augmenter, seed: 5);

        Assert.That(augmented.Count, Is.EqualTo(400));
        foreach (var a in augmented)
        {
            var source = data[a.SourceIndex];
            Assert.That(a.Row.Label, Is.EqualTo(source.Label), "the label is kept");
            Assert.That(string.IsNullOrWhiteSpace(a.Row.Text), Is.False, "never empty");
            foreach (var protectedToken in Regex.Matches(source.Text, @"<[A-Z]+>|\d+").Select(m => m.Value))
                Assert.That(Regex.Matches(a.Row.Text, Regex.Escape(protectedToken)).Count, Is.GreaterThanOrEqualTo(1), $"{protectedToken} kept in '{a.Row.Text}'");
            foreach (var negation in new[] { "not", "never", "Nothing", "can't", "doesn't" })
                if (Regex.IsMatch(source.Text, $@"\b{Regex.Escape(negation)}(?!\w)"))
                    Assert.That(a.Row.Text, Does.Contain(negation), "negations are protected");
        }

        var again = data.AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, augmenter, seed: 5);
        Assert.That(again.Select(a => a.Row.Text), Is.EqualTo(augmented.Select(a => a.Row.Text)), "same seed, same data");

        var other = data.AugmentTagged(3, r => r.Text, (r, t) => r with { Text = t }, augmenter, seed: 6);
        var copiesA = augmented.Where(a => a.IsAugmented).Select(a => a.Row.Text).ToArray();
        var copiesB = other.Where(a => a.IsAugmented).Select(a => a.Row.Text).ToArray();
        int different = copiesA.Zip(copiesB).Count(p => p.First != p.Second);
        Assert.That(different, Is.GreaterThan(copiesA.Length * 3 / 4), "another seed gives other copies");
        int changed = augmented.Count(a => a.IsAugmented && a.Row.Text != data[a.SourceIndex].Text);
        Assert.That(changed, Is.GreaterThan(copiesA.Length * 9 / 10), "copies differ from their source");

        foreach (var (text, _) in examples.Take(20))
            for (int seed = 0; seed < 5; seed++)
                Assert.That(augmenter.Augment(text, seed), Is.EqualTo(augmenter.Augment(text, seed)));
    }

    [Test]
    public void EveryOperationAlone_NeverEmpties_OverHundredSentences()
    {
        var examples = RandomExamples(100, seed: 12);
        foreach (AugmentationOperation op in Enum.GetValues<AugmentationOperation>())
        {
            var augmenter = Only(op, 0.5, TextDataFiles.WordNet);
            for (int i = 0; i < examples.Length; i++)
                Assert.That(augmenter.Augment(examples[i].Text, i), Is.Not.Empty.And.Not.Matches(@"^\s*$"));
        }
    }
}
