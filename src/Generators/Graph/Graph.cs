using System.Collections.Generic;
using System.Linq;

namespace ModelGen.Generators.Graph;

public enum OpKind
{
    Input,
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    Gelu,
    GeluTanh,
    Add,
    Sub,
    Neg,
    MulScalar,
    Dropout,
    Reshape,
    Flatten,
    Sum,
    Mean,
    Softmax,
    LogSoftmax,
    Mse,
    SubModel,
    BlockLoop,
    Embedding,
    LayerNorm,
    Attention,
    FirstToken,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Dropout2d,

    /// <summary>An op called as a function by name and registered by its rule's own file (<see cref="Ops.FunctionRule"/>);
    /// the node's <see cref="Node.Function"/> names it.</summary>
    Function,
    /// <summary>a ⊙ b, a / b between tensors (broadcast).</summary>
    Mul,
    Div,
    /// <summary>x + c for a constant c (x − c, c + x; c − x is −x + c).</summary>
    AddScalar,
    /// <summary>A [Parameter] or [Buffer] tensor field read in Forward; <see cref="Node.Layer"/> names it.</summary>
    ParameterTensor,
}

/// <summary>What a value holds at compile time: floating-point numbers (the model's dtype), integer indices (Int32 in the
/// plan: Embedding ids, Gather indices, class ids) or booleans (comparisons, masks: 0/1 in the model's dtype inside the
/// plan, so that arithmetic on them promotes as PyTorch's does). <see cref="Any"/>: decided elsewhere (a Forward input
/// only passed on to a nested model, which checks it).</summary>
public enum ElementKind
{
    Float,
    Int,
    Bool,
    Any,
}

/// <summary>What an op needs of one of its inputs (<see cref="Ops.OpRule.InputNeed"/>).</summary>
public enum Need
{
    /// <summary>Numbers: floating point, or Bool promoted to 0/1 (not integer indices).</summary>
    Numeric,
    /// <summary>Integer indices (Embedding ids, Gather's index, class ids).</summary>
    Index,
    /// <summary>A Bool tensor (Where's condition, MaskedFill's mask).</summary>
    Bool,
    /// <summary>Whatever the op's own consumers need: a view passes its input on (Reshape of ids, then Embedding).</summary>
    Same,
    /// <summary>Anything: a nested model checks its own inputs.</summary>
    Any,
}

/// <summary>One SSA value of the forward graph: the op that makes it, its inputs and attributes.</summary>
public sealed class Node
{
    public Node(int id, OpKind kind, IReadOnlyList<int> inputs)
    {
        Id = id;
        Kind = kind;
        Inputs = inputs;
    }

    public int Id { get; }
    public OpKind Kind { get; }
    public IReadOnlyList<int> Inputs { get; }

    /// <summary>A <see cref="OpKind.Function"/> node: the function's name (its rule's <see cref="Ops.FunctionRule.Name"/>).</summary>
    public string Function { get; set; } = "";

    /// <summary>The [Layer] field the op uses (Linear, Dropout, nested models, block lists).</summary>
    public string Layer { get; set; } = "";

    /// <summary>Linear: its fused activation (Relu/Tanh/Sigmoid) or null, set by fusion.</summary>
    public OpKind? FusedActivation { get; set; }

    /// <summary>Attention: the Dropout layer applied to its probabilities (HuggingFace's attention_probs_dropout), or "".</summary>
    public string ProbsDropout { get; set; } = "";

    public double Scalar { get; set; }
    public int[] Dims { get; set; } = new int[0];
    public int InputIndex { get; set; }

    /// <summary>The compile-time shape: constants and named symbolic dimensions ("B" is the batch).</summary>
    public IReadOnlyList<string> Shape { get; set; } = new string[0];

    public List<int> Consumers { get; } = new();

    /// <summary>The Forward expression (an <see cref="Model.ExpressionSpec"/>) this node was lowered from, for diagnostics'
    /// locations; compared by reference, never used by the emitter.</summary>
    public object? Origin { get; set; }
}

/// <summary>The forward graph of one model, in topological order (the order of the Forward body).</summary>
public sealed class ModelGraph
{
    public List<Node> Nodes { get; } = new();
    public List<string> InputNames { get; } = new();
    public int Output { get; set; } = -1;
    public List<string> Errors { get; } = new();

    /// <summary>For each entry of <see cref="Errors"/>: the spec node (expression or statement) it is about, or null.</summary>
    public List<object?> ErrorOrigins { get; } = new();

    public void Error(string message, object? origin)
    {
        Errors.Add(message);
        ErrorOrigins.Add(origin);
    }

    public Node this[int id] => Nodes[id];

    public Node Add(OpKind kind, params int[] inputs)
    {
        var node = new Node(Nodes.Count, kind, inputs);
        Nodes.Add(node);
        foreach (var i in inputs.Distinct()) Nodes[i].Consumers.Add(node.Id);
        return node;
    }

    public static string FormatShape(IReadOnlyList<string> shape) => "[" + string.Join(",", shape) + "]";
}
