using ModelGen.Tests.Ops;
using static ModelGen.Ilgpu.Tests.CnnComparison;

namespace ModelGen.Ilgpu.Tests;

/// <summary>The ILGPU forms of Conv2d, the poolings, BatchNorm2d and Dropout2d on ILGPU's CPU accelerator against the
/// CPU engine (see <see cref="CnnComparison"/>). Shapes are small and odd: the simulator is slow.</summary>
public class CnnOnIlgpuTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    public static IEnumerable<Case> Cases() =>
    [
        new("conv-stride2-pad1", d => new DeviceConv(d, 3, 4, 3, 2, 1, 1, 1, true), [3, 3, 9, 7]),
        new("conv-dilation2-groups2", d => new DeviceConv(d, 4, 6, 3, 1, 2, 2, 2, true), [1, 4, 7, 9]),
        new("conv-1x1-direct-groups2", d => new DeviceConv(d, 4, 6, 1, 1, 0, 1, 2, true), [3, 4, 5, 7]),
        new("conv-1x1-stride2-nobias", d => new DeviceConv(d, 3, 2, 1, 2, 0, 1, 1, false), [1, 3, 7, 7]),
        new("conv-depthwise-k2-stride3", d => new DeviceConv(d, 3, 3, 2, 3, 0, 1, 3, true), [3, 3, 9, 9]),
        new("conv-relu-conv", d => new ConvReluConv(d, 2), [3, 3, 7, 9]),
        new("conv-sigmoid-tanh", d => new DeviceConvSigmoidTanh(d, 3), [3, 2, 7, 9]),
        new("conv-fan-out", d => new ConvFanOut(d, 4), [3, 2, 7, 9]),
        new("max-pool-3-s2-p1-ties", d => new DeviceMaxPool(d, 3, 2, 1), [3, 2, 9, 7], Ties: true),
        new("max-pool-2-odd", d => new DeviceMaxPool(d, 2, 2, 0), [1, 3, 7, 9]),
        new("avg-pool-3-s2-p1", d => new DeviceAvgPool(d, 3, 2, 1), [3, 2, 9, 7]),
        new("adaptive-avg-pool-3x2", d => new DeviceAdaptiveAvgPool(d, 3, 2), [3, 2, 7, 9]),
        new("adaptive-avg-pool-4x4", d => new DeviceAdaptiveAvgPool(d, 4, 4), [1, 2, 7, 9]),
        new("conv-batch-norm", d => new DeviceConvBatchNorm(d, 6), [3, 2, 7, 9]),
        new("conv-batch-norm-batch1", d => new DeviceConvBatchNorm(d, 6), [1, 2, 9, 7]),
        new("dropout2d", d => new Dropout2dOp(d, 8), [3, 4, 5, 7]),
        new("tiny-cnn", d => new TinyCnn(d, 1), [3, 2, 9, 7], CrossEntropy: true),
        new("tiny-cnn-batch1", d => new TinyCnn(d, 2), [1, 2, 9, 7], CrossEntropy: true),
        FashionCnn,
    ];

    [Test]
    public void ModelsAgreeWithTheCpuEngine([ValueSource(nameof(Cases))] Case c)
    {
        var worst = Compare(c, Gpu);
        TestContext.Out.WriteLine($"{c.Name}: {worst}");
    }

    [Test]
    public void Dropout2d_DropsWholeChannels_TheSameOnBothEngines()
    {
        using var cpu = new Dropout2dOp(Device.Cpu, 3);
        using var gpu = new Dropout2dOp(Gpu, 3);
        var shape = new Shape(4, 6, 3, 5);
        var data = Enumerable.Range(0, shape.Count).Select(i => 1 + i % 7 * 0.125f).ToArray();
        using var xc = Tensor.From<float>(data, shape, DType.Float32);
        using var xg = Tensor.From<float>(data, shape, DType.Float32, Gpu);
        var yc = ((IModel)cpu).Run(xc).ToArray();
        var yg = ((IModel)gpu).Run(xg).ToArray();
        Assert.That(yg, Is.EqualTo(yc), "bit-identical masks and products");
        var dropped = Enumerable.Range(0, 24).Where(p => yc.Skip(p * 15).Take(15).All(v => v == 0)).Count();
        Assert.That(dropped, Is.InRange(1, 23), "some, not all, channels dropped");
        Assert.That(Enumerable.Range(0, 24).All(p => yc.Skip(p * 15).Take(15).All(v => v == 0) || yc.Skip(p * 15).Take(15).All(v => v != 0)), Is.True);
    }

    [Test]
    public void BatchNormTrainingOnASingleValuePerChannel_IsRefusedOnTheHost()
    {
        using var model = new DeviceConvBatchNorm(Gpu, 1);
        using var x = Tensor.Zeros(new Shape(1, 2, 1, 1), DType.Float32, Gpu);
        Assert.That(Assert.Throws<ArgumentException>(() => ((IModel)model).Run(x))!.Message, Does.Contain("more than one value per channel"));
    }
}
