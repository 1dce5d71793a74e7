namespace ModelGen.IntegrationTests;

/// <summary>Every ModelGen package packed once per test run, with a unique version, into a local folder feed by one
/// <c>dotnet pack src/Runtime/ModelGen.Packages.slnf</c>; and fresh console projects that reference some of them as a
/// user's would: nuget.config with the feed (dependencies such as ILGPU from nuget.org), a private NUGET_PACKAGES folder
/// (no cached copy of ModelGen is used) and the repository's Directory.*.props kept out.</summary>
internal sealed class FreshPackageProject
{
    public static readonly string[] PackageIds = ["ModelGen", "ModelGen.Transformers", "ModelGen.Text", "ModelGen.Distributed", "ModelGen.Plots"];

    private static readonly Lazy<(string Root, string Version)> Packed = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    private FreshPackageProject(string work) => Work = work;

    public string Work { get; }
    public static string Version => Packed.Value.Version;
    public static string Feed => Path.Combine(Packed.Value.Root, "feed");
    public static string Packages => Path.Combine(Packed.Value.Root, "packages");
    public string App => Path.Combine(Work, "app");

    /// <summary>The environment for dotnet commands in <see cref="App"/>: the private package folder.</summary>
    public Dictionary<string, string> Environment => new() { ["NUGET_PACKAGES"] = Packages };

    private static (string, string) Pack()
    {
        var root = Directory.CreateTempSubdirectory("modelgen-feed").FullName;
        var version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{System.Environment.ProcessId}";
        var (code, output) = Repo.Run("dotnet", $"pack src/Runtime/ModelGen.Packages.slnf -c Release -o \"{Path.Combine(root, "feed")}\" -p:Version={version}", Repo.Root);
        Assert.That(code, Is.EqualTo(0), output);
        return (root, version);
    }

    /// <summary>Deletes the feed and the private package folder (at the end of the run).</summary>
    public static void DeleteFeed()
    {
        if (!Packed.IsValueCreated) return;
        try { Directory.Delete(Packed.Value.Root, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Writes <paramref name="projectName"/>.csproj referencing <paramref name="packages"/> (default: ModelGen
    /// alone) at the packed version.</summary>
    public static FreshPackageProject Create(string directoryPrefix, string projectName, params string[] packages)
    {
        var project = new FreshPackageProject(Directory.CreateTempSubdirectory(directoryPrefix).FullName);
        Directory.CreateDirectory(project.App);
        if (packages.Length == 0) packages = ["ModelGen"];
        File.WriteAllText(Path.Combine(project.App, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        var references = string.Join("\n", packages.Select(p => $"""    <PackageReference Include="{p}" Version="{Version}" />"""));
        File.WriteAllText(Path.Combine(project.App, $"{projectName}.csproj"), $"""
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
            {references}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project.Work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(project.Work, "Directory.Packages.props"), "<Project />");
        return project;
    }
}

/// <summary>Removes the packed feed once every test of the assembly has run.</summary>
[SetUpFixture]
public sealed class PackedFeedCleanup
{
    [OneTimeTearDown]
    public void DeleteFeed() => FreshPackageProject.DeleteFeed();
}
