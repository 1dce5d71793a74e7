using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The analyzers as a user gets them: ModelGen packed with a unique version, consumed from a local feed by a
/// copy of the Fashion-MNIST sample, built with <c>dotnet build</c>. Unchanged it builds with no ModelGen diagnostic;
/// with the last layer changed from 512 to 300 inputs the build fails with MG0001 at that layer's use, naming its
/// declaration.</summary>
public class AnalyzerPackageTests
{
    [Test]
    public void FashionMnistSample_LastLayerWith300Inputs_FailsTheBuildWithMG0001()
    {
        var work = Directory.CreateTempSubdirectory("modelgen-analyzers").FullName;
        var feed = Path.Combine(work, "feed");
        var packages = Path.Combine(work, "packages");
        var app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        var version = $"0.0.0-analyzers.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        var (packCode, packOut) = Repo.Run("dotnet", $"pack src/Runtime/ModelGen.Runtime.csproj -c Release -o \"{feed}\" -p:Version={version}", Repo.Root);
        Assert.That(packCode, Is.EqualTo(0), packOut);

        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "FashionMnist.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        // the sample's own files and the code the Fashion samples share (samples/Shared, linked by their projects)
        foreach (var folder in new[] { "FashionMnist", "Shared" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "samples", folder), "*.cs"))
                File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(work, "Directory.Packages.props"), "<Project />");
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages };

        // unchanged: builds, and the analyzers (which ran: the package ships them) report nothing
        var (okCode, okOut) = Repo.Run("dotnet", "build -c Release", app, env);
        Assert.That(okCode, Is.EqualTo(0), okOut);
        Assert.That(okOut, Does.Not.Contain("MG0"), okOut);
        var analyzers = Path.Combine(packages, "modelgen", version, "analyzers", "dotnet", "cs");
        Assert.That(File.Exists(Path.Combine(analyzers, "ModelGen.Analyzers.dll")), Is.True, "the package ships the analyzers");
        Assert.That(File.Exists(Path.Combine(analyzers, "ModelGen.Analyzers.CodeFixes.dll")), Is.True, "and the code fixes");

        // the last layer of FashionMlp takes 300 inputs instead of fc2's 512
        var modelFile = Path.Combine(app, "FashionMlp.cs");
        var text = File.ReadAllText(modelFile);
        var declaration = text.IndexOf("fc3 = new(512, 10)", StringComparison.Ordinal);
        Assert.That(declaration, Is.GreaterThan(0));
        text = text.Substring(0, declaration) + "fc3 = new(300, 10)" + text.Substring(declaration + "fc3 = new(512, 10)".Length);
        File.WriteAllText(modelFile, text);
        var (useLine, useColumn) = LineColumn(text, text.IndexOf("fc3.Apply(", StringComparison.Ordinal));
        var (declLine, _) = LineColumn(text, declaration);

        var (failCode, failOut) = Repo.Run("dotnet", "build -c Release --no-restore", app, env);
        TestContext.Out.WriteLine(failOut);
        Assert.That(failCode, Is.Not.EqualTo(0), "the shape error fails the build");
        var expected = $"FashionMlp.cs({useLine},{useColumn}): error MG0001: Linear layer 'fc3' expects input […, 300] but 'Relu(fc2.Apply(Relu(…)))' has shape […, 512]; 'fc3' is declared at line {declLine}";
        Assert.That(failOut, Does.Contain(expected), failOut);
        Assert.That(Regex.Matches(failOut, @"error MG\d{4}").Select(m => m.Value).Distinct(), Is.EqualTo(new[] { "error MG0001" }), "exactly the one mistake is reported");
        Directory.Delete(work, recursive: true);
    }

    private static (int Line, int Column) LineColumn(string text, int index)
    {
        int line = 1, column = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }
}
