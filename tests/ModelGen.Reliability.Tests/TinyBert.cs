using ModelGen.Transformers;

namespace ModelGen.Reliability.Tests;

/// <summary>A tiny random BERT classifier and its WordPiece tokenizer, saved like HuggingFace to a folder.</summary>
internal static class TinyBert
{
    public static readonly string[] Vocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "bad", "not", "good", "i", "love", "hate", "it",
        "!", ".", ",", "a", "story", "##s", "actor", "plot", "boring", "fun", "very", "and", "but", "so",
    ];

    public static readonly string[] Sentences =
    [
        "the movie was great !", "i hate it", "not good , not bad", "very boring plot and bad actors", "i love the story so much",
        "fun", "the plot was not very good but the actors were great", "a movie", "so bad", "i love it !",
    ];

    /// <summary>Saves config.json, model.safetensors and the tokenizer files; <paramref name="modelVocab"/> smaller
    /// than the tokenizer's vocabulary makes some token ids fall outside the model's embedding table.</summary>
    public static string Save(string dir, int? modelVocab = null, int maxPositions = 64)
    {
        int vocab = modelVocab ?? Vocabulary.Length;
        var sizes = new EncoderSizes(vocab, 16, 1, 2, 32, maxPositions, 2, 1e-12, 0.1);
        using var model = new BertForSequenceClassification(sizes, 2, Device.Cpu, seed: 7);
        model.Config = new BertConfig
        {
            VocabSize = vocab, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = maxPositions,
            NumLabels = 2, Id2Label = new Dictionary<int, string> { [0] = "NEGATIVE", [1] = "POSITIVE" },
            Label2Id = new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 },
        };
        model.SavePretrained(dir);
        BertTokenizer.FromVocab(Vocabulary).SavePretrained(dir);
        return dir;
    }
}
