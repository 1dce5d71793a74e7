using System.Diagnostics;

namespace ModelGen.Reliability.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ModelGen.sln"))) return d.FullName;
        throw new InvalidOperationException("ModelGen.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    /// <summary>The TrainerCheck console (tests/ModelGen.TrainerCheck), built before these tests.</summary>
    public static string TrainerCheckDll => Path.Combine(Root, "tests", "ModelGen.TrainerCheck", "bin", Configuration, "net10.0", "ModelGen.TrainerCheck.dll");

    public static ProcessStartInfo Dotnet(string arguments)
    {
        var psi = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment.Remove("MODELGEN_TEST_WRITE_FAULT");
        return psi;
    }
}
