using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen.Optim;

/// <summary>Adam with PyTorch's rules (L2 weight decay added to the gradient; optional AMSGrad):
/// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).</summary>
public class Adam : Optimizer
{
    private readonly bool _decoupled;

    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this([new ParameterGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false) { }

    public Adam(IEnumerable<ParameterGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false) { }

    private protected Adam(IEnumerable<ParameterGroup> groups, double lr, double beta1, double beta2, double eps,
        double weightDecay, bool amsgrad, bool decoupled) : base(groups, lr, weightDecay)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        AmsGrad = amsgrad;
        _decoupled = decoupled;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool AmsGrad { get; }

    protected override unsafe void Update<T>(int index, Parameter p, ParameterGroup group)
    {
        double LearningRate = group.LearningRate, WeightDecay = group.WeightDecay;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        if (!p.Value.Device.IsCpu)
        {
            Gpu.GpuOps.Adam(p, State("exp_avg", index, p), State("exp_avg_sq", index, p), AmsGrad ? State("max_exp_avg_sq", index, p) : null, new Gpu.AdamArgs
            {
                B1 = (float)Beta1, B2 = (float)Beta2, StepSize = (float)(LearningRate / bc1), InvSqrtBc2 = (float)(1 / Math.Sqrt(bc2)),
                Eps = (float)Eps, L2 = (float)(_decoupled ? 0 : WeightDecay), Decay = (float)(_decoupled ? 1 - LearningRate * WeightDecay : 1),
                AmsGrad = AmsGrad ? 1 : 0,
            });
            return;
        }
        var body = new Body<T>
        {
            P = p.Value.Ptr<T>(), G = p.Grad.Ptr<T>(),
            M = State("exp_avg", index, p).Ptr<T>(), V = State("exp_avg_sq", index, p).Ptr<T>(),
            VMax = AmsGrad ? State("max_exp_avg_sq", index, p).Ptr<T>() : null,
            B1 = T.CreateTruncating(Beta1), B2 = T.CreateTruncating(Beta2),
            StepSize = T.CreateTruncating(LearningRate / bc1), InvSqrtBc2 = T.CreateTruncating(1 / Math.Sqrt(bc2)),
            Eps = T.CreateTruncating(Eps),
            L2 = T.CreateTruncating(_decoupled ? 0 : WeightDecay),
            Decay = T.CreateTruncating(_decoupled ? 1 - LearningRate * WeightDecay : 1),
        };
        RunParallel(p.Value.Count, ref body);
    }

    private unsafe struct Body<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, M, V, VMax;
        public T B1, B2, StepSize, InvSqrtBc2, Eps, L2, Decay;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int i = start;
            if (Vector512.IsHardwareAccelerated && VMax == null)
            {
                var b1 = Vector512.Create(B1); var b2 = Vector512.Create(B2);
                var c1 = Vector512.Create(T.One - B1); var c2 = Vector512.Create(T.One - B2);
                var eps = Vector512.Create(Eps); var l2 = Vector512.Create(L2); var decay = Vector512.Create(Decay);
                var step = Vector512.Create(StepSize); var inv = Vector512.Create(InvSqrtBc2);
                for (; i <= end - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var p = Vector512.Load(P + i) * decay;
                    var g = Vector512.Load(G + i) + l2 * p;
                    var m = Flush(b1 * Vector512.Load(M + i) + c1 * g);
                    var v = Flush(b2 * Vector512.Load(V + i) + c2 * g * g);
                    m.Store(M + i);
                    v.Store(V + i);
                    (p - step * m / (Vector512.Sqrt(v) * inv + eps)).Store(P + i);
                }
            }
            for (; i < end; i++)
            {
                T p = P[i] * Decay;
                T g = G[i] + L2 * p;
                T m = Flush(B1 * M[i] + (T.One - B1) * g);
                T v = Flush(B2 * V[i] + (T.One - B2) * g * g);
                M[i] = m;
                V[i] = v;
                if (VMax != null)
                {
                    v = T.Max(VMax[i], v);
                    VMax[i] = v;
                }
                P[i] = p - StepSize * m / (T.Sqrt(v) * InvSqrtBc2 + Eps);
            }
        }
    }

}

/// <summary>AdamW: Adam with decoupled weight decay (p ← p·(1 − lr·wd) before the Adam update), PyTorch's default wd 0.01.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base([new ParameterGroup(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true) { }

    public AdamW(IEnumerable<ParameterGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true) { }
}
