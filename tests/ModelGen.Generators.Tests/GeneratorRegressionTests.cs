using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>Regression tests for generator bugs found while writing the generator tests: the generated code of these
/// unusual declarations must compile. (Generic [Model] classes and models nested in generic types are not supported yet.)</summary>
public sealed class GeneratorRegressionTests
{
    [TestCase("RecordStructContainer", // ContainingTypeSpec keyword is "record" for a record struct → CS0261
        "using ModelGen;\nnamespace N;\npublic partial record struct RS { [Model] public partial class M { Tensor Forward(Tensor x) => Relu(x); } }")]
    [TestCase("KeywordName", // the identifier is emitted without '@' → "partial class event" does not parse
        "using ModelGen;\nnamespace N;\n[Model] public partial class @event { Tensor Forward(Tensor x) => Relu(x); }")]
    [TestCase("UnsupportedForwardAndIModel", // the Unsupported path declares IModel but emits no CrossEntropy/Mse/Backward → CS0535
        "using ModelGen;\nnamespace N;\n[Model] public partial class M { Tensor Forward(Tensor x) { System.Console.WriteLine(); return x; } }")]
    public void GeneratedCodeCompiles(string name, string source)
    {
        var run = GeneratorHarness.Run(source);
        Assert.That(run.Result.Results[0].Exception, Is.Null);
        var problems = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.That(problems, Is.Empty, $"{name}:\n" + GeneratorHarness.Format(problems));
    }
}
