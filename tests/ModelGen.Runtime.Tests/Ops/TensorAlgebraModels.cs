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
