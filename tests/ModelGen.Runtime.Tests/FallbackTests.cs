using System.Diagnostics;

namespace ModelGen.Tests;

/// <summary>The CPU engine's Vector256 and scalar paths: the CPU-engine tests run again in child processes with
/// AVX-512 disabled, and with all hardware intrinsics disabled.</summary>
public class FallbackTests
{
    [TestCase("DOTNET_EnableAVX512F")]
    [TestCase("DOTNET_EnableHWIntrinsic")]
    public void CpuEngineTests_PassWithIntrinsicsDisabled(string variable)
    {
        var assembly = typeof(FallbackTests).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", $"test \"{assembly}\" --filter TestCategory=CpuEngine")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment[variable] = "0";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(5)), Is.True, "child test run timed out");
        var output = stdout.Result + stderr.Result;
        TestContext.Out.WriteLine(output[Math.Max(0, output.Length - 2000)..]);
        Assert.That(process.ExitCode, Is.EqualTo(0), $"CPU-engine tests with {variable}=0 failed:\n{output[Math.Max(0, output.Length - 4000)..]}");
        Assert.That(output, Does.Match(@"Passed:\s+[1-9]\d*"), "the child run executed tests");
    }

    [Test]
    public void VectorPathsReportedByTheEngine()
    {
        // documents which path this process uses; the child processes above cover the others
        TestContext.Out.WriteLine($"GEMM path: {Cpu.CpuGemm.Path}");
        Assert.That(new[] { 0, 256, 512 }, Does.Contain(Cpu.CpuGemm.Path));
    }
}
