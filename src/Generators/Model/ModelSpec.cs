namespace ModelGen.Generators.Model;

// The value-equatable description of a [Model] class that flows through the incremental pipeline. It holds only
// strings, numbers, enums and EquatableArrays: no ISymbol, SyntaxNode, Location or Compilation.

/// <summary>A [Model] class: where it lives, its layers and its Forward method.</summary>
public sealed record ModelSpec(
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string ClassName,
    bool HasUserConstructors,
    EquatableArray<LayerSpec> Layers,
    ForwardSpec? Forward,
    string? UnsupportedReason);

/// <summary>A type the model class is nested in (kind keyword + name), outermost first.</summary>
public sealed record ContainingTypeSpec(string Keyword, string Name);

public enum LayerKind
{
    Linear,
    Dropout,
    Model,
    ModelList,
    Embedding,
    LayerNorm,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Dropout2d,
    /// <summary>A [Parameter] Tensor field; <see cref="LayerSpec.TypeName"/> is its <c>TensorInit</c>, its args the
    /// dimensions (named "dim") then the initialisation's "a" and "b".</summary>
    TensorParameter,
    /// <summary>A [Buffer] Tensor field, described like <see cref="TensorParameter"/>.</summary>
    TensorBuffer,
    Unsupported,
}

/// <summary>A [Layer] field: its kind, element type (for nested models and lists) and constructor arguments as written.</summary>
public sealed record LayerSpec(string Name, LayerKind Kind, string TypeName, EquatableArray<ArgSpec> Args);

/// <summary>A constructor argument: its text, its name when named, and its value when it is a compile-time constant.</summary>
public sealed record ArgSpec(string? Name, string Text, double? Constant);

/// <summary>Forward's parameters, its body, and per parameter the example shape declared with [Shape(...)]
/// ("1,28,28"; "" when none).</summary>
public sealed record ForwardSpec(EquatableArray<string> Parameters, EquatableArray<StatementSpec> Body, EquatableArray<string> InputShapes = default);

public enum StatementKind
{
    Assign,
    Return,
    Foreach,
}

/// <summary>A statement of Forward: <c>var h = e;</c> / <c>h = e;</c> (Assign), <c>return e;</c>, or
/// <c>foreach (var block in blocks) { ... }</c> over a LayerList.</summary>
public sealed record StatementSpec(
    StatementKind Kind,
    string Target,
    ExpressionSpec? Value,
    string Collection,
    EquatableArray<StatementSpec> Body);

public enum ExpressionKind
{
    Variable,
    Number,
    /// <summary>A DSL function: Relu(x), Softmax(x), ...</summary>
    Function,
    /// <summary>layer.Apply(args)</summary>
    LayerCall,
    /// <summary>x.Reshape(dims)</summary>
    Method,
    Binary,
    Negate,
    Unsupported,
}

/// <summary>An expression of Forward (recursive, value-equatable).</summary>
public sealed record ExpressionSpec(
    ExpressionKind Kind,
    string Name,
    EquatableArray<ExpressionSpec> Args,
    double Number = 0,
    string? ArgName = null)
{
    public static ExpressionSpec Unsupported(string text) => new(ExpressionKind.Unsupported, text, EquatableArray<ExpressionSpec>.Empty);
}
