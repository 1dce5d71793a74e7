using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen.Tests.Ops;

/// <summary>The engine's own float e^x (both vector widths) against Math.Exp in double.</summary>
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
}
