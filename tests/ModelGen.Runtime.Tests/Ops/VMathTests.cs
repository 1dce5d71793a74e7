using System.Runtime.Intrinsics;
using ModelGen.Cpu;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>The engine's own float e^x (both vector widths) against Math.Exp in double.</summary>
[Category("CpuEngine")]
public sealed class VMathTests
{
    [Test]
    public void ExpFloat_IsWithinThreeUlp_OverTheWholeRange_AndKeepsTheSpecialValues()
    {
        var rng = new Random(11);
        var inputs = Enumerable.Range(0, 20_000).Select(_ => (float)(rng.NextDouble() * 180 - 90))
            .Concat(Enumerable.Range(0, 2_000).Select(_ => (float)(rng.NextDouble() * 2 - 1)))
            .Concat([0f, -0f, 1f, -1f, 88.7f, -87.3f, 88.72f, 0.34657359f, -0.34657359f, 1e-8f, -1e-8f])
            .ToArray();
        foreach (var x in inputs) Check(x);

        Assert.That(Exp512(float.NaN), Is.NaN);
        Assert.That(Exp256(float.NaN), Is.NaN);
        Assert.That(Exp512(float.NegativeInfinity), Is.EqualTo(0f));
        Assert.That(Exp256(float.NegativeInfinity), Is.EqualTo(0f));
        Assert.That(Exp512(float.PositiveInfinity), Is.EqualTo(float.PositiveInfinity));
        Assert.That(Exp512(-100f), Is.EqualTo(0f));
        Assert.That(Exp256(100f), Is.EqualTo(float.PositiveInfinity));
    }

    private static void Check(float x)
    {
        double expected = Math.Exp(x);
        foreach (var (width, actual) in new[] { (512, Exp512(x)), (256, Exp256(x)) })
        {
            if (expected > float.MaxValue)
            {
                Assert.That(actual, Is.EqualTo(float.PositiveInfinity), $"exp({x}) width {width}");
                continue;
            }
            if (expected < 1.2e-38) // below float's normal range the result may flush to 0
            {
                Assert.That(actual, Is.LessThanOrEqualTo(2e-38f), $"exp({x}) width {width}");
                continue;
            }
            Assert.That(Math.Abs(actual - expected) / expected, Is.LessThanOrEqualTo(3 * 5.96e-8), $"exp({x}) width {width}: {actual} vs {expected}");
        }
    }

    private static float Exp512(float x) => VMath.ExpFloat(Vector512.Create(x)).GetElement(7);
    private static float Exp256(float x) => VMath.ExpFloat(Vector256.Create(x)).GetElement(3);

    /// <summary>erf in double is accurate to a few ulp: tabulated values (computed to 20 digits), the test reference's
    /// independent series/continued fraction over [−7, 7], oddness and the limits; float keeps the fast 1.5e-7 form.</summary>
    [Test]
    public void ErfDouble_IsAccurateToAFewUlp()
    {
        (double X, double Erf)[] table =
        [
            (0.0, 0.0), (1e-10, 1.1283791670955126e-10), (0.1, 0.1124629160182849), (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149), (1.5, 0.9661051464753108), (2.0, 0.9953222650189527), (2.5, 0.9995930479825550),
            (3.0, 0.9999779095030014), (4.0, 0.9999999845827421), (6.0, 1.0),
        ];
        foreach (var (x, erf) in table)
        {
            Assert.That(VMath.ErfDouble(x), Is.EqualTo(erf).Within(1e-15 * Math.Abs(erf) + 1e-300), $"erf({x})");
            Assert.That(VMath.ErfDouble(-x), Is.EqualTo(-VMath.ErfDouble(x)), $"erf is odd at {x}");
        }
        // the tests' reference (an alternating Maclaurin series below 2.5) is itself good to about 1e-14 near 2.5, where
        // its terms cancel (at 2.4927 it is 5e-15 off Python's math.erf, which ErfDouble matches): the table above is
        // the ulp-level check, this sweep catches a wrong branch anywhere
        for (double x = -7; x <= 7; x += 0.0137)
            Assert.That(VMath.ErfDouble(x), Is.EqualTo(Ref.Erf(x)).Within(2e-14 * Math.Max(Math.Abs(Ref.Erf(x)), 1e-3)), $"erf({x})");
        Assert.That(VMath.ErfDouble(double.PositiveInfinity), Is.EqualTo(1));
        Assert.That(double.IsNaN(VMath.ErfDouble(double.NaN)), Is.True);
        Assert.That(Math.Abs(VMath.Erf(0.5f) - 0.5204998778130465), Is.LessThanOrEqualTo(3e-7), "float keeps Abramowitz–Stegun (1.5e-7, plus float rounding)");
    }
}
