using ModelGen.Gpu;

namespace ModelGen.Ilgpu.Tests;

/// <summary>Loading the NVIDIA driver: the description names what was found, and asking for a CUDA device that is not
/// there says so with that description (here, in CI, no driver is installed; on the GPU machine one is).</summary>
public class CudaDriverTests
{
    [Test]
    public void Describe_SaysWhetherTheDriverLoaded_AndWhatItReports()
    {
        var text = CudaDriver.Describe();
        TestContext.Out.WriteLine(text);
        if (CudaDriver.TryLoad(out _, out var name))
            Assert.That(text, Does.StartWith($"NVIDIA driver library {name} loaded.").And.Contain("CUDA").And.Match(@"cuInit failed|\d+ CUDA device\(s\)"));
        else
            Assert.That(text, Does.StartWith("NVIDIA driver library not found").And.Contain("libcuda.so.1").And.Contain("LD_LIBRARY_PATH"));
    }

    [Test]
    public void AMissingCudaDevice_IsExplainedWithTheDriversReport()
    {
        var e = Assert.Throws<ArgumentException>(() => Device.Parse("cuda:63"))!;
        Assert.That(e.Message, Does.StartWith("No CUDA device 63: ILGPU found ").And.Contain("NVIDIA driver library").And.Contain("MODELGEN_DEVICE=cpu"));
    }

    [Test]
    public void InstallingTheResolverTwice_IsHarmless()
    {
        CudaDriver.InstallResolver();
        Assert.DoesNotThrow(CudaDriver.InstallResolver);
    }
}
