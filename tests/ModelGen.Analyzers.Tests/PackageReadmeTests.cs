using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Generators;

namespace ModelGen.Analyzers.Tests;

/// <summary>Every package's README (src/Runtime/*/README.md, packed as the package's readme) says which namespaces it
/// brings and has a C# example that compiles as a user's console program: .NET's implicit usings only, references to
/// the packages' assemblies and their dependencies, the generator run on it, warnings as errors.</summary>
public sealed class PackageReadmeTests
{
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    public static IEnumerable<string> Packages()
        => Directory.GetDirectories(Path.Combine(ShippedModelsTests.RepoRoot(), "src", "Runtime"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length == 1)
            .Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal)!;

    [Test]
    public void TheFivePackagesAreFound()
        => Assert.That(Packages(), Is.EqualTo(new[] { "ModelGen.Distributed", "ModelGen.Plots", "ModelGen.Runtime", "ModelGen.Text", "ModelGen.Transformers" }));

    [TestCaseSource(nameof(Packages))]
    public void ReadmeNamesItsNamespaces_AndItsExampleCompiles(string package)
    {
        var readme = File.ReadAllText(Path.Combine(ShippedModelsTests.RepoRoot(), "src", "Runtime", package, "README.md"));
        Assert.That(readme, Does.Match(@"\nNamespaces: `ModelGen[.\w]*`"), $"{package}/README.md says which namespaces the package brings");
        var examples = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.That(examples, Has.Count.EqualTo(1), $"{package}/README.md has one C# example");
        AssertCompiles(examples[0], $"{package}/README.md's example");
    }

    /// <summary>The root README's tensor-algebra example (the C# block after "### Define any model"), as a console program.</summary>
    [Test]
    public void RootReadmeExample_Compiles()
    {
        var readme = File.ReadAllText(Path.Combine(ShippedModelsTests.RepoRoot(), "README.md"));
        var section = readme.Substring(readme.IndexOf("### Define any model", StringComparison.Ordinal));
        var example = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        Assert.That(example, Does.Contain("[Parameter]").And.Contain("MatMul").And.Contain("Sigmoid(g.Apply(x))"));
        var assembly = AssertCompiles(example, "README.md's tensor-algebra example");
        // and it runs: the models compiled (a Forward the generator could not compile would throw here)
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            assembly.EntryPoint!.Invoke(null, [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(console);
        }
        Assert.That(output.ToString().Trim(), Is.EqualTo("[2, 6, 8]"));
    }

    private static System.Reflection.Assembly AssertCompiles(string example, string what)
    {

        var references = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), parse, "ImplicitUsings.cs"),
             CSharpSyntaxTree.ParseText(example, parse, "Program.cs")],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication).WithNullableContextOptions(NullableContextOptions.Enable)
                .WithGeneralDiagnosticOption(ReportDiagnostic.Error).WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
        CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var problems = generatorDiagnostics.Concat(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed).Select(d => d.ToString()).ToList();
        Assert.That(problems, Is.Empty, $"{what}:\n{example}");
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.That(emitted.Success, Is.True, string.Join("\n", emitted.Diagnostics));
        return System.Reflection.Assembly.Load(image.ToArray());
    }
}
