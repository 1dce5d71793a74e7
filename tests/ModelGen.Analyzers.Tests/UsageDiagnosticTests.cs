using Microsoft.CodeAnalysis.Testing;

namespace ModelGen.Analyzers.Tests;

/// <summary>The diagnostics about a [Model] class's form, what Forward may contain, and the warnings.</summary>
public sealed class UsageDiagnosticTests
{
    // ---------- MG0011: partial, with its code fix ----------

    [Test]
    public Task NotPartial() => Verify.Analyze("""
        [Model]
        public class {|#0:{|CS0260:Mlp|}|}
        {
            [Layer] readonly Linear fc = new(4, 2);
            Tensor Forward(Tensor x) => fc.Apply(x);
        }
        """,
        Verify.Diagnostic(Descriptors.NotPartial).WithLocation(0).WithArguments("Mlp"));

    [Test]
    public Task Partial_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class Mlp
        {
            [Layer] readonly Linear fc = new(4, 2);
            Tensor Forward(Tensor x) => fc.Apply(x);
        }
        """);

    [Test]
    public Task MakePartialFix_WithModifiers()
    {
        var test = new MakePartialFixTest
        {
            TestCode = """
                namespace Models;

                [Model]
                public sealed class {|#0:{|CS0260:Mlp|}|}
                {
                    [Layer] readonly Linear fc = new(4, 2);
                    Tensor Forward(Tensor x) => fc.Apply(x);
                }
                """,
            FixedCode = """
                namespace Models;

                [Model]
                public sealed partial class Mlp
                {
                    [Layer] readonly Linear fc = new(4, 2);
                    Tensor Forward(Tensor x) => fc.Apply(x);
                }
                """,
        };
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(Descriptors.NotPartial).WithLocation(0).WithArguments("Mlp"));
        return test.RunAsync();
    }

    [Test]
    public Task MakePartialFix_WithoutModifiers_KeepsTheAttributeLine()
    {
        var test = new MakePartialFixTest
        {
            TestCode = """
                [Model]
                class {|#0:{|CS0260:Mlp|}|}
                {
                    [Layer] readonly Linear fc = new(4, 2);
                    Tensor Forward(Tensor x) => fc.Apply(x);
                }
                """,
            FixedCode = """
                [Model]
                partial class Mlp
                {
                    [Layer] readonly Linear fc = new(4, 2);
                    Tensor Forward(Tensor x) => fc.Apply(x);
                }
                """,
        };
        test.ExpectedDiagnostics.Add(Verify.Diagnostic(Descriptors.NotPartial).WithLocation(0).WithArguments("Mlp"));
        return test.RunAsync();
    }

    // ---------- MG0012: [Layer] on an unsupported type ----------

    [Test]
    public Task LayerOfUnsupportedType() => Verify.Analyze("""
        public sealed class Conv2d { }

        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 2);
            [Layer] readonly {|#0:Conv2d|} conv = new();
            Tensor Forward(Tensor x) => fc.Apply(x);
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedLayerType).WithLocation(0).WithArguments("conv", "Conv2d"));

