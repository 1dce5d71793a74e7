namespace ModelGen.Transformers;

/// <summary>The sizes of a BERT-family encoder (what config.json gives; see BertConfig for the file).
/// <paramref name="HiddenDropout"/> drops the embeddings and each layer's attention output and FFN output
/// (hidden_dropout_prob); <paramref name="AttentionProbsDropout"/> drops the attention probabilities
/// (attention_probs_dropout_prob; DistilBERT's attention_dropout), the same as <paramref name="HiddenDropout"/> when null.</summary>
public sealed record EncoderSizes(int VocabSize, int Hidden, int Layers, int Heads, int Intermediate, int MaxPositions,
    int TypeVocabSize, double LayerNormEps, double HiddenDropout, int PadTokenId = 0, double? AttentionProbsDropout = null)
{
    /// <summary>The attention-probability dropout in effect.</summary>
    public double ProbsDropout => AttentionProbsDropout ?? HiddenDropout;
}

/// <summary>One encoder layer of BERT / DistilBERT (post-LayerNorm): self-attention with dropout on its probabilities,
/// its output projection, dropout, residual + LayerNorm; then a GELU feed-forward, dropout, residual + LayerNorm —
/// HuggingFace's three dropouts per layer.</summary>
[Model]
public partial class BertLayer
{
    readonly int heads;
    [Layer] readonly Linear query, key, value, attention_output, intermediate, output;
    [Layer] readonly LayerNorm attention_norm, output_norm;
    [Layer] readonly Dropout attention_probs_dropout, attention_output_dropout, output_dropout;

    public BertLayer(EncoderSizes s)
    {
        heads = s.Heads;
        query = new Linear(s.Hidden, s.Hidden);
        key = new Linear(s.Hidden, s.Hidden);
        value = new Linear(s.Hidden, s.Hidden);
        attention_output = new Linear(s.Hidden, s.Hidden);
        attention_probs_dropout = new Dropout(s.ProbsDropout);
        attention_output_dropout = new Dropout(s.HiddenDropout);
        attention_norm = new LayerNorm(s.Hidden, s.LayerNormEps);
        intermediate = new Linear(s.Hidden, s.Intermediate);
        output = new Linear(s.Intermediate, s.Hidden);
        output_dropout = new Dropout(s.HiddenDropout);
        output_norm = new LayerNorm(s.Hidden, s.LayerNormEps);
    }

    Tensor Forward(Tensor h, Tensor mask)
    {
        var context = Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, heads, attention_probs_dropout);
        var a = attention_norm.Apply(attention_output_dropout.Apply(attention_output.Apply(context)) + h);
        return output_norm.Apply(output_dropout.Apply(output.Apply(Gelu(intermediate.Apply(a)))) + a);
    }
}

/// <summary>BERT's encoder: word + position + token-type embeddings, LayerNorm, dropout, then the layers.
/// Forward(input_ids, position_ids, token_type_ids, attention_mask) → last_hidden_state [batch, seq, hidden].
/// Ids, positions and token types are integer tensors (Int32, or Int64 as HuggingFace's tokenizers give them); the mask
/// is 1 for tokens and 0 for padding, in the model's dtype or as a Bool or integer tensor.</summary>
[Model]
public partial class BertModel
{
    [Layer] readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    [Layer] readonly LayerNorm embeddings_norm;
    [Layer] readonly Dropout embeddings_dropout;
    [Layer] readonly LayerList<BertLayer> layers;

    public BertModel(EncoderSizes sizes, Device? device = null, int seed = 0, DType dtype = DType.Float32) : base(device ?? Device.Default, seed, dtype)
    {
        Sizes = sizes;
        word_embeddings = new Embedding(sizes.VocabSize, sizes.Hidden, sizes.PadTokenId);
        position_embeddings = new Embedding(sizes.MaxPositions, sizes.Hidden);
        int typeVocabulary = Math.Max(1, sizes.TypeVocabSize);
        token_type_embeddings = new Embedding(typeVocabulary, sizes.Hidden);
        embeddings_norm = new LayerNorm(sizes.Hidden, sizes.LayerNormEps);
        embeddings_dropout = new Dropout(sizes.HiddenDropout);
        layers = LayerList<BertLayer>.Create(sizes.Layers, _ => new BertLayer(sizes));
    }

    public EncoderSizes Sizes { get; }

