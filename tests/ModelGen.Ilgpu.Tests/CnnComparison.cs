using ModelGen.Optim;

namespace ModelGen.Ilgpu.Tests;

/// <summary>
/// Runs a convolutional model on the CPU engine and on an ILGPU device from the same seed (so the same initial
/// parameters) and the same input, and compares element-wise, |a − b| ≤ 1e-6 + 1e-4·|b|: the output and loss of each
/// training step, every parameter gradient, dx, the parameters and buffers (BatchNorm's running statistics) after each
/// AdamW step (taken from the same gradients: see <see cref="SyncGradients"/>), then the output and gradients in eval mode. Dropout masks come from a counter-based RNG, so both engines
/// drop the same units.
/// </summary>
public static class CnnComparison
{
    public const double Absolute = Agreement.Absolute, Relative = Agreement.Relative;

    /// <param name="TrainingOutputs">with <paramref name="CrossEntropy"/>: also compare each training step's output, at the
    /// price of a second forward pass per step (the eval-mode output is always compared).</param>
    public sealed record Case(string Name, Func<Device, Module> Create, int[] InputShape, bool CrossEntropy = false, bool Ties = false, bool TrainingOutputs = true)
    {
        public override string ToString() => Name;
    }

    /// <summary>The largest deviation seen in a comparison: |a − b| and its share of the tolerance.</summary>
    public sealed class Worst
    {
        public double Difference, Ratio;
        public string Where = "";

        public void Check(float[] actual, float[] expected, string what)
        {
            Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: length");
            int worst = -1;
            double worstRatio = -1, worstDiff = 0;
            for (int i = 0; i < actual.Length; i++)
            {
                double diff = Math.Abs((double)actual[i] - expected[i]);
                if (double.IsNaN(diff)) diff = double.PositiveInfinity;
                double ratio = diff / (Absolute + Relative * Math.Abs(expected[i]));
                if (ratio > worstRatio)
                {
                    worstRatio = ratio;
                    worstDiff = diff;
                    worst = i;
                }
            }
            if (worst < 0) return;
            if (worstRatio > Ratio || (worstRatio > 0 && Where.Length == 0))
            {
                Ratio = worstRatio;
                Difference = worstDiff;
                Where = $"{what}[{worst}]";
            }
            Assert.That(worstRatio, Is.LessThanOrEqualTo(1.0),
                $"{what}: element {worst} of {actual.Length} is {actual[worst]:R} on the ILGPU device but {expected[worst]:R} on the CPU (|a − b| = {worstDiff:E3})");
        }

        public void Check(double actual, double expected, string what) => Check([(float)actual], [(float)expected], what);

        public override string ToString() => Where.Length == 0 ? "bit-identical" : $"worst |a − b| = {Difference:E3} ({Ratio:P1} of the tolerance) at {Where}";
    }

