using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen.Optim;

/// <summary>Base of the optimizers: holds the parameters (frozen ones are skipped at each step) and their state.</summary>
public abstract class Optimizer : IDisposable
{
    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        Parameters = parameters.ToList();
        if (Parameters.Count == 0) throw new ArgumentException("The optimizer got no parameters.");
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"Learning rate {learningRate} must be ≥ 0.");
        LearningRate = learningRate;
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The current learning rate (schedulers set it before each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (!p.RequiresGrad) continue;
            if (p.Value.DType == DType.Float64) Update<double>(i, p);
            else Update<float>(i, p);
        }
    }

    protected abstract void Update<T>(int index, Parameter p) where T : unmanaged, IFloatingPointIeee754<T>;

    public void ZeroGrad()
    {
        for (int i = 0; i < Parameters.Count; i++) Ops.Fill(Parameters[i].Grad, 0);
    }

    public virtual void Dispose() { }

    /// <summary>Optimizer state (momentum, moments) flushes values below the smallest normal float to zero: .NET
    /// cannot switch the CPU to flush-to-zero, and denormal moments slow every later step several-fold.</summary>
    internal static T Flush<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.Abs(x) < SmallestNormal<T>() ? T.Zero : x;

    internal static T SmallestNormal<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? T.CreateTruncating(1.17549435e-38f) : T.CreateTruncating(2.2250738585072014e-308);

    internal static Vector512<T> Flush<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(SmallestNormal<T>())), Vector512<T>.Zero, x);

    protected static Tensor State(ref Tensor?[] states, int index, Parameter p)
    {
        if (states.Length <= index) Array.Resize(ref states, index + 1);
        return states[index] ??= Tensor.Zeros(p.Shape, p.Value.DType, p.Value.Device);
    }

    protected static void DisposeStates(Tensor?[] states)
    {
        foreach (var s in states) s?.Dispose();
    }

    protected static void RunParallel<TBody>(int n, ref TBody body) where TBody : struct, IRangeBody
    {
        KernelStats.Record("optimizer-update");
        if (n < 65_536) body.Execute(0, n);
        else CpuParallel.For(n, 32_768, ref body);
    }
}
