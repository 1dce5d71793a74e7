namespace ModelGen.Reliability.Tests.Fuzz;

/// <summary>
/// Random corruptions of valid files (truncation, flipped bits, huge or negative lengths and offsets, overflowing
/// numbers, NaN, broken JSON, deep nesting, extra or missing lines) end, for every reader, in success or in one of its
/// allowed exception types with a message naming the file — never another exception, a hang (per-input time limit),
/// a huge allocation (per-input budget) or a read outside the file. The inputs are seeded (the same every run);
/// MODELGEN_FUZZ_ITER raises the count (scripts/reliability-full.sh).
/// </summary>
[Category("Fuzz")]
public sealed class ReaderFuzzTests
{
    public static IEnumerable<string> Targets() => FuzzTargets.All.Select(t => t.Name);

    [TestCaseSource(nameof(Targets))]
    public void EverySeedReads(string name)
    {
        var target = FuzzTargets.Get(name);
        foreach (var seed in target.Seeds)
            Assert.That(FuzzRunner.Check(target, seed.Assemble(seed.Segments.Select(s => s.Bytes).ToArray())), Is.EqualTo("ok"), $"{name} seed {seed.Name}");
    }

    [TestCaseSource(nameof(Targets))]
    public void CorruptedInputs_EndInTypedExceptions(string name)
    {
        var target = FuzzTargets.Get(name);
        var (inputs, outcomes) = FuzzRunner.Fuzz(target, FuzzRunner.Iterations);
        TestContext.Out.WriteLine($"{name}: {inputs} inputs: {string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}");
        // the corruptions do reach the reader's checks, and some still read (they are not all rejected at the first byte)
        Assert.That(outcomes.Keys.Count(k => k != "ok"), Is.GreaterThan(0), "no input was rejected");
    }
}
