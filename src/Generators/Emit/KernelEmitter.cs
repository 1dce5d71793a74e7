using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Emit;

/// <summary>
/// Writes the CPU form of a fused element-wise chain: a struct body run over index ranges, with a Vector512 loop, a
/// Vector256 loop and a scalar tail, all three from the same expressions (VMath overloads every function per form).
/// The backward kernel recomputes the chain's intermediate values from its inputs in registers, then sweeps the chain
/// in reverse applying each op's derivative rule, and writes (or adds) each input's gradient.
/// </summary>
public static class KernelEmitter
{
    private static readonly (string Guard, string Load, string Store, string Width)[] Forms =
    {
        ("global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated", "global::System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref {0}, (nuint)i)", "global::System.Runtime.Intrinsics.Vector512.StoreUnsafe({1}, ref {0}, (nuint)i)", "global::System.Runtime.Intrinsics.Vector512<T>.Count"),
        ("global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated", "global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref {0}, (nuint)i)", "global::System.Runtime.Intrinsics.Vector256.StoreUnsafe({1}, ref {0}, (nuint)i)", "global::System.Runtime.Intrinsics.Vector256<T>.Count"),
    };

    public static string Describe(ModelGraph graph, ElementwiseStep step)
    {
        var names = new Dictionary<int, string>();
        foreach (var e in step.Externals) names[e] = graph[e].Kind == OpKind.Input ? graph[e].Layer : "v" + e;
        foreach (var m in step.Members) names[m.Id] = OpRule.For(m.Kind).Describe(m, m.Inputs.Select(i => names[i]).ToList());
        return names[step.Output.Id];
    }

    public static void Emit(CodeWriter w, ModelGraph graph, ElementwiseStep step)
    {
        EmitForward(w, step);
        EmitBackward(w, step);
    }

    private static Dictionary<int, string> ForwardTemps(CodeWriter w, ElementwiseStep step, string decl)
    {
        var names = new Dictionary<int, string>();
        for (int i = 0; i < step.Externals.Count; i++) names[step.Externals[i]] = "x" + i;
        foreach (var m in step.Members)
        {
            var expr = OpRule.For(m.Kind).Forward(m.Inputs.Select(x => names[x]).ToList(), m);
            names[m.Id] = "t" + m.Id;
            w.Line($"{decl} t{m.Id} = {expr};");
        }
        return names;
    }

    private static void Loops(CodeWriter w, ElementwiseStep step, System.Action<string, System.Func<string, string>, System.Func<string, string, string>> body)
    {
        w.Line("int i = start;");
        foreach (var (guard, load, store, width) in Forms)
        {
            w.Open($"if ({guard})");
            w.Open($"for (; i <= end - {width}; i += {width})");
            body("var", r => string.Format(load, r), (r, v) => string.Format(store, r, v) + ";");
            w.Close();
            w.Close();
        }
        w.Open("for (; i < end; i++)");
        body("T", r => $"global::System.Runtime.CompilerServices.Unsafe.Add(ref {r}, i)", (r, v) => $"global::System.Runtime.CompilerServices.Unsafe.Add(ref {r}, i) = {v};");
        w.Close();
    }

    private static void EmitForward(CodeWriter w, ElementwiseStep step)
    {
        w.Line($"/// <summary>Forward of {step.Members.Count} fused element-wise op(s): {string.Join(" → ", step.Members.Select(m => m.Kind))}.</summary>");
        w.Open($"private struct Elementwise{step.Index}Forward<T> : global::ModelGen.Cpu.IRangeBody where T : unmanaged, global::System.Numerics.IFloatingPointIeee754<T>");
        w.Line("public global::ModelGen.Tensor Y;");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"public global::ModelGen.Tensor X{i};");
        w.Open("public readonly void Execute(int start, int end)");
        w.Line("ref T y = ref global::ModelGen.Ops.Ref<T>(Y);");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"ref T in{i} = ref global::ModelGen.Ops.Ref<T>(X{i});");
        Loops(w, step, (decl, load, store) =>
        {
            for (int i = 0; i < step.Externals.Count; i++) w.Line($"{decl} x{i} = {load("in" + i)};");
            ForwardTemps(w, step, decl);
            w.Line(store("y", "t" + step.Output.Id));
        });
        w.Close();
        w.Close();
        w.Line();
    }

    private static void EmitBackward(CodeWriter w, ElementwiseStep step)
    {
        w.Line($"/// <summary>Backward of kernel {step.Index}: recompute, then apply each op's derivative in reverse.</summary>");
        w.Open($"private struct Elementwise{step.Index}Backward<T> : global::ModelGen.Cpu.IRangeBody where T : unmanaged, global::System.Numerics.IFloatingPointIeee754<T>");
        w.Line("public global::ModelGen.Tensor DY;");
        for (int i = 0; i < step.Externals.Count; i++)
        {
            w.Line($"public global::ModelGen.Tensor X{i};");
            w.Line($"public global::ModelGen.Tensor? G{i};");
            w.Line($"public bool Accumulate{i};");
        }
        w.Open("public readonly void Execute(int start, int end)");
        w.Line("ref T dy = ref global::ModelGen.Ops.Ref<T>(DY);");
        for (int i = 0; i < step.Externals.Count; i++)
        {
            w.Line($"ref T in{i} = ref global::ModelGen.Ops.Ref<T>(X{i});");
            w.Line($"ref T gr{i} = ref global::ModelGen.Ops.RefOrNull<T>(G{i});");
        }
        Loops(w, step, (decl, load, store) =>
        {
            for (int i = 0; i < step.Externals.Count; i++) w.Line($"{decl} x{i} = {load("in" + i)};");
            var names = ForwardTemps(w, step, decl);
            // adjoints: name of the variable holding d(value)
            var adjoint = new Dictionary<int, string> { [step.Output.Id] = "d" + step.Output.Id };
            w.Line($"{decl} d{step.Output.Id} = {load("dy")};");
            int counter = 0;
            foreach (var m in Enumerable.Reverse(step.Members))
            {
                if (!adjoint.TryGetValue(m.Id, out var g)) continue;
                var inputs = m.Inputs.Select(x => names[x]).ToList();
                foreach (var (input, contribution) in OpRule.For(m.Kind).Backward(g, inputs, names[m.Id], m))
                {
                    int target = m.Inputs[input];
                    var v = $"a{counter++}";
                    if (adjoint.TryGetValue(target, out var existing)) w.Line($"{decl} {v} = {existing} + {contribution};");
                    else w.Line($"{decl} {v} = {contribution};");
                    adjoint[target] = v;
                }
            }
            for (int i = 0; i < step.Externals.Count; i++)
            {
                var e = step.Externals[i];
                if (!adjoint.TryGetValue(e, out var d)) continue;
                w.Line($"if (G{i} is not null) {store("gr" + i, $"(Accumulate{i} ? {load("gr" + i)} + {d} : {d})")}");
            }
        });
        w.Close();
        w.Close();
        w.Line();
    }
}
