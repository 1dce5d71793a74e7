using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

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
