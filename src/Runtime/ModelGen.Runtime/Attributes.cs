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

/// <summary>
/// Marks a <see cref="Tensor"/> field of a [Model] as a learnable tensor (a position embedding, a CLS token, a layer
/// scale): <c>[Parameter] readonly Tensor pos = Init.Normal([512, 64], std: 0.02);</c>. The generator reads the
/// initializer as a spec (shape and initialisation) and, when the model binds, makes the field the parameter: on the
/// model's device, in its dtype, drawn from its seed. Optimizers, freezing, parameter groups and Save/Load see it under
/// the field's name, like a layer's weight. The initializer may be a factory (<c>Tensor.Zeros</c>, <c>Ones</c>,
/// <c>Rand</c>, <c>Randn</c>) or an <see cref="Init"/> spec; any other tensor keeps its values.
/// <para>Blazor's <c>Microsoft.AspNetCore.Components.ParameterAttribute</c> has the same name: in a file that imports
/// both namespaces write <c>[ModelGen.Parameter]</c>.</para>
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class ParameterAttribute : Attribute;

/// <summary>Marks a <see cref="Tensor"/> field of a [Model] as a buffer: saved and loaded with the model, moved to its
/// device and dtype when it binds, never trained (a fixed mask, running statistics), PyTorch's <c>register_buffer</c>.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class BufferAttribute : Attribute;
