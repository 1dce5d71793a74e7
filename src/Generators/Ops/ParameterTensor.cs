using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// A [Parameter] or [Buffer] tensor field read in Forward: a leaf whose value is the field (the bound parameter) and
/// whose gradient is the parameter's, accumulated like a layer's weight (every use in Forward adds to one gradient; a
/// frozen parameter or a buffer gets none). Its shape is the initializer's dimensions (constants, or symbols for
/// constructor parameters); a tensor whose values are given (not a factory or an Init spec) has a shape known only at
/// run time.
/// </summary>
public sealed class ParameterTensorRule : OpRule
{
    public override OpKind Kind => OpKind.ParameterTensor;
    public override bool IsExternal => true;

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var field = ctx.Layer(node.Layer);
        if (field is null || field.TypeName is "AsGiven" or "NotATensor") return ctx.Unifier.NewShape();
        return new SymShape(null, field.Args.Where(a => a.Name == "dim").Select(ctx.ArgDim).ToArray());
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> inputShapes, EmitContext ctx) => $"this.{node.Layer}.Shape";

    /// <summary>The generated field holding the bound <c>Parameter</c> of a [Parameter]/[Buffer] tensor field.</summary>
    public static string ParameterField(string field) => $"__{field.TrimStart('@')}Parameter";

    public override string Describe(Node node, IReadOnlyList<string> inputs) => node.Layer;
}
