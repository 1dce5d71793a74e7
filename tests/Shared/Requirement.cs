namespace ModelGen.Testing;

/// <summary>What a test needs from its environment. A missing dependency skips the test on a developer's machine, but
/// fails it under CI (CI=true, which CI sets; honoured when set by hand): CI installs everything the tests need, so a
/// skip there would hide a test that never ran.</summary>
internal static class Requirement
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, under CI, fails) the test unless <paramref name="condition"/> holds.</summary>
    public static void That(bool condition, string missing)
    {
        if (condition) return;
        if (InCi) Assert.Fail($"{missing} (CI=true: a missing dependency fails the test instead of skipping it)");
        Assert.Ignore(missing);
    }

    /// <summary>Skips the test on a platform it does not apply to; under CI too, since no install can change the
    /// platform (the reason is printed).</summary>
    public static void Platform(bool applies, string reason)
    {
        if (!applies) Assert.Ignore(reason);
    }
}
