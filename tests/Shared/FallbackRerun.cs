using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace ModelGen.Testing;

/// <summary>The CPU engine's Vector256 and scalar paths: a test assembly's CPU-engine tests run again in child
/// processes with AVX-512 disabled and with all hardware intrinsics disabled, and must pass there too. Each test project
/// with CPU-engine tests has a subclass naming tests its rerun must include (so that a filter that stops matching them
/// fails); the rerun covers the subclass's own assembly, which is built whenever the subclass runs.</summary>
[NonParallelizable]
public abstract class FallbackRerun
{
    /// <summary>The vector width the child process must have, set by the parent (512, 256 or 0).</summary>
    protected const string ExpectedWidth = "MODELGEN_EXPECT_GEMM_PATH";

    /// <summary>Test names ("Passed NAME" lines) the rerun must show.</summary>
    protected abstract string[] MustRun { get; }

    [TestCase("DOTNET_EnableAVX512", 256)] // .NET 10's knob: DOTNET_EnableAVX512F=0 no longer turns Vector512 off
    [TestCase("DOTNET_EnableHWIntrinsic", 0)]
    public void CpuEngineTests_PassWithIntrinsicsDisabled(string variable, int width)
    {
        var assembly = GetType().Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", $"test \"{assembly}\" --filter TestCategory=CpuEngine --logger \"console;verbosity=normal\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment[variable] = "0";
        psi.Environment[ExpectedWidth] = width.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(5)), Is.True, "child test run timed out");
        var output = stdout.Result + stderr.Result;
        TestContext.Out.WriteLine(output[Math.Max(0, output.Length - 2000)..]);
        Assert.That(process.ExitCode, Is.EqualTo(0), $"CPU-engine tests with {variable}=0 failed:\n{output[Math.Max(0, output.Length - 4000)..]}");
        Assert.That(output, Does.Match(@"Passed:\s+[1-9]\d*"), "the child run executed tests");
        foreach (var test in MustRun.Append("VectorWidthIsTheExpectedOne"))
            Assert.That(output, Does.Contain("Passed " + test), $"the rerun with {variable}=0 ran {test}");
    }

    /// <summary>In a rerun, the JIT really gives the fallback width (Vector256 without AVX-512, scalar without any
    /// intrinsics); in the parent, the widest the hardware has.</summary>
    [Test]
    [Category("CpuEngine")]
    public void VectorWidthIsTheExpectedOne()
    {
        int actual = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;
        if (int.TryParse(Environment.GetEnvironmentVariable(ExpectedWidth), out var expected))
            Assert.That(actual, Is.EqualTo(expected));
        else Assert.That(actual, Is.GreaterThanOrEqualTo(256), "this machine has AVX2 at least");
    }
}
