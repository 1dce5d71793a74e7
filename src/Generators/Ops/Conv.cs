using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

// The convolutional ops (NCHW): Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d and Dropout2d. Each rule
// has its compile-time shape rule (rank MG0018, channels MG0019, windows that do not fit MG0020), its run-time guard
// and the calls of its forward and backward routines (src/Runtime/ModelGen.Runtime/Nn/ConvOps.cs).

/// <summary>Shape-rule helpers shared by the convolutional ops.</summary>
internal static class Nchw
{
    /// <summary>The input as [n, c, h, w] (an unknown shape learns rank 4); another rank is MG0018 and gives null.</summary>
    public static SymShape? Input(ShapeContext ctx, Node node, SymShape input, string what)
    {
        var u = ctx.Unifier;
        var x = SymShape.Of(u.NewDim(), u.NewDim(), u.NewDim(), u.NewDim());
        string before = ctx.Format(input);
        if (u.Unify(input, x) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.Rank, node,
                $"{what} needs NCHW input [batch, channels, height, width] but {ShapeContext.DescribeArgument(node, 0)} has shape {before}");
            return null;
        }
        return u.Resolve(x);
    }

    /// <summary>The channel dimension must be the layer's (MG0019); false when it certainly is not.</summary>
    public static bool Channels(ShapeContext ctx, Node node, SymShape x, Dim expected, string what, string layer)
    {
        var c = ctx.Unifier.Resolve(x.Dims[1]);
        string shape = ctx.Format(x);
        if (ctx.Unifier.Unify(c, expected) != Unification.Conflict) return true;
        ctx.Report(ShapeDiagnosticIds.ChannelMismatch, node,
            $"{what} but {ShapeContext.DescribeArgument(node, 0)} has shape {shape} ({ctx.Unifier.Format(c)} channels)", layer);
        return false;
    }

    /// <summary>One spatial output size: ⌊(size + 2p − d(k−1) − 1)/s⌋ + 1 when everything is a constant; a window larger
    /// than the padded input is MG0020 (and gives null). Unknown otherwise.</summary>
    public static Dim? Spatial(ShapeContext ctx, Node node, SymShape x, int axis, int? kernel, int? stride, int? padding, int? dilation,
        string what, string window, string layer)
    {
        var u = ctx.Unifier;
        var size = u.Resolve(x.Dims[axis]);
        if (size.Kind != DimKind.Const || kernel is not int k || stride is not int s || padding is not int p || dilation is not int d || s <= 0)
            return u.NewDim();
        long extent = (long)d * (k - 1) + 1;
        long padded = size.Value + 2L * p;
        if (padded < extent)
        {
            string dimension = axis == 2 ? "height" : "width";
            ctx.Report(ShapeDiagnosticIds.WindowSize, node,
                $"{what} has a {window} that spans {extent} but {ShapeContext.DescribeArgument(node, 0)} has {dimension} {size.Value}{(p > 0 ? $" (+ {p} padding on each side = {padded})" : "")} (shape {ctx.Format(x)}): the output would be empty", layer);
            return null;
        }
        return Dim.Const((padded - extent) / s + 1);
    }

    /// <summary>An int constructor argument: its constant, <paramref name="fallback"/> when it is absent (or null), null when not a constant.</summary>
    public static int? Arg(LayerSpec layer, int position, int? fallback, params string[] names)
    {
        var arg = LayerArgs.Find(layer, position, names);
        if (arg is null || arg.Text == "null") return fallback;
        return arg.Constant is double c ? (int)c : null;
    }

    public static string Text(int? value) => value is int v ? v.ToString(CultureInfo.InvariantCulture) : "?";
}

/// <summary>
/// y = act(W ⊛ x + b) over NCHW, W [out, in/groups, k, k]: per image and group one GEMM y_g = W_g·im2col(x_g) with the
/// bias (per output channel: a row of the GEMM) and the activation fused in the epilogue. Backward (dY the gradient of y):
///   dZ = dY ⊙ act'(y) in place, with db += Σ_(n, pixels) dZ
///   dW_g += dZ_g · im2col(x_g)ᵀ      GEMM NT per image
///   dx_g (+)= col2im(W_gᵀ · dZ_g)    GEMM TN, then the column matrix is scattered back (skipped when x needs no gradient)
/// </summary>
public sealed class Conv2dRule : OpRule
{
    public override OpKind Kind => OpKind.Conv2d;

