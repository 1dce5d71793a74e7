using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

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
