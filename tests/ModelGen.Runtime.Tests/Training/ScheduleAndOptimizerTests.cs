using ModelGen.Optim;
using ModelGen.Tests.Ops;

namespace ModelGen.Tests.Training;

public class ScheduleAndOptimizerTests
{
    private static (LinearOp Model, Optimizer Optimizer) Setup(Func<IReadOnlyList<ParameterGroup>, Optimizer> create)
    {
        var model = new LinearOp(4, 3, DType.Float64);
        var groups = new[]
        {
            new ParameterGroup([model.Parameter("fc.weight")]),
            new ParameterGroup([model.Parameter("fc.bias")], learningRate: 0.02, weightDecay: 0),
        };
        return (model, create(groups));
    }

    [TestCase(ScheduleKind.Constant)]
    [TestCase(ScheduleKind.ConstantWithWarmup)]
    [TestCase(ScheduleKind.Linear)]
    [TestCase(ScheduleKind.Cosine)]
    [TestCase(ScheduleKind.Step)]
    public void Schedules_FollowTheirFormulas(ScheduleKind kind)
    {
        var (model, optimizer) = Setup(g => new Sgd(g, lr: 0.1));
        using var _ = model;
        const int total = 23, warmup = 4, stepSize = 5;
        const double gamma = 0.5;
        var scheduler = new LearningRateScheduler(optimizer, kind, total, warmup, stepSize, gamma);
        for (int step = 0; step <= total + 2; step++)
        {
            double expected = kind switch
            {
                ScheduleKind.Constant => 1,
                ScheduleKind.ConstantWithWarmup => step < warmup ? step / (double)warmup : 1,
                ScheduleKind.Linear => step < warmup ? step / (double)warmup : Math.Max(0, (total - step) / (double)(total - warmup)),
                ScheduleKind.Cosine => step < warmup ? step / (double)warmup : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / (total - warmup)))),
                _ => Math.Pow(gamma, Math.Floor(step / (double)stepSize)),
            };
            Assert.That(optimizer.Groups[0].LearningRate, Is.EqualTo(0.1 * expected).Within(1e-15), $"step {step}");
            Assert.That(optimizer.Groups[1].LearningRate, Is.EqualTo(0.02 * expected).Within(1e-15), $"step {step}, second group");
            scheduler.Step();
        }
    }

    /// <summary>An independent float64 implementation of PyTorch's published update rules, per parameter group.</summary>
    private sealed class ReferenceOptimizer(string kind, double momentum, double dampening, bool nesterov, bool amsgrad)
    {
        private readonly Dictionary<int, double[]> _buf = new(), _m = new(), _v = new(), _vmax = new();
        private int _t;

        public void Step(IList<(double[] P, double[] G, double Lr, double Wd)> groups)
        {
            _t++;
            for (int k = 0; k < groups.Count; k++)
            {
                var (p, g, glr, gwd) = groups[k];
                for (int i = 0; i < p.Length; i++)
                {
                    if (kind == "sgd")
                    {
                        double d = g[i] + gwd * p[i];
                        if (momentum != 0)
                        {
                            var buf = _buf.TryGetValue(k, out var b) ? b : _buf[k] = new double[p.Length];
                            buf[i] = _t == 1 ? d : momentum * buf[i] + (1 - dampening) * d;
                            d = nesterov ? d + momentum * buf[i] : buf[i];
                        }
                        p[i] -= glr * d;
                    }
                    else
                    {
                        if (kind == "adamw") p[i] *= 1 - glr * gwd;
                        double d = kind == "adam" ? g[i] + gwd * p[i] : g[i];
                        var m = _m.TryGetValue(k, out var mm) ? mm : _m[k] = new double[p.Length];
                        var v = _v.TryGetValue(k, out var vv) ? vv : _v[k] = new double[p.Length];
                        m[i] = 0.9 * m[i] + 0.1 * d;
                        v[i] = 0.999 * v[i] + 0.001 * d * d;
                        double vhat = v[i];
                        if (amsgrad)
                        {
                            var vmax = _vmax.TryGetValue(k, out var x) ? x : _vmax[k] = new double[p.Length];
                            vmax[i] = Math.Max(vmax[i], v[i]);
                            vhat = vmax[i];
                        }
                        double bc1 = 1 - Math.Pow(0.9, _t), bc2 = 1 - Math.Pow(0.999, _t);
                        p[i] -= glr / bc1 * m[i] / (Math.Sqrt(vhat) / Math.Sqrt(bc2) + 1e-8);
                    }
                }
            }
        }
    }

    [TestCase("sgd", 0.0, 0.0, false, false)]
    [TestCase("sgd", 0.9, 0.0, true, false)]
    [TestCase("sgd", 0.9, 0.3, false, false)]
    [TestCase("adam", 0.0, 0.0, false, false)]
    [TestCase("adam", 0.0, 0.0, false, true)]
    [TestCase("adamw", 0.0, 0.0, false, false)]
    [TestCase("adamw", 0.0, 0.0, false, true)]
    public void Optimizers_WithGroups_MatchTheFloat64Rules(string kind, double momentum, double dampening, bool nesterov, bool amsgrad)
    {
        const double lr = 0.05, wd = 0.1;
        var (model, optimizer) = Setup(groups => kind switch
        {
            "sgd" => new Sgd(groups, lr, momentum, dampening, wd, nesterov),
            "adam" => new Adam(groups, lr, weightDecay: wd, amsgrad: amsgrad),
            _ => new AdamW(groups, lr, weightDecay: wd, amsgrad: amsgrad),
        });
        using var _ = model;
        using var __ = optimizer;
        var w = model.Parameter("fc.weight");
        var b = model.Parameter("fc.bias");
        var refW = w.Value.ToDoubleArray();
        var refB = b.Value.ToDoubleArray();
        var reference = new ReferenceOptimizer(kind, momentum, dampening, nesterov, amsgrad);
        var rng = new Random(9);
        for (int step = 0; step < 6; step++)
        {
            var gw = Reference.Numerics.Randn(rng, refW.Length);
            var gb = Reference.Numerics.Randn(rng, refB.Length);
            w.Grad.CopyFrom<double>(gw);
            b.Grad.CopyFrom<double>(gb);
            optimizer.Step();
            reference.Step([(refW, gw, lr, wd), (refB, gb, 0.02, 0.0)]);
            Assert.That(Reference.Numerics.RelativeError(w.Value.ToDoubleArray(), refW), Is.LessThanOrEqualTo(1e-12), $"weight after step {step + 1}");
            Assert.That(Reference.Numerics.RelativeError(b.Value.ToDoubleArray(), refB), Is.LessThanOrEqualTo(1e-12), $"bias after step {step + 1}");
        }
    }

    [Test]
    public void GradientClipping_ScalesToTheGlobalNorm()
    {
        using var model = new LinearOp(5, 3, DType.Float64);
        var grads = model.Parameters.Select(p => Enumerable.Range(0, p.Value.Count).Select(i => (double)(i % 7) - 3).ToArray()).ToList();
        for (int i = 0; i < grads.Count; i++) model.Parameters[i].Grad.CopyFrom<double>(grads[i]);
        double norm = Math.Sqrt(grads.Sum(g => g.Sum(v => v * v)));
        double reported = GradientClipping.ClipByGlobalNorm(model.Parameters, 1.5);
        Assert.That(reported, Is.EqualTo(norm).Within(1e-12));
        double after = Math.Sqrt(model.Parameters.Sum(p => p.Grad.ToDoubleArray().Sum(v => v * v)));
        Assert.That(after, Is.EqualTo(1.5 * norm / (norm + 1e-6)).Within(1e-12));
        // below the limit nothing changes
        double again = GradientClipping.ClipByGlobalNorm(model.Parameters, 100);
        Assert.That(Math.Sqrt(model.Parameters.Sum(p => p.Grad.ToDoubleArray().Sum(v => v * v))), Is.EqualTo(again).Within(1e-12));
    }

    [Test]
    public void HuggingFaceGroups_ExcludeBiasesAndNormsFromDecay()
    {
        using var model = new Graphs.Residual(Device.Cpu);
        var groups = ParameterGroup.WithoutDecayOnBiasAndNorm(model.Parameters, 0.01);
        using var opt = new AdamW(groups);
        Assert.That(opt.Groups[0].Parameters.Select(p => p.Name), Is.EqualTo(new[] { "fc1.weight", "fc2.weight", "fc3.weight" }));
        Assert.That(opt.Groups[0].WeightDecay, Is.EqualTo(0.01));
        Assert.That(opt.Groups[1].Parameters.Select(p => p.Name), Is.EqualTo(new[] { "fc1.bias", "fc2.bias", "fc3.bias" }));
        Assert.That(opt.Groups[1].WeightDecay, Is.EqualTo(0));
    }

    [Test]
    public void OptimizerState_SavesAndRestoresExactly()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-opt").FullName;
        using var a = new LinearOp(4, 3, DType.Float32);
        using var b = new LinearOp(4, 3, DType.Float32);
        using var optA = new Adam(a.Parameters, 0.01, amsgrad: true);
        using var optB = new Adam(b.Parameters, 0.01, amsgrad: true);
        var rng = new Random(4);
        void Grads(Module m) { foreach (var p in m.Parameters) p.Grad.CopyFrom<double>(Reference.Numerics.Randn(new Random(p.Name.Length + (int)rng.NextInt64(100)), p.Value.Count)); }
        for (int i = 0; i < 3; i++) { Grads(a); optA.Step(); }
        optA.SaveState(Path.Combine(dir, "opt.safetensors"));
        a.Save(Path.Combine(dir, "model.safetensors"));
        b.Load(Path.Combine(dir, "model.safetensors"));
        optB.LoadState(Path.Combine(dir, "opt.safetensors"));
        Assert.That(optB.StepCount, Is.EqualTo(3));
        foreach (var p in a.Parameters) p.Grad.CopyFrom<double>(Enumerable.Repeat(0.3, p.Value.Count).ToArray());
        foreach (var p in b.Parameters) p.Grad.CopyFrom<double>(Enumerable.Repeat(0.3, p.Value.Count).ToArray());
        optA.Step();
        optB.Step();
        foreach (var p in a.Parameters) Assert.That(b.Parameter(p.Name).Value.ToArray(), Is.EqualTo(p.Value.ToArray()), p.Name);
        Directory.Delete(dir, true);
    }
}
