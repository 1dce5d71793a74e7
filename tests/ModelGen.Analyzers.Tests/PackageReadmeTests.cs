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

        var references = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), parse, "ImplicitUsings.cs"),
             CSharpSyntaxTree.ParseText(examples[0], parse, "Program.cs")],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication).WithNullableContextOptions(NullableContextOptions.Enable)
                .WithGeneralDiagnosticOption(ReportDiagnostic.Error).WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
        CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var problems = generatorDiagnostics.Concat(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed).Select(d => d.ToString()).ToList();
        Assert.That(problems, Is.Empty, $"{package}/README.md's example:\n{examples[0]}");
    }
}
