namespace ModelGen.Ilgpu.Tests;

/// <summary>The FashionCnn-architecture comparison of <see cref="CnnOnIlgpuTests"/> on a real GPU
/// (MODELGEN_GPU_DEVICE, default cuda): runs only where one is present.</summary>
[Category("Gpu")]
public class CnnOnCudaTests
{
    [Test]
    public void FashionCnnAt12x12_AgreesWithTheCpuEngine()
    {
        var device = Device.Parse(Environment.GetEnvironmentVariable("MODELGEN_GPU_DEVICE") ?? "cuda");
        var worst = CnnComparison.Compare(CnnComparison.FashionCnn, device);
        Report.Line($"{CnnComparison.FashionCnn.Name} on {device.Name}: {worst}");
    }
}
