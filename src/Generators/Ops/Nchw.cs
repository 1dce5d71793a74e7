using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>Shape-rule helpers shared by the convolutional ops (NCHW: Conv2d, the pooling ops, BatchNorm2d, Dropout2d),
/// whose rules report rank (MG0018), channels (MG0019) and windows that do not fit (MG0020). Their runtime routines
/// are in src/Runtime/ModelGen.Runtime/Ops/, one file per op.</summary>
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
