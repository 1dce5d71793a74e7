namespace ModelGen;

/// <summary>Marks a <c>partial</c> class whose <c>Forward</c> method the ModelGen generator compiles into
/// fused forward and backward kernels.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute;

/// <summary>Marks a field holding a layer (Linear, Dropout, a nested [Model], a LayerList) of a [Model].</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LayerAttribute : Attribute;
