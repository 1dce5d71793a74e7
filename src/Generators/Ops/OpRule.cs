using System;
using System.Collections.Generic;
using System.Globalization;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Everything the compiler side knows about one op kind: its run-time shape rule (a guard emitted into plan creation),
/// its forward and its backward. Element-wise ops give their math as expressions over VMath, which has scalar,
/// Vector256 and Vector512 overloads with the same names, so one expression yields all three loops of a fused kernel.
/// Other ops emit calls to runtime routines.
/// </summary>
public abstract class OpRule
{
    public abstract OpKind Kind { get; }

    public virtual bool IsElementwise => false;

    /// <summary>The runtime IActivation struct when the op can run in a GEMM epilogue (its derivative must be expressible
    /// from its output).</summary>
    public virtual string? EpilogueActivation => null;

    /// <summary>Element-wise forward: the output expression from the input expressions.</summary>
    public virtual string Forward(IReadOnlyList<string> inputs, Node node) => throw new InvalidOperationException($"{Kind} is not element-wise");

    /// <summary>Element-wise backward: (input index, contribution to its adjoint) given the output adjoint g, the inputs and the output y.</summary>
    public virtual IEnumerable<(int Input, string Contribution)> Backward(string g, IReadOnlyList<string> inputs, string y, Node node)
        => throw new InvalidOperationException($"{Kind} is not element-wise");

    /// <summary>The expression for the node's run-time shape (with guards), from its inputs' shape variables.</summary>
    public virtual string RuntimeShape(Node node, IReadOnlyList<string> inputShapes, EmitContext ctx) => inputShapes[0];

    /// <summary>The compile-time shape rule: the output shape from the inputs' shapes, reporting a contradiction that is
    /// certain through <see cref="ShapeContext.Report"/> (the analyzers turn it into a diagnostic). What cannot be
    /// decided at compile time (symbolic dimensions) is left to <see cref="RuntimeShape"/>'s guard. Default: the shape of
    /// the first input (element-wise ops with one input, activations, softmax).</summary>
    public virtual SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
        => inputs.Count > 0 ? inputs[0] : ctx.Unifier.NewShape();

    /// <summary>What the op needs of its <paramref name="index"/>-th input's dtype (checked by <see cref="DTypes"/>, and
    /// how a Forward input is checked and converted at the call). Default: numbers.</summary>
    public virtual Need InputNeed(Node node, int index) => Need.Numeric;

    /// <summary>What the op's value holds, from its inputs' types. Default: floating point.</summary>
    public virtual ElementKind OutputType(Node node, IReadOnlyList<ElementKind> inputs) => ElementKind.Float;

    /// <summary>Whether the node's value is a view (no storage of its own).</summary>
    public virtual bool IsView => false;

    /// <summary>Whether the node's value is produced by another model (a nested model or a block list) and not stored in this plan.</summary>
    public virtual bool IsExternal => false;

    /// <summary>Extra per-plan tensors the op needs (e.g. dropout masks), as (field name, shape expression).</summary>
    /// <summary>Extra per-plan tensors the op keeps for its backward: (field name, shape expression; null = the node's shape).</summary>
    public virtual IEnumerable<(string Name, string? Shape)> PlanTensors(Node node) => Array.Empty<(string, string?)>();

    /// <summary>Whether a plan tensor of <see cref="PlanTensors"/> is touched only by a training step (it is then laid
    /// out with the gradients, after what an eval-mode forward pass touches).</summary>
    public virtual bool IsTrainingOnly(string planTensor) => false;

    /// <summary>Extra members of the plan (declarations), e.g. a permutation computed once per input shape.</summary>
    public virtual IEnumerable<string> PlanFields(Node node) => Array.Empty<string>();

    /// <summary>Statements that set <see cref="PlanFields"/> when a plan is created, from the input shapes' variables.</summary>
    public virtual IEnumerable<string> PlanSetup(Node node, IReadOnlyList<string> inputShapes) => Array.Empty<string>();

    public virtual void EmitForward(EmitContext ctx, Node node) => throw new InvalidOperationException($"{Kind} has no standalone forward");

    public virtual void EmitBackward(EmitContext ctx, Node node) => throw new InvalidOperationException($"{Kind} has no standalone backward");

    /// <summary>A short description for the generated code's comments.</summary>
    public virtual string Describe(Node node, IReadOnlyList<string> inputs) => $"{Kind.ToString().ToLowerInvariant()}({string.Join(", ", inputs)})";

    protected static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static readonly Dictionary<OpKind, OpRule> Rules = new()
    {
        [OpKind.Input] = new InputRule(),
        [OpKind.Linear] = new LinearRule(),
        [OpKind.Relu] = new ReluRule(),
        [OpKind.Tanh] = new TanhRule(),
        [OpKind.Sigmoid] = new SigmoidRule(),
        [OpKind.Gelu] = new GeluRule(),
        [OpKind.GeluTanh] = new GeluTanhRule(),
        [OpKind.Add] = new AddRule(),
        [OpKind.Sub] = new SubRule(),
        [OpKind.Neg] = new NegRule(),
        [OpKind.MulScalar] = new MulScalarRule(),
        [OpKind.Mul] = new MulRule(),
        [OpKind.Div] = new DivRule(),
        [OpKind.AddScalar] = new AddScalarRule(),
        [OpKind.Dropout] = new DropoutRule(),
        [OpKind.Reshape] = new ReshapeRule(),
        [OpKind.Flatten] = new FlattenRule(),
        [OpKind.Sum] = new SumRule(mean: false),
        [OpKind.Mean] = new SumRule(mean: true),
        [OpKind.Softmax] = new SoftmaxRule(log: false),
        [OpKind.LogSoftmax] = new SoftmaxRule(log: true),
        [OpKind.Mse] = new MseRule(),
        [OpKind.SubModel] = new SubModelRule(),
        [OpKind.BlockLoop] = new BlockLoopRule(),
        [OpKind.Embedding] = new EmbeddingRule(),
        [OpKind.LayerNorm] = new LayerNormRule(),
        [OpKind.Attention] = new AttentionRule(),
        [OpKind.FirstToken] = new FirstTokenRule(),
        [OpKind.Conv2d] = new Conv2dRule(),
        [OpKind.MaxPool2d] = new Pool2dRule(max: true),
        [OpKind.AvgPool2d] = new Pool2dRule(max: false),
        [OpKind.AdaptiveAvgPool2d] = new AdaptiveAvgPool2dRule(),
        [OpKind.BatchNorm2d] = new BatchNorm2dRule(),
        [OpKind.Dropout2d] = new Dropout2dRule(),
        [OpKind.ParameterTensor] = new ParameterTensorRule(),
    };

    public static OpRule For(OpKind kind) => Rules[kind];

    /// <summary>The rule of a node: by its kind, or for a <see cref="OpKind.Function"/> by its function's name.</summary>
    public static OpRule For(Node node)
        => node.Kind == OpKind.Function
            ? FunctionRule.Find(node.Function) ?? throw new InvalidOperationException($"no function rule named '{node.Function}'")
            : Rules[node.Kind];
}

/// <summary>A Forward parameter.</summary>
public sealed class InputRule : OpRule
{
    public override OpKind Kind => OpKind.Input;
    public override bool IsExternal => true;
}
