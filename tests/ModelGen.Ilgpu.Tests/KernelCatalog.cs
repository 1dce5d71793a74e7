using System.Reflection;
using System.Reflection.Emit;
using ModelGen.Gpu;

namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// Every ILGPU kernel the runtime and generated code can launch, found two independent ways: by the
/// <see cref="GpuKernelAttribute"/> mark (with a generic kernel's listed instantiations), and by reading the IL of every
/// method for delegates to a method created next to a call of ILGPU's <c>Load…Kernel</c> (the call sites, which give the
/// instantiations actually loaded). The assemblies: the core, ModelGen.Transformers (BERT, DistilBERT), the samples'
/// models, the test models of the generator issues and this project's models.
/// </summary>
internal static class KernelCatalog
{
    public static readonly Assembly[] Assemblies =
    [
        typeof(Tensor).Assembly,
        typeof(ModelGen.Transformers.BertForSequenceClassification).Assembly,
        typeof(FashionMnistSample.FashionMlp).Assembly,
        typeof(FashionCnnSample.FashionCnn).Assembly,
        typeof(ModelGen.Tests.Ops.SoftmaxOp).Assembly,
        typeof(KernelCatalog).Assembly,
    ];

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    /// <summary>The marked kernels, generic ones once per listed type argument.</summary>
    public static IReadOnlyList<MethodInfo> Marked()
    {
        var kernels = new List<MethodInfo>();
        foreach (var method in Assemblies.SelectMany(Types).SelectMany(t => t.GetMethods(All)))
        {
            var mark = method.GetCustomAttribute<GpuKernelAttribute>();
            if (mark is null) continue;
            if (method.IsGenericMethodDefinition) kernels.AddRange(mark.Instantiations.Select(t => method.MakeGenericMethod(t)));
            else kernels.Add(method);
        }
        return kernels;
    }

    /// <summary>The methods handed to ILGPU's kernel loaders, read from the IL of every method body.</summary>
    public static IReadOnlyList<MethodInfo> LoadedAtCallSites()
    {
        var kernels = new HashSet<MethodInfo>();
        foreach (var type in Assemblies.SelectMany(Types))
            foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
            {
                var calls = Instructions(method).ToList();
                bool loadsKernel = calls.Any(c => c.Op == OpCodes.Call || c.Op == OpCodes.Callvirt
                    ? c.Target is MethodInfo { Name: var name } target && name.StartsWith("Load") && name.EndsWith("Kernel")
                      && target.DeclaringType?.Assembly == typeof(ILGPU.Context).Assembly
                    : false);
                if (!loadsKernel) continue;
                foreach (var c in calls)
                    if (c.Op == OpCodes.Ldftn && c.Target is MethodInfo kernel) kernels.Add(kernel);
            }
        return kernels.ToList();
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
            if (!type.ContainsGenericParameters || type.IsGenericTypeDefinition) yield return type;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private readonly record struct Instruction(OpCode Op, MemberInfo? Target);

    /// <summary>The method's instructions, with the method an ldftn/call/callvirt refers to.</summary>
    private static IEnumerable<Instruction> Instructions(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos] == 0xFE ? (short)(0xFE00 | il[pos + 1]) : il[pos];
            pos += il[pos] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            MemberInfo? target = null;
            if (op.OperandType == OperandType.InlineMethod)
            {
                int token = BitConverter.ToInt32(il, pos);
                try { target = method.Module.ResolveMethod(token, typeArgs, methodArgs); }
                catch (ArgumentException) { }
            }
            pos += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pos),
                _ => 4,
            };
            yield return new Instruction(op, target);
        }
    }
}
