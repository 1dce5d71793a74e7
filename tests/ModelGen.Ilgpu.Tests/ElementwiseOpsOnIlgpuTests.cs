using ModelGen.Tests.Ops;

namespace ModelGen.Ilgpu.Tests;

/// <summary>Every element-wise function op with a contract in ModelGen.Runtime.Tests (found by reflection, so a new op
/// cannot be left out) runs its generated ILGPU kernels on ILGPU's CPU accelerator and agrees with the CPU engine,
/// forward and backward, to ‖a − b‖/‖b‖ ≤ 1e-5 at sizes that are not multiples of a warp.</summary>
public class ElementwiseOpsOnIlgpuTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    public static IEnumerable<TestCaseData> Contracts()
        => typeof(ElementwiseOpContract).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(ElementwiseOpContract)) && !t.IsAbstract)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new TestCaseData(t).SetName($"{t.Name}_AgreesOnIlgpu"));

    [Test]
    public void TheContractsAreFound() => Assert.That(Contracts(), Is.Not.Empty);

    private static (float[] Y, float[] Dx) Run(ElementwiseOpContract contract, Device device, float[] x, float[] gy, Shape shape)
    {
        using var model = contract.Create(device, DType.Float32);
        using var input = Tensor.From<float>(x, shape, DType.Float32, device);
        input.RequiresGrad = true;
        var y = ((IModel)model).Run(input).ToArray();
        using var gradOutput = Tensor.From<float>(gy, shape, DType.Float32, device);
        ((dynamic)model).Backward(gradOutput);
        return (y, input.Grad!.ToArray());
    }

    [TestCaseSource(nameof(Contracts))]
    public void AgreesWithTheCpuEngine(Type contractType)
    {
        var contract = (ElementwiseOpContract)Activator.CreateInstance(contractType)!;
        var rng = new Random(3);
        foreach (var shape in new[] { new Shape(3, 17), new Shape(2, 257) })
        {
            var x = Enumerable.Range(0, shape.Count).Select(_ => (float)contract.Domain(rng.NextDouble() * 12 - 6)).ToArray();
            var gy = Enumerable.Range(0, shape.Count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var cpu = Run(contract, Device.Cpu, x, gy, shape);
            var gpu = Run(contract, Gpu, x, gy, shape);
            Assert.That(EngineEquivalenceTests.RelativeError(gpu.Y, cpu.Y), Is.LessThanOrEqualTo(1e-5), $"{contractType.Name} forward {shape}");
            Assert.That(EngineEquivalenceTests.RelativeError(gpu.Dx, cpu.Dx), Is.LessThanOrEqualTo(1e-5), $"{contractType.Name} backward {shape}");
        }
    }
}

/// <summary>Broadcasting kernels have no ILGPU form before GPU part 2: the same op on equal shapes runs there, and on
/// shapes that broadcast it is refused with a message naming the shapes, before anything is launched.</summary>
public class BroadcastOnIlgpuTests
{
    private static readonly Device Gpu = Device.Parse("ilgpu-cpu");

    [Test]
    public void EqualShapesRun_BroadcastShapesAreRefusedByName()
    {
        using var model = new BroadcastMulOp(Gpu, 0);
        using var a = Tensor.From<float>([1, 2, 3, 4, 5, 6], new Shape(2, 3), DType.Float32, Gpu);
        using var same = Tensor.From<float>([2, 2, 2, 2, 2, 2], new Shape(2, 3), DType.Float32, Gpu);
        Assert.That(model.Run(a, same).ToArray(), Is.EqualTo(new float[] { 2, 4, 6, 8, 10, 12 }));
        using var row = Tensor.From<float>([1, 10, 100], new Shape(3), DType.Float32, Gpu);
        var e = Assert.Throws<NotSupportedException>(() => model.Run(a, row))!;
        Assert.That(e.Message, Does.Contain("[3]").And.Contain("[2, 3]").And.Contain("no ILGPU form yet").And.Contain("a * b"));
    }
}
