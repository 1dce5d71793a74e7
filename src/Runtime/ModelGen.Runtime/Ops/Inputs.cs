using ILGPU;
using ILGPU.Runtime;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>How a generated model checks and converts its Forward inputs (the generator decides each input's role from
/// its uses: src/Generators/Graph/DTypes.cs). Numbers come in the model's dtype, or as Bool or integer tensors promoted
/// into a tensor of the plan; integer indices come as Int32, or Int64 converted; masks come as Bool. A conversion writes
/// into a buffer of the plan, allocated once per input shape.</summary>
public static unsafe partial class Ops
{
    /// <summary>Checks an input used as numbers: the model's dtype, or Bool, integer or 16-bit tensors (converted, as
    /// PyTorch promotes them in arithmetic); the other of Float32/Float64 is refused (a silent conversion would hide a
    /// mistaken dtype).</summary>
    public static void CheckInput(Tensor x, DType dtype, Device device, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.DType != dtype && x.DType is DType.Float32 or DType.Float64)
            throw new ArgumentException($"Input '{name}' holds {x.DType} but the model computes in {dtype}.", name);
        CheckDevice(x, device, name);
    }

    /// <summary>Checks an input the model reads as integer indices (<paramref name="use"/>: "the ids of Embedding 'wte'").</summary>
    public static void CheckIndexInput(Tensor x, Device device, string name, string use)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException(
                $"Input '{name}' is {use} and must hold integers (Int32 or Int64), but it holds {x.DType}: " +
                $"create it with Tensor.From(new long[] {{ ... }}, ...) or convert it with {name}.To(DType.Int64).", name);
        CheckDevice(x, device, name);
    }

    /// <summary>Checks an input the model reads as a Bool mask (<paramref name="use"/>: "Where's condition").</summary>
    public static void CheckMaskInput(Tensor x, Device device, string name, string use)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.DType != DType.Bool)
            throw new ArgumentException(
                $"Input '{name}' is {use} and must be a Bool tensor, but it holds {x.DType}: convert it with {name}.To(DType.Bool) (nonzero is true).", name);
        CheckDevice(x, device, name);
    }

    public static void CheckDevice(Tensor x, Device device, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (!ReferenceEquals(x.Device, device))
            throw new ArgumentException($"Input '{name}' is on {x.Device.Name} but the model is on {device.Name}: copy it with x.To(model.Device).", name);
    }

    /// <summary>The input itself when it holds <paramref name="dtype"/>; otherwise its elements converted into
    /// <paramref name="buffer"/> (created on first use, and again only if the shape changes).</summary>
    public static Tensor AsInput(Tensor x, DType dtype, ref Tensor? buffer)
    {
        if (x.DType == dtype) return x;
        if (buffer is null || !buffer.Shape.Equals(x.Shape) || buffer.DType != dtype)
        {
            buffer?.Dispose();
            buffer = Tensor.Zeros(x.Shape, dtype, x.Device);
        }
        if (x.Device.IsCpu) buffer.CopyFrom(x);
        else ConvertGpu(x, buffer);
        return buffer;
    }

    // ---------------- ILGPU ----------------

    /// <summary>The conversions a model's inputs need on an ILGPU device, in one kernel each (no host round trip).</summary>
    private static void ConvertGpu(Tensor x, Tensor y)
    {
        var d = GpuOps.Dev(y);
        switch (x.DType, y.DType)
        {
            case (DType.Int64, DType.Int32):
                d.Launcher("convert-i64-i32", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<int>>(Int64ToInt32Kernel))
                    (x.Count, x.GpuBytes.Cast<long>().SubView(0, x.Count), y.GpuBytes.Cast<int>().SubView(0, y.Count));
                break;
            case (DType.Int64, DType.Float32):
                d.Launcher("convert-i64-f32", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<float>>(Int64ToFloatKernel))
                    (x.Count, x.GpuBytes.Cast<long>().SubView(0, x.Count), y.GpuView);
                break;
            case (DType.Int32, DType.Float32):
                d.Launcher("convert-i32-f32", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>>(Int32ToFloatKernel))
                    (x.Count, x.GpuBytes.Cast<int>().SubView(0, x.Count), y.GpuView);
                break;
            case (DType.Bool, DType.Float32):
                d.Launcher("convert-bool-f32", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<float>>(BoolToFloatKernel))
                    (x.Count, x.GpuBytes.SubView(0, x.Count), y.GpuView);
                break;
            default:
                y.CopyFrom(x); // 16-bit inputs: through the host
                break;
        }
    }

    /// <summary>Int64 → Int32, saturating as the CPU conversion does (an id out of range is then refused by the op that reads it).</summary>
    [GpuKernel]
    internal static void Int64ToInt32Kernel(Index1D i, ArrayView<long> x, ArrayView<int> y)
    {
        long v = x[i];
        y[i] = v > int.MaxValue ? int.MaxValue : v < int.MinValue ? int.MinValue : (int)v;
    }

    [GpuKernel]
    internal static void Int64ToFloatKernel(Index1D i, ArrayView<long> x, ArrayView<float> y) => y[i] = x[i];

    [GpuKernel]
    internal static void Int32ToFloatKernel(Index1D i, ArrayView<int> x, ArrayView<float> y) => y[i] = x[i];

    [GpuKernel]
    internal static void BoolToFloatKernel(Index1D i, ArrayView<byte> x, ArrayView<float> y) => y[i] = x[i] != 0 ? 1f : 0f;
}