    public static Worst Compare(Case c, Device gpu, int steps = 3)
    {
        var worst = new Worst();
        using var cpuModel = c.Create(Device.Cpu);
        using var gpuModel = c.Create(gpu);
        IModel cpu = (IModel)cpuModel, dev = (IModel)gpuModel;
        foreach (var p in cpuModel.Parameters.Concat(cpuModel.Buffers))
            Assert.That(Values(gpuModel, p.Name), Is.EqualTo(p.Value.ToArray()), $"{c.Name}: same initial {p.Name}");

        var rng = new Random(c.Name.Aggregate(17, (h, ch) => h * 31 + ch) & 0xFFFF);
        var shape = new Shape(c.InputShape);
        var data = new float[shape.Count];
        for (int i = 0; i < data.Length; i++)
        {
            double v = rng.NextDouble() * 2 - 1;
            data[i] = (float)(c.Ties ? Math.Round(v * 4) / 4 : v);
        }
        using var xc = Tensor.From<float>(data, shape, DType.Float32);
        using var xg = Tensor.From<float>(data, shape, DType.Float32, gpu);
        xc.RequiresGrad = xg.RequiresGrad = true;

        var outShape = cpu.InferShape(shape);
        var seed = Enumerable.Range(0, outShape.Count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var gc = Tensor.From<float>(seed, outShape, DType.Float32);
        using var gg = Tensor.From<float>(seed, outShape, DType.Float32, gpu);
        var labels = Enumerable.Range(0, outShape.Rows).Select(i => (i * 7 + 3) % outShape.Last).ToArray();

        bool trainable = cpuModel.Parameters.Count > 0;
        using var optC = trainable ? new AdamW(cpuModel.Parameters, lr: 0.01) : null;
        using var optG = trainable ? new AdamW(gpuModel.Parameters, lr: 0.01) : null;
        for (int step = 0; step <= steps; step++)
        {
            bool eval = step == steps;
            string at = eval ? "eval" : $"step {step}";
            if (eval)
            {
                cpu.Eval();
                dev.Eval();
            }
            bool runOutput = eval || !c.CrossEntropy || c.TrainingOutputs;
            if (runOutput) worst.Check(dev.Run(xg).ToArray(), cpu.Run(xc).ToArray(), $"{c.Name}: output ({at})");
            if (c.CrossEntropy)
            {
                if (runOutput && !eval)
                {
                    // the loss's forward pass draws the same dropout masks as the one above
                    cpuModel.Step--;
                    gpuModel.Step--;
                }
                worst.Check(dev.CrossEntropy(xg, labels), cpu.CrossEntropy(xc, labels), $"{c.Name}: loss ({at})");
                cpu.Backward();
                dev.Backward();
            }
            else
            {
                cpu.Backward(gc);
                dev.Backward(gg);
            }
            foreach (var p in cpuModel.Parameters)
                worst.Check(gpuModel.Parameter(p.Name).Grad.ToArray(), p.Grad.ToArray(), $"{c.Name}: d{p.Name} ({at})");
            worst.Check(xg.Grad!.ToArray(), xc.Grad!.ToArray(), $"{c.Name}: dx ({at})");
            foreach (var b in cpuModel.Buffers)
                worst.Check(Values(gpuModel, b.Name), b.Value.ToArray(), $"{c.Name}: {b.Name} ({at})");
            if (optC is null || optG is null || eval) continue;
            SyncGradients(cpuModel, gpuModel);
            optC.Step();
            optG.Step();
            optC.ZeroGrad();
            optG.ZeroGrad();
            foreach (var p in cpuModel.Parameters)
                worst.Check(Values(gpuModel, p.Name), p.Value.ToArray(), $"{c.Name}: {p.Name} after {at}");
        }
        return worst;
    }

    /// <summary>
    /// Gives the ILGPU model the CPU model's gradients, once they have been compared, before both optimizers step. Adam's
    /// first steps move each weight by about lr whatever its gradient's size, so for a gradient that cancels to rounding
    /// level (|g| ≪ the gradients it sums) its rounding, different on each engine, becomes a step difference of up to lr:
    /// that measures Adam's normalisation, not the engine. From identical gradients the parameter comparison measures
    /// the ILGPU AdamW update itself; each next step's gradients are compared again from the parameters it produced.
    /// </summary>
    internal static void SyncGradients(Module cpu, Module gpu)
    {
        foreach (var p in cpu.Parameters)
            if (p.RequiresGrad) gpu.Parameter(p.Name).Grad.CopyFrom(p.Grad);
    }

    private static float[] Values(Module model, string name) =>
        (model.Parameters.FirstOrDefault(p => p.Name == name) ?? model.Buffer(name)).Value.ToArray();

    /// <summary>samples/FashionCnn's architecture at 12×12, batch 4, trained with CrossEntropy (dropout active).</summary>
    public static readonly Case FashionCnn = new("fashion-cnn-12x12", d => new FashionCnn12(d, 7), [4, 1, 12, 12], CrossEntropy: true, TrainingOutputs: false);
}
