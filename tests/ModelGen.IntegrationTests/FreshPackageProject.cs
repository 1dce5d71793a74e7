namespace ModelGen.IntegrationTests;

/// <summary>ModelGen packed with a unique version into a local folder feed, and a fresh console project that
/// references it as a user's would: nuget.config with the feed (dependencies such as ILGPU from nuget.org), a private
/// NUGET_PACKAGES folder (no cached copy is used) and the repository's Directory.*.props kept out.</summary>
internal sealed class FreshPackageProject
{
    private FreshPackageProject(string work, string version)
    {
        Work = work;
        Version = version;
    }

    public string Work { get; }
    public string Version { get; }
    public string Feed => Path.Combine(Work, "feed");
    public string Packages => Path.Combine(Work, "packages");
    public string App => Path.Combine(Work, "app");

    /// <summary>The environment for dotnet commands in <see cref="App"/>: the private package folder.</summary>
    public Dictionary<string, string> Environment => new() { ["NUGET_PACKAGES"] = Packages };

    /// <summary>Packs the runtime (with the generator and analyzers) and writes <paramref name="projectName"/>.csproj.</summary>
    public static FreshPackageProject Create(string directoryPrefix, string versionTag, string projectName)
    {
        var project = new FreshPackageProject(Directory.CreateTempSubdirectory(directoryPrefix).FullName,
            $"0.0.0-{versionTag}.{DateTime.UtcNow:yyyyMMddHHmmss}.{System.Environment.ProcessId}");
        Directory.CreateDirectory(project.App);
        var (packCode, packOut) = Repo.Run("dotnet", $"pack src/Runtime/ModelGen.Runtime.csproj -c Release -o \"{project.Feed}\" -p:Version={project.Version}", Repo.Root);
        Assert.That(packCode, Is.EqualTo(0), packOut);

        File.WriteAllText(Path.Combine(project.App, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{project.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
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
                <PackageReference Include="ModelGen" Version="{project.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project.Work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(project.Work, "Directory.Packages.props"), "<Project />");
        return project;
    }
}
