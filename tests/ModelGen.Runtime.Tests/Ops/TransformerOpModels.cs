namespace ModelGen.Tests.Ops;

[Model]
public partial class EmbeddingOp
{
    [Layer] readonly Embedding table = new(11, 7, paddingIndex: 0);
    Tensor Forward(Tensor ids) => table.Apply(ids);
}

[Model]
public partial class LayerNormOp
{
    [Layer] readonly LayerNorm norm;
    public LayerNormOp(int dim, DType dtype) : base(Device.Cpu, 2, dtype) => norm = new LayerNorm(dim, 1e-5);
    Tensor Forward(Tensor x) => norm.Apply(x);
}

[Model]
public partial class AttentionOp
{
    readonly int heads;
    public AttentionOp(int heads, DType dtype) : base(Device.Cpu, 3, dtype) => this.heads = heads;
    Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor mask) => Attention(q, k, v, mask, heads);
}

[Model]
public partial class FirstTokenOp
{
    Tensor Forward(Tensor x) => FirstToken(x);
}

/// <summary>A BERT-style encoder layer: self-attention + residual + LayerNorm, GELU feed-forward + residual + LayerNorm.</summary>
[Model]
public partial class EncoderBlock
{
    readonly int heads = 2;
    [Layer] readonly Linear query = new(8, 8);
    [Layer] readonly Linear key = new(8, 8);
    [Layer] readonly Linear value = new(8, 8);
    [Layer] readonly Linear attentionOutput = new(8, 8);
    [Layer] readonly LayerNorm attentionNorm = new(8, 1e-12);
    [Layer] readonly Linear intermediate = new(8, 16);
    [Layer] readonly Linear output = new(16, 8);
    [Layer] readonly LayerNorm outputNorm = new(8, 1e-12);

    Tensor Forward(Tensor h, Tensor mask)
    {
        var context = Attention(query.Apply(h), key.Apply(h), value.Apply(h), mask, heads);
        var a = attentionNorm.Apply(attentionOutput.Apply(context) + h);
        return outputNorm.Apply(output.Apply(Gelu(intermediate.Apply(a))) + a);
    }
}

/// <summary>Embeddings → two encoder blocks → [CLS] pooler (dense + tanh) → classifier.</summary>
[Model]
public partial class TinyBertClassifier
{
    [Layer] readonly Embedding words = new(20, 8, paddingIndex: 0);
    [Layer] readonly Embedding positions = new(6, 8);
    [Layer] readonly LayerNorm embeddingNorm = new(8, 1e-12);
    [Layer] readonly LayerList<EncoderBlock> layers = LayerList<EncoderBlock>.Create(2, _ => new EncoderBlock());
    [Layer] readonly Linear pooler = new(8, 8);
    [Layer] readonly Linear classifier = new(8, 3);

    Tensor Forward(Tensor ids, Tensor positionIds, Tensor mask)
    {
        var h = embeddingNorm.Apply(words.Apply(ids) + positions.Apply(positionIds));
        foreach (var layer in layers) h = layer.Apply(h, mask);
        return classifier.Apply(Tanh(pooler.Apply(FirstToken(h))));
    }
}

/// <summary>Attention with HuggingFace's dropout on the attention probabilities.</summary>
[Model]
public partial class AttentionDropoutOp
{
    readonly int heads;
    [Layer] readonly Dropout probsDropout;

    public AttentionDropoutOp(int heads, double p, DType dtype) : base(Device.Cpu, 3, dtype)
    {
        this.heads = heads;
        probsDropout = new Dropout(p);
    }

    Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor mask) => Attention(q, k, v, mask, heads, probsDropout);
}

[Model]
public partial class DropoutOp
{
    [Layer] readonly Dropout drop;
    public DropoutOp(double p, DType dtype) : base(Device.Cpu, 9, dtype) => drop = new Dropout(p);
    Tensor Forward(Tensor x) => drop.Apply(x);
}

[Model]
public partial class ChannelDropoutOp
{
    [Layer] readonly Dropout2d drop;
    public ChannelDropoutOp(double p, DType dtype) : base(Device.Cpu, 11, dtype) => drop = new Dropout2d(p);
    Tensor Forward(Tensor x) => drop.Apply(x);
}

[Model]
public partial class EmbeddingTableOp
{
    [Layer] readonly Embedding table;
    public EmbeddingTableOp(int vocab, int dim, DType dtype) : base(Device.Cpu, 5, dtype) => table = new Embedding(vocab, dim, paddingIndex: 0);
    Tensor Forward(Tensor ids) => table.Apply(ids);
}
