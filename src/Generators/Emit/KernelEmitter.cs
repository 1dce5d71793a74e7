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
        foreach (var m in step.Members) names[m.Id] = OpRule.For(m).Describe(m, m.Inputs.Select(i => names[i]).ToList());
        return names[step.Output.Id];
    }

    public static void Emit(CodeWriter w, ModelGraph graph, ElementwiseStep step, string modelName)
    {
        bool backward = step.Externals.Any(Differentiated(step).Contains); // a chain of comparisons has none
        EmitForward(w, step);
        if (backward) EmitBackward(w, step);
        if (MayBroadcast(step))
        {
            EmitBroadcastForward(w, step);
            if (backward) EmitBroadcastBackward(w, step);
        }
        EmitGpuForward(w, step, modelName);
        if (backward) EmitGpuBackward(w, step, modelName);
    }

    /// <summary>Whether the step's operands may have different shapes (then broadcast to the output's): a chain with one
    /// input cannot.</summary>
    public static bool MayBroadcast(ElementwiseStep step) => step.Externals.Count > 1;

    /// <summary>The ILGPU form of a rule's expression: the same text over GpuMath's float functions.</summary>
    private static string ToGpu(string expression) => expression
        .Replace("VMath.C<T>(", "global::ModelGen.Gpu.GpuMath.C(")
        .Replace("VMath.", "global::ModelGen.Gpu.GpuMath.");

    private const string View = "global::ILGPU.ArrayView<float>";

    private static void EmitGpuForward(CodeWriter w, ElementwiseStep step, string modelName)
    {
        var inputs = string.Concat(Enumerable.Range(0, step.Externals.Count).Select(i => $", {View} in{i}"));
        w.Line($"/// <summary>ILGPU form of kernel {step.Index} (one thread per element).</summary>");
        w.Line("[global::ModelGen.Gpu.GpuKernel]");
        w.Open($"internal static void Elementwise{step.Index}ForwardGpu(global::ILGPU.Index1D i, {View} y{inputs})");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"float x{i} = in{i}[i];");
        var names = new Dictionary<int, string>();
        for (int i = 0; i < step.Externals.Count; i++) names[step.Externals[i]] = "x" + i;
        foreach (var m in step.Members)
        {
            w.Line($"float t{m.Id} = {ToGpu(OpRule.For(m).Forward(m.Inputs.Select(x => names[x]).ToList(), m))};");
            names[m.Id] = "t" + m.Id;
        }
        w.Line($"y[i] = t{step.Output.Id};");
        w.Close();
        w.Line();
        var types = string.Join(", ", Enumerable.Repeat(View, step.Externals.Count + 1));
        var tensors = string.Concat(Enumerable.Range(0, step.Externals.Count).Select(i => $", global::ModelGen.Tensor x{i}"));
        w.Open($"private static void LaunchElementwise{step.Index}Forward(global::ModelGen.Tensor y{tensors})");
        w.Line("var device = (global::ModelGen.Gpu.IlgpuDevice)y.Device;");
        w.Line($"var kernel = device.Launcher(\"{modelName}.Elementwise{step.Index}Forward\", static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, {types}>(a, Elementwise{step.Index}ForwardGpu));");
        w.Line($"global::ModelGen.Cpu.KernelStats.Record(\"elementwise{step.Index}\");");
        w.Line($"kernel(y.Count, y.GpuView{string.Concat(Enumerable.Range(0, step.Externals.Count).Select(i => $", x{i}.GpuView"))});");
        w.Close();
        w.Line();
    }

    private static void EmitGpuBackward(CodeWriter w, ElementwiseStep step, string modelName)
    {
        var k = step.Externals.Count;
        var parameters = string.Concat(Enumerable.Range(0, k).Select(i => $", {View} in{i}, {View} gr{i}, int flags{i}"));
        w.Line($"/// <summary>ILGPU form of the backward of kernel {step.Index}; flags: 1 = write the gradient, 2 = add to it.</summary>");
        w.Line("[global::ModelGen.Gpu.GpuKernel]");
        w.Open($"internal static void Elementwise{step.Index}BackwardGpu(global::ILGPU.Index1D i, {View} dy{parameters})");
        for (int i = 0; i < k; i++) w.Line($"float x{i} = in{i}[i];");
        var names = new Dictionary<int, string>();
        for (int i = 0; i < k; i++) names[step.Externals[i]] = "x" + i;
        foreach (var m in step.Members)
        {
            w.Line($"float t{m.Id} = {ToGpu(OpRule.For(m).Forward(m.Inputs.Select(x => names[x]).ToList(), m))};");
            names[m.Id] = "t" + m.Id;
        }
        var adjoint = new Dictionary<int, string> { [step.Output.Id] = "d" + step.Output.Id };
        w.Line($"float d{step.Output.Id} = dy[i];");
        int counter = 0;
        foreach (var m in Enumerable.Reverse(step.Members))
        {
            if (!adjoint.TryGetValue(m.Id, out var g)) continue;
            foreach (var (input, contribution) in OpRule.For(m).Backward(g, m.Inputs.Select(x => names[x]).ToList(), names[m.Id], m))
            {
                int target = m.Inputs[input];
                var v = $"a{counter++}";
                w.Line(adjoint.TryGetValue(target, out var existing) ? $"float {v} = {existing} + {ToGpu(contribution)};" : $"float {v} = {ToGpu(contribution)};");
                adjoint[target] = v;
            }
        }
        for (int i = 0; i < k; i++)
        {
            if (!adjoint.TryGetValue(step.Externals[i], out var d)) continue;
            w.Line($"if ((flags{i} & 1) != 0) gr{i}[i] = (flags{i} & 2) != 0 ? gr{i}[i] + {d} : {d};");
        }
        w.Close();
        w.Line();
        var types = string.Join(", ", new[] { View }.Concat(Enumerable.Range(0, k).SelectMany(_ => new[] { View, View, "int" })));
        var tensors = string.Concat(Enumerable.Range(0, k).Select(i => $", global::ModelGen.Tensor x{i}, global::ModelGen.Tensor? g{i}, bool accumulate{i}"));
        w.Open($"private static void LaunchElementwise{step.Index}Backward(global::ModelGen.Tensor dy{tensors})");
        w.Line("var device = (global::ModelGen.Gpu.IlgpuDevice)dy.Device;");
        w.Line($"var kernel = device.Launcher(\"{modelName}.Elementwise{step.Index}Backward\", static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, {types}>(a, Elementwise{step.Index}BackwardGpu));");
        w.Line($"global::ModelGen.Cpu.KernelStats.Record(\"elementwise{step.Index}-backward\");");
        var args = string.Concat(Enumerable.Range(0, k).Select(i => $", x{i}.GpuView, (g{i} ?? dy).GpuView, g{i} is null ? 0 : (accumulate{i} ? 3 : 1)"));
        w.Line($"kernel(dy.Count, dy.GpuView{args});");
        w.Close();
        w.Line();
    }

    private static Dictionary<int, string> ForwardTemps(CodeWriter w, ElementwiseStep step, string decl)
    {
        var names = new Dictionary<int, string>();
        for (int i = 0; i < step.Externals.Count; i++) names[step.Externals[i]] = "x" + i;
        foreach (var m in step.Members)
        {
            var expr = OpRule.For(m).Forward(m.Inputs.Select(x => names[x]).ToList(), m);
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
        // kernels are compiled once, fully optimised: no tier-0 code and no PGO instrumentation in the first steps
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
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
        // kernels are compiled once, fully optimised: no tier-0 code and no PGO instrumentation in the first steps
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
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
            w.Line($"{decl} d{step.Output.Id} = {load("dy")};");
            var adjoint = Adjoints(w, step, names, decl);
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

    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";

    /// <summary>The broadcast form's loops over one part (an inner block or a chunk of one): a Vector512 loop, a
    /// Vector256 loop and a scalar tail; an operand that is a splat loads its block's one value.</summary>
    private static void BroadcastLoops(CodeWriter w, ElementwiseStep step, System.Action<string, System.Func<int, string>, System.Func<string, string>, System.Func<string, string, string>> body)
    {
        w.Line("int i = j0;");
        foreach (var (guard, load, store, width) in Forms)
        {
            var create = load.Substring(0, load.IndexOf(".LoadUnsafe", System.StringComparison.Ordinal)) + ".Create";
            w.Open($"if ({guard})");
            for (int e = 0; e < step.Externals.Count; e++) w.Line($"var splat{e} = {create}(r{e});");
            w.Open($"for (; i <= j1 - {width}; i += {width})");
            body("var", e => $"(s{e} ? splat{e} : {string.Format(load, "r" + e)})", r => string.Format(load, r), (r, v) => string.Format(store, r, v) + ";");
            w.Close();
            w.Close();
        }
        w.Open("for (; i < j1; i++)");
        body("T", e => $"(s{e} ? r{e} : {Unsafe}.Add(ref r{e}, i))", r => $"{Unsafe}.Add(ref {r}, i)", (r, v) => $"{Unsafe}.Add(ref {r}, i) = {v};");
        w.Close();
    }

    /// <summary>Opens the loop over a broadcast layout's parts: row, inner range [j0, j1), each operand's block.</summary>
    private static void OpenParts(CodeWriter w, ElementwiseStep step)
    {
        for (int e = 0; e < step.Externals.Count; e++) w.Line($"bool s{e} = L.IsSplat({e});");
        w.Line("int inner = L.Inner, chunks = L.ChunksPerRow, length = L.PartLength;");
        w.Open("for (int part = start; part < end; part++)");
        w.Line("int row = part / chunks, j0 = part % chunks * length, j1 = global::System.Math.Min(inner, j0 + length);");
        for (int e = 0; e < step.Externals.Count; e++) w.Line($"ref T r{e} = ref {Unsafe}.Add(ref in{e}, L.Offset({e}, row));");
    }

    private static void EmitBroadcastForward(CodeWriter w, ElementwiseStep step)
    {
        w.Line($"/// <summary>Kernel {step.Index} when its operands broadcast: the same chain over the layout's inner blocks.</summary>");
        w.Open($"private struct Elementwise{step.Index}ForwardBroadcast<T> : global::ModelGen.Cpu.IRangeBody where T : unmanaged, global::System.Numerics.IFloatingPointIeee754<T>");
        w.Line("public global::ModelGen.BroadcastLayout L;");
        w.Line("public global::ModelGen.Tensor Y;");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"public global::ModelGen.Tensor X{i};");
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
        w.Open("public readonly void Execute(int start, int end)");
        w.Line("ref T y = ref global::ModelGen.Ops.Ref<T>(Y);");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"ref T in{i} = ref global::ModelGen.Ops.Ref<T>(X{i});");
        OpenParts(w, step);
        w.Line($"ref T ry = ref {Unsafe}.Add(ref y, row * inner);");
        BroadcastLoops(w, step, (decl, operand, load, store) =>
        {
            for (int i = 0; i < step.Externals.Count; i++) w.Line($"{decl} x{i} = {operand(i)};");
            ForwardTemps(w, step, decl);
            w.Line(store("ry", "t" + step.Output.Id));
        });
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    private static void EmitBroadcastBackward(CodeWriter w, ElementwiseStep step)
    {
        w.Line($"/// <summary>Backward of kernel {step.Index} when its operands broadcast: each operand's gradient is written per output");
        w.Line("/// element (a broadcast operand's into a scratch of the output's shape, which Ops.SumToShape then sums back to its shape).</summary>");
        w.Open($"private struct Elementwise{step.Index}BackwardBroadcast<T> : global::ModelGen.Cpu.IRangeBody where T : unmanaged, global::System.Numerics.IFloatingPointIeee754<T>");
        w.Line("public global::ModelGen.BroadcastLayout L;");
        w.Line("public global::ModelGen.Tensor DY;");
        for (int i = 0; i < step.Externals.Count; i++)
        {
            w.Line($"public global::ModelGen.Tensor X{i};");
            w.Line($"public global::ModelGen.Tensor? G{i};");
            w.Line($"public bool Accumulate{i};");
        }
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
        w.Open("public readonly void Execute(int start, int end)");
        w.Line("ref T dy = ref global::ModelGen.Ops.Ref<T>(DY);");
        for (int i = 0; i < step.Externals.Count; i++)
        {
            w.Line($"ref T in{i} = ref global::ModelGen.Ops.Ref<T>(X{i});");
            w.Line($"ref T gr{i} = ref global::ModelGen.Ops.RefOrNull<T>(G{i});");
        }
        OpenParts(w, step);
        w.Line($"ref T rdy = ref {Unsafe}.Add(ref dy, row * inner);");
        for (int i = 0; i < step.Externals.Count; i++) w.Line($"ref T rg{i} = ref {Unsafe}.Add(ref gr{i}, row * inner);");
        BroadcastLoops(w, step, (decl, operand, load, store) =>
        {
            for (int i = 0; i < step.Externals.Count; i++) w.Line($"{decl} x{i} = {operand(i)};");
            var names = ForwardTemps(w, step, decl);
            w.Line($"{decl} d{step.Output.Id} = {load("rdy")};");
            var adjoint = Adjoints(w, step, names, decl);
            for (int i = 0; i < step.Externals.Count; i++)
            {
                if (!adjoint.TryGetValue(step.Externals[i], out var d)) continue;
                w.Line($"if (G{i} is not null) {store("rg" + i, $"(Accumulate{i} ? {load("rg" + i)} + {d} : {d})")}");
            }
        });
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>The values of the chain (members and externals) that its reverse sweep reaches: a comparison passes no
    /// gradient, so an operand seen only through one gets none.</summary>
    public static HashSet<int> Differentiated(ElementwiseStep step)
    {
        var reached = new HashSet<int> { step.Output.Id };
        foreach (var m in Enumerable.Reverse(step.Members))
        {
            if (!reached.Contains(m.Id)) continue;
            foreach (var (input, _) in OpRule.For(m).Backward("g", m.Inputs.Select(_ => "x").ToList(), "y", m)) reached.Add(m.Inputs[input]);
        }
        return reached;
    }

    /// <summary>The reverse sweep of a chain: each member's derivative rule, in reverse order, summing fan-out.</summary>
    private static Dictionary<int, string> Adjoints(CodeWriter w, ElementwiseStep step, Dictionary<int, string> names, string decl)
    {
        var adjoint = new Dictionary<int, string> { [step.Output.Id] = "d" + step.Output.Id };
        int counter = 0;
        foreach (var m in Enumerable.Reverse(step.Members))
        {
            if (!adjoint.TryGetValue(m.Id, out var g)) continue;
            var inputs = m.Inputs.Select(x => names[x]).ToList();
            foreach (var (input, contribution) in OpRule.For(m).Backward(g, inputs, names[m.Id], m))
            {
                int target = m.Inputs[input];
                var v = $"a{counter++}";
                if (adjoint.TryGetValue(target, out var existing)) w.Line($"{decl} {v} = {existing} + {contribution};");
                else w.Line($"{decl} {v} = {contribution};");
                adjoint[target] = v;
            }
        }
        return adjoint;
    }
}
