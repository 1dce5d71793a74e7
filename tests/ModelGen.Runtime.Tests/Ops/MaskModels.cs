namespace ModelGen.Tests.Ops;

[Model] public partial class GtOp { Tensor Forward(Tensor a, Tensor b) => a > b; }
[Model] public partial class LtOp { Tensor Forward(Tensor a, Tensor b) => a < b; }
[Model] public partial class GeOp { Tensor Forward(Tensor a, Tensor b) => a >= b; }
[Model] public partial class LeOp { Tensor Forward(Tensor a, Tensor b) => a <= b; }
[Model] public partial class EqOp { Tensor Forward(Tensor a, Tensor b) => Eq(a, b); }
[Model] public partial class NeOp { Tensor Forward(Tensor a, Tensor b) => a.Ne(b); }

/// <summary>Comparisons with a number on either side: 0.5 &lt; x is x &gt; 0.5.</summary>
[Model] public partial class ScalarComparisonsOp { Tensor Forward(Tensor x) => (x > 0.25) + 2 * (0.5 < x) + 4 * (x <= -1) + 8 * Eq(x, 0) + 16 * x.Ne(1.0) + 32 * (x >= 2); }

/// <summary>Where(a &gt; b, a · b, b − a): the condition made by a comparison in the same fused chain.</summary>
[Model] public partial class WhereCompareOp { Tensor Forward(Tensor a, Tensor b) => Where(a > b, a * b, b - a); }

/// <summary>Where with a Bool input as the condition, broadcast against both branches.</summary>
[Model] public partial class WhereMaskOp { Tensor Forward(Tensor condition, Tensor a, Tensor b) => Where(condition, a, b); }

/// <summary>MaskedFill with a Bool mask that broadcasts over x.</summary>
[Model] public partial class MaskedFillOp { Tensor Forward(Tensor x, Tensor mask) => MaskedFill(x, mask, -3.5) * 2; }

/// <summary>A Bool input used as numbers (promoted, as PyTorch's arithmetic does).</summary>
[Model] public partial class PromotedMaskOp { Tensor Forward(Tensor x, Tensor keep) => x * keep + (1.0 - keep) * -7; }

/// <summary>Self-attention written out with a learnable position table and a Bool padding mask (true = padding):
/// masked scores are −∞ before the softmax, so padded keys get exactly zero weight.</summary>
[Model]
public partial class BoolMaskedAttention
{
    [Parameter] readonly Tensor positions = Init.Normal([5, 6], std: 0.5);
    [Layer] readonly Linear query = new(6, 6);
    [Layer] readonly Linear key = new(6, 6);
    [Layer] readonly Linear value = new(6, 6);

    Tensor Forward(Tensor x, Tensor padding)
    {
        var h = x + positions;
        var scores = MatMul(query.Apply(h), Transpose(key.Apply(h), -2, -1)) * 0.408248290463863;
        var weights = Softmax(MaskedFill(scores, padding, double.NegativeInfinity), -1); // padding [B, 1, 5]
        return MatMul(weights, value.Apply(h));
    }
}

/// <summary>Integer ids: reshaped (a view of ids is still ids), then looked up.</summary>
[Model]
public partial class IdsModel
{
    [Layer] readonly Embedding table = new(11, 4);
    [Layer] readonly Linear head = new(4, 3);
    Tensor Forward(Tensor ids) => head.Apply(table.Apply(ids.Reshape(-1)));
}
