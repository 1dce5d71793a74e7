using ModelGen.Testing;
using System.Reflection;
using ModelGen.Gpu;
using ModelGen.IO;
using ModelGen.Optim;
using ModelGen.Transformers;

namespace ModelGen.Reliability.Tests.Runtime;

/// <summary>Dispose is deterministic (native memory returns at the call, not at a GC) and idempotent, and a disposed
/// object throws <see cref="ObjectDisposedException"/> (ModelGen.Runtime.Tests covers Run on a disposed model); an
/// impossible GPU allocation is a clear <see cref="OutOfMemoryException"/>.</summary>
public sealed class DisposeTests
{
    [Test]
    public void DisposedModel_ThrowsObjectDisposed_FromEveryEntryPoint()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("modelgen-dispose").FullName, "model.safetensors");
        var model = new TinyMlp(Device.Cpu, seed: 1);
        model.Save(path);
        using var x = Tensor.Zeros(2, 4);
        model.CrossEntropy(x, [0, 1]);
        var parameters = model.Parameters.ToList();
        model.Dispose();
        model.Dispose();
        Assert.That(parameters.All(p => p.Value.IsDisposed && p.Grad.IsDisposed), Is.True, "parameters and gradients are freed");
        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => model.Run(x), "Run");
            Assert.Throws<ObjectDisposedException>(() => model.CrossEntropy(x, [0, 1]), "CrossEntropy");
            Assert.Throws<ObjectDisposedException>(() => model.Backward(), "Backward");
            Assert.Throws<ObjectDisposedException>(() => model.Save(path), "Save");
            Assert.Throws<ObjectDisposedException>(() => model.Load(path), "Load");
            Assert.Throws<ObjectDisposedException>(() => parameters[0].Value.ToArray(), "a parameter's values");
        });
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Test]
    public void Dispose_ReturnsNativeMemoryAtOnce()
    {
        Requirement.That(NativeMemory.HeapInUse() is not null, "the C-heap check needs glibc's mallinfo2");
        long before = NativeMemory.HeapInUse()!.Value, live = Device.Cpu.LiveAllocations;
        var model = new Big(Device.Cpu, seed: 1); // 1024 x 1024 weights (4 MiB) and their gradients
        Assert.That(model.ParameterCount, Is.EqualTo(1024 * 1024 + 1024)); // binds (allocates) the parameters
        using (var x = Tensor.Zeros(8, 1024)) model.CrossEntropy(x, [0, 1, 2, 3, 4, 5, 6, 7]); // and a plan
        long allocated = NativeMemory.HeapInUse()!.Value - before;
        Assert.That(Device.Cpu.LiveAllocations, Is.GreaterThan(live + 4));
        model.Dispose();
        long after = NativeMemory.HeapInUse()!.Value - before;
        TestContext.Out.WriteLine($"model: {allocated / 1024} KiB of C heap; after Dispose (no GC): {after / 1024} KiB");
        Assert.That(Device.Cpu.LiveAllocations, Is.EqualTo(live), "every native block of the model is freed by Dispose");
        Assert.That(allocated, Is.GreaterThan(8L << 20));
        // the 8 MiB of weights and gradients are back in the C heap without a collection (the rest: the JIT, new threads)
        Assert.That(allocated - after, Is.GreaterThanOrEqualTo(8L << 20), "Dispose frees the tensors without waiting for a collection");
    }

    [Test]
    public void TensorsFilesOptimizersAndPipelines_DisposeIdempotently()
    {
        var t = Tensor.Zeros(3, 3);
        t.Dispose();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.ToArray());

        var dir = TinyBert.Save(Directory.CreateTempSubdirectory("modelgen-dispose").FullName);
        try
        {
            var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
            var name = file.Tensors[0].Name;
            file.Dispose();
            file.Dispose();
            Assert.Throws<ObjectDisposedException>(() => file.ReadFloats(name));

            using (var model = new TinyMlp(Device.Cpu, seed: 2))
            {
                var adam = new AdamW(model.Parameters, 1e-3);
                adam.Dispose();
                adam.Dispose();
            }

            var pipeline = Pipeline.TextClassification(dir, Device.Cpu);
            Assert.That(pipeline.Run("great movie"), Has.Count.EqualTo(1));
            pipeline.Dispose();
            pipeline.Dispose();
            Assert.Throws<ObjectDisposedException>(() => pipeline.Run("great movie"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>ILGPU's CPU accelerator asked for a petabyte: an OutOfMemoryException naming the requested and the
    /// available sizes (IlgpuDevice.AllocateBytes, the one place the ILGPU engine allocates), not a crash.</summary>
    [Test]
    public void AnImpossibleGpuAllocation_IsAClearOutOfMemoryError()
    {
        var gpu = (IlgpuDevice)Device.Parse("ilgpu-cpu");
        var allocate = typeof(IlgpuDevice).GetMethod("AllocateBytes", BindingFlags.Instance | BindingFlags.NonPublic)!;
        const long petabyte = 1L << 50;
        var e = Assert.Throws<TargetInvocationException>(() => allocate.Invoke(gpu, [petabyte]))!.InnerException;
        Assert.That(e, Is.TypeOf<OutOfMemoryException>());
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Message, Does.Contain(petabyte.ToString("N0")).And.Contain(gpu.Accelerator.MemorySize.ToString("N0")).And.Contain("ilgpu-cpu"));
        // the device still works afterwards
        using var t = Tensor.Zeros(new Shape(4), DType.Float32, gpu);
        Assert.That(t.ToArray(), Is.EqualTo(new float[4]));
    }
}
