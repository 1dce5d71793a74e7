namespace ModelGen.Tests.Reference;

/// <summary>Float64 reference implementations of every op (independent of the runtime's kernels and VMath).</summary>
public static class Ref
{
    public static double Relu(double x) => x > 0 ? x : 0;
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));
    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>erf to ~1e-15: Maclaurin series for |x| &lt; 2.5, a continued fraction for erfc beyond.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (ax < 2.5)
        {
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                double t = term / (2 * n + 1);
                sum += t;
                term *= -ax * ax / (n + 1);
                if (Math.Abs(t) < 1e-17) break;
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) evaluated from the tail
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + k / 2.0 / f;
            result = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -result : result;
    }

    public static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    public static double[] Softmax(double[] x, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = log ? row[c] - max - Math.Log(sum) : Math.Exp(row[c] - max) / sum;
        }
        return y;
    }

    /// <summary>y = x·Wᵀ + b for x [rows, in], W [out, in].</summary>
    public static double[] Linear(double[] x, double[] w, double[]? b, int inF, int outF)
    {
        int rows = x.Length / inF;
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    public static double CrossEntropy(double[] logits, int[] labels, int cols)
    {
        var logp = Softmax(logits, cols, log: true);
        double loss = 0;
        for (int r = 0; r < labels.Length; r++) loss -= logp[r * cols + labels[r]];
        return loss / labels.Length;
    }

    public static double Mse(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s / a.Length;
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

public static class Numerics
{
    /// <summary>‖a − b‖ / ‖b‖ (or ‖a − b‖ when b is zero).</summary>
    public static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            norm += b[i] * b[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    public static double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();

    public static double[] Randn(Random rng, int n, double scale = 1)
    {
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            r[i] = scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return r;
    }

    /// <summary>Finite-difference VJP: Σ_j gy_j · ∂f_j/∂x_i for the chosen coordinates, by Richardson extrapolation of
    /// two central differences, (4·D(h/2) − D(h))/3, which cancels their h² error: with h = 1e-4 the truncation error is
    /// O(h⁴) and the rounding of f is divided by 1e-4 rather than 1e-6, so entries can be compared one by one to 1e-9.</summary>
    public static double[] FiniteDifferenceVjp(Func<double[], double[]> f, double[] x, double[] gy, IEnumerable<int> coordinates, double h = 1e-4)
    {
        var result = new double[x.Length];
        double Central(int i, double step)
        {
            var xp = (double[])x.Clone();
            var xm = (double[])x.Clone();
            xp[i] += step;
            xm[i] -= step;
            return (Ref.Dot(f(xp), gy) - Ref.Dot(f(xm), gy)) / (2 * step);
        }
        foreach (var i in coordinates) result[i] = (4 * Central(i, h / 2) - Central(i, h)) / 3;
        return result;
    }

    /// <summary>d/dt L(t) at t = 0 by Richardson extrapolation of central differences with steps h and h/2, for
    /// L(t) = the loss with one value (or all, along a direction) moved by t.</summary>
    public static double Derivative(Func<double, double> loss, double h = 1e-4)
    {
        double Central(double step) => (loss(step) - loss(-step)) / (2 * step);
        return (4 * Central(h / 2) - Central(h)) / 3;
    }

    /// <summary>Every parameter's gradient against the derivative of <paramref name="loss"/> along a random unit direction
    /// (Richardson-extrapolated central differences): |g·d − dL/dt| ≤ 1e-9 + 1e-6·|dL/dt|. The loss must be
    /// deterministic (dropout masks held fixed).</summary>
    public static void AssertDirectionalDerivatives(ModelGen.Module model, Func<double> loss, Random rng)
    {
        foreach (var p in model.Parameters)
        {
            var grad = p.Grad.ToDoubleArray();
            var direction = Randn(rng, grad.Length);
            double length = Math.Sqrt(direction.Sum(d => d * d));
            for (int i = 0; i < direction.Length; i++) direction[i] /= length;
            var original = p.Value.ToDoubleArray();
            double numeric = Derivative(t =>
            {
                var values = p.Value.AsSpan<double>();
                for (int i = 0; i < values.Length; i++) values[i] = original[i] + t * direction[i];
                double l = loss();
                original.CopyTo(values);
                return l;
            });
            double analytic = Ref.Dot(grad, direction);
            Assert.That(Math.Abs(analytic - numeric), Is.LessThanOrEqualTo(1e-9 + 1e-6 * Math.Abs(numeric)), $"{p.Name}: directional derivative");
        }
    }

    /// <summary>An analytic gradient against finite differences, norm-wise (‖a − b‖/‖b‖ ≤ <paramref name="normTolerance"/>)
    /// and element by element (|a − b| ≤ atol + rtol·|b|, float64: atol 1e-9, rtol 1e-6), so that a wrong small entry
    /// cannot hide beside large ones.</summary>
    public static void AssertGradient(double[] analytic, double[] numeric, double normTolerance = 1e-6, string what = "gradient",
        double atol = 1e-9, double rtol = 1e-6)
    {
        Assert.That(analytic, Has.Length.EqualTo(numeric.Length), what);
        Assert.That(RelativeError(analytic, numeric), Is.LessThanOrEqualTo(normTolerance), $"{what}: norm-wise");
        for (int i = 0; i < numeric.Length; i++)
            if (!(Math.Abs(analytic[i] - numeric[i]) <= atol + rtol * Math.Abs(numeric[i])))
                Assert.Fail($"{what}[{i}]: analytic {analytic[i]:R}, finite differences {numeric[i]:R} (|diff| {Math.Abs(analytic[i] - numeric[i]):E2} > {atol:E0} + {rtol:E0}·|b|)");
    }
}
