using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>Train N steps, save, resume in a fresh process and continue: the losses and the final weights equal those
/// of an uninterrupted run, bit for bit, on the CPU engine.</summary>
public class ResumeTests
{
    private static string Dll => Path.Combine(Repo.Root, "tests", "ModelGen.TrainerCheck", "bin", Repo.Configuration, "net10.0", "ModelGen.TrainerCheck.dll");

    [Test]
    public void ResumingInAFreshProcess_ContinuesBitIdentically()
    {
        var work = Directory.CreateTempSubdirectory("modelgen-resume").FullName;
        var (code, full) = Repo.Run("dotnet", $"\"{Dll}\" --out \"{Path.Combine(work, "full")}\" --steps 20 --save-steps 5", Repo.Root);
        Assert.That(code, Is.EqualTo(0), full);
        // only the checkpoint travels to the second run, as after a crash or on another machine
        var checkpoint = Path.Combine(work, "checkpoint-10");
        CopyDirectory(Path.Combine(work, "full", "checkpoint-10"), checkpoint);
        var (code2, resumed) = Repo.Run("dotnet", $"\"{Dll}\" --out \"{Path.Combine(work, "resumed")}\" --steps 20 --save-steps 5 --resume \"{checkpoint}\"", Repo.Root);
        Assert.That(code2, Is.EqualTo(0), resumed);
        var after10 = Lines(full).Where(l => l.Step > 10).ToList();
        Assert.That(after10, Has.Count.GreaterThanOrEqualTo(12));
        Assert.That(Lines(resumed), Is.EqualTo(after10), "per-step losses after the resume");
        Assert.That(Weights(resumed), Is.EqualTo(Weights(full)), "final weights");
        Directory.Delete(work, true);
    }

    private static List<(int Step, string Line)> Lines(string output) => Regex.Matches(output, @"^step (\d+) (.*)$", RegexOptions.Multiline)
        .Select(m => (int.Parse(m.Groups[1].Value), m.Value.TrimEnd())).ToList();

    private static string Weights(string output) => Regex.Match(output, @"^weights (\w+)", RegexOptions.Multiline).Groups[1].Value;

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