    /// <summary>[n, in, h, w] → [n, out, h', w'] with h' = ⌊(h + 2p − d(k−1) − 1)/s⌋ + 1: rank 4 (MG0018), the input's
    /// channels must be in_channels and divisible by groups (MG0019), the dilated kernel must fit the padded input (MG0020).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        string what = $"Conv2d layer '{layer.Name}'";
        var x = Nchw.Input(ctx, node, inputs[0], what);
        if (x is null) return ctx.Unifier.NewShape();
        var inC = ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "inChannels", "in_channels"), "in");
        var outC = ctx.LayerDim(layer, LayerArgs.Find(layer, 1, "outChannels", "out_channels"), "out");
        int? kernel = Nchw.Arg(layer, 2, null, "kernelSize", "kernel_size");
        int? stride = Nchw.Arg(layer, 3, 1, "stride");
        int? padding = Nchw.Arg(layer, 4, 0, "padding");
        int? dilation = Nchw.Arg(layer, 5, 1, "dilation");
        int? groups = Nchw.Arg(layer, 6, 1, "groups");
        if (!Nchw.Channels(ctx, node, x, inC, $"{what} expects {ctx.Unifier.Format(inC)} input channels", layer.Name)) return ctx.Unifier.NewShape();
        var c = ctx.Unifier.Resolve(x.Dims[1]);
        if (groups is int g && g > 1 && c.Kind == DimKind.Const && c.Value % g != 0)
        {
            ctx.Report(ShapeDiagnosticIds.ChannelMismatch, node, $"{what} splits its {c.Value} input channels into groups = {g}, which does not divide them", layer.Name);
            return ctx.Unifier.NewShape();
        }
        string window = $"{Nchw.Text(kernel)}×{Nchw.Text(kernel)} kernel{(dilation is int d && d != 1 ? $" dilated by {d}" : "")}";
        var h = Nchw.Spatial(ctx, node, x, 2, kernel, stride, padding, dilation, what, window, layer.Name);
        if (h is null) return ctx.Unifier.NewShape();
        var w = Nchw.Spatial(ctx, node, x, 3, kernel, stride, padding, dilation, what, window, layer.Name);
        if (w is null) return ctx.Unifier.NewShape();
        return SymShape.Of(x.Dims[0], outC, h, w);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.Conv2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    /// <summary>Emitted as a GEMM step (with its fused activation, if any): see <see cref="EmitForward(EmitContext, LinearStep)"/>.</summary>
    public override void EmitForward(EmitContext ctx, Node node) { }

    public void EmitForward(EmitContext ctx, LinearStep step)
    {
        var x = step.Linear.Inputs[0];
        ctx.Writer.Line($"global::ModelGen.Ops.Conv2dForward<T, {LinearRule.ActivationType(step.Linear.FusedActivation)}>({ctx.Layer(step.Linear.Layer)}, {ctx.Value(x)}, {ctx.Value(step.Output.Id)});");
    }

    public void EmitBackward(EmitContext ctx, LinearStep step)
    {
        var x = step.Linear.Inputs[0];
        var target = ctx.Contribute(x);
        ctx.Writer.Line($"global::ModelGen.Ops.Conv2dBackward<T, {LinearRule.ActivationType(step.Linear.FusedActivation)}>({ctx.Layer(step.Linear.Layer)}, {ctx.Value(x)}, {ctx.Value(step.Output.Id)}, {ctx.Grad(step.Output.Id)}, {target.Tensor}, {target.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"conv2d({i[0]}, {node.Layer})";
}

/// <summary>
/// MaxPool2d / AvgPool2d over NCHW windows (stride defaults to the kernel; padding ≤ kernel/2). Max keeps the index of
/// each window's maximum: dx[argmax] += dy. Average (count_include_pad): dx[window] += dy/k².
/// </summary>
public sealed class Pool2dRule : OpRule
{
    private readonly bool _max;

    public Pool2dRule(bool max) => _max = max;

    public override OpKind Kind => _max ? OpKind.MaxPool2d : OpKind.AvgPool2d;

    private string Op => _max ? "MaxPool2d" : "AvgPool2d";

    /// <summary>[n, c, h, w] → [n, c, h', w']; rank 4 (MG0018); the window must fit the padded input (MG0020).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        string what = $"{Op} layer '{layer.Name}'";
        var x = Nchw.Input(ctx, node, inputs[0], what);
        if (x is null) return ctx.Unifier.NewShape();
        int? kernel = Nchw.Arg(layer, 0, null, "kernelSize", "kernel_size");
        int? stride = Nchw.Arg(layer, 1, kernel, "stride");
        int? padding = Nchw.Arg(layer, 2, 0, "padding");
        string window = $"{Nchw.Text(kernel)}×{Nchw.Text(kernel)} window";
        var h = Nchw.Spatial(ctx, node, x, 2, kernel, stride, padding, 1, what, window, layer.Name);
        if (h is null) return ctx.Unifier.NewShape();
        var w = Nchw.Spatial(ctx, node, x, 3, kernel, stride, padding, 1, what, window, layer.Name);
        if (w is null) return ctx.Unifier.NewShape();
        return SymShape.Of(x.Dims[0], x.Dims[1], h, w);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.{Op}Shape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => _max ? new[] { ($"idx{node.Id}", (string?)null) } : System.Array.Empty<(string, string?)>();

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line(_max
            ? $"global::ModelGen.Ops.MaxPool2dForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.idx{node.Id});"
            : $"global::ModelGen.Ops.AvgPool2dForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line(_max
            ? $"{t.Guard}global::ModelGen.Ops.MaxPool2dBackward<T>({ctx.Layer(node.Layer)}, {ctx.Grad(node.Id)}, p.idx{node.Id}, {t.Tensor}, {t.Accumulate});"
            : $"{t.Guard}global::ModelGen.Ops.AvgPool2dBackward<T>({ctx.Layer(node.Layer)}, {ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{(_max ? "max" : "avg")}_pool2d({i[0]}, {node.Layer})";
}

/// <summary>AdaptiveAvgPool2d(oh, ow): output cell (i, j) averages input rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 and the same
/// columns. Backward: each input of a cell's window gets dy/|window|.</summary>
public sealed class AdaptiveAvgPool2dRule : OpRule
{
    public override OpKind Kind => OpKind.AdaptiveAvgPool2d;

    /// <summary>[n, c, h, w] → [n, c, oh, ow]; rank 4 (MG0018).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var x = Nchw.Input(ctx, node, inputs[0], $"AdaptiveAvgPool2d layer '{layer.Name}'");
        if (x is null) return ctx.Unifier.NewShape();
        var first = LayerArgs.Find(layer, 0, "outputSize", "outputHeight", "output_size");
        var second = LayerArgs.Find(layer, 1, "outputWidth");
        var h = first is null ? ctx.Unifier.NewDim() : ctx.ArgDim(first);
        var w = second is null ? h : ctx.ArgDim(second);
        return SymShape.Of(x.Dims[0], x.Dims[1], h, w);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.AdaptiveAvgPool2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.AdaptiveAvgPool2dForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.AdaptiveAvgPool2dBackward<T>({ctx.Layer(node.Layer)}, {ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"adaptive_avg_pool2d({i[0]}, {node.Layer})";
}

/// <summary>
/// BatchNorm2d: per channel y = (x − μ)/σ·w + b with the batch's statistics in training (updating the running ones) and
/// the running statistics in evaluation; keeps (μ, 1/σ) per channel and the mode. Backward (N values per channel,
/// x̂ = (x − μ)/σ): dw += Σ dy·x̂, db += Σ dy; training: dx = w/σ·(dy − Σdy/N − x̂·Σ(dy·x̂)/N); evaluation: dx = w/σ·dy.
/// </summary>
public sealed class BatchNorm2dRule : OpRule
{
    public override OpKind Kind => OpKind.BatchNorm2d;

    /// <summary>[n, c, h, w] → the same; rank 4 (MG0018); c must be num_features (MG0019).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        string what = $"BatchNorm2d layer '{layer.Name}'";
        var x = Nchw.Input(ctx, node, inputs[0], what);
        if (x is null) return ctx.Unifier.NewShape();
        var features = ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "numFeatures", "num_features"), "features");
        if (!Nchw.Channels(ctx, node, x, features, $"{what} normalises {ctx.Unifier.Format(features)} channels", layer.Name)) return ctx.Unifier.NewShape();
        return ctx.Unifier.Resolve(x);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.BatchNorm2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"bn{node.Id}", (string?)$"global::ModelGen.Ops.BatchNorm2dStatsShape(this.{node.Layer})") };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.BatchNorm2dForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.bn{node.Id}, Training);");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"global::ModelGen.Ops.BatchNorm2dBackward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Grad(node.Id)}, p.bn{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}

