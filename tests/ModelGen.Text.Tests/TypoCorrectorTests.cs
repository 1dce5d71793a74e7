using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class TypoCorrectorTests
{
    private static TypoCorrector Typos => TextDataFiles.Typos;

    [TestCase("recieve", "receive")]
    [TestCase("teh", "the")]
    [TestCase("Teh", "The")]
    [TestCase("Recieve", "Receive")]
    [TestCase("beleive", "believe")]
    [TestCase("definately", "definitely")]
    [TestCase("accomodation", "accommodation")]
    [TestCase("wierd", "wierd")]       // weird and wired: both transpositions starting with w, so ambiguous and kept
    [TestCase("RECIEVE", "RECIEVE")]   // all capitals: an acronym as far as the corrector knows
    [TestCase("ModelGen", "ModelGen")] // capital inside: a name or identifier
    [TestCase("iPhone", "iPhone")]
    [TestCase("movie", "movie")]
    [TestCase("don't", "don't")]
    [TestCase("director's", "director's")]
    [TestCase("Aaron", "Aaron")]
    public void Words(string word, string expected)
    {
        Assert.That(Typos.CorrectWord(word), Is.EqualTo(expected));
    }

    [Test]
    public void Sentence_CorrectsTypos_LeavesNamesNumbersUrlsAndPlaceholders()
    {
        const string text = "I will recieve teh package from ModelGen on 2024-05-01 (order 42, 3rd try) via https://example.com/recieve/teh or <EMAIL>; teh end.";
        var report = new TypoReport();
        string corrected = Typos.Correct(text, report);
        Assert.That(corrected, Is.EqualTo("I will receive the package from ModelGen on 2024-05-01 (order 42, 3rd try) via https://example.com/recieve/teh or <EMAIL>; the end."));
        Assert.That(report.Corrected, Is.EqualTo(3));
        Assert.That(report.Changes, Is.EqualTo(new[] { new TypoChange("teh", "the", 1, 2), new TypoChange("recieve", "receive", 1, 1) }));
        Assert.That(report.Unknown + report.Ambiguous, Is.Zero);
        Assert.That(report.Skipped, Is.GreaterThanOrEqualTo(5)); // ModelGen, the date, "42,", "3rd", the URL, <EMAIL>;, short words
        Assert.That(report.TextsChanged, Is.EqualTo(1));
        Assert.That(report.ToString(), Does.Contain("3 corrected"));
    }

    [Test]
    public void Capitalisation_AndCurlyApostrophes_AreKept()
    {
        Assert.That(Typos.Correct("Teh film. TEH END."), Is.EqualTo("The film. TEH END."));
        var upper = TypoCorrector.FromWordList(options: new TypoCorrectorOptions { CorrectUppercaseWords = true });
        Assert.That(upper.Correct("TEH END"), Is.EqualTo("THE END"));
        Assert.That(Typos.IsKnown("don\u2019t"), Is.True);
    }

    [Test]
    public void AmbiguousWords_AreKeptAndCounted_OrResolvedLexicographically()
    {
        var report = new TypoReport();
        Assert.That(Typos.Correct("a wierd plot", report), Is.EqualTo("a wierd plot"));
        Assert.That(report.Ambiguous, Is.EqualTo(1));
        Assert.That(report.AmbiguousWords["wierd"], Is.EqualTo(1));
        var suggestions = Typos.Suggest("wierd");
        Assert.That(suggestions.Take(2).Select(s => s.Word), Is.EquivalentTo(new[] { "weird", "wired" }));

        var lexicographic = new TypoCorrector(["weird", "wired", "word"], options: new TypoCorrectorOptions { TieBreak = TypoTieBreak.Lexicographic });
        Assert.That(lexicographic.CorrectWord("wierd"), Is.EqualTo("weird"));
    }

    [Test]
    public void Ranking_DistanceThenFrequencyThenTranspositionThenFirstLetter()
    {
        string[] words = ["receive", "relieve", "the", "tea", "ten", "then", "she", "car", "bar"];
        var plain = new TypoCorrector(words);
        Assert.That(plain.CorrectWord("recieve"), Is.EqualTo("receive"), "transposition beats substitution");
        Assert.That(plain.CorrectWord("teh"), Is.EqualTo("the"));
        Assert.That(plain.CorrectWord("xar"), Is.EqualTo("xar"), "car and bar tie");
        Assert.That(plain.Suggest("recieve").Select(s => (s.Word, s.Distance)), Is.EqualTo(new[] { ("receive", 1), ("relieve", 1) }));

        var frequent = new TypoCorrector(words, new Dictionary<string, long> { ["relieve"] = 100, ["receive"] = 1, ["bar"] = 5 });
        Assert.That(frequent.CorrectWord("recieve"), Is.EqualTo("relieve"), "frequencies come before the transposition rule");
        Assert.That(frequent.CorrectWord("xar"), Is.EqualTo("bar"));
        Assert.That(frequent.CorrectWord("rceive"), Is.EqualTo("receive"), "distance 1 beats a more frequent word at distance 2");
    }

    [Test]
    public void SymmetricDeleteIndex_FindsEveryWordWithinDistanceTwo()
    {
        // Compare the index against a brute-force scan of the whole dictionary for random typos of random words.
        var typos = Typos; // fails first, naming the Debian package, when the word list is missing
        var words = File.ReadLines(TypoCorrector.DefaultWordListPath).Select(w => w.ToLowerInvariant()).Distinct().ToArray();
        var rng = new Random(7);
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        for (int trial = 0; trial < 25; trial++)
        {
            string word = words[rng.Next(words.Length)];
            var chars = word.ToList();
            for (int e = 0; e < 2; e++)
            {
                int at = rng.Next(chars.Count + 1);
                switch (rng.Next(4))
                {
                    case 0 when chars.Count > 1 && at < chars.Count: chars.RemoveAt(at); break;
                    case 1: chars.Insert(at, letters[rng.Next(26)]); break;
                    case 2 when at + 1 < chars.Count: (chars[at], chars[at + 1]) = (chars[at + 1], chars[at]); break;
                    default: if (at < chars.Count) chars[at] = letters[rng.Next(26)]; break;
                }
            }
            string typo = new(chars.ToArray());
            var expected = words.Where(w => TypoCorrector.OsaDistance(typo, w, 2) <= 2).OrderBy(w => w, StringComparer.Ordinal).ToArray();
            var actual = typos.Suggest(typo).Select(s => s.Word.ToLowerInvariant()).OrderBy(w => w, StringComparer.Ordinal).ToArray();
            Assert.That(actual, Is.EqualTo(expected), $"typo '{typo}' of '{word}'");
            if (TypoCorrector.OsaDistance(typo, word, 2) <= 2) Assert.That(actual, Does.Contain(word));
        }
    }

    [TestCase("kitten", "sitting", 3)]
    [TestCase("teh", "the", 1)]
    [TestCase("ca", "abc", 3)]
    [TestCase("abc", "abc", 0)]
    [TestCase("", "ab", 2)]
    public void OsaDistance(string a, string b, int expected)
    {
        Assert.That(TypoCorrector.OsaDistance(a, b, 5), Is.EqualTo(expected));
        Assert.That(TypoCorrector.OsaDistance(b, a, 5), Is.EqualTo(expected));
    }

    [Test]
    public void DictionaryFacts()
    {
        Assert.That(Typos.WordCount, Is.GreaterThan(90_000));
        Assert.That(Typos.IsKnown("The"), Is.True);
        Assert.That(Typos.IsKnown("aaron"), Is.True);
        Assert.That(Typos.IsKnown("recieve"), Is.False);
    }

    [Test]
    public void MissingWordList_FailsNamingTheDebianPackage()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TypoCorrector.FromWordList("/nonexistent/american-english"));
        Assert.That(e!.Message, Does.Contain("wamerican"));
    }

    [Test]
    public void EmptyText()
    {
        Assert.That(Typos.Correct(""), Is.EqualTo(""));
        Assert.That(Typos.Correct("   "), Is.EqualTo("   "));
    }
}
