namespace ModelGen;

/// <summary>Element type of a model's parameters and activations.</summary>
public enum DType
{
    Float32,
    Float64,
}

public static class DTypeExtensions
{
    public static int Size(this DType dtype) => dtype == DType.Float64 ? 8 : 4;

    public static string SafeTensorsName(this DType dtype) => dtype == DType.Float64 ? "F64" : "F32";

    internal static DType Of<T>() => typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(float) ? DType.Float32
        : throw new NotSupportedException($"ModelGen tensors hold float or double, not {typeof(T).Name}.");
}
