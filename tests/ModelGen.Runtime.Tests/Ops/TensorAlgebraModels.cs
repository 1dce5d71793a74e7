namespace ModelGen.Tests.Ops;

// Models written with the tensor algebra of issue 20 (broadcasting, [Parameter] and [Buffer] tensors), as a user
// writes them. The analyzers' every-prefix test and the reliability suite's mutation test read this file.

/// <summary>A fused chain over three operands of three shapes, one of which is used twice: one kernel.</summary>
[Model] public partial class BroadcastChainOp { Tensor Forward(Tensor a, Tensor b, Tensor c) => Sigmoid(a * b + c) - a / (Square(c) + 1.0); }

/// <summary>A learnable position table and layer scale, as a user writes them: (x + pos) ⊙ scale + scale, through a Linear.</summary>
[Model]
public partial class PositionScaled
{
    [Parameter] public readonly Tensor Pos = Init.Normal([4, 5], std: 0.02);
    [Layer] readonly Linear fc = new(5, 3);
    [Parameter] public readonly Tensor Scale = Tensor.Ones(5);
    [Buffer] public readonly Tensor Mask = Tensor.From(new float[] { 1, 0, 1, 1, 0 }, 5);
    Tensor Forward(Tensor x) => fc.Apply((x + Pos) * Scale * Mask + Scale);
}

/// <summary>A block with its own [Parameter], nested twice: names are prefixed as a layer's weights are.</summary>
[Model]
public partial class ScaledBlock
{
    [Parameter] readonly Tensor gamma = Init.Constant([5], 0.1);
    Tensor Forward(Tensor x) => x * gamma;
}

[Model]
public partial class TwoScaledBlocks
{
    [Layer] readonly ScaledBlock first = new();
    [Layer] readonly ScaledBlock second = new();
    Tensor Forward(Tensor x) => second.Apply(first.Apply(x));
}

/// <summary>Self-attention written out (one head): scores = q·kᵀ/√d + the padding mask broadcast over the queries,
/// softmax over the keys, a weighted sum of the values, and a learnable position table.</summary>
[Model]
public partial class WrittenAttention
{
    [Parameter] readonly Tensor positions = Init.Normal([6, 8], std: 0.02);
    [Layer] readonly Linear query = new(8, 8);
    [Layer] readonly Linear key = new(8, 8);
    [Layer] readonly Linear value = new(8, 8);
    [Layer] readonly Linear output = new(8, 3);

    Tensor Forward(Tensor x, Tensor mask)
    {
        var h = x + positions;
        var scores = MatMul(query.Apply(h), Transpose(key.Apply(h), -2, -1)) * 0.35355339059327373;
        var masked = scores + (1.0 - mask) * -10000.0;
        var attended = MatMul(Softmax(masked, -1), value.Apply(h));
        return output.Apply(attended);
    }
}

/// <summary>Every reduction over a dimension, Permute and LogSoftmax over a middle dimension, in one graph.</summary>
[Model]
public partial class Reductions
{
    Tensor Forward(Tensor x)
        => Sum(x, 1) * 0.5 + Mean(x, -2) - Max(x, 1) + Min(x, 1, keepDim: false) * Var(x, dim: 1) + LogSumExp(x, 1)
           + Sum(Permute(LogSoftmax(x, 1), 0, 2, 1), -1, keepDim: true).Reshape(2, 4) + Var(x, 1, false, unbiased: false);
}

/// <summary>A language-model head tied to its embedding: logits = h · wteᵀ, the embedding's weight read as a tensor.</summary>
[Model]
public partial class TiedLanguageModel
{
    [Layer] readonly Embedding wte = new(11, 6);
    [Layer] readonly Linear mix = new(6, 6);
    Tensor Forward(Tensor ids) => MatMul(Tanh(mix.Apply(wte.Apply(ids))), Transpose(wte.Weight, 0, 1));
}
