using ModelGen.Cpu;

namespace ModelGen.Tests.Ops;

/// <summary>The CPU GEMM against a float64 reference: every layout, odd sizes, sizes that cross the cache blocks and
/// switch between the packed and the small-M (unpacked) paths, leading dimensions larger than the rows, accumulation
/// and column- and row-dependent epilogues.</summary>
[Category("CpuEngine")]
public sealed unsafe class GemmTests
{
    private static readonly int[] OddSizes = [1, 3, 17, 257];

    public static IEnumerable<TestCaseData> Shapes()
    {
        foreach (var layout in new[] { "NN", "NT", "TN", "TT" })
        {
            foreach (int m in OddSizes)
                foreach (int n in OddSizes)
                    foreach (int k in OddSizes)
                        yield return new TestCaseData(layout, m, n, k).SetName($"Gemm {layout} {m}x{n}x{k}");
            // small M (the unpacked path), a K across several KC blocks, an N across several NC blocks, M across MC
            foreach (var (m, n, k) in new[] { (16, 384, 384), (5, 67, 1029), (33, 70, 300), (64, 1100, 40), (200, 45, 19), (8, 1536, 17) })
                yield return new TestCaseData(layout, m, n, k).SetName($"Gemm {layout} {m}x{n}x{k}");
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesFloat64Reference(string layout, int m, int n, int k)
    {
        bool transA = layout[0] == 'T', transB = layout[1] == 'T';
        var rng = new Random(m * 7919 + n * 104729 + k * 31 + layout.GetHashCode(StringComparison.Ordinal) % 1000);
        // leading dimensions wider than the matrix: the GEMM must honour lda/ldb/ldc, not assume packed rows
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2;
        var a = Random(rng, (transA ? k : m) * lda);
        var b = Random(rng, (transB ? n : k) * ldb);
        var bias = Random(rng, n);
        var c0 = Random(rng, m * ldc);

        double A(int i, int p) => transA ? a[p * lda + i] : a[i * lda + p];
        double B(int p, int j) => transB ? b[j * ldb + p] : b[p * ldb + j];

        foreach (bool accumulate in new[] { false, true })
        {
            var c = (float[])c0.Clone();
            fixed (float* pa = a, pb = b, pc = c, pbias = bias)
                CpuGemm.Run(pa, lda, transA, pb, ldb, transB, pc, ldc, m, n, k, accumulate, new BiasActivation<float, ReluActivation<float>>(pbias));
            for (int i = 0; i < m; i++)
                for (int j = 0; j < ldc; j++)
                {
                    if (j >= n)
                    {
                        Assert.That(c[i * ldc + j], Is.EqualTo(c0[i * ldc + j]), $"padding column C[{i},{j}] was written");
                        continue;
                    }
                    double s = accumulate ? c0[i * ldc + j] : 0;
                    for (int p = 0; p < k; p++) s += A(i, p) * B(p, j);
                    double expected = Math.Max(0, s + bias[j]);
                    Assert.That(c[i * ldc + j], Is.EqualTo(expected).Within(2e-7 * k + 2e-6), $"C[{i},{j}] accumulate={accumulate}");
                }
        }
    }

    [TestCase(16, 384, 384), TestCase(3, 17, 257), TestCase(64, 512, 784), TestCase(257, 3, 17)]
    public void RowEpilogueSeesTheRightRow(int m, int n, int k)
    {
        var rng = new Random(m + n + k);
        var a = Random(rng, m * k);
        var b = Random(rng, n * k);
        var rowBias = Random(rng, m);
        var c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c, pbias = rowBias)
            CpuGemm.Run(pa, k, false, pb, k, true, pc, n, m, n, k, false, new RowBiasActivation<float, Identity<float>>(pbias));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = rowBias[i];
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[j * k + p];
                Assert.That(c[i * n + j], Is.EqualTo(s).Within(2e-7 * k + 2e-6), $"C[{i},{j}]");
            }
    }

    [TestCase("NN", 17, 257, 3), TestCase("NT", 16, 384, 384), TestCase("TN", 257, 17, 17), TestCase("NT", 33, 70, 300)]
    public void Float64MatchesToRoundOff(string layout, int m, int n, int k)
    {
        bool transA = layout[0] == 'T', transB = layout[1] == 'T';
        var rng = new Random(m * n + k);
        var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var c = new double[m * n];
        fixed (double* pa = a, pb = b, pc = c)
            CpuGemm.Run(pa, transA ? m : k, transA, pb, transB ? k : n, transB, pc, n, m, n, k, false, default(NoEpilogue<double>));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                Assert.That(c[i * n + j], Is.EqualTo(s).Within(1e-12 * k), $"C[{i},{j}]");
            }
    }

    private static float[] Random(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }
}
