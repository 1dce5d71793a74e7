using System.Collections.Generic;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Emit;

/// <summary>Where a gradient contribution goes: the tensor, whether to add to it, and a guard when the tensor may be
/// null (a Forward argument that does not require a gradient).</summary>
public readonly record struct GradTarget(string Tensor, string Accumulate, string Guard);

/// <summary>Names of the plan's tensors for the rules, and the bookkeeping of gradient contributions during the
/// backward: the first contribution to a value's gradient assigns, later ones add (fan-out sums).</summary>
public sealed class EmitContext
{
    private readonly ModelGraph _graph;
    private readonly HashSet<int> _initialized = new();

    public EmitContext(ModelGraph graph, CodeWriter writer)
    {
        _graph = graph;
        Writer = writer;
    }

    public CodeWriter Writer { get; set; }

    public string Layer(string name) => "this." + name;
    public string Value(int id) => $"p.v{id}";
    public string Grad(int id) => $"p.g{id}";

    private DTypes.Result? _dtypes;

    /// <summary>Whether a value can have a gradient: integer indices and Bool masks cannot.</summary>
    public bool IsDifferentiable(int id)
    {
        _dtypes ??= DTypes.Analyze(_graph);
        return _dtypes.Kinds[id] is ElementKind.Float or ElementKind.Any;
    }

    /// <summary>True when the node's value comes from outside this plan (an argument or a nested model's output).</summary>
    public bool IsExternal(int id) => OpRule.For(_graph[id]).IsExternal;

    /// <summary>Follows views of plan-owned values to the value whose gradient memory they share.</summary>
    public int GradOwner(int id)
    {
        var n = _graph[id];
        while (OpRule.For(n).IsView && !IsExternal(n.Inputs[0])) n = _graph[n.Inputs[0]];
        return n.Id;
    }

    public bool HasGradient(int id) => _initialized.Contains(GradOwner(id));

    public GradTarget Contribute(int id)
    {
        int owner = GradOwner(id);
        var node = _graph[owner];
        bool first = _initialized.Add(owner);
        if (node.Kind == OpKind.ParameterTensor)
        {
            // the parameter's gradient, asked for at its first contribution: it is then overwritten when cleared since
            // the last backward, and added to by every later contribution
            var local = $"pg{owner}";
            if (first) Writer.Line($"var {local} = global::ModelGen.Ops.ParameterGrad(this.{ParameterTensorRule.Bound(node)}, out bool pacc{owner}); // {node.Layer}'s gradient");
            return new GradTarget(local, first ? $"pacc{owner}" : "true", $"if ({local} is not null) ");
        }
        if (node.Kind == OpKind.Input)
        {
            var local = $"inGrad{node.InputIndex}";
            return new GradTarget(local, first ? "!module" : "true", $"if ({local} is not null) ");
        }
        return new GradTarget(Grad(id), first ? "false" : "true", "");
    }

    public void MarkSeeded(int id) => _initialized.Add(GradOwner(id));
}
