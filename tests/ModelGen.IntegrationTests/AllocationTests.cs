using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>A training step allocates 0 managed bytes on all threads after warm-up, measured in a process of its own
/// (GC.GetTotalAllocatedBytes(true) before and after 100 steps): the quickstart MLP with Adam, the FashionCnn
/// architecture with AdamW, and a BERT classifier fine-tuned through TextClassificationTask and the Trainer with dynamic
/// padding (collation from cached token ids, forward, loss, backward, clipping, AdamW, schedule).</summary>
public class AllocationTests
{
    [TestCase("mlp 64")]
    [TestCase("mlp 33")]
    [TestCase("cnn")]
    [TestCase("bert")]
    public void HundredTrainingSteps_AllocateNothing(string workload)
    {
        var dll = Path.Combine(Repo.Root, "tests", "ModelGen.AllocationCheck", "bin", Repo.Configuration, "net10.0", "ModelGen.AllocationCheck.dll");
        var (code, text) = Repo.Run("dotnet", $"\"{dll}\" {workload}", Repo.Root);
        TestContext.Out.WriteLine($"{workload}: {text}");
        Assert.That(code, Is.EqualTo(0), text);
        var bytes = long.Parse(Regex.Match(text, @"allocated (\d+) bytes").Groups[1].Value);
        Assert.That(bytes, Is.EqualTo(0), text);
    }
}