    Tensor Forward(Tensor input_ids, Tensor position_ids, Tensor token_type_ids, Tensor attention_mask)
    {
        var h = embeddings_dropout.Apply(embeddings_norm.Apply(
            word_embeddings.Apply(input_ids) + position_embeddings.Apply(position_ids) + token_type_embeddings.Apply(token_type_ids)));
        foreach (var layer in layers) h = layer.Apply(h, attention_mask);
        return h;
    }
}

/// <summary>BertForSequenceClassification: the encoder, the pooler (dense + tanh on [CLS]), dropout and a linear
/// classifier. Forward → logits [batch, num_labels].</summary>
[Model]
public partial class BertForSequenceClassification
{
    [Layer] readonly BertModel bert;
    [Layer] readonly Linear pooler, classifier;
    [Layer] readonly Dropout dropout;

    public BertForSequenceClassification(EncoderSizes sizes, int numLabels, Device? device = null, int seed = 0, DType dtype = DType.Float32) : base(device ?? Device.Default, seed, dtype)
    {
        Sizes = sizes;
        NumLabels = numLabels;
        bert = new BertModel(sizes);
        pooler = new Linear(sizes.Hidden, sizes.Hidden);
        dropout = new Dropout(sizes.HiddenDropout);
        classifier = new Linear(sizes.Hidden, numLabels);
    }

    public EncoderSizes Sizes { get; }
    public int NumLabels { get; }

    Tensor Forward(Tensor input_ids, Tensor position_ids, Tensor token_type_ids, Tensor attention_mask)
        => classifier.Apply(dropout.Apply(Tanh(pooler.Apply(FirstToken(bert.Apply(input_ids, position_ids, token_type_ids, attention_mask))))));
}

/// <summary>DistilBERT's encoder: word + position embeddings (no token types), LayerNorm, dropout, then the layers
/// (the same post-LayerNorm layer as BERT, with DistilBERT's weight names on load and save).</summary>
[Model]
public partial class DistilBertModel
{
    [Layer] readonly Embedding word_embeddings, position_embeddings;
    [Layer] readonly LayerNorm embeddings_norm;
    [Layer] readonly Dropout embeddings_dropout;
    [Layer] readonly LayerList<BertLayer> layers;

    public DistilBertModel(EncoderSizes sizes, Device? device = null, int seed = 0, DType dtype = DType.Float32) : base(device ?? Device.Default, seed, dtype)
    {
        Sizes = sizes;
        word_embeddings = new Embedding(sizes.VocabSize, sizes.Hidden, sizes.PadTokenId);
        position_embeddings = new Embedding(sizes.MaxPositions, sizes.Hidden);
        embeddings_norm = new LayerNorm(sizes.Hidden, sizes.LayerNormEps);
        embeddings_dropout = new Dropout(sizes.HiddenDropout);
        layers = LayerList<BertLayer>.Create(sizes.Layers, _ => new BertLayer(sizes));
    }

    public EncoderSizes Sizes { get; }

    Tensor Forward(Tensor input_ids, Tensor position_ids, Tensor attention_mask)
    {
        var h = embeddings_dropout.Apply(embeddings_norm.Apply(word_embeddings.Apply(input_ids) + position_embeddings.Apply(position_ids)));
        foreach (var layer in layers) h = layer.Apply(h, attention_mask);
        return h;
    }
}

/// <summary>DistilBertForSequenceClassification: encoder, pre_classifier (dense + ReLU on [CLS]), dropout, classifier.</summary>
[Model]
public partial class DistilBertForSequenceClassification
{
    [Layer] readonly DistilBertModel distilbert;
    [Layer] readonly Linear pre_classifier, classifier;
    [Layer] readonly Dropout dropout;

    public DistilBertForSequenceClassification(EncoderSizes sizes, int numLabels, Device? device = null, int seed = 0, DType dtype = DType.Float32) : base(device ?? Device.Default, seed, dtype)
    {
        Sizes = sizes;
        NumLabels = numLabels;
        distilbert = new DistilBertModel(sizes);
        pre_classifier = new Linear(sizes.Hidden, sizes.Hidden);
        dropout = new Dropout(sizes.HiddenDropout);
        classifier = new Linear(sizes.Hidden, numLabels);
    }

    public EncoderSizes Sizes { get; }
    public int NumLabels { get; }

    Tensor Forward(Tensor input_ids, Tensor position_ids, Tensor attention_mask)
        => classifier.Apply(dropout.Apply(Relu(pre_classifier.Apply(FirstToken(distilbert.Apply(input_ids, position_ids, attention_mask))))));
}
