using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Graph;

/// <summary>A unit of the execution plan: one launch (or one runtime routine) in the forward pass, and its backward.</summary>
public abstract class Step
{
    /// <summary>The node whose value the step produces.</summary>
    public abstract Node Output { get; }
}

/// <summary>A GEMM-backed op (Linear, or Conv2d) with its bias and, when fused, its activation in the GEMM epilogue.</summary>
public sealed class LinearStep(Node linear, Node? activation) : Step
{
    public Node Linear { get; } = linear;
    public Node? Activation { get; } = activation;
    public override Node Output => Activation ?? Linear;
}

/// <summary>A chain of element-wise ops run as one kernel. Members are in topological order; the last is the root.
/// Externals are the values the chain reads (each once).</summary>
public sealed class ElementwiseStep(IReadOnlyList<Node> members, IReadOnlyList<int> externals, int index) : Step
{
    public IReadOnlyList<Node> Members { get; } = members;
    public IReadOnlyList<int> Externals { get; } = externals;
    public int Index { get; } = index;
    public override Node Output => Members[Members.Count - 1];
}

/// <summary>An op run by itself (row-wise ops, reductions, dropout, views, nested models).</summary>
public sealed class SingleStep(Node node) : Step
{
    public Node Node { get; } = node;
    public override Node Output => Node;
}

/// <summary>
/// Groups the graph into steps: an activation whose input is a Linear or Conv2d used only by it moves into the GEMM epilogue;
/// element-wise ops whose only consumer is another element-wise op join that consumer's kernel, as long as the kernel
/// reads at most <see cref="MaxOperands"/> inputs.
/// </summary>
public static class Fuser
{
    public static List<Step> Plan(ModelGraph graph)
    {
        var nodes = graph.Nodes;
        var fusedIntoLinear = new Dictionary<int, Node>(); // linear id -> activation node
        var absorbed = new HashSet<int>();
        foreach (var n in nodes)
        {
            if (OpRule.For(n).EpilogueActivation is null) continue;
            var input = nodes[n.Inputs[0]];
            if (input.Kind is OpKind.Linear or OpKind.Conv2d && input.Consumers.Count == 1 && input.Id != graph.Output && !fusedIntoLinear.ContainsKey(input.Id))
            {
                fusedIntoLinear[input.Id] = n;
                input.FusedActivation = n.Kind;
                absorbed.Add(n.Id);
            }
        }

        // group[id] = root id of the element-wise kernel the node belongs to (reverse order: consumers first)
        var group = new Dictionary<int, int>();
        var groupMembers = new Dictionary<int, HashSet<int>>(); // root id -> member ids
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var n = nodes[i];
            if (!IsElementwise(n, absorbed)) continue;
            group[n.Id] = n.Id;
            if (n.Id != graph.Output && n.Consumers.Count == 1)
            {
                var c = nodes[n.Consumers[0]];
                bool usedOnce = c.Inputs.Count(x => x == n.Id) == 1;
                if (IsElementwise(c, absorbed) && usedOnce && group.TryGetValue(c.Id, out var root))
                {
                    var joined = new HashSet<int>(groupMembers[root]) { n.Id };
                    if (Externals(nodes, joined).Count <= MaxOperands)
                    {
                        group[n.Id] = root;
                        groupMembers[root] = joined;
                        continue;
                    }
                }
            }
            groupMembers[n.Id] = new HashSet<int> { n.Id };
        }

        var steps = new List<Step>();
        var emittedGroups = new HashSet<int>();
        int kernelIndex = 0;
        foreach (var n in nodes)
        {
            if (n.Kind is OpKind.Input or OpKind.ParameterTensor || absorbed.Contains(n.Id)) continue;
            if (n.Kind is OpKind.Linear or OpKind.Conv2d)
            {
                steps.Add(new LinearStep(n, fusedIntoLinear.TryGetValue(n.Id, out var act) ? act : null));
                continue;
            }
            if (group.TryGetValue(n.Id, out var rootId))
            {
                if (rootId != n.Id) continue; // emitted with its root
                var members = nodes.Where(m => group.TryGetValue(m.Id, out var r) && r == rootId).ToList();
                var memberIds = new HashSet<int>(members.Select(m => m.Id));
                var externals = members.SelectMany(m => m.Inputs).Where(x => !memberIds.Contains(x)).Distinct().ToList();
                steps.Add(new ElementwiseStep(members, externals, kernelIndex++));
                continue;
            }
            steps.Add(new SingleStep(n));
        }
        return steps;
    }

    /// <summary>The most inputs one fused kernel reads: its ILGPU backward takes three views per input plus the output
    /// gradient, and ILGPU's kernel loaders take at most 15 parameters after the index.</summary>
    public const int MaxOperands = 4;

    private static List<int> Externals(List<Node> nodes, HashSet<int> members)
        => members.SelectMany(m => nodes[m].Inputs).Where(x => !members.Contains(x)).Distinct().ToList();

    private static bool IsElementwise(Node n, HashSet<int> absorbed) => OpRule.For(n).IsElementwise && !absorbed.Contains(n.Id);
}
