namespace ModelGen.Ilgpu.Tests;

/// <summary>The agreement rule of the ILGPU engine's model tests: element-wise |a − b| ≤ 1e-6 + 1e-4·|b|, b the CPU
/// engine's value. A failure names the worst element.</summary>
internal static class Agreement
{
    public const double Absolute = 1e-6, Relative = 1e-4;

    public static void AssertClose(float[] actual, float[] expected, string what)
    {
        if (Check(actual, expected, what) is { } failure) Assert.Fail(failure);
    }

    /// <summary>Null when every element agrees, else the worst element described.</summary>
    public static string? Check(float[] actual, float[] expected, string what)
    {
        if (actual.Length != expected.Length) return $"{what}: {actual.Length} elements on the ILGPU engine, {expected.Length} on the CPU engine.";
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double excess = Math.Abs((double)actual[i] - expected[i]) - (Absolute + Relative * Math.Abs(expected[i]));
            if (excess > worstExcess || double.IsNaN(actual[i]) != double.IsNaN(expected[i]))
            {
                worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                worst = i;
            }
        }
        return worst < 0 ? null : ($"{what}: element {worst} is {actual[worst]:R} on the ILGPU engine and {expected[worst]:R} on the CPU engine "
                + $"(|a − b| = {Math.Abs((double)actual[worst] - expected[worst]):G3} > {Absolute:G1} + {Relative:G1}·|b|).");
    }

    /// <summary>The largest |a − b| / (1e-6 + 1e-4·|b|) (≤ 1 passes), for the tests' printed summaries.</summary>
    public static double WorstFraction(float[] actual, float[] expected)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]) / (Absolute + Relative * Math.Abs(expected[i])));
        return worst;
    }

    public static void AssertLossClose(double actual, double expected, string what)
        => Assert.That(actual, Is.EqualTo(expected).Within(Absolute + Relative * Math.Abs(expected)), what);
}