    [Test]
    public Task LayersOfSupportedTypes_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class Inner
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x) => fc.Apply(x);
        }

        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            [Layer] readonly Dropout drop = new(0.1);
            [Layer] readonly Inner inner = new();
            [Layer] readonly LayerList<Inner> blocks = LayerList<Inner>.Create(2, _ => new Inner());
            Tensor Forward(Tensor x)
            {
                var h = inner.Apply(drop.Apply(fc.Apply(x)));
                foreach (var b in blocks) h = b.Apply(h);
                return h;
            }
        }
        """);

    // ---------- MG0013: dimensions that are neither constant nor symbolic ----------

    [Test]
    public Task DimensionFromAMethodCall() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear {|#1:fc|};
            public M(int width) => fc = new Linear({|#0:Pick(width)|}, 2);
            static int Pick(int w) => w * 2;
            Tensor Forward(Tensor x) => fc.Apply(x);
        }
        """,
        Verify.Diagnostic(Descriptors.UndeclaredDimension).WithLocation(0).WithLocation(1)
            .WithArguments("in_features", "fc", "Pick(width)"));

    [Test]
    public Task DimensionFromAConditional() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear {|#1:fc = new(4, {|#0:System.Environment.ProcessorCount > 2 ? 8 : 4|})|};
            Tensor Forward(Tensor x) => fc.Apply(x);
        }
        """,
        Verify.Diagnostic(Descriptors.UndeclaredDimension).WithLocation(0).WithLocation(1)
            .WithArguments("out_features", "fc", "System.Environment.ProcessorCount > 2 ? 8 : 4"));

    [Test]
    public Task SymbolicDimensions_NoDiagnostics() => Verify.Analyze("""
        public sealed record Config(int Hidden, int Classes);

        [Model]
        public partial class M
        {
            const int Input = 16;
            static readonly int Expansion = 4;
            [Layer] readonly Linear a;
            [Layer] readonly Linear b;
            [Layer] readonly Linear c = new(Input, Input * 2);
            public M(Config config)
            {
                var hidden = config.Hidden;
                a = new Linear(Input * 2, hidden * Expansion);
                b = new Linear(inFeatures: hidden * Expansion, outFeatures: config.Classes);
            }
            Tensor Forward(Tensor x) => b.Apply(a.Apply(c.Apply(x)));
        }
        """);

    // ---------- MG0014: what the generator cannot compile ----------

    [Test]
    public Task ArbitraryLoop() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x)
            {
                var h = x;
                {|#0:for (int i = 0; i < 3; i++) h = fc.Apply(h);|}
                return h;
            }
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: unsupported statement 'for (int i = 0; i < 3; i++) h = fc.Apply(h);': Forward may declare and assign tensor locals, loop over a LayerList and return"));

    [Test]
    public Task CallIntoAnArbitraryMethod() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x) => fc.Apply({|#0:Helper(x)|});
            static Tensor Helper(Tensor t) => t;
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments($"M.Forward cannot be compiled by ModelGen: 'Helper(...)' is not a ModelGen function: use {ModelGen.Generators.Graph.GraphBuilder.KnownFunctions}"));

    [Test]
    public void KnownFunctions_ListTheBuiltInsThenEveryRegisteredFunction()
    {
        Assert.That(ModelGen.Generators.Graph.GraphBuilder.KnownFunctions, Does.StartWith("Relu, Tanh, Sigmoid, Gelu, Softmax, LogSoftmax, Sum, Mean, Flatten").And.EndWith(" or MseLoss"));
        foreach (var rule in ModelGen.Generators.Ops.FunctionRule.All.Values)
        {
            if (rule is ModelGen.Generators.Ops.ScalarComparisonRule) // x > 0 is written with the operator, listed as a comparison
                Assert.That(ModelGen.Generators.Graph.GraphBuilder.KnownFunctions, Does.Not.Contain(rule.Name));
            else Assert.That(ModelGen.Generators.Graph.GraphBuilder.KnownFunctions, Does.Contain($", {rule.Name}"), rule.Name);
        }
        Assert.That(ModelGen.Generators.Graph.GraphBuilder.KnownFunctions, Does.Contain("comparisons (>, <, >=, <=, Eq, Ne)"));
    }

    [Test]
    public Task ReferenceTypeLocal() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x)
            {
                var scales = {|#0:new double[] { 1, 2 }|};
                return fc.Apply(x);
            }
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments($"M.Forward cannot be compiled by ModelGen: 'new double[] {{ 1, 2 }}' is not supported in Forward: use layers' Apply, the DSL functions ({ModelGen.Generators.Graph.GraphBuilder.KnownFunctions}), +, -, * and / between tensors (broadcast as NumPy does) or with a number, [Parameter] and [Buffer] tensor fields, and Reshape"));

    [Test]
    public Task ForeachOverSomethingElse() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc = new(4, 4);
            readonly Linear[] extra = { new(4, 4) };
            Tensor Forward(Tensor x)
            {
                var h = x;
                {|#0:foreach (var l in extra) h = l.Apply(h);|}
                return fc.Apply(h);
            }
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: foreach over 'extra': only a LayerList<T> [Layer] can be looped over"));

    [Test]
    public Task FunctionWithoutItsNumber() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:{|CS7036:LeakyRelu|}(x)|};
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: LeakyRelu is called as LeakyRelu(tensor, number), with a numeric literal for the number"));

    [Test]
    public Task ParameterAttributeOnANumber() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Parameter] readonly double scale = 2;
            Tensor Forward(Tensor x) => x * {|#0:scale|};
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: [Parameter] 'scale' must be a ModelGen.Tensor field"));

    [Test]
    public Task NumberDividedByTensor() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            Tensor Forward(Tensor x) => {|#0:{|CS0019:2.0 / x|}|};
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: a number divided by a tensor is not supported: write the reciprocal with Rsqrt(Square(x)) or multiply by a number"));

    [Test]
    public Task NoForward() => Verify.Analyze("""
        [Model]
        public partial class {|#0:M|}
        {
        }
        """,
        Verify.Diagnostic(Descriptors.UnsupportedConstruct).WithLocation(0)
            .WithArguments("M.Forward cannot be compiled by ModelGen: the class has no Forward method"));

    [Test]
    public Task SupportedConstructs_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class Block
        {
            [Layer] readonly Linear fc = new(4, 4);
            Tensor Forward(Tensor x, Tensor scale) => x + fc.Apply(x) - scale;
        }

        [Model]
        public partial class M
        {
            [Layer] readonly LayerList<Block> blocks = LayerList<Block>.Create(3, _ => new Block());
            Tensor Forward(Tensor x, Tensor s)
            {
                var h = -(x * 2.0) / 4;
                foreach (var block in blocks)
                {
                    h = block.Apply(h, s);
                }
                h = LogSoftmax(Softmax(Gelu(Sigmoid(Tanh(Relu(h))), tanhApproximation: true)));
                return Mean(h) + Sum(Flatten(h.Reshape(-1, 2, 2)));
            }
        }
        """);

    // ---------- MG0015: unused layer ----------

    [Test]
    public Task UnusedLayer() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc1 = new(4, 4);
            [Layer] readonly Linear {|#0:spare|} = new(4, 4);
            [Layer] readonly Dropout {|#1:drop|} = new(0.1);
            Tensor Forward(Tensor x) => fc1.Apply(x);
        }
        """,
        Verify.Diagnostic(Descriptors.UnusedLayer).WithLocation(0).WithArguments("spare"),
        Verify.Diagnostic(Descriptors.UnusedLayer).WithLocation(1).WithArguments("drop"));

    [Test]
    public Task EveryLayerUsed_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Linear fc1 = new(4, 4);
            [Layer] readonly Dropout drop = new(0.1);
            Tensor Forward(Tensor x) => drop.Apply(fc1.Apply(x));
        }
        """);

    // ---------- MG0016: dropout probability ----------

    [Test]
    public Task DropoutProbabilityOutOfRange() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Dropout {|#1:high = new({|#0:1.0|})|};
            [Layer] readonly Dropout {|#3:negative = new(p: {|#2:-0.5|})|};
            Tensor Forward(Tensor x) => negative.Apply(high.Apply(x));
        }
        """,
        Verify.Diagnostic(Descriptors.DropoutProbability).WithLocation(0).WithLocation(1).WithArguments("high", "1"),
        Verify.Diagnostic(Descriptors.DropoutProbability).WithLocation(2).WithLocation(3).WithArguments("negative", "-0.5"));

    [Test]
    public Task DropoutProbabilityInRange_NoDiagnostics() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Dropout a = new(0.0);
            [Layer] readonly Dropout b = new(0.999);
            [Layer] readonly Dropout c = new();
            Tensor Forward(Tensor x) => c.Apply(b.Apply(a.Apply(x)));
        }
        """);
}
