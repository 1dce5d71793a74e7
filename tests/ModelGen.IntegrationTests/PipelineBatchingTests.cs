using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The text-classification pipeline batches internally: many long real texts (UCI sentences concatenated, made
/// at test time) in one Run call complete, and what Run adds to the working set (its peak less the working set once the
/// texts and the pipeline are loaded), measured in a child process per input count, does not grow with the number of
/// texts (a tiny random BERT with MiniLM's real vocabulary and 512 positions, for speed). The texts themselves are the
/// caller's and grow with their count (3.2 MB of UTF-8 for 2,000), so they are left out of the comparison.
/// The child runs with a 4 MB gen0 budget (DOTNET_GCgen0size): with the default budget the GC keeps up to
/// ~100 MB of garbage from tokenising thousands of texts committed, whatever the pipeline does.</summary>
public class PipelineBatchingTests
{
    private static readonly string Check = Path.Combine(Repo.Root, "tests", "ModelGen.PipelineCheck", "bin", Repo.Configuration, "net10.0", "ModelGen.PipelineCheck.dll");

    [TestCase(2000, 200, 1, 600, 1.10)]
    [TestCase(1000, 100, 100, 500, 1.20)]
    public void ManyLongTexts_PeakWorkingSetStaysFlat(int count, int fewer, int minWords, int maxWords, double limit)
    {
        var work = Directory.CreateTempSubdirectory("modelgen-pipeline-memory").FullName;
        try
        {
            var model = Path.Combine(work, "model");
            var texts = Path.Combine(work, "texts.txt");
            Run($"model \"{model}\"");
            Run($"texts \"{texts}\" {count} {minWords} {maxWords} 11");
            var (few, fewDigest) = Peak(Run($"run \"{model}\" \"{texts}\" {fewer}"));
            var (many, _) = Peak(Run($"run \"{model}\" \"{texts}\" {count}"));
            TestContext.Out.WriteLine($"{fewer} texts: Run adds {few / 1e6:F1} MB; {count} texts: Run adds {many / 1e6:F1} MB ({many / (double)few:F3}x)");
            Assert.That(many, Is.LessThanOrEqualTo(limit * few), $"Run on {count} texts adds {many / 1e6:F1} MB to the working set, on {fewer} {few / 1e6:F1} MB");
            Assert.That(fewDigest, Is.Not.NaN);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Run(string arguments)
    {
        var (code, output) = Repo.Run("dotnet", $"\"{Check}\" {arguments}", Repo.Root, new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "400000" });
        Assert.That(code, Is.EqualTo(0), output);
        TestContext.Out.Write(output);
        return output;
    }

    /// <summary>The working set Run adds: the process's peak less the working set just before Run.</summary>
    private static (long Added, double Digest) Peak(string output)
    {
        var before = Regex.Match(output, @"working set before run (\d+) bytes");
        var peak = Regex.Match(output, @"peak working set (\d+) bytes");
        var digest = Regex.Match(output, @"digest (\S+)");
        Assert.That(before.Success && peak.Success && digest.Success, Is.True, output);
        long Bytes(Match m) => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return (Bytes(peak) - Bytes(before), double.Parse(digest.Groups[1].Value, CultureInfo.InvariantCulture));
    }
}
