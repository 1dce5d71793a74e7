using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ModelGen.Gpu;

namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// Every kernel of <see cref="KernelCatalog"/> compiles for NVIDIA with ILGPU's PTX backend, for SM_80 (A100) and SM_90
/// (H100/H200), with the context the engine itself creates. Needs no GPU: ILGPU's CPU accelerator runs .NET's MathF and
/// never shows a missing PTX intrinsic, this does.
/// </summary>
public class PtxCompileTests
{
    private static readonly Lazy<IReadOnlyList<MethodInfo>> Kernels = new(KernelCatalog.Marked);

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var kernel in Kernels.Value.OrderBy(Describe, StringComparer.Ordinal))
            foreach (var architecture in new[] { CudaArchitecture.SM_80, CudaArchitecture.SM_90 })
                yield return new TestCaseData(kernel, architecture).SetArgDisplayNames(Describe(kernel), architecture.ToString());
    }

    internal static string Describe(MethodInfo kernel)
    {
        var name = $"{kernel.DeclaringType!.FullName}.{kernel.Name}";
        return kernel.IsGenericMethod ? $"{name}<{string.Join(", ", kernel.GetGenericArguments().Select(TypeName))}>" : name;
    }

    private static string TypeName(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(TypeName))}>"
        : t.Name;

    [Test]
    public void TheMarkedKernels_AreTheKernelsTheCallSitesLoad()
    {
        // a call site inside generic code loads an open instantiation (Gemm<GpuBiasEpilogue<TAct>>): it is matched by the
        // generic kernel's definition, and the instantiations the mark lists are checked below
        static string Key(MethodInfo k) => k.ContainsGenericParameters ? Describe(k.GetGenericMethodDefinition()) : Describe(k);
        var marked = Kernels.Value.Select(Describe).Concat(Kernels.Value.Where(k => k.IsGenericMethod).Select(k => Describe(k.GetGenericMethodDefinition()))).ToHashSet();
        var loaded = KernelCatalog.LoadedAtCallSites().Select(Key).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Except(marked), Is.Empty, "loaded by a Load…Kernel call but not marked [GpuKernel] (or a generic instantiation not listed)");
            Assert.That(Kernels.Value.Where(k => !k.IsGenericMethod).Select(Describe).Except(loaded), Is.Empty, "marked [GpuKernel] but loaded nowhere");
        });
        // the GEMM is loaded with every activation of its epilogue
        var activations = typeof(IGpuActivation).Assembly.GetTypes().Where(t => t.IsValueType && typeof(IGpuActivation).IsAssignableFrom(t));
        var gemms = Kernels.Value.Where(k => k.Name == "Gemm").Select(k => k.GetGenericArguments()[0].GetGenericArguments()[0]);
        Assert.That(gemms, Is.EquivalentTo(activations));
        // the set spans the core's shared and per-op kernels and the generated kernels of shipped and sample models (the
        // quickstart MLP has none of its own: its Linear + ReLU run in the GEMM's epilogue)
        Assert.That(marked, Has.Some.StartsWith("ModelGen.Gpu.GpuKernels.Gemm<"));
        Assert.That(marked, Has.Some.Contains("BertLayer.Elementwise"));
        Assert.That(marked, Has.Some.StartsWith("FashionCnnSample.FashionCnn.Elementwise"));
    }

    [TestCaseSource(nameof(Cases))]
    public void CompilesToPtx(MethodInfo kernel, CudaArchitecture architecture)
    {
        var ptx = CompilePtx(Context.Value, kernel, architecture);
        Assert.That(ptx, Does.Contain(".target sm_80").And.Contain(".entry"));
    }

    /// <summary>The failure this guards against, kept visible: without ILGPU.Algorithms, MathF.Exp (in GpuMath, so in
    /// softmax, cross-entropy, sigmoid, tanh, GELU) has no PTX form.</summary>
    [Test]
    public void WithoutTheAlgorithmsLibrary_ExpHasNoPtxForm()
    {
        using var bare = IlgpuDevice.CreateContext(algorithms: false);
        var sigmoidGemm = Kernels.Value.Single(k => Describe(k) == "ModelGen.Gpu.GpuKernels.Gemm<GpuBiasEpilogue<GpuSigmoid>>");
        var e = Assert.Throws<ILGPU.InternalCompilerException>(() => CompilePtx(bare, sigmoidGemm, CudaArchitecture.SM_90))!;
        Assert.That(e.ToString(), Does.Contain("The function 'ExpF' does not have an intrinsic implementation for this backend"));
        var failing = Kernels.Value.Where(k =>
        {
            try { CompilePtx(bare, k, CudaArchitecture.SM_90); return false; }
            catch (ILGPU.InternalCompilerException) { return true; }
        }).Select(Describe).ToList();
        TestContext.Out.WriteLine($"Without ILGPU.Algorithms {failing.Count} of {Kernels.Value.Count} kernels fail to compile for SM_90: {string.Join(", ", failing)}");
        Assert.That(failing, Has.Count.GreaterThan(1));
    }

    private static readonly Lazy<Context> Context = new(() => IlgpuDevice.CreateContext());

    internal static string CompilePtx(Context context, MethodInfo kernel, CudaArchitecture architecture)
    {
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, null);
        var first = kernel.GetParameters()[0].ParameterType;
        var entry = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = backend.Compile(entry, new KernelSpecialization());
        return ((PTXCompiledKernel)compiled).PTXAssembly;
    }
}
