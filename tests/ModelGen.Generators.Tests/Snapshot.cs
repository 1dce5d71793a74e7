using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>Compares text with a committed <c>Snapshots/&lt;name&gt;.verified.cs</c>. On a difference it writes
/// <c>&lt;name&gt;.received.cs</c> next to it (git-ignored) and fails; accept by copying received over verified.</summary>
public static class Snapshot
{
    public static void Verify(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        var folder = SnapshotsFolder(callerFile);
        var verifiedPath = Path.Combine(folder, name + ".verified.cs");
        var receivedPath = Path.Combine(folder, name + ".received.cs");
        actual = Normalize(actual);

        if (File.Exists(verifiedPath))
        {
            var verified = Normalize(File.ReadAllText(verifiedPath));
            if (verified == actual)
            {
                if (File.Exists(receivedPath)) File.Delete(receivedPath);
                return;
            }
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"Snapshot '{name}' differs from {verifiedPath} ({FirstDifference(verified, actual)}).\n"
                + $"Received output written to {receivedPath}.\n"
                + $"If the change is intended, accept it:\n  cp \"{receivedPath}\" \"{verifiedPath}\"");
        }
        else
        {
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"Snapshot '{name}' has no verified file {verifiedPath}.\n"
                + $"Received output written to {receivedPath}; review it, then accept it:\n  cp \"{receivedPath}\" \"{verifiedPath}\"");
        }
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Min(e.Length, a.Length); i++)
            if (e[i] != a[i]) return $"first difference at line {i + 1}:\n  verified: {e[i]}\n  received: {a[i]}";
        return $"verified has {e.Length} lines, received has {a.Length}";
    }

    /// <summary>Snapshots/ next to the test source file; if the build mapped source paths away, found by walking up
    /// from the test output folder to the repository's copy of this project.</summary>
    private static string SnapshotsFolder(string callerFile)
    {
        if (!string.IsNullOrEmpty(callerFile) && Path.GetDirectoryName(callerFile) is { } dir && Directory.Exists(dir))
            return Path.Combine(dir, "Snapshots");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "ModelGen.Generators.Tests");
            if (Directory.Exists(candidate)) return Path.Combine(candidate, "Snapshots");
            if (File.Exists(Path.Combine(d.FullName, "ModelGen.Generators.Tests.csproj"))) return Path.Combine(d.FullName, "Snapshots");
        }
        throw new InvalidOperationException($"cannot locate the Snapshots folder (caller file '{callerFile}', base '{AppContext.BaseDirectory}')");
    }
}
