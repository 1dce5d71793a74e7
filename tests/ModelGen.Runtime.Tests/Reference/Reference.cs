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

    /// <summary>Central finite-difference VJP: Σ_j gy_j · ∂f_j/∂x_i for the chosen coordinates.</summary>
    public static double[] FiniteDifferenceVjp(Func<double[], double[]> f, double[] x, double[] gy, IEnumerable<int> coordinates, double h = 1e-6)
    {
        var result = new double[x.Length];
        foreach (var i in coordinates)
        {
            var xp = (double[])x.Clone();
            var xm = (double[])x.Clone();
            xp[i] += h;
            xm[i] -= h;
            result[i] = (Ref.Dot(f(xp), gy) - Ref.Dot(f(xm), gy)) / (2 * h);
        }
        return result;
    }
}
