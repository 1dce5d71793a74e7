using System.Diagnostics;

namespace ModelGen.Tests;

/// <summary>The CPU engine's Vector256 and scalar paths: the CPU-engine tests run again in child processes with
/// AVX-512 disabled, and with all hardware intrinsics disabled.</summary>
public class FallbackTests
{
    /// <summary>The GEMM path the CPU engine must take in this process, when a parent test sets it.</summary>
    private const string ExpectedPath = "MODELGEN_EXPECT_GEMM_PATH";

    [TestCase("DOTNET_EnableAVX512", 256)] // .NET 10's knob: DOTNET_EnableAVX512F=0 no longer turns Vector512 off
    [TestCase("DOTNET_EnableHWIntrinsic", 0)]
    public void CpuEngineTests_PassWithIntrinsicsDisabled(string variable, int path)
    {
        // this assembly's CPU-engine tests and those of ModelGen.Transformers.Tests (tiny BERTs), built beside it
        var assembly = typeof(FallbackTests).Assembly.Location;
        var transformers = assembly.Replace("ModelGen.Runtime.Tests", "ModelGen.Transformers.Tests", StringComparison.Ordinal);
        Assert.That(File.Exists(transformers), Is.True, $"{transformers} is built (dotnet build ModelGen.sln)");
        var psi = new ProcessStartInfo("dotnet", $"test \"{assembly}\" \"{transformers}\" --filter TestCategory=CpuEngine --logger \"console;verbosity=normal\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment[variable] = "0";
        psi.Environment[ExpectedPath] = path.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(5)), Is.True, "child test run timed out");
        var output = stdout.Result + stderr.Result;
        TestContext.Out.WriteLine(output[Math.Max(0, output.Length - 2000)..]);
        Assert.That(process.ExitCode, Is.EqualTo(0), $"CPU-engine tests with {variable}=0 failed:\n{output[Math.Max(0, output.Length - 4000)..]}");
        Assert.That(output, Does.Match(@"Passed:\s+[1-9]\d*"), "the child run executed tests");
        foreach (var test in new[] { "Passed EngineTakesTheExpectedGemmPath", "Passed Gemm TN 257x17x3", "Passed Gemm NT 5x67x1029", "Passed ExpFloat",
                     "Passed BertInTrainingMode_WithEveryDropout_GradientsMatchFiniteDifferences", "Passed DynamicPadding_BuildsPlansInTheFirstEpochOnly" })
            Assert.That(output, Does.Contain(test), $"the rerun with {variable}=0 ran {test}");
    }

    /// <summary>In a rerun, the engine really takes the fallback path (Vector256 without AVX-512, scalar without any
    /// intrinsics); in this process, the widest path the hardware has.</summary>
    [Test]
    [Category("CpuEngine")]
    public void EngineTakesTheExpectedGemmPath()
    {
        int expected = int.TryParse(Environment.GetEnvironmentVariable(ExpectedPath), out var p) ? p
            : System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512 : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 256 : 0;
        TestContext.Out.WriteLine($"GEMM path: {Cpu.CpuGemm.Path}, expected {expected}");
        Assert.That(Cpu.CpuGemm.Path, Is.EqualTo(expected));
    }
}