/// <summary>Dropout2d: training y = x ⊙ m with one m = (u ≥ p)/(1 − p) per (sample, channel) plane; evaluation y = x
/// (an all-ones mask). dx = dy ⊙ m.</summary>
public sealed class Dropout2dRule : OpRule
{
    public override OpKind Kind => OpKind.Dropout2d;

    /// <summary>[n, c, h, w] → the same; rank 4 (MG0018).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        return (layer is null ? null : Nchw.Input(ctx, node, inputs[0], $"Dropout2d layer '{layer.Name}'")) ?? ctx.Unifier.NewShape();
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.Dropout2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"m{node.Id}", (string?)$"global::ModelGen.Ops.Dropout2dMaskShape(s{node.Id})") };

    public override void EmitForward(EmitContext ctx, Node node)
    {
        var x = ctx.Value(node.Inputs[0]);
        ctx.Writer.Line($"if (Training) global::ModelGen.Ops.Dropout2d<T>({ctx.Layer(node.Layer)}, {x}, p.m{node.Id}, {ctx.Value(node.Id)}, Seed, Step);");
        ctx.Writer.Line($"else global::ModelGen.Ops.Dropout2dIdentity<T>({x}, p.m{node.Id}, {ctx.Value(node.Id)});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.Dropout2dBackward<T>({ctx.Grad(node.Id)}, p.m{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}
