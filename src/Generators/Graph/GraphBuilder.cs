using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Model;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Graph;

/// <summary>Lowers a Forward method (as a spec) to an SSA graph with compile-time shapes. What it cannot lower is
/// recorded in <see cref="ModelGraph.Errors"/> (the analyzers report it; the generator then emits a model whose Run
/// explains the problem).</summary>
public static class GraphBuilder
{
    /// <summary>The functions a Forward can call, as error messages list them: the built-in ones, then every registered
    /// <see cref="FunctionRule"/> in name order.</summary>
    public static string KnownFunctions { get; } = string.Join(", ",
        new[] { "Relu", "Tanh", "Sigmoid", "Gelu", "Softmax", "LogSoftmax", "Sum", "Mean", "Flatten" }
            .Concat(FunctionRule.All.Values.Where(r => r is not ScalarComparisonRule).Select(r => r.Name).OrderBy(k => k, System.StringComparer.Ordinal)).Distinct())
        + ", comparisons (>, <, >=, <=, Eq, Ne) or MseLoss";

    public static ModelGraph Build(ModelSpec spec)
    {
        var graph = new ModelGraph();
        if (spec.Forward is null)
        {
            graph.Error(spec.UnsupportedReason ?? "no Forward method", null);
            return graph;
        }
        var layers = spec.Layers.GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.First()); // a repeated name (CS0102): the first
        var env = new Dictionary<string, int>();
        foreach (var name in spec.Forward.Parameters)
        {
            var input = graph.Add(OpKind.Input);
            input.InputIndex = graph.InputNames.Count;
            input.Layer = name;
            input.Shape = new[] { "B", "*" };
            // [Shape(1, 28, 28)]: one example's shape, the batch implied
            if (input.InputIndex < spec.Forward.InputShapes.Count && spec.Forward.InputShapes[input.InputIndex].Length > 0)
            {
                input.Dims = spec.Forward.InputShapes[input.InputIndex].Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
                input.Shape = new[] { "B" }.Concat(input.Dims.Select(d => d.ToString(CultureInfo.InvariantCulture))).ToArray();
            }
            graph.InputNames.Add(name);
            env[name] = input.Id;
        }
        var builder = new Builder(graph, layers, env);
        builder.Statements(spec.Forward.Body);
        if (graph.Output < 0 && graph.Errors.Count == 0) graph.Error("Forward has no return statement", spec.Forward);
        foreach (var l in spec.Layers.Where(l => l.Kind == LayerKind.Unsupported))
            graph.Error($"layer '{l.Name}' has a type ModelGen cannot compile ({l.TypeName})", l);
        return graph;
    }

    private sealed class Builder
    {
        private readonly ModelGraph _g;
        private readonly Dictionary<string, LayerSpec> _layers;
        private readonly Dictionary<string, int> _env;

        public Builder(ModelGraph g, Dictionary<string, LayerSpec> layers, Dictionary<string, int> env)
        {
            _g = g;
            _layers = layers;
            _env = env;
        }

        public void Statements(IEnumerable<StatementSpec> statements)
        {
            foreach (var s in statements)
            {
                if (_g.Errors.Count > 0 || _g.Output >= 0) return;
                switch (s.Kind)
                {
                    case StatementKind.Assign when s.Target.Length > 0 && s.Value is not null:
                        if (Lower(s.Value) is int v) _env[s.Target] = v;
                        break;
                    case StatementKind.Return when s.Value is not null:
                        if (Lower(s.Value) is int r) _g.Output = r;
                        break;
                    case StatementKind.Foreach:
                        Loop(s);
                        break;
                    default:
                        _g.Error($"unsupported statement '{s.Value?.Name}': Forward may declare and assign tensor locals, loop over a LayerList and return", (object?)s.Value ?? s);
                        break;
                }
            }
        }

        private void Loop(StatementSpec loop)
        {
            if (!_layers.TryGetValue(loop.Collection, out var list) || list.Kind != LayerKind.ModelList)
            {
                _g.Error($"foreach over '{loop.Collection}': only a LayerList<T> [Layer] can be looped over", loop);
                return;
            }
            if (loop.Body.Count != 1 || loop.Body[0] is not { Kind: StatementKind.Assign, Value: { Kind: ExpressionKind.LayerCall } call } body
                || call.Name != loop.Target || call.Args.Count == 0 || call.Args[0].Kind != ExpressionKind.Variable
                || call.Args[0].Name != body.Target || !_env.ContainsKey(body.Target))
            {
                _g.Error($"foreach over '{loop.Collection}': the body must be 'h = {loop.Target}.Apply(h, ...)' with h declared before the loop", loop);
                return;
            }
            var inputs = new List<int>();
            foreach (var a in call.Args)
            {
                if (Lower(a) is not int v) return;
                inputs.Add(v);
            }
            var node = _g.Add(OpKind.BlockLoop, inputs.ToArray());
            node.Layer = list.Name;
            node.Origin = call;
            node.Shape = _g[inputs[0]].Shape;
            _env[body.Target] = node.Id;
        }

        private int? Lower(ExpressionSpec e)
        {
            switch (e.Kind)
            {
                case ExpressionKind.Variable:
                    if (_env.TryGetValue(e.Name, out var v)) return v;
                    if (_layers.TryGetValue(e.Name, out var tensorField) && tensorField.Kind is LayerKind.TensorParameter or LayerKind.TensorBuffer)
                        return TensorField(tensorField, e);
                    if (e.Name.IndexOf('.') is var dot and > 0 && _layers.TryGetValue(e.Name.Substring(0, dot), out var owner))
                        return LayerParameter(owner, e.Name.Substring(dot + 1), e);
                    _g.Error($"'{e.Name}' is not a tensor defined in Forward", e);
                    return null;
                case ExpressionKind.Function:
                    return Function(e);
                case ExpressionKind.LayerCall:
                    return LayerCall(e);
                case ExpressionKind.Method:
                    {
                        if (Lower(e.Args[0]) is not int src) return null;
                        if (e.Args.Skip(1).Any(a => a.Kind != ExpressionKind.Number))
                        {
                            _g.Error("Reshape takes integer literals (one may be -1)", e);
                            return null;
                        }
                        var n = _g.Add(OpKind.Reshape, src);
                        n.Origin = e;
                        n.Dims = e.Args.Skip(1).Select(a => (int)a.Number).ToArray();
                        n.Shape = n.Dims.Select(d => d == -1 ? "?" : d.ToString(CultureInfo.InvariantCulture)).ToArray();
                        return n.Id;
                    }
                case ExpressionKind.Negate:
                    return Elementwise(OpKind.Neg, e.Args[0], e);
                case ExpressionKind.Binary:
                    return Binary(e);
                case ExpressionKind.Number:
                    _g.Error($"the number {e.Name} is used where a tensor is expected", e);
                    return null;
                default:
                    _g.Error($"'{e.Name}' is not supported in Forward: use layers' Apply, the DSL functions ({GraphBuilder.KnownFunctions}), +, -, * and / between tensors (broadcast as NumPy does) or with a number, [Parameter] and [Buffer] tensor fields, and Reshape", e);
                    return null;
            }
        }

        private readonly Dictionary<string, int> _tensorFields = new();

        /// <summary>A [Parameter]/[Buffer] field: one node per field, however often Forward reads it (its gradient sums).</summary>
        private int? TensorField(LayerSpec field, ExpressionSpec e)
        {
            if (field.TypeName == "NotATensor")
            {
                _g.Error($"[{(field.Kind == LayerKind.TensorBuffer ? "Buffer" : "Parameter")}] '{field.Name}' must be a ModelGen.Tensor field", e);
                return null;
            }
            if (_tensorFields.TryGetValue(field.Name, out var id)) return id;
            var n = _g.Add(OpKind.ParameterTensor);
            n.Layer = field.Name;
            n.Origin = e;
            var dims = field.Args.Where(a => a.Name == "dim").Select(a => a.Constant is double c ? ((long)c).ToString(CultureInfo.InvariantCulture) : a.Text).ToArray();
            n.Shape = field.TypeName == "AsGiven" ? new[] { "*" } : dims;
            _tensorFields[field.Name] = n.Id;
            return n.Id;
        }

        /// <summary>A layer's Weight or Bias read as a tensor (weight tying): one node per parameter, like a [Parameter] field.</summary>
        private int? LayerParameter(LayerSpec layer, string member, ExpressionSpec e)
        {
            if (layer.Kind is not (LayerKind.Linear or LayerKind.Embedding or LayerKind.LayerNorm or LayerKind.Conv2d or LayerKind.BatchNorm2d))
            {
                _g.Error($"'{e.Name}': layer '{layer.Name}' ({layer.Kind}) has no {member} to read as a tensor", e);
                return null;
            }
            if (layer.Kind == LayerKind.Embedding && member == "Bias")
            {
                _g.Error($"'{e.Name}': an Embedding has a Weight and no Bias", e);
                return null;
            }
            if (_tensorFields.TryGetValue(e.Name, out var id)) return id;
            var n = _g.Add(OpKind.ParameterTensor);
            n.Layer = e.Name;
            n.Origin = e;
            n.Shape = new[] { "?" };
            _tensorFields[e.Name] = n.Id;
            return n.Id;
        }

        private int? Binary(ExpressionSpec e)
        {
            var left = e.Args[0];
            var right = e.Args[1];
            bool leftNumber = left.Kind == ExpressionKind.Number, rightNumber = right.Kind == ExpressionKind.Number;
            if (leftNumber && rightNumber)
            {
                _g.Error($"'{e.Name}' between two numbers is used where a tensor is expected", e);
                return null;
            }
            if (e.Name is "*" or "/" && (leftNumber || rightNumber))
            {
                if (leftNumber && e.Name == "/")
                {
                    _g.Error("a number divided by a tensor is not supported: write the reciprocal with Rsqrt(Square(x)) or multiply by a number", e);
                    return null;
                }
                var (tensor, number) = rightNumber ? (left, right) : (right, left);
                if (Lower(tensor) is not int t) return null;
                return Scalar(OpKind.MulScalar, t, e.Name == "*" ? number.Number : 1.0 / number.Number, e);
            }
            if (e.Name is "+" or "-" && (leftNumber || rightNumber))
            {
                // x + c, c + x, x − c, and c − x as (−x) + c
                var tensor = rightNumber ? left : right;
                double c = rightNumber ? right.Number : left.Number;
                if (Lower(tensor) is not int t) return null;
                if (rightNumber) return Scalar(OpKind.AddScalar, t, e.Name == "+" ? c : -c, e);
                if (e.Name == "-")
                {
                    var negated = _g.Add(OpKind.Neg, t);
                    negated.Origin = e;
                    negated.Shape = _g[t].Shape;
                    t = negated.Id;
                }
                return Scalar(OpKind.AddScalar, t, c, e);
            }
            if (e.Name is ">" or "<" or ">=" or "<=") return Comparison(e, left, right, leftNumber, rightNumber);
            if (Lower(left) is not int a || Lower(right) is not int b) return null;
            var kind = e.Name switch { "+" => OpKind.Add, "-" => OpKind.Sub, "*" => OpKind.Mul, _ => OpKind.Div };
            var node = _g.Add(kind, a, b);
            node.Origin = e;
            node.Shape = BroadcastComment(_g[a].Shape, _g[b].Shape);
            return node.Id;
        }

        /// <summary>a &gt; b (and &lt;, &gt;=, &lt;=) between tensors, or against a number on either side (c &lt; x is x &gt; c).</summary>
        private int? Comparison(ExpressionSpec e, ExpressionSpec left, ExpressionSpec right, bool leftNumber, bool rightNumber)
        {
            string name = e.Name switch { ">" => "Gt", "<" => "Lt", ">=" => "Ge", _ => "Le" };
            if (leftNumber || rightNumber)
            {
                if (leftNumber) name = name switch { "Gt" => "Lt", "Lt" => "Gt", "Ge" => "Le", _ => "Ge" };
                var (tensor, number) = rightNumber ? (left, right) : (right, left);
                if (Lower(tensor) is not int t) return null;
                var n = _g.Add(OpKind.Function, t);
                n.Function = name + "Scalar";
                n.Origin = e;
                n.Scalar = number.Number;
                n.Shape = _g[t].Shape;
                return n.Id;
            }
            if (Lower(left) is not int a || Lower(right) is not int b) return null;
            var node = _g.Add(OpKind.Function, a, b);
            node.Function = name;
            node.Origin = e;
            node.Shape = BroadcastComment(_g[a].Shape, _g[b].Shape);
            return node.Id;
        }

        /// <summary>The shape a broadcast result shows in the generated comments (the checked shapes are the analyzers').</summary>
        private static IReadOnlyList<string> BroadcastComment(IReadOnlyList<string> a, IReadOnlyList<string> b)
        {
            if (a.SequenceEqual(b)) return a;
            var (longer, shorter) = a.Count >= b.Count ? (a, b) : (b, a);
            var result = longer.ToArray();
            for (int i = 1; i <= shorter.Count; i++)
            {
                string x = longer[longer.Count - i], y = shorter[shorter.Count - i];
                result[result.Length - i] = x == y || y == "1" ? x : x == "1" ? y : "?";
            }
            return result;
        }

        private int Scalar(OpKind kind, int input, double scalar, ExpressionSpec e)
        {
            var n = _g.Add(kind, input);
            n.Origin = e;
            n.Scalar = scalar;
            n.Shape = _g[input].Shape;
            return n.Id;
        }

        /// <summary>Attention(query, key, value, mask, heads[, probsDropout]): four tensors, the head count (a number or a
        /// field/local holding an int, emitted as written) and optionally a Dropout layer for the probabilities.</summary>
        private int? Attention(ExpressionSpec e)
        {
            if (e.Args.Count is not (5 or 6))
            {
                _g.Error("Attention takes (query, key, value, mask, heads) or (query, key, value, mask, heads, probsDropout)", e);
                return null;
            }
            string probsDropout = "";
            if (e.Args.Count == 6)
            {
                var d = e.Args[5];
                if (d.Kind != ExpressionKind.Variable || !_layers.TryGetValue(d.Name, out var dropout) || dropout.Kind != LayerKind.Dropout)
                {
                    _g.Error("Attention's sixth argument must be a [Layer] Dropout field (the attention-probability dropout)", e);
                    return null;
                }
                probsDropout = dropout.Name;
            }
            var inputs = new List<int>();
            for (int i = 0; i < 4; i++)
            {
                if (Lower(e.Args[i]) is not int v) return null;
                inputs.Add(v);
            }
            var heads = e.Args[4];
            if (heads.Kind is not (ExpressionKind.Number or ExpressionKind.Variable))
            {
                _g.Error("Attention's head count must be a number or a field holding it", e);
                return null;
            }
            var n = _g.Add(OpKind.Attention, inputs.ToArray());
            n.Origin = e;
            n.Layer = heads.Kind == ExpressionKind.Number ? ((long)heads.Number).ToString(CultureInfo.InvariantCulture) : "this." + heads.Name;
            n.ProbsDropout = probsDropout;
            n.Shape = _g[inputs[0]].Shape;
            return n.Id;
        }

        private int? Elementwise(OpKind kind, ExpressionSpec arg, ExpressionSpec origin)
        {
            if (Lower(arg) is not int x) return null;
            var n = _g.Add(kind, x);
            n.Origin = origin;
            n.Shape = _g[x].Shape;
            return n.Id;
        }

        private int? Function(ExpressionSpec e)
        {
            if (e.Name == "Attention") return Attention(e);
            int arity = e.Name == "MseLoss" ? 2 : 1;
            var positional = e.Args.Where(a => a.ArgName is null || a.ArgName is "x" or "prediction" or "target").ToList();
            if (positional.Count < arity)
            {
                _g.Error($"{e.Name} needs {arity} tensor argument(s)", e);
                return null;
            }
            switch (e.Name)
            {
                case "Relu": return Elementwise(OpKind.Relu, positional[0], e);
                case "Tanh": return Elementwise(OpKind.Tanh, positional[0], e);
                case "Sigmoid": return Elementwise(OpKind.Sigmoid, positional[0], e);
                case "Gelu":
                    {
                        bool tanh = e.Args.Skip(1).Any(a => a.Kind == ExpressionKind.Number && a.Number != 0);
                        return Elementwise(tanh ? OpKind.GeluTanh : OpKind.Gelu, positional[0], e);
                    }
                case "Softmax" or "LogSoftmax" or "Sum" or "Mean" when e.Args.Count > 1 && FunctionRule.Find(e.Name) is TensorFunctionRule overDim:
                    return TensorFunction(overDim, e);
                case "Softmax":
                case "LogSoftmax":
                    return Elementwise(e.Name == "Softmax" ? OpKind.Softmax : OpKind.LogSoftmax, positional[0], e);
                case "Sum":
                case "Mean":
                    {
                        if (Lower(positional[0]) is not int x) return null;
                        var n = _g.Add(e.Name == "Sum" ? OpKind.Sum : OpKind.Mean, x);
                        n.Origin = e;
                        n.Shape = new string[0];
                        return n.Id;
                    }
                case "FirstToken":
                    {
                        if (Lower(positional[0]) is not int x) return null;
                        var n = _g.Add(OpKind.FirstToken, x);
                        n.Origin = e;
                        n.Shape = new[] { "B", "?" };
                        return n.Id;
                    }
                case "Flatten":
                    {
                        if (Lower(positional[0]) is not int x) return null;
                        var n = _g.Add(OpKind.Flatten, x);
                        n.Origin = e;
                        n.Shape = new[] { "B", "?" };
                        return n.Id;
                    }
                case "MseLoss":
                    {
                        if (Lower(positional[0]) is not int p || Lower(positional[1]) is not int t) return null;
                        var n = _g.Add(OpKind.Mse, p, t);
                        n.Origin = e;
                        n.Shape = new string[0];
                        return n.Id;
                    }
                default:
                    if (FunctionRule.Find(e.Name) is TensorFunctionRule tensorFunction) return TensorFunction(tensorFunction, e);
                    if (e.Name is "Eq" or "Ne" && e.Args.Count == 2 && (e.Args[0].Kind == ExpressionKind.Number) != (e.Args[1].Kind == ExpressionKind.Number))
                    {
                        var (tensor, number) = e.Args[1].Kind == ExpressionKind.Number ? (e.Args[0], e.Args[1]) : (e.Args[1], e.Args[0]);
                        if (Lower(tensor) is not int t) return null;
                        var n = _g.Add(OpKind.Function, t);
                        n.Function = e.Name + "Scalar";
                        n.Origin = e;
                        n.Scalar = number.Number;
                        n.Shape = _g[t].Shape;
                        return n.Id;
                    }
                    if (FunctionRule.Find(e.Name) is { } function)
                    {
                        // all arguments in order, named or not (LeakyRelu(x, negativeSlope: 0.1))
                        var args = e.Args;
                        int expected = function.Tensors + (function.TakesNumber ? 1 : 0);
                        if (args.Count != expected || (function.TakesNumber && args[function.Tensors].Kind != ExpressionKind.Number))
                        {
                            _g.Error($"{function.Name} is called as {function.Signature}, with a numeric literal for the number", e);
                            return null;
                        }
                        var inputs = new int[function.Tensors];
                        for (int i = 0; i < inputs.Length; i++)
                        {
                            if (Lower(args[i]) is not int x) return null;
                            inputs[i] = x;
                        }
                        var n = _g.Add(OpKind.Function, inputs);
                        n.Function = function.Name;
                        n.Origin = e;
                        n.Shape = inputs.Length >= 2 ? inputs.Skip(1).Aggregate(_g[inputs[0]].Shape, (shape, i) => BroadcastComment(shape, _g[i].Shape)) : _g[inputs[0]].Shape;
                        if (function.TakesNumber) n.Scalar = args[function.Tensors].Number;
                        return n.Id;
                    }
                    _g.Error($"'{e.Name}(...)' is not a ModelGen function: use {GraphBuilder.KnownFunctions}", e);
                    return null;
            }
        }

        /// <summary>A call of a <see cref="TensorFunctionRule"/>: arguments bound by position, then by name, defaults
        /// filled in; dimensions and flags must be literals.</summary>
        private int? TensorFunction(TensorFunctionRule rule, ExpressionSpec e)
        {
            string Fail()
            {
                _g.Error($"{rule.Name} is called as {rule.Signature}, with integer literals for the dimensions and true/false for the flags", e);
                return "";
            }
            var bound = new Dictionary<string, List<ExpressionSpec>>();
            int position = 0;
            foreach (var arg in e.Args)
            {
                FunctionArg? target;
                if (arg.ArgName is { } name) target = rule.Arguments.FirstOrDefault(a => a.Name == name);
                else
                {
                    while (position < rule.Arguments.Count && bound.ContainsKey(rule.Arguments[position].Name) && rule.Arguments[position].Kind != ArgKind.Ints) position++;
                    target = position < rule.Arguments.Count ? rule.Arguments[position] : null;
                    if (target is not null && target.Kind != ArgKind.Ints) position++;
                }
                if (target is null) { Fail(); return null; }
                if (!bound.TryGetValue(target.Name, out var list)) bound[target.Name] = list = new List<ExpressionSpec>();
                else if (target.Kind != ArgKind.Ints) { Fail(); return null; }
                list.Add(arg);
            }
            var inputs = new List<int>();
            var dims = new List<int>();
            double scalar = 0;
            foreach (var a in rule.Arguments)
            {
                bound.TryGetValue(a.Name, out var values);
                if (a.Kind == ArgKind.Tensor)
                {
                    if (values is null) { Fail(); return null; }
                    if (Lower(values[0]) is not int v) return null;
                    inputs.Add(v);
                    continue;
                }
                if (values is null && a.Kind == ArgKind.Ints) continue;
                if (values is null && a.Default is null) { Fail(); return null; }
                var numbers = values?.Select(x => x.Kind == ExpressionKind.Number ? x.Number : double.NaN).ToList() ?? new List<double> { a.Default!.Value };
                if (numbers.Any(double.IsNaN) || (a.Kind is ArgKind.Int or ArgKind.Ints or ArgKind.Bool && numbers.Any(x => x != System.Math.Floor(x)))) { Fail(); return null; }
                if (a.Kind == ArgKind.Number) scalar = numbers[0];
                else dims.AddRange(numbers.Select(x => (int)x));
            }
            var n = _g.Add(OpKind.Function, inputs.ToArray());
            n.Function = rule.Name;
            n.Origin = e;
            n.Dims = dims.ToArray();
            n.Scalar = scalar;
            n.Shape = new[] { "?" };
            return n.Id;
        }

        private int? LayerCall(ExpressionSpec e)
        {
            if (!_layers.TryGetValue(e.Name, out var layer))
            {
                _g.Error($"'{e.Name}' is not a [Layer] of this model", e);
                return null;
            }
            var inputs = new List<int>();
            foreach (var a in e.Args)
            {
                if (Lower(a) is not int v) return null;
                inputs.Add(v);
            }
            switch (layer.Kind)
            {
                case LayerKind.Linear when inputs.Count == 1:
                    {
                        var n = _g.Add(OpKind.Linear, inputs[0]);
                        n.Layer = layer.Name;
                        n.Origin = e;
                        var inShape = _g[inputs[0]].Shape;
                        n.Shape = inShape.Take(System.Math.Max(0, inShape.Count - 1)).Concat(new[] { LinearRule.OutFeatures(layer) }).ToArray();
                        return n.Id;
                    }
                case LayerKind.Dropout when inputs.Count == 1:
                    {
                        var n = _g.Add(OpKind.Dropout, inputs[0]);
                        n.Layer = layer.Name;
                        n.Origin = e;
                        n.Shape = _g[inputs[0]].Shape;
                        return n.Id;
                    }
                case LayerKind.Embedding when inputs.Count == 1:
                case LayerKind.LayerNorm when inputs.Count == 1:
                    {
                        var n = _g.Add(layer.Kind == LayerKind.Embedding ? OpKind.Embedding : OpKind.LayerNorm, inputs[0]);
                        n.Layer = layer.Name;
                        n.Origin = e;
                        n.Shape = layer.Kind == LayerKind.LayerNorm ? _g[inputs[0]].Shape : _g[inputs[0]].Shape.Concat(new[] { "?" }).ToArray();
                        return n.Id;
                    }
                case LayerKind.Conv2d when inputs.Count == 1:
                case LayerKind.MaxPool2d when inputs.Count == 1:
                case LayerKind.AvgPool2d when inputs.Count == 1:
                case LayerKind.AdaptiveAvgPool2d when inputs.Count == 1:
                case LayerKind.BatchNorm2d when inputs.Count == 1:
                case LayerKind.Dropout2d when inputs.Count == 1:
                    {
                        var kind = layer.Kind switch
                        {
                            LayerKind.Conv2d => OpKind.Conv2d,
                            LayerKind.MaxPool2d => OpKind.MaxPool2d,
                            LayerKind.AvgPool2d => OpKind.AvgPool2d,
                            LayerKind.AdaptiveAvgPool2d => OpKind.AdaptiveAvgPool2d,
                            LayerKind.BatchNorm2d => OpKind.BatchNorm2d,
                            _ => OpKind.Dropout2d,
                        };
                        var n = _g.Add(kind, inputs[0]);
                        n.Layer = layer.Name;
                        n.Origin = e;
                        n.Shape = kind is OpKind.BatchNorm2d or OpKind.Dropout2d ? _g[inputs[0]].Shape : new[] { "B", "?", "?", "?" };
                        return n.Id;
                    }
                case LayerKind.Model when inputs.Count >= 1:
                    {
                        var n = _g.Add(OpKind.SubModel, inputs.ToArray());
                        n.Layer = layer.Name;
                        n.Origin = e;
                        n.Shape = new[] { "B", "?" };
                        return n.Id;
                    }
                default:
                    _g.Error($"layer '{layer.Name}' ({layer.Kind}) cannot be applied to {inputs.Count} tensor(s) here", e);
                    return null;
            }
        }
    }
}
