namespace ModelGen.Tests.Reference;

/// <summary>Naive float64 references for the tensor-algebra routines (MatMul, Permute, reductions over a dim, softmax over
/// a dim), written from the definitions with multi-indices, and the checks their tests share.</summary>
public static class TensorRef
{
    public static int Count(int[] shape) => shape.Aggregate(1, (p, d) => p * d);

    public static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static int[] Unravel(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat /= shape[i]; }
        return idx;
    }

    public static int Ravel(int[] idx, int[] shape)
    {
        int flat = 0;
        for (int i = 0; i < shape.Length; i++) flat = flat * shape[i] + idx[i];
        return flat;
    }

    /// <summary>torch.matmul by definition: promote 1-D operands, broadcast the batch dims, sum over k, drop the promoted dims.</summary>
    public static (double[] Y, int[] Shape) MatMul(double[] a, int[] aShape, double[] b, int[] bShape)
    {
        var ap = aShape.Length == 1 ? new[] { 1, aShape[0] } : aShape;
        var bp = bShape.Length == 1 ? new[] { bShape[0], 1 } : bShape;
        int m = ap[^2], k = ap[^1], n = bp[^1];
        if (bp[^2] != k) throw new ArgumentException("inner");
        var aB = ap[..^2]; var bB = bp[..^2];
        int rank = Math.Max(aB.Length, bB.Length);
        var aPad = Enumerable.Repeat(1, rank - aB.Length).Concat(aB).ToArray();
        var bPad = Enumerable.Repeat(1, rank - bB.Length).Concat(bB).ToArray();
        var outB = aPad.Zip(bPad, Math.Max).ToArray();
        int batches = Count(outB);
        var y = new double[batches * m * n];
        for (int beta = 0; beta < batches; beta++)
        {
            var idx = Unravel(beta, outB);
            var ai = Ravel(idx.Select((v, d) => aPad[d] == 1 ? 0 : v).ToArray(), aPad);
            var bi = Ravel(idx.Select((v, d) => bPad[d] == 1 ? 0 : v).ToArray(), bPad);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[ai * m * k + i * k + p] * b[bi * k * n + p * n + j];
                    y[beta * m * n + i * n + j] = s;
                }
        }
        var shape = outB.ToList();
        if (aShape.Length > 1) shape.Add(m);
        if (bShape.Length > 1) shape.Add(n);
        return (y, shape.ToArray());
    }

    /// <summary>y[j] = x[i] with j's index i permuted: y index t ↔ x index s, s[dims[d]] = t[d].</summary>
    public static (double[] Y, int[] Shape) Permute(double[] x, int[] shape, int[] dims)
    {
        int r = shape.Length;
        var p = dims.Select(d => d < 0 ? d + r : d).ToArray();
        var yShape = p.Select(d => shape[d]).ToArray();
        var y = new double[x.Length];
        for (int j = 0; j < y.Length; j++)
        {
            var t = Unravel(j, yShape);
            var s = new int[r];
            for (int d = 0; d < r; d++) s[p[d]] = t[d];
            y[j] = x[Ravel(s, shape)];
        }
        return (y, yShape);
    }

    /// <summary>f applied to every slice along dim (output index = the other indices in order).</summary>
    public static double[] Reduce(double[] x, int[] shape, int dim, Func<double[], double> f)
    {
        int d = dim < 0 ? dim + shape.Length : dim;
        int outer = shape[..d].Aggregate(1, (a, v) => a * v), n = shape[d], inner = shape[(d + 1)..].Aggregate(1, (a, v) => a * v);
        var y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var slice = new double[n];
                for (int k = 0; k < n; k++) slice[k] = x[(o * n + k) * inner + i];
                y[o * inner + i] = f(slice);
            }
        return y;
    }

    /// <summary>g applied to every slice along dim, written back in place of the slice.</summary>
    public static double[] MapSlices(double[] x, int[] shape, int dim, Func<double[], double[]> g)
    {
        int d = dim < 0 ? dim + shape.Length : dim;
        int outer = shape[..d].Aggregate(1, (a, v) => a * v), n = shape[d], inner = shape[(d + 1)..].Aggregate(1, (a, v) => a * v);
        var y = new double[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var slice = new double[n];
                for (int k = 0; k < n; k++) slice[k] = x[(o * n + k) * inner + i];
                var r = g(slice);
                for (int k = 0; k < n; k++) y[(o * n + k) * inner + i] = r[k];
            }
        return y;
    }

    public static double Sum(double[] s) { double a = 0; foreach (var v in s) a += v; return a; }
    public static double Mean(double[] s) => Sum(s) / s.Length;
    public static double Var(double[] s, bool unbiased)
    {
        double m = Mean(s), q = 0;
        foreach (var v in s) q += (v - m) * (v - m);
        return q / (unbiased ? s.Length - 1 : s.Length);
    }
    public static double LogSumExp(double[] s)
    {
        double m = s.Max();
        if (double.IsInfinity(m)) return m;
        return m + Math.Log(s.Sum(v => Math.Exp(v - m)));
    }
    public static double[] Softmax(double[] s, bool log)
    {
        double lse = LogSumExp(s);
        return s.Select(v => log ? v - lse : Math.Exp(v - lse)).ToArray();
    }

    /// <summary>Runs a routine on float64 or float32 tensors made from x and returns y as double.</summary>
    public static double[] Run(DType dtype, double[] x, int[] xShape, int[] yShape, Action<Tensor, Tensor> op)
    {
        using var tx = Tensor.From<double>(x, new Shape(xShape), dtype);
        using var ty = Tensor.Zeros(new Shape(yShape), dtype);
        op(tx, ty);
        return ty.ToDoubleArray();
    }

    /// <summary>|actual − expected| ≤ rtol·|expected| + atol·max|expected| element by element (the absolute floor scales with the data).</summary>
    public static void AssertClose(double[] actual, double[] expected, double rtol, string what, double atol = -1)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what + ": length");
        double scale = expected.Length == 0 ? 1 : Math.Max(1e-300, expected.Max(Math.Abs));
        double floor = (atol < 0 ? rtol : atol) * scale;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]) && double.IsNaN(actual[i])) continue;
            if (double.IsInfinity(expected[i]) && actual[i] == expected[i]) continue;
            if (!(Math.Abs(actual[i] - expected[i]) <= rtol * Math.Abs(expected[i]) + floor))
                Assert.Fail($"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R} (|diff| {Math.Abs(actual[i] - expected[i]):E2})");
        }
    }

    /// <summary>All coordinates up to 300 elements, else a seeded sample of 40.</summary>
    public static int[] Coordinates(int n, int seed)
    {
        if (n <= 300) return Enumerable.Range(0, n).ToArray();
        var rng = new Random(seed);
        return Enumerable.Range(0, 40).Select(_ => rng.Next(n)).Distinct().Order().ToArray();
    }

    /// <summary>An analytic gradient against Richardson-extrapolated central differences of <paramref name="f"/> at the
    /// chosen coordinates, element by element (|a − b| ≤ 1e-8 + 1e-6·|b|).</summary>
    public static void AssertGradient(Func<double[], double[]> f, double[] x, double[] gy, double[] analytic, int[] coordinates, string what)
    {
        var numeric = Numerics.FiniteDifferenceVjp(f, x, gy, coordinates);
        var a = coordinates.Select(i => analytic[i]).ToArray();
        var b = coordinates.Select(i => numeric[i]).ToArray();
        Numerics.AssertGradient(a, b, normTolerance: 1e-7, what: what, atol: 1e-8, rtol: 1e-6);
    }

    private static Device? _gpu;

    /// <summary>ILGPU's CPU accelerator (for the "no ILGPU form" checks).</summary>
    public static Device Gpu => _gpu ??= Device.Parse("ilgpu-cpu");
}
