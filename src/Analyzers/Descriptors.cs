using Microsoft.CodeAnalysis;
using ModelGen.Generators.Graph;

namespace ModelGen.Analyzers;

/// <summary>
/// Every ModelGen diagnostic. IDs are stable; each has a page docs/diagnostics/MGxxxx.md with a wrong example and its
/// fix. Reserved for ops that arrive later (their rules will raise them from the op's shape rule): MG0004 matmul inner
/// dimension, MG0009 an in-graph cross-entropy's target. MG0003 (an Embedding's output) stays reserved: a mismatch of
/// an embedding's size is reported by the rule of the layer that consumes it (MG0001, MG0002, MG0006).
/// </summary>
public static class Descriptors
{
    public const string Shapes = "ModelGen.Shapes";
    public const string Usage = "ModelGen.Usage";

    /// <summary>Where the pages live (docs/diagnostics in the repository).</summary>
    public const string HelpBase = "https://github.com/modelgen/modelgen/blob/main/docs/diagnostics/";

    private static DiagnosticDescriptor Rule(string id, string title, string message, string category, DiagnosticSeverity severity, string description)
        => new(id, title, message, category, severity, isEnabledByDefault: true, description: description, helpLinkUri: HelpBase + id + ".md");

    public static readonly DiagnosticDescriptor LinearInput = Rule(ShapeDiagnosticIds.LinearInput,
        "Linear input features do not match the input's last dimension",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "A Linear(in, out) layer multiplies the last dimension of its input by an [out, in] weight: the input's last dimension must be in.");

    public static readonly DiagnosticDescriptor LayerNormInput = Rule(ShapeDiagnosticIds.LayerNormInput,
        "LayerNorm size does not match the input's last dimension",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "LayerNorm(dim) normalises the last dimension of its input with dim weights and biases: the input's last dimension must be dim.");

    public static readonly DiagnosticDescriptor AttentionOperands = Rule(ShapeDiagnosticIds.MatMulBatch,
        "Batched matmul operands disagree (MatMul's batch dimensions, Attention's operands)",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "MatMul's batch dimensions broadcast as NumPy's do; Attention(query, key, value, mask, heads) multiplies per batch and head: query, key and value must share one [batch, seq, hidden] shape and the mask must be [batch, seq].");

    public static readonly DiagnosticDescriptor MatMulInner = Rule(ShapeDiagnosticIds.MatMulInner,
        "MatMul inner dimensions differ",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "MatMul(a, b) multiplies a's last dimension against b's second-to-last (or only) dimension: they must be equal.");

    public static readonly DiagnosticDescriptor DimRange = Rule(ShapeDiagnosticIds.DimRange,
        "Dimension out of range",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "A dim argument (Sum, Softmax, Transpose, Permute, …) must lie in [-rank, rank): negative dims count from the end; Permute's dims must name each dimension once.");

