using System.Text.RegularExpressions;

namespace ModelGen.Transformers;

/// <summary>
/// Maps ModelGen's parameter names (field names of the DSL models) to HuggingFace's state-dict names and back, for
/// BERT and DistilBERT, so that FromPretrained reads and SavePretrained writes the files HuggingFace transformers uses.
/// </summary>
public static partial class WeightNames
{
    private static readonly (string Ours, string Bert, string DistilBert)[] LayerParts =
    [
        ("query", "attention.self.query", "attention.q_lin"),
        ("key", "attention.self.key", "attention.k_lin"),
        ("value", "attention.self.value", "attention.v_lin"),
        ("attention_output", "attention.output.dense", "attention.out_lin"),
        ("attention_norm", "attention.output.LayerNorm", "sa_layer_norm"),
        ("intermediate", "intermediate.dense", "ffn.lin1"),
        ("output", "output.dense", "ffn.lin2"),
        ("output_norm", "output.LayerNorm", "output_layer_norm"),
    ];

    [GeneratedRegex(@"^layers\.(\d+)\.(\w+)\.(weight|bias)$")]
    private static partial Regex OurLayer();

    /// <summary>The HuggingFace name of one of our encoder parameters (without the model prefix such as "bert.").</summary>
    public static string ToHuggingFace(string name, bool distilBert)
    {
        var m = OurLayer().Match(name);
        if (m.Success)
        {
            var part = LayerParts.FirstOrDefault(p => p.Ours == m.Groups[2].Value);
            if (part.Ours is null) return name;
            return distilBert
                ? $"transformer.layer.{m.Groups[1].Value}.{part.DistilBert}.{m.Groups[3].Value}"
                : $"encoder.layer.{m.Groups[1].Value}.{part.Bert}.{m.Groups[3].Value}";
        }
        return name switch
        {
            "word_embeddings.weight" => "embeddings.word_embeddings.weight",
            "position_embeddings.weight" => "embeddings.position_embeddings.weight",
            "token_type_embeddings.weight" => "embeddings.token_type_embeddings.weight",
            "embeddings_norm.weight" => "embeddings.LayerNorm.weight",
            "embeddings_norm.bias" => "embeddings.LayerNorm.bias",
            _ => name,
        };
    }

    /// <summary>Our full parameter name → the HuggingFace name in a checkpoint of the given architecture.</summary>
    public static string ToHuggingFace(string name, string architecture) => architecture switch
    {
        "BertForSequenceClassification" when name.StartsWith("bert.", StringComparison.Ordinal) => "bert." + ToHuggingFace(name["bert.".Length..], false),
        "BertForSequenceClassification" when name.StartsWith("pooler.", StringComparison.Ordinal) => "bert.pooler.dense." + name["pooler.".Length..],
        "BertForSequenceClassification" => name,
        "DistilBertForSequenceClassification" when name.StartsWith("distilbert.", StringComparison.Ordinal) => "distilbert." + ToHuggingFace(name["distilbert.".Length..], true),
        "DistilBertForSequenceClassification" => name,
        "DistilBertModel" => ToHuggingFace(name, true),
        _ => ToHuggingFace(name, false),
    };

    /// <summary>Normalises a HuggingFace checkpoint name: legacy LayerNorm gamma/beta → weight/bias.</summary>
    public static string Normalize(string name)
    {
        if (name.EndsWith(".gamma", StringComparison.Ordinal)) return name[..^".gamma".Length] + ".weight";
        if (name.EndsWith(".beta", StringComparison.Ordinal)) return name[..^".beta".Length] + ".bias";
        return name;
    }
}
