namespace ModelGen;

/// <summary>Marks a <c>partial</c> class whose <c>Forward</c> method the ModelGen generator compiles into
/// fused forward and backward kernels.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute;

/// <summary>Marks a field holding a layer (Linear, Dropout, a nested [Model], a LayerList) of a [Model].</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LayerAttribute : Attribute;

/// <summary>Declares the shape of one example of a Forward input, the batch dimension implied:
/// <c>Tensor Forward([Shape(1, 28, 28)] Tensor x)</c> takes [batch, 1, 28, 28]. The analyzers check every layer's
/// shapes from it at compile time (a Flatten feeding a Linear of the wrong size is a build error), and the generated
/// model checks inputs against it when it plans a new input shape.</summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class ShapeAttribute : Attribute
{
    public ShapeAttribute(params int[] dims) => Dims = dims;

    public int[] Dims { get; }
}
