using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>A training step allocates 0 managed bytes on all threads after warm-up, measured in a process of its own
/// (GC.GetTotalAllocatedBytes(true) before and after 100 steps of the quickstart MLP with Adam).</summary>
public class AllocationTests
{
    [TestCase(64)]
    [TestCase(33)]
    public void HundredTrainingSteps_AllocateNothing(int batch)
    {
        var dll = Path.Combine(Repo.Root, "tests", "ModelGen.AllocationCheck", "bin", Repo.Configuration, "net10.0", "ModelGen.AllocationCheck.dll");
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" {batch}", Repo.Root);
        Assert.That(code, Is.EqualTo(0), text);
        var bytes = long.Parse(Regex.Match(text, @"allocated (\d+) bytes").Groups[1].Value);
        Assert.That(bytes, Is.EqualTo(0), text);
    }
}