    public static readonly DiagnosticDescriptor DType = Rule(ShapeDiagnosticIds.DType,
        "Tensor of the wrong dtype",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Embedding ids, Gather indices and class ids are integer tensors; Where's condition and MaskedFill's mask are Bool tensors (comparisons make them); integer indices cannot be used as numbers.");

    public static readonly DiagnosticDescriptor HeadsDivide = Rule(ShapeDiagnosticIds.HeadsDivide,
        "Attention heads do not divide the hidden size",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Multi-head attention splits the hidden size into equal heads: the head count must divide it.");

    public static readonly DiagnosticDescriptor Rank = Rule(ShapeDiagnosticIds.Rank,
        "Input of the wrong rank",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Some ops need an input of a given rank, e.g. FirstToken needs [batch, seq, hidden] and Conv2d, the poolings, BatchNorm2d and Dropout2d need NCHW [batch, channels, height, width].");

    public static readonly DiagnosticDescriptor ChannelMismatch = Rule(ShapeDiagnosticIds.ChannelMismatch,
        "Convolution or batch-norm channels do not match the input's channel dimension",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Conv2d(in, out, k) and BatchNorm2d(c) read NCHW input: its second dimension must be in (or c), and a grouped convolution's groups must divide it.");

    public static readonly DiagnosticDescriptor WindowSize = Rule(ShapeDiagnosticIds.WindowSize,
        "Convolution kernel or pooling window larger than the padded input",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "A Conv2d kernel (spanning dilation·(k − 1) + 1) or a pooling window must fit in the input plus its padding, otherwise the output has no rows or columns.");

    public static readonly DiagnosticDescriptor ElementwiseShapes = Rule(ShapeDiagnosticIds.ElementwiseShapes,
        "Element-wise operation with shapes that do not broadcast",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Element-wise ops between tensors broadcast as NumPy does: aligned at the last dimension, two dimensions must be equal or one of them 1.");

    public static readonly DiagnosticDescriptor ReshapeCount = Rule(ShapeDiagnosticIds.ReshapeCount,
        "Reshape changes the number of elements",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "Reshape (and View) reinterpret the same elements: the new shape must hold exactly as many elements as the old one.");

    public static readonly DiagnosticDescriptor MseTarget = Rule(ShapeDiagnosticIds.MseTarget,
        "MseLoss target has a different shape than the prediction",
        "{0}", Shapes, DiagnosticSeverity.Error,
        "MseLoss(prediction, target) compares element by element: the target must have the prediction's shape.");

    public static readonly DiagnosticDescriptor BlockListShape = Rule(ShapeDiagnosticIds.BlockListShape,
        "The blocks of a LayerList change the shape of the value they loop over",
        "{0}", Shapes, DiagnosticSeverity.Warning,
        "In 'foreach (var b in blocks) h = b.Apply(h);' every block gets the previous block's output, so a block must return h's shape.");

    public static readonly DiagnosticDescriptor NotPartial = Rule("MG0011",
        "[Model] class must be partial",
        "[Model] class '{0}' must be partial: the generator adds its forward and backward passes to it", Usage, DiagnosticSeverity.Error,
        "The generator completes a [Model] class in a second part of the same partial class.");

    public static readonly DiagnosticDescriptor UnsupportedLayerType = Rule("MG0012",
        "[Layer] on a type ModelGen cannot use as a layer",
        "[Layer] '{0}' has type {1}, which is not a layer: use Linear, Dropout, LayerNorm, Embedding, a [Model] class or a LayerList<T> of a [Model] class", Usage, DiagnosticSeverity.Error,
        "Only ModelGen's layers, nested [Model] classes and LayerList<T> of [Model] classes can be [Layer]s.");

    public static readonly DiagnosticDescriptor UndeclaredDimension = Rule("MG0013",
        "Layer dimension is neither a compile-time constant nor a symbolic dimension",
        "{0} of layer '{1}' is '{2}', which is neither a compile-time constant nor a symbolic dimension (a constructor parameter, a field, a property, a local, or +, -, *, / of them): shapes through it cannot be checked", Usage, DiagnosticSeverity.Error,
        "Layer sizes must be constants or named symbolic dimensions so that shapes can be checked at compile time; compute the value into a constructor parameter, field or property first.");

    public static readonly DiagnosticDescriptor UnsupportedConstruct = Rule("MG0014",
        "Forward contains a construct the generator cannot compile",
        "{0}", Usage, DiagnosticSeverity.Error,
        "Forward may declare and assign tensor locals, apply [Layer]s, call the DSL functions, use +, - and * or / by a number, Reshape, loop over a LayerList with 'foreach (var b in blocks) h = b.Apply(h);' and return.");

    public static readonly DiagnosticDescriptor UnusedLayer = Rule("MG0015",
        "Layer declared but never used in Forward",
        "Layer '{0}' is declared but never used in Forward: its parameters are created, trained and saved for nothing", Usage, DiagnosticSeverity.Warning,
        "A [Layer] that Forward never applies still owns parameters; remove it or apply it.");

    public static readonly DiagnosticDescriptor DropoutProbability = Rule("MG0016",
        "Dropout probability outside [0, 1)",
        "Dropout '{0}' has probability {1}, outside [0, 1): its constructor throws when the model is created", Usage, DiagnosticSeverity.Warning,
        "Dropout(p) zeroes each element with probability p and scales the rest by 1/(1-p): p must be at least 0 and below 1.");

    public static DiagnosticDescriptor? ForShapeIssue(string id) => id switch
    {
        ShapeDiagnosticIds.LinearInput => LinearInput,
        ShapeDiagnosticIds.LayerNormInput => LayerNormInput,
        ShapeDiagnosticIds.MatMulBatch => AttentionOperands,
        ShapeDiagnosticIds.MatMulInner => MatMulInner,
        ShapeDiagnosticIds.DimRange => DimRange,
        ShapeDiagnosticIds.DType => DType,
        ShapeDiagnosticIds.HeadsDivide => HeadsDivide,
        ShapeDiagnosticIds.Rank => Rank,
        ShapeDiagnosticIds.ChannelMismatch => ChannelMismatch,
        ShapeDiagnosticIds.WindowSize => WindowSize,
        ShapeDiagnosticIds.ElementwiseShapes => ElementwiseShapes,
        ShapeDiagnosticIds.ReshapeCount => ReshapeCount,
        ShapeDiagnosticIds.MseTarget => MseTarget,
        ShapeDiagnosticIds.BlockListShape => BlockListShape,
        _ => null,
    };
}
