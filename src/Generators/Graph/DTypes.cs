using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Graph;

/// <summary>How a Forward input is checked and converted when the model is called.</summary>
public enum InputRole
{
    /// <summary>Numbers: the model's dtype as given; Bool and integer tensors are converted (promoted, as PyTorch's
    /// arithmetic does) into a tensor of the plan.</summary>
    Float,
    /// <summary>Integer indices: Int32 as given, Int64 converted to Int32; a floating-point tensor is refused.</summary>
    Index,
    /// <summary>A Bool mask, held as 0/1 in the model's dtype inside the plan; any other dtype is refused.</summary>
    Mask,
    /// <summary>Only passed on to nested models, which check it.</summary>
    Any,
}

/// <summary>A dtype contradiction: what the op at <see cref="Node"/> needs of its <see cref="Input"/>-th input.</summary>
public sealed class DTypeIssue
{
    public DTypeIssue(Node node, int input, string message)
    {
        Node = node;
        Input = input;
        Message = message;
    }

    public Node Node { get; }
    public int Input { get; }
    public string Message { get; }
}

/// <summary>The dtypes of a graph, decided at compile time: Forward inputs get a role from what their uses need
/// (Embedding ids and Gather indices are integers, Where's condition and MaskedFill's mask are Bool, the rest numbers),
/// then every value gets its kind from its op's rule. Integer indices used as numbers, a floating-point value used as a
/// mask and a mask or numbers used as indices are issues (MG0030).</summary>
public static class DTypes
{
    public sealed class Result
    {
        public Result(ElementKind[] kinds, Dictionary<int, InputRole> roles, List<DTypeIssue> issues, Dictionary<int, string> uses)
        {
            Kinds = kinds;
            Roles = roles;
            Issues = issues;
            Uses = uses;
        }

        /// <summary>Every node's element kind, by id.</summary>
        public ElementKind[] Kinds { get; }
        /// <summary>Each Input node's role, by node id.</summary>
        public Dictionary<int, InputRole> Roles { get; }
        public List<DTypeIssue> Issues { get; }
        /// <summary>For Index and Mask inputs: the first use that gave the role ("Embedding ids", "Where's condition"), for
        /// the run-time message.</summary>
        public Dictionary<int, string> Uses { get; }
    }

    public static Result Analyze(ModelGraph graph)
    {
        int count = graph.Nodes.Count;
        // demands flow backwards: what the consumers of each value need of it (through views, Need.Same)
        var demands = new List<(Need Need, Node User, int Input)>[count];
        for (int i = 0; i < count; i++) demands[i] = new List<(Need, Node, int)>();
        for (int id = count - 1; id >= 0; id--)
        {
            var node = graph[id];
            if (node.Kind == OpKind.Input) continue;
            var rule = OpRule.For(node);
            for (int j = 0; j < node.Inputs.Count; j++)
            {
                var need = rule.InputNeed(node, j);
                var target = demands[node.Inputs[j]];
                if (need == Need.Same) target.AddRange(demands[id]);
                else target.Add((need, node, j));
            }
        }

        var issues = new List<DTypeIssue>();
        var roles = new Dictionary<int, InputRole>();
        var uses = new Dictionary<int, string>();
        var kinds = new ElementKind[count];
        foreach (var node in graph.Nodes)
        {
            if (node.Kind == OpKind.Input)
            {
                var d = demands[node.Id];
                var index = d.FirstOrDefault(x => x.Need == Need.Index);
                var mask = d.FirstOrDefault(x => x.Need == Need.Bool);
                var numeric = d.FirstOrDefault(x => x.Need == Need.Numeric);
                InputRole role;
                if (index.User is not null)
                {
                    role = InputRole.Index;
                    uses[node.Id] = Use(index.User, index.Input);
                    var other = mask.User is not null ? mask : numeric;
                    if (other.User is not null)
                        issues.Add(new DTypeIssue(other.User, other.Input,
                            $"'{node.Layer}' holds integer indices (it is {Use(index.User, index.Input)}) and cannot also be {Use(other.User, other.Input)}: " +
                            (other.Need == Need.Bool ? "compare it to make a Bool mask" : "pass the numbers as another input, or convert them outside the model")));
                }
                else if (mask.User is not null)
                {
                    role = InputRole.Mask;
                    uses[node.Id] = Use(mask.User, mask.Input);
                }
                else role = d.Count > 0 && d.All(x => x.Need == Need.Any) ? InputRole.Any : InputRole.Float;
                roles[node.Id] = role;
                kinds[node.Id] = role switch { InputRole.Index => ElementKind.Int, InputRole.Mask => ElementKind.Bool, InputRole.Any => ElementKind.Any, _ => ElementKind.Float };
                continue;
            }
            var rule = OpRule.For(node);
            var inputs = node.Inputs.Select(i => kinds[i]).ToList();
            kinds[node.Id] = rule.OutputType(node, inputs);
            for (int j = 0; j < node.Inputs.Count; j++)
            {
                var source = graph[node.Inputs[j]];
                if (source.Kind == OpKind.Input) continue; // an input's contradictions are reported above
                var need = rule.InputNeed(node, j);
                var kind = inputs[j];
                string? problem = (need, kind) switch
                {
                    (Need.Index, ElementKind.Float) => "a floating-point tensor",
                    (Need.Index, ElementKind.Bool) => "a Bool tensor",
                    (Need.Bool, ElementKind.Float) => "a floating-point tensor (compare it, such as m > 0, to make a Bool mask)",
                    (Need.Bool, ElementKind.Int) => "an integer tensor (compare it, such as ids != 0, to make a Bool mask)",
                    (Need.Numeric, ElementKind.Int) => "an integer tensor (integer indices are only read by Embedding, Gather and losses' class ids)",
                    _ => null,
                };
                if (problem is not null)
                    issues.Add(new DTypeIssue(node, j, $"{Use(node, j)} {(need == Need.Index ? "must hold integers" : need == Need.Bool ? "must be a Bool tensor" : "must hold numbers")}, but {ShapeContext.DescribeArgument(node, j)} is {problem}"));
            }
        }
        return new Result(kinds, roles, issues, uses);
    }

    /// <summary>How an op uses its input, for messages: "Embedding ids", "Where's condition", "an operand of '+'".</summary>
    private static string Use(Node node, int input)
    {
        var name = node.Kind == OpKind.Function ? node.Function : node.Kind.ToString();
        if (node.Origin is Model.ExpressionSpec { Kind: Model.ExpressionKind.Binary } binary) return $"an operand of '{binary.Name}'";
        if (node.Origin is Model.ExpressionSpec { Kind: Model.ExpressionKind.Negate }) return "negated";
        return (node.Kind, input) switch
        {
            (OpKind.Embedding, _) => $"the ids of Embedding '{node.Layer}'",
            (OpKind.Function, _) when node.Function == "Where" && input == 0 => "Where's condition",
            (OpKind.Function, _) when node.Function == "MaskedFill" && input == 1 => "MaskedFill's mask",
            (OpKind.Add, _) => "an operand of '+'",
            (OpKind.Sub, _) => "an operand of '-'",
            (OpKind.Mul, _) => "an operand of '*'",
            (OpKind.Div, _) => "an operand of '/'",
            (OpKind.Linear, _) => $"the input of Linear '{node.Layer}'",
            (OpKind.LayerNorm, _) => $"the input of LayerNorm '{node.Layer}'",
            _ => $"argument {input + 1} of {name}",
        };
    }
}
