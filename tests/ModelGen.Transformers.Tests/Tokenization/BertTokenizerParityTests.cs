using System.Text;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>BertTokenizer against HuggingFace's own Rust tokenizers (the oracle, <see cref="HfOracle"/>) on the real
/// bert-base-uncased vocabulary: the 3000 UCI sentences alone and as pairs, truncation and padding, named edge cases
/// and seeded random text under five normalizer settings.</summary>
[TestFixture]
public sealed class BertTokenizerParityTests
{
    private HfOracle _oracle = null!;
    private BertTokenizer _tokenizer = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _tokenizer = TextTestData.Uncased;
        _oracle = new HfOracle(TextTestData.VocabPath);
    }

    [OneTimeTearDown]
    public void TearDown() => _oracle?.Dispose();

    private static string Show(IEnumerable<int> ids) => string.Join(' ', ids);

    private static int[] ExpectedPairTypeIds(int[] oracleIds, int sepId)
    {
        int firstSep = Array.IndexOf(oracleIds, sepId);
        return oracleIds.Select((_, i) => i <= firstSep ? 0 : 1).ToArray();
    }

    [Test]
    public void OracleLoadsAndReproducesTheReferenceIds() =>
        Assert.That(_oracle.Encode("This is an example sentence"), Is.EqualTo(new[] { 101, 2023, 2003, 2019, 2742, 6251, 102 }));

    [Test]
    public void AllUciSentencesMatchTheOracle()
    {
        var sentences = TextTestData.Sentences;
        Assert.That(sentences, Has.Count.EqualTo(3000));
        var mismatches = new List<string>();
        foreach (var s in sentences)
        {
            var expected = _oracle.Encode(s.Text);
            var actual = _tokenizer.Encode(s.Text, truncation: Truncation.None);
            if (!actual.InputIds.SequenceEqual(expected))
                mismatches.Add($"{s.Source} \"{s.Text}\"\n  ours   {Show(actual.InputIds)}\n  oracle {Show(expected)}");
            Assert.That(actual.TokenTypeIds, Is.All.EqualTo(0));
            Assert.That(actual.AttentionMask, Is.All.EqualTo(1));
        }
        Assert.That(mismatches, Is.Empty, $"{mismatches.Count} of {sentences.Count} sentences differ:\n" + string.Join('\n', mismatches.Take(10)));
    }

    [Test]
    public void AllUciSentencePairsMatchTheOracle()
    {
        var sentences = TextTestData.Sentences;
        var mismatches = new List<string>();
        for (int i = 0; i < sentences.Count; i++)
        {
            string a = sentences[i].Text, b = sentences[(i + 1) % sentences.Count].Text;
            var expected = _oracle.EncodePair(a, b);
            var actual = _tokenizer.Encode(a, b, truncation: Truncation.None);
            if (!actual.InputIds.SequenceEqual(expected) || !actual.TokenTypeIds.SequenceEqual(ExpectedPairTypeIds(expected, 102)))
                mismatches.Add($"\"{a}\" / \"{b}\"\n  ours   {Show(actual.InputIds)}\n  oracle {Show(expected)}");
        }
        Assert.That(mismatches, Is.Empty, $"{mismatches.Count} of {sentences.Count} pairs differ:\n" + string.Join('\n', mismatches.Take(10)));
    }

    [Test]
    public void DecodeMatchesTheOracleOnAllUciSentences()
    {
        var mismatches = new List<string>();
        foreach (var s in TextTestData.Sentences)
        {
            var ids = _oracle.Encode(s.Text);
            string expected = _oracle.Decode(ids), actual = _tokenizer.Decode(ids, cleanUpTokenizationSpaces: false);
            if (actual != expected) mismatches.Add($"\"{actual}\" vs oracle \"{expected}\"");
        }
        Assert.That(mismatches, Is.Empty, string.Join('\n', mismatches.Take(10)));
    }

    /// <summary>Single inputs truncated and padded to 16 by the oracle itself (its tokenizer.json carries
    /// <c>truncation</c> LongestFirst 16 and <c>padding</c> Fixed 16).</summary>
    [Test]
    public void TruncationAndPaddingToSixteenMatchTheOracleOnAllUciSentences()
    {
        using var oracle16 = new HfOracle(TextTestData.VocabPath, new HfOracle.Settings(TruncateTo: 16, PadTo: 16));
        var mismatches = new List<string>();
        foreach (var s in TextTestData.Sentences)
        {
            var expected = oracle16.Encode(s.Text);
            var actual = _tokenizer.Encode(s.Text, maxLength: 16, padding: Padding.MaxLength);
            if (!actual.InputIds.SequenceEqual(expected)) mismatches.Add($"\"{s.Text}\"\n  ours   {Show(actual.InputIds)}\n  oracle {Show(expected)}");
            Assert.That(actual.Length, Is.EqualTo(16));
            Assert.That(actual.AttentionMask, Is.EqualTo(expected.Select(id => id == 0 ? 0 : 1).ToArray()), s.Text);
        }
        Assert.That(mismatches, Is.Empty, string.Join('\n', mismatches.Take(10)));
    }

    /// <summary>Pairs truncated longest-first to 16 tokens: the oracle encodes each side, and the expected lengths follow
    /// HuggingFace tokenizers' <c>truncate_encodings</c> (utils/truncation.rs): with n1 ≤ n2 and a budget of 13
    /// (16 minus [CLS] and two [SEP]), the shorter side keeps n1 and the longer max(n1, 13 − n1) when that fits,
    /// otherwise the first keeps 13 / 2 and the second 13 / 2 + 13 % 2. Written out here independently of
    /// <see cref="BertTokenizer"/>.</summary>
    [Test]
    public void PairTruncationLongestFirstToSixteenMatchesHuggingFaceRules()
    {
        var sentences = TextTestData.Sentences;
        const int max = 16, budget = max - 3;
        var mismatches = new List<string>();
        int bothCut = 0, oneCut = 0;
        for (int i = 0; i < sentences.Count; i++)
        {
            string a = sentences[i].Text, b = sentences[(i + 1) % sentences.Count].Text;
            var ia = _oracle.EncodeWithoutSpecials(a);
            var ib = _oracle.EncodeWithoutSpecials(b);
            int n1 = ia.Length, n2 = ib.Length, k1 = n1, k2 = n2;
            if (n1 + n2 > budget)
            {
                int shorter = Math.Min(n1, n2);
                int longer = shorter > budget ? shorter : Math.Max(shorter, budget - shorter);
                if (shorter + longer > budget)
                {
                    shorter = budget / 2;
                    longer = shorter + budget % 2;
                }
                (k1, k2) = n1 > n2 ? (longer, shorter) : (shorter, longer);
                if (k1 < n1 && k2 < n2) bothCut++;
                else oneCut++;
            }
            int[] expected = [101, .. ia[..k1], 102, .. ib[..k2], 102];
            int[] expectedTypes = [.. Enumerable.Repeat(0, k1 + 2), .. Enumerable.Repeat(1, k2 + 1)];
            var actual = _tokenizer.Encode(a, b, maxLength: max, truncation: Truncation.LongestFirst);
            if (!actual.InputIds.SequenceEqual(expected) || !actual.TokenTypeIds.SequenceEqual(expectedTypes))
                mismatches.Add($"\"{a}\" / \"{b}\"\n  ours     {Show(actual.InputIds)}\n  expected {Show(expected)}");
            Assert.That(actual.Length, Is.LessThanOrEqualTo(max));
        }
        Assert.That(mismatches, Is.Empty, string.Join('\n', mismatches.Take(10)));
        Assert.That(bothCut, Is.GreaterThan(100), "both sides cut");
        Assert.That(oneCut, Is.GreaterThan(100), "only the longer side cut");
    }

    private static readonly (string Name, string Text)[] EdgeCases =
    [
        ("accents", "Café déjà vu — naïve façade, Ångström, crème brûlée"),
        ("combining accent", "Cafe\u0301 re\u0301sume\u0301"),
        ("CJK", "東京は日本の首都です。中文测试 mixed with English"),
        ("CJK extension B and compatibility", "\U00020000\U0002A6DF\uF900 x\U0002B820y"),
        ("Hangul and kana are not split", "한국어 ひらがな カタカナ"),
        ("dollar and plus", "$5 + 3 = 8, C++ and C#, 100% @home #tag ^caret ~tilde `tick` |pipe| <a> {b} [c]"),
        ("unicode punctuation", "«quoted» “smart” ‘quotes’ … ¿qué? ¡sí! – — · •"),
        ("U+0085 next line", "good\u0085bad and a\u0085 b"),
        ("control characters", "a\u0000b\u0001c\u0007d\u001Fe\u007Ff\uFFFDg"),
        ("tabs and line breaks", "tab\there\nnew line\r\nwindows\rmac"),
        ("format characters", "zero\u200Bwidth soft\u00ADhyphen bom\uFEFF joiner\u200D"),
        ("unicode whitespace", "nbsp\u00A0space em\u2003space ideographic\u3000space line\u2028para\u2029end"),
        ("word of 100 chars", new string('a', 100)),
        ("word of 101 chars is [UNK]", new string('a', 101) + " ok"),
        ("long word of known pieces is [UNK]", string.Concat(Enumerable.Repeat("super", 21)) + " fine"),
        ("51 emoji: 102 UTF-16 units but 51 chars", string.Concat(Enumerable.Repeat("\U0001F600", 51))),
        ("unknown words", "qzxqzx xyzzyplugh \U0001F600 ＡＢＣ"),
        ("empty", ""),
        ("whitespace only", "   \t\n  "),
        ("special tokens in text", "[MASK] is here [SEP] and [CLS] [PAD] [UNK]"),
        ("lowercase special-looking text", "[cls] [Mask] [SEP"),
        ("dotted capital I", "İstanbul İ"),
        ("greek final sigma", "ΟΔΥΣΣΕΥΣ Σίσυφος"),
        ("numbers", "3.14159 1,000,000 2nd 10:30pm"),
        ("contractions", "I'm sure it's fine, don't you think? They've gone; we're here."),
        ("ligatures and fullwidth", "ﬁne ﬂow ＡＢＣ １２３"),
        ("emoji with modifiers", "👍🏽 ❤️ ✨ 🇫🇷"),
        ("private use", "a\uE000b"),
    ];

    private static IEnumerable<TestCaseData> EdgeCaseData() => EdgeCases.Select(c => new TestCaseData(c.Text).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(EdgeCaseData))]
    public void EdgeCaseMatchesTheOracle(string text)
    {
        var expected = _oracle.Encode(text);
        var actual = _tokenizer.Encode(text, truncation: Truncation.None);
        Assert.That(Show(actual.InputIds), Is.EqualTo(Show(expected)));
        Assert.That(_tokenizer.Decode(expected, cleanUpTokenizationSpaces: false), Is.EqualTo(_oracle.Decode(expected)));

        // The same text as both halves of a pair, and after a normal sentence.
        var pair = _oracle.EncodePair(text, "A second sentence.");
        var actualPair = _tokenizer.Encode(text, "A second sentence.", truncation: Truncation.None);
        if (!text.Contains("[SEP]", StringComparison.Ordinal))
        {
            Assert.That(Show(actualPair.InputIds), Is.EqualTo(Show(pair)));
            Assert.That(actualPair.TokenTypeIds, Is.EqualTo(ExpectedPairTypeIds(pair, 102)));
        }
        Assert.That(Show(_tokenizer.Encode("Before.", text, truncation: Truncation.None).InputIds),
            Is.EqualTo(Show(_oracle.EncodePair("Before.", text))));
    }

    [Test]
    public void LongWordRulesAreAsExpected()
    {
        // Guards the edge cases above against an oracle that would agree for the wrong reason.
        Assert.That(_tokenizer.Encode(new string('a', 101)).InputIds, Is.EqualTo(new[] { 101, 100, 102 }));
        Assert.That(_tokenizer.Encode(new string('a', 100)).InputIds, Has.Length.GreaterThan(3));
        Assert.That(_tokenizer.Encode("$ +").InputIds, Is.EqualTo(new[] { 101, 1002, 1009, 102 }));
        Assert.That(_tokenizer.Encode("good\u0085bad").Tokens, Is.EqualTo(new[] { "[CLS]", "good", "##bad", "[SEP]" }));
    }

    private static readonly (string Name, HfOracle.Settings Settings, BertTokenizerOptions Options)[] Variants =
    [
        ("uncased", new(), new()),
        ("cased", new(Lowercase: false), new() { LowerCase = false }),
        ("lowercase, keep accents", new(StripAccents: false), new() { StripAccents = false }),
        ("strip accents, keep case", new(Lowercase: false, StripAccents: true), new() { LowerCase = false, StripAccents = true }),
        ("no CJK split, no clean text", new(HandleChineseChars: false, CleanText: false), new() { TokenizeChineseChars = false, CleanText = false }),
    ];

    private static IEnumerable<TestCaseData> VariantData() => Variants.Select((v, i) => new TestCaseData(i).SetArgDisplayNames(v.Name));

    /// <summary>Seeded random strings mixing vocabulary words, ASCII and Unicode punctuation, accents and combining
    /// marks, CJK, Hangul, emoji, control/format/whitespace characters, special tokens and over-long words.</summary>
    [TestCaseSource(nameof(VariantData))]
    public void RandomTextMatchesTheOracle(int variant)
    {
        var (name, settings, options) = Variants[variant];
        using var oracle = new HfOracle(TextTestData.VocabPath, settings);
        var tokenizer = BertTokenizer.FromVocabFile(TextTestData.VocabPath, options);
        var viaJson = BertTokenizer.FromTokenizerJson(oracle.Path);

        var pool = new List<string>();
        foreach (var chars in new[]
                 {
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                     "      ..,,!?'\"$+^`~@#%&*()-_=[]{}|\\/<>;:",
                     "éèêëàâäôöûüçñÉÈÀÇÑåÅøØßæœ\u0301\u0308\u0327\u0303",
                     "東京中国語日本語한국어ひらがなカタカナ\U00020000\U0002B820\uF900",
                     "😀🥲🫠👍🏽❤️✨",
                     "\u0000\u0001\u0007\u0085\u00A0\u200B\u200D\u2028\u3000\uFEFF\u00AD\uFFFD\t\n\r\v\f\uE000",
                     "İıΣσςΑΒΓ—–…«»“”„‘’¿¡·•§¶©®™°±×÷€£¥ﬁＡ１",
                 })
            foreach (var rune in chars.EnumerateRunes()) pool.Add(rune.ToString());
        var words = File.ReadLines(TextTestData.VocabPath).Skip(1000).Take(8000).ToArray();
        string[] specials = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[cls]", "[SEP", "##ing"];
        var rng = new Random(20240 + variant);
        int differences = 0;
        var first = new List<string>();
        for (int k = 0; k < 2000; k++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 40);
            for (int i = 0; i < len; i++)
            {
                int r = rng.Next(10);
                sb.Append(r < 6 ? pool[rng.Next(pool.Count)] : r < 9 ? words[rng.Next(words.Length)] : specials[rng.Next(specials.Length)]);
            }
            if (rng.Next(25) == 0) sb.Append(new string('x', rng.Next(95, 106)));
            var text = sb.ToString();
            var expected = oracle.Encode(text);
            var ours = tokenizer.Encode(text, truncation: Truncation.None).InputIds;
            var oursJson = viaJson.Encode(text, truncation: Truncation.None).InputIds;
            if (!ours.SequenceEqual(expected) || !oursJson.SequenceEqual(expected) || tokenizer.Decode(expected) != oracle.Decode(expected))
            {
                differences++;
                if (first.Count < 5) first.Add($"{System.Text.Json.JsonSerializer.Serialize(text)}\n  ours   {Show(ours)}\n  oracle {Show(expected)}");
            }
        }
        Assert.That(differences, Is.Zero, $"{name}: {differences} of 2000 differ:\n" + string.Join('\n', first));
        // The settings matter: the variants really tokenize differently.
        if (name == "cased") Assert.That(oracle.Encode("Hello"), Is.Not.EqualTo(_oracle.Encode("Hello")));
    }
}
