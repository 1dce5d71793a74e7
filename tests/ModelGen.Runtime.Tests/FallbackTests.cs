using ModelGen.Testing;

namespace ModelGen.Tests;

/// <summary>The core's CPU-engine tests (the GEMM matrix, vector math, the ops) rerun with AVX-512 off and with all
/// intrinsics off (tests/Shared/FallbackRerun.cs); ModelGen.Transformers.Tests reruns its tiny BERTs the same way.</summary>
public class FallbackTests : FallbackRerun
{
    protected override string[] MustRun => ["EngineTakesTheExpectedGemmPath", "Gemm TN 257x17x3", "Gemm NT 5x67x1029", "ExpFloat", "Extremes_AreFiniteAndExact"];

    /// <summary>The GEMM takes the path of the vector width the process has.</summary>
    [Test]
    [Category("CpuEngine")]
    public void EngineTakesTheExpectedGemmPath()
    {
        int expected = int.TryParse(Environment.GetEnvironmentVariable(ExpectedWidth), out var p) ? p
            : System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512 : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 256 : 0;
        TestContext.Out.WriteLine($"GEMM path: {Cpu.CpuGemm.Path}, expected {expected}");
        Assert.That(Cpu.CpuGemm.Path, Is.EqualTo(expected));
    }
}
