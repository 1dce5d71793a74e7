using ModelGen.Tests.Ops;

namespace ModelGen.Ilgpu.Tests;

/// <summary>The convolutional ops have no ILGPU kernels yet: on an ILGPU device they fail with a NotSupportedException
/// that says so and names the way out, instead of computing on the wrong memory.</summary>
public class ConvOnIlgpuTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    [Test]
    public void Conv2d_OnAnIlgpuDevice_IsAClearNotSupported()
    {
        using var model = new TinyCnn(Gpu, 1);
        using var x = Tensor.Zeros(new Shape(2, 2, 9, 7), DType.Float32, Gpu);
        var e = Assert.Throws<NotSupportedException>(() => model.Run(x))!;
        Assert.That(e.Message, Does.Contain("Conv2d runs on the CPU engine").And.Contain("use --device cpu"));
    }

    [Test]
    public void Dropout2d_OnAnIlgpuDevice_IsAClearNotSupported()
    {
        using var model = new Dropout2dOp(Gpu, 1);
        using var x = Tensor.Zeros(new Shape(2, 3, 4, 4), DType.Float32, Gpu);
        Assert.That(Assert.Throws<NotSupportedException>(() => model.Run(x))!.Message, Does.Contain("Dropout2d runs on the CPU engine"));
    }
}
