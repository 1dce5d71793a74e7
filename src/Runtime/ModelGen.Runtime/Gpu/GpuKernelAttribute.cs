namespace ModelGen.Gpu;

/// <summary>
/// Marks an ILGPU kernel: a static method that the runtime or generated code loads with <c>Load…Kernel</c>. The test
/// that compiles every kernel for NVIDIA (PTX, SM_80 and SM_90) enumerates kernels by this attribute and checks the set
/// against the kernels an independent search of the <c>Load…Kernel</c> call sites finds, so a kernel without the mark
/// fails that test. A generic kernel lists the type arguments it is loaded with, one instantiation per type.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class GpuKernelAttribute(params Type[] instantiations) : Attribute
{
    /// <summary>For a kernel with one type parameter: each type argument it is loaded with.</summary>
    public IReadOnlyList<Type> Instantiations { get; } = instantiations;
}
