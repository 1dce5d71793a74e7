using System.Numerics;
using ModelGen.Cpu;

namespace ModelGen.Optim;

/// <summary>Stochastic gradient descent with PyTorch's rules: g = grad + wd·p; with momentum μ, buf = g on the first
/// step and μ·buf + (1 − dampening)·g after; Nesterov uses g + μ·buf; p −= lr·g.</summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false) : this([new ParameterGroup(parameters)], lr, momentum, dampening, weightDecay, nesterov) { }

    public Sgd(IEnumerable<ParameterGroup> groups, double lr, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false) : base(groups, lr, weightDecay)
    {
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening (as in PyTorch).");
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }

    protected override unsafe void Update<T>(int index, Parameter p, ParameterGroup group)
    {
        // PyTorch's first momentum step sets buf = g: a step count of 1 is the first step of every parameter
        if (!p.Value.Device.IsCpu)
        {
            Gpu.GpuOps.Sgd(p, Momentum != 0 ? State("momentum_buffer", index, p) : null, (float)group.LearningRate, (float)group.WeightDecay,
                (float)Momentum, (float)(1 - Dampening), StepCount == 1, Nesterov);
            return;
        }
        var body = new Body<T>
        {
            P = p.Value.Ptr<T>(), G = p.Grad.Ptr<T>(),
            Buf = Momentum != 0 ? State("momentum_buffer", index, p).Ptr<T>() : null,
            Lr = T.CreateTruncating(group.LearningRate), Wd = T.CreateTruncating(group.WeightDecay), Mu = T.CreateTruncating(Momentum),
            Damp = T.CreateTruncating(1 - Dampening), First = StepCount == 1, Nesterov = Nesterov,
        };
        RunParallel(p.Value.Count, ref body);
    }

    private unsafe struct Body<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, Buf;
        public T Lr, Wd, Mu, Damp;
        public bool First, Nesterov;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                T g = G[i] + Wd * P[i];
                if (Buf != null)
                {
                    T b = First ? g : Mu * Buf[i] + Damp * g;
                    Buf[i] = Flush(b);
                    g = Nesterov ? g + Mu * b : b;
                }
                P[i] -= Lr * g;
            }
        }
    }
}
