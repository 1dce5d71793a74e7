using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>BertTokenizer's API: the reference ids of DATA.md, loading (vocab.txt LF/CRLF, tokenizer.json,
/// FromPretrained with tokenizer_config.json, SavePretrained), pairs, truncation, padding, batches and Decode.</summary>
[TestFixture]
public sealed class BertTokenizerTests
{
    private static BertTokenizer Tok => TextTestData.Uncased;
    private readonly List<string> _dirs = [];

    private string NewDir()
    {
        var dir = TextTestData.TempDirectory("modelgen-bert-tokenizer");
        _dirs.Add(dir);
        return dir;
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var d in _dirs.Where(Directory.Exists)) Directory.Delete(d, recursive: true);
        _dirs.Clear();
    }

    // ------------------------------------------------------------------ reference ids (DATA.md)

    [TestCase("This is an example sentence", new[] { 101, 2023, 2003, 2019, 2742, 6251, 102 })]
    [TestCase("Each sentence is converted.", new[] { 101, 2169, 6251, 2003, 4991, 1012, 102 })]
    [TestCase("", new[] { 101, 102 })]
    [TestCase("Café déjà vu — 東京", new[] { 101, 7668, 2139, 3900, 24728, 1517, 1879, 1755, 102 })]
    public void ReferenceIds(string text, int[] expected)
    {
        var e = Tok.Encode(text);
        Assert.That(e.InputIds, Is.EqualTo(expected));
        Assert.That(e.AttentionMask, Is.All.EqualTo(1));
        Assert.That(e.TokenTypeIds, Is.All.EqualTo(0));
        Assert.That(e.Tokens, Has.Length.EqualTo(expected.Length));
    }

    [Test]
    public void VocabularyFacts()
    {
        Assert.That(Tok.VocabSize, Is.EqualTo(30522));
        Assert.That((Tok.PaddingTokenId, Tok.UnknownTokenId, Tok.ClassifierTokenId, Tok.SeparatorTokenId, Tok.MaskTokenId),
            Is.EqualTo((0, 100, 101, 102, (int?)103)));
        Assert.That(Tok.TokenToId("##ing"), Is.EqualTo(2075));
        Assert.That(Tok.IdToToken(2023), Is.EqualTo("this"));
        Assert.That(Tok.IdToToken(30522), Is.Null);
        Assert.That(Tok.TokenToId("not-a-token"), Is.Null);
        Assert.That(Tok.ModelMaxLength, Is.EqualTo(512));
    }

    [Test]
    public void TokensAreTheWordPieces()
    {
        Assert.That(Tok.Encode("Café déjà vu — 東京").Tokens, Is.EqualTo(new[] { "[CLS]", "cafe", "de", "##ja", "vu", "—", "東", "京", "[SEP]" }));
        Assert.That(Tok.Tokenize("Unaffable $5+"), Is.EqualTo(new[] { "una", "##ffa", "##ble", "$", "5", "+" }));
        Assert.That(Tok.EncodeToIds("hello world"), Is.EqualTo(new[] { 7592, 2088 }));
        Assert.That(Tok.Encode("hello", addSpecialTokens: false).InputIds, Is.EqualTo(new[] { 7592 }));
    }

    // ------------------------------------------------------------------ loading

    [Test]
    public void CrlfAndLfVocabulariesGiveTheSameTokenizer()
    {
        var dir = NewDir();
        var lf = File.ReadAllText(TextTestData.VocabPath);
        Assert.That(lf, Does.Not.Contain("\r"));
        var crlfPath = Path.Combine(dir, "vocab-crlf.txt");
        File.WriteAllText(crlfPath, lf.Replace("\n", "\r\n"));
        var noFinalNewline = Path.Combine(dir, "vocab-nofinal.txt");
        File.WriteAllText(noFinalNewline, lf.TrimEnd('\n'));
        foreach (var path in new[] { crlfPath, noFinalNewline })
        {
            var t = BertTokenizer.FromVocabFile(path);
            Assert.That(t.VocabSize, Is.EqualTo(30522), path);
            foreach (var s in TextTestData.Sentences.Take(200))
                Assert.That(t.Encode(s.Text).InputIds, Is.EqualTo(Tok.Encode(s.Text).InputIds), s.Text);
        }
    }

    [Test]
    public void SmallVocabularyFromTokensWithIdsAsIndexes()
    {
        // HuggingFace's own WordPiece example vocabulary, plus [PAD] and [MASK].
        string[] vocab = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",", "[PAD]", "[MASK]"];
        var t = BertTokenizer.FromVocab(vocab);
        Assert.That(t.Encode("UNwant\u00E9d,running").Tokens, Is.EqualTo(new[] { "[CLS]", "un", "##want", "##ed", ",", "runn", "##ing", "[SEP]" }));
        Assert.That(t.Encode("UNwant\u00E9d,running").InputIds, Is.EqualTo(new[] { 1, 7, 4, 5, 10, 8, 9, 2 }));
        Assert.That(t.Encode("unwantedX running").InputIds, Is.EqualTo(new[] { 1, 0, 8, 9, 2 }), "a word with an unmatched piece is one [UNK]");
        Assert.That(t.VocabSize, Is.EqualTo(vocab.Length));
        Assert.That(() => BertTokenizer.FromVocab(["a", "b"]), Throws.TypeOf<InvalidDataException>().With.Message.Contains("[UNK]"));
    }

    [Test]
    public void SavePretrainedRoundTripsAndTheOracleReadsTheSavedTokenizerJson()
    {
        var dir = NewDir();
        Tok.SavePretrained(dir);
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" }));
        Assert.That(File.ReadAllText(Path.Combine(dir, "vocab.txt")), Is.EqualTo(File.ReadAllText(TextTestData.VocabPath)));
        var back = BertTokenizer.FromPretrained(dir);
        Assert.That(back.Options, Is.EqualTo(Tok.Options));
        using var oracle = new Tokenizers.DotNet.Tokenizer(vocabPath: Path.Combine(dir, "tokenizer.json"));
        foreach (var s in TextTestData.Sentences.Take(300).Append(new(" Café déjà vu — 東京 [MASK] $5", 0, "")))
        {
            var expected = Tok.Encode(s.Text).InputIds;
            Assert.That(back.Encode(s.Text).InputIds, Is.EqualTo(expected), s.Text);
            Assert.That(oracle.Encode(s.Text).Select(i => (int)i), Is.EqualTo(expected), s.Text);
        }
    }

    [Test]
    public void FromPretrainedReadsTokenizerConfig()
    {
        var dir = NewDir();
        File.Copy(TextTestData.VocabPath, Path.Combine(dir, "vocab.txt"));
        Assert.That(BertTokenizer.FromPretrained(dir).Options, Is.EqualTo(new BertTokenizerOptions()));

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
            {"do_lower_case": false, "strip_accents": null, "tokenize_chinese_chars": false,
             "model_max_length": 1000000000000000019884624838656, "clean_up_tokenization_spaces": true,
             "unk_token": {"content": "[UNK]", "__type": "AddedToken"}, "tokenizer_class": "BertTokenizer"}
            """);
        var cased = BertTokenizer.FromPretrained(dir);
        Assert.That(cased.Options.LowerCase, Is.False);
        Assert.That(cased.Options.TokenizeChineseChars, Is.False);
        Assert.That(cased.ModelMaxLength, Is.EqualTo(int.MaxValue));
        Assert.That(cased.Options.CleanUpTokenizationSpaces, Is.True);
        Assert.That(cased.Encode("Hello").Tokens[1], Is.EqualTo("[UNK]"), "bert-base-uncased has no 'Hello'");
        Assert.That(cased.Encode("Café").Tokens[1..^1], Is.EqualTo(new[] { "[UNK]" }));

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"do_lower_case": true, "strip_accents": false, "model_max_length": 128}""");
        var keepAccents = BertTokenizer.FromPretrained(dir);
        Assert.That(keepAccents.Encode("café").Tokens[1..^1], Is.EqualTo(new[] { "[UNK]" }), "no 'café' in bert-base-uncased");
        Assert.That(keepAccents.ModelMaxLength, Is.EqualTo(128));
        Assert.That(keepAccents.Encode(string.Join(' ', Enumerable.Repeat("word", 500))).Length, Is.EqualTo(128), "default truncation to model_max_length");
    }

    [Test]
    public void FromPretrainedPrefersTokenizerJsonAndTokenizerConfigOverridesIt()
    {
        var dir = NewDir();
        Tok.SavePretrained(dir);
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]); // must be ignored
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"do_lower_case": false}""");
        var t = BertTokenizer.FromPretrained(dir);
        Assert.That(t.VocabSize, Is.EqualTo(30522));
        Assert.That(t.Options.LowerCase, Is.False);
        Assert.That(t.Encode("Hello hello").InputIds, Is.EqualTo(new[] { 101, 100, 7592, 102 }));
    }

    [Test]
    public void LoadingErrorsNameTheFile()
    {
        var dir = NewDir();
        Assert.That(() => BertTokenizer.FromPretrained(dir), Throws.TypeOf<FileNotFoundException>().With.Message.Contains(dir));
        Assert.That(() => BertTokenizer.FromPretrained(Path.Combine(dir, "missing")), Throws.TypeOf<DirectoryNotFoundException>());
        var bpe = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(bpe, """{"model": {"type": "BPE", "vocab": {}, "merges": []}}""");
        Assert.That(() => BertTokenizer.FromTokenizerJson(bpe), Throws.TypeOf<InvalidDataException>().With.Message.Contains(bpe).And.Message.Contains("BPE"));
        File.WriteAllText(bpe, "{ not json");
        Assert.That(() => BertTokenizer.FromPretrained(dir), Throws.TypeOf<InvalidDataException>().With.Message.Contains(bpe));
    }

    // ------------------------------------------------------------------ pairs, truncation, padding

    [Test]
    public void PairHasTypeIdsZeroThenOne()
    {
        var e = Tok.Encode("Is it good?", "Yes, very good.");
        Assert.That(e.Tokens, Is.EqualTo(new[] { "[CLS]", "is", "it", "good", "?", "[SEP]", "yes", ",", "very", "good", ".", "[SEP]" }));
        Assert.That(e.TokenTypeIds, Is.EqualTo(new[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1 }));
        Assert.That(e.AttentionMask, Is.All.EqualTo(1));
        var empty = Tok.Encode("", "");
        Assert.That(empty.InputIds, Is.EqualTo(new[] { 101, 102, 102 }));
        Assert.That(empty.TokenTypeIds, Is.EqualTo(new[] { 0, 0, 1 }));
    }

    /// <summary>The table of HuggingFace tokenizers' own unit test (utils/truncation.rs,
    /// truncate_encodings_longest_first): budget 7, sequences of 0, 2, 4 and 8 tokens.</summary>
    [TestCase(0, 0, 0, 0)]
    [TestCase(0, 2, 0, 2)]
    [TestCase(0, 4, 0, 4)]
    [TestCase(0, 8, 0, 7)]
    [TestCase(2, 0, 2, 0)]
    [TestCase(2, 2, 2, 2)]
    [TestCase(2, 4, 2, 4)]
    [TestCase(2, 8, 2, 5)]
    [TestCase(4, 0, 4, 0)]
    [TestCase(4, 2, 4, 2)]
    [TestCase(4, 4, 3, 4)]
    [TestCase(4, 8, 3, 4)]
    [TestCase(8, 0, 7, 0)]
    [TestCase(8, 2, 5, 2)]
    [TestCase(8, 4, 4, 3)]
    [TestCase(8, 8, 3, 4)]
    public void LongestFirstLengthsFollowHuggingFace(int n1, int n2, int k1, int k2) =>
        Assert.That(BertTokenizer.TruncatedLengths(n1, n2, 7, Truncation.LongestFirst), Is.EqualTo((k1, k2)));

    [Test]
    public void TruncationToSixteenWithPairs()
    {
        string a = "the quick brown fox jumps over the lazy dog again and again and again", b = "a short one";
        var e = Tok.Encode(a, b, maxLength: 16);
        Assert.That(e.Length, Is.EqualTo(16));
        // 14 + 3 tokens, budget 13: the shorter side keeps its 3, the longer max(3, 13 - 3) = 10.
        Assert.That(e.Tokens, Is.EqualTo(new[]
        {
            "[CLS]", "the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "again", "[SEP]", "a", "short", "one", "[SEP]",
        }));
        Assert.That(e.TokenTypeIds, Is.EqualTo(Enumerable.Repeat(0, 12).Concat(Enumerable.Repeat(1, 4))));

        var both = Tok.Encode(a, a, maxLength: 16);
        Assert.That(both.TokenTypeIds.Count(t => t == 0), Is.EqualTo(2 + 6), "budget 13: first keeps 6");
        Assert.That(both.TokenTypeIds.Count(t => t == 1), Is.EqualTo(7 + 1), "second keeps 7");

        var onlySecond = Tok.Encode(b, a, maxLength: 16, truncation: Truncation.OnlySecond);
        Assert.That(onlySecond.Tokens[1..4], Is.EqualTo(new[] { "a", "short", "one" }));
        Assert.That(onlySecond.Length, Is.EqualTo(16));
        Assert.That(() => Tok.Encode(b, a, maxLength: 16, truncation: Truncation.OnlyFirst), Throws.ArgumentException);
        Assert.That(() => Tok.Encode(a, maxLength: 8, truncation: Truncation.OnlySecond), Throws.ArgumentException, "OnlySecond needs a pair");
        Assert.That(Tok.Encode(a, b, maxLength: 16, truncation: Truncation.None).Length, Is.GreaterThan(16));
        Assert.That(() => Tok.Encode(a, b, maxLength: 2), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(Tok.Encode(a, maxLength: 2).InputIds, Is.EqualTo(new[] { 101, 102 }));
    }

    [Test]
    public void PaddingToMaxLength()
    {
        var e = Tok.Encode("hello world", maxLength: 8, padding: Padding.MaxLength);
        Assert.That(e.InputIds, Is.EqualTo(new[] { 101, 7592, 2088, 102, 0, 0, 0, 0 }));
        Assert.That(e.AttentionMask, Is.EqualTo(new[] { 1, 1, 1, 1, 0, 0, 0, 0 }));
        Assert.That(e.TokenTypeIds, Is.All.EqualTo(0));
        Assert.That(e.Tokens[^1], Is.EqualTo("[PAD]"));

        var pair = Tok.Encode("hello", "world", maxLength: 8, padding: Padding.MaxLength);
        Assert.That(pair.TokenTypeIds, Is.EqualTo(new[] { 0, 0, 0, 1, 1, 0, 0, 0 }), "padding has type id 0");
        Assert.That(pair.AttentionMask, Is.EqualTo(new[] { 1, 1, 1, 1, 1, 0, 0, 0 }));

        Assert.That(Tok.Encode("hello", padding: Padding.MaxLength).Length, Is.EqualTo(512), "no maxLength: model_max_length");
        Assert.That(Tok.Encode("hello", padding: Padding.Longest).Length, Is.EqualTo(3), "one input is its own longest");
    }

    [Test]
    public void BatchPaddedToLongest()
    {
        var batch = Tok.EncodeBatch(["hello world", "hi", "This is an example sentence"]);
        Assert.That((batch.BatchSize, batch.SequenceLength), Is.EqualTo((3, 7)));
        Assert.That(batch.InputIds, Is.EqualTo(new[]
        {
            101, 7592, 2088, 102, 0, 0, 0,
            101, 7632, 102, 0, 0, 0, 0,
            101, 2023, 2003, 2019, 2742, 6251, 102,
        }));
        Assert.That(batch.AttentionMask, Is.EqualTo(new[]
        {
            1, 1, 1, 1, 0, 0, 0,
            1, 1, 1, 0, 0, 0, 0,
            1, 1, 1, 1, 1, 1, 1,
        }));
        Assert.That(batch.TokenTypeIds, Is.All.EqualTo(0));
        Assert.That(batch[1].Tokens, Is.EqualTo(new[] { "[CLS]", "hi", "[SEP]", "[PAD]", "[PAD]", "[PAD]", "[PAD]" }));
    }

    [Test]
    public void BatchOfPairsPaddedToMaxLengthAndTruncated()
    {
        var texts = TextTestData.Sentences.Take(64).Select(s => s.Text).ToArray();
        var pairs = TextTestData.Sentences.Skip(1).Take(64).Select(s => s.Text).ToArray();
        var batch = Tok.EncodeBatch(texts, pairs, maxLength: 16, padding: Padding.MaxLength);
        Assert.That((batch.BatchSize, batch.SequenceLength), Is.EqualTo((64, 16)));
        Assert.That(batch.InputIds, Has.Length.EqualTo(64 * 16));
        for (int i = 0; i < 64; i++)
        {
            var single = Tok.Encode(texts[i], pairs[i], maxLength: 16, padding: Padding.MaxLength);
            Assert.That(batch.InputIds.AsSpan(i * 16, 16).ToArray(), Is.EqualTo(single.InputIds));
            Assert.That(batch.TokenTypeIds.AsSpan(i * 16, 16).ToArray(), Is.EqualTo(single.TokenTypeIds));
            Assert.That(batch.AttentionMask.AsSpan(i * 16, 16).ToArray(), Is.EqualTo(single.AttentionMask));
        }
    }

    [Test]
    public void BatchErrors()
    {
        Assert.That(() => Tok.EncodeBatch(["a b c", "a"], padding: Padding.None), Throws.ArgumentException.With.Message.Contains("Padding.Longest"));
        Assert.That(Tok.EncodeBatch(["a b", "c d"], padding: Padding.None).SequenceLength, Is.EqualTo(4));
        Assert.That(() => Tok.EncodeBatch(["a", "b"], ["c"]), Throws.ArgumentException);
        Assert.That(() => Tok.EncodeBatch(["a b c d e"], maxLength: 4, padding: Padding.MaxLength, truncation: Truncation.None), Throws.ArgumentException);
        var empty = Tok.EncodeBatch([]);
        Assert.That((empty.BatchSize, empty.SequenceLength, empty.InputIds.Length), Is.EqualTo((0, 0, 0)));
    }

    // ------------------------------------------------------------------ special tokens and decoding

    [Test]
    public void SpecialTokensInTextAreRecognisedUnlessSplitSpecialTokens()
    {
        Assert.That(Tok.Encode("Paris is the [MASK] of France.").Tokens,
            Is.EqualTo(new[] { "[CLS]", "paris", "is", "the", "[MASK]", "of", "france", ".", "[SEP]" }));
        var split = BertTokenizer.FromVocabFile(TextTestData.VocabPath, new BertTokenizerOptions { SplitSpecialTokens = true });
        Assert.That(split.Encode("[MASK]").Tokens, Is.EqualTo(new[] { "[CLS]", "[", "mask", "]", "[SEP]" }));
    }

    [TestCase("This is an example sentence", "this is an example sentence")]
    [TestCase("Each sentence is converted.", "each sentence is converted.")]
    [TestCase("Café déjà vu — 東京", "cafe deja vu — 東 京")]
    [TestCase("Unaffable, isn't it? Wow!", "unaffable, isn ' t it? wow!")]
    [TestCase("", "")]
    public void DecodeRoundTrip(string text, string expected)
    {
        var ids = Tok.Encode(text).InputIds;
        Assert.That(Tok.Decode(ids), Is.EqualTo(expected));
        Assert.That(Tok.Decode(Tok.Encode(Tok.Decode(ids)).InputIds), Is.EqualTo(expected), "decode is a fixed point");
    }

    [Test]
    public void DecodeOptions()
    {
        var e = Tok.Encode("isn't it", maxLength: 8, padding: Padding.MaxLength);
        Assert.That(Tok.Decode(e.InputIds, skipSpecialTokens: false), Is.EqualTo("[CLS] isn ' t it [SEP] [PAD] [PAD]"));
        Assert.That(Tok.Decode(e.InputIds, cleanUpTokenizationSpaces: true), Is.EqualTo("isn't it"));
        Assert.That(Tok.Decode([7592, 99999, -1, 2088]), Is.EqualTo("hello world"), "unknown ids are skipped");
        Assert.That(Tok.Decode([2075, 7592]), Is.EqualTo("##ing hello"), "a leading ## piece keeps its prefix");
    }

    [Test]
    public void EncodingIsSafeFromSeveralThreads()
    {
        var texts = TextTestData.Sentences.Select(s => s.Text).ToArray();
        var expected = texts.Select(t => Tok.Encode(t).InputIds).ToArray();
        var results = new int[texts.Length][];
        Parallel.For(0, texts.Length, i => results[i] = Tok.Encode(texts[i]).InputIds);
        Assert.That(results, Is.EqualTo(expected));
    }

    [Test]
    public void ArgumentChecks()
    {
        Assert.That(() => Tok.Encode(null!), Throws.ArgumentNullException);
        Assert.That(() => Tok.Encode("a", maxLength: -1), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => BertTokenizer.FromVocabFile(TextTestData.VocabPath, new BertTokenizerOptions { MaxInputCharsPerWord = 0 }),
            Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new Encoding([1, 2], [1], [0, 0], ["a", "b"]), Throws.ArgumentException);
    }

    /// <summary>The ids the pipelines and the training task keep per text are exactly Encode's, truncated the same way.</summary>
    [Test]
    public void EncodeTruncatedIds_EqualsEncodesIds_AtEveryMaximumLength()
    {
        var tokenizer = TextTestData.Uncased;
        foreach (var text in TextTestData.Sentences.Take(300).Select(s => s.Text).Append("").Append(string.Join(' ', TextTestData.Sentences.Take(40).Select(s => s.Text))))
            foreach (int max in new[] { 2, 5, 16, 512 })
                Assert.That(tokenizer.EncodeTruncatedIds(text, max), Is.EqualTo(tokenizer.Encode(text, maxLength: max).InputIds), $"'{text}' at {max}");
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.EncodeTruncatedIds("a", 1));
    }
}
