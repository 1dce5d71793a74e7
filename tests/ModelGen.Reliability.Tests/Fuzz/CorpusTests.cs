namespace ModelGen.Reliability.Tests.Fuzz;

/// <summary>Replays the regression corpus: every file under Corpus/&lt;reader&gt;/ (the minimised inputs that once broke
/// a reader) must now end in success or an allowed exception, under the same time and allocation limits.</summary>
public sealed class CorpusTests
{
    private static string CorpusRoot => Path.Combine(TestContext.CurrentContext.TestDirectory, "Corpus");

    public static IEnumerable<TestCaseData> Files()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Corpus");
        if (!Directory.Exists(root)) yield break;
        foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
        {
            var reader = Path.GetFileName(Path.GetDirectoryName(file)!);
            var name = Path.GetRelativePath(root, file).Replace('\\', '/');
            yield return new TestCaseData(reader, name).SetName($"Replay({name})");
        }
    }

    [TestCaseSource(nameof(Files))]
    public void Replay(string reader, string file)
    {
        var target = FuzzTargets.Get(reader);
        var outcome = FuzzRunner.Check(target, File.ReadAllBytes(Path.Combine(CorpusRoot, file)));
        TestContext.Out.WriteLine($"{file}: {outcome}");
    }

    [Test]
    public void EveryCorpusFolderIsAReader()
    {
        Assert.That(Directory.Exists(CorpusRoot), Is.True, "the corpus is copied next to the tests");
        foreach (var dir in Directory.GetDirectories(CorpusRoot))
            Assert.That(FuzzTargets.All.Select(t => t.Name), Does.Contain(Path.GetFileName(dir)));
    }
}
