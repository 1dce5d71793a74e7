using ModelGen.Data;
using ModelGen.Training;

namespace ModelGen.Tests.Training;

public class DataTests
{
    private sealed class IndexCollator : IBatchCollator<int, int[]>
    {
        public int[] Create(int capacity) => new int[capacity];
        public void Collate(IReadOnlyList<int> data, ReadOnlySpan<int> indices, int[] batch)
        {
            for (int i = 0; i < indices.Length; i++) batch[i] = data[indices[i]];
        }
    }

    private static List<int[]> Batches(DataLoader<int, int[]> loader, int epoch)
        => loader.Epoch(epoch).Select(b => b.Batch.AsSpan(0, b.Count).ToArray()).ToList();

    [TestCase(257, 16, false)]
    [TestCase(257, 16, true)]
    [TestCase(3, 5, false)]
    [TestCase(17, 1, true)]
    public void EverySampleOncePerEpoch_AndDropLastRespected(int n, int batch, bool dropLast)
    {
        var data = Enumerable.Range(1000, n).ToList();
        var loader = new DataLoader<int, int[]>(data, batch, new IndexCollator(), shuffle: true, seed: 3, dropLast: dropLast);
        var batches = Batches(loader, 0);
        Assert.That(batches, Has.Count.EqualTo(loader.Count));
        var seen = batches.SelectMany(b => b).ToList();
        if (dropLast)
        {
            Assert.That(batches.All(b => b.Length == batch), Is.True);
            Assert.That(seen, Has.Count.EqualTo(n / batch * batch));
            Assert.That(seen.Distinct().Count(), Is.EqualTo(seen.Count));
        }
        else Assert.That(seen.OrderBy(x => x), Is.EqualTo(data));
    }

    [Test]
    public void SeededShuffle_IsReproducible_DiffersByEpoch_AndPrefetchChangesNothing()
    {
        var data = Enumerable.Range(0, 100).ToList();
        var a = new DataLoader<int, int[]>(data, 7, new IndexCollator(), shuffle: true, seed: 5, prefetch: true);
        var b = new DataLoader<int, int[]>(data, 7, new IndexCollator(), shuffle: true, seed: 5, prefetch: false);
        Assert.That(Batches(a, 2), Is.EqualTo(Batches(b, 2)));
        Assert.That(Batches(a, 2), Is.EqualTo(Batches(a, 2)));
        Assert.That(Batches(a, 2), Is.Not.EqualTo(Batches(a, 3)));
        var unshuffled = new DataLoader<int, int[]>(data, 7, new IndexCollator());
        Assert.That(Batches(unshuffled, 0).SelectMany(x => x), Is.EqualTo(data));
    }

    [Test]
    public void CollationErrors_Surface()
    {
        var loader = new DataLoader<int, int[]>([1, 2, 3], 2, new FailingCollator());
        Assert.Throws<InvalidDataException>(() => loader.Epoch(0).ToList());
    }

    private sealed class FailingCollator : IBatchCollator<int, int[]>
    {
        public int[] Create(int capacity) => new int[capacity];
        public void Collate(IReadOnlyList<int> data, ReadOnlySpan<int> indices, int[] batch) => throw new InvalidDataException("bad example");
    }

    [Test]
    public void DatasetOperations_AndStratifiedSplit()
    {
        var rows = Dataset.From(Enumerable.Range(0, 1000).Select(i => (Id: i, Label: i % 10 < 3 ? "a" : "b")));
        Assert.That(rows.Map(r => r.Id * 2).Take(3), Is.EqualTo(new[] { 0, 2, 4 }));
        Assert.That(rows.Filter(r => r.Label == "a").Count, Is.EqualTo(300));
        Assert.That(rows.Shuffle(1).Select(r => r.Id), Is.EqualTo(rows.Shuffle(1).Select(r => r.Id)));
        Assert.That(rows.Shuffle(1).Select(r => r.Id), Is.Not.EqualTo(rows.Select(r => r.Id)));
        var (train, test) = rows.TrainTestSplit(0.2, seed: 4, stratifyBy: r => r.Label);
        Assert.That(test.Count, Is.EqualTo(200));
        Assert.That(test.Count(r => r.Label == "a"), Is.EqualTo(60), "30% of the test part is class a, as in the whole");
        Assert.That(train.Select(r => r.Id).Concat(test.Select(r => r.Id)).OrderBy(x => x), Is.EqualTo(Enumerable.Range(0, 1000)));
    }

    [Test]
    public void CsvTsvJsonJsonl_Load_WithClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("modelgen-data").FullName;
        var csv = Path.Combine(dir, "a.csv");
        File.WriteAllText(csv, "text,label\n\"Hello, \"\"world\"\"\",1\n\"multi\nline\",0\nplain,1\n");
        var rows = Dataset.FromCsv(csv);
        Assert.That(rows.Count, Is.EqualTo(3));
        Assert.That(rows[0].GetString("text"), Is.EqualTo("Hello, \"world\""));
        Assert.That(rows[1].GetString("text"), Is.EqualTo("multi\nline"));
        Assert.That(rows[2].GetInt32("label"), Is.EqualTo(1));
        var tsv = Path.Combine(dir, "a.tsv");
        File.WriteAllText(tsv, "x\ty\n1.5\t2\n");
        Assert.That(Dataset.FromTsv(tsv)[0].GetDouble("x"), Is.EqualTo(1.5));
        var bad = Path.Combine(dir, "bad.csv");
        File.WriteAllText(bad, "a,b\n1,2\n3\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => Dataset.FromCsv(bad))!.Message, Does.Contain("bad.csv:3"));
        var json = Path.Combine(dir, "a.json");
        File.WriteAllText(json, """[{"text": "good", "class": 1}, {"text": "", "class": null}]""");
        var j = Dataset.FromJson(json);
        Assert.That(j[0].GetInt32("class"), Is.EqualTo(1));
        Assert.That(j[1].IsNull("class"), Is.True);
        Assert.That(Assert.Throws<InvalidDataException>(() => j[1].GetInt32("class"))!.Message, Does.Contain("a.json[1]"));
        var jsonl = Path.Combine(dir, "a.jsonl");
        File.WriteAllText(jsonl, "{\"x\": 1}\n\n{\"x\": 2.5}\n{broken\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => Dataset.FromJsonLines(jsonl))!.Message, Does.Contain("a.jsonl:4"));
        Directory.Delete(dir, true);
    }

    [Test]
    public void ClassificationReport_MatchesHandComputedValues()
    {
        // sklearn: y_true=[0,0,1,1,2,2,2], y_pred=[0,1,1,1,2,0,2]
        var report = new ClassificationReport([0, 1, 1, 1, 2, 0, 2], [0, 0, 1, 1, 2, 2, 2], 3);
        Assert.That(report.Accuracy, Is.EqualTo(5.0 / 7).Within(1e-12));
        Assert.That(report.Precision, Is.EqualTo(new[] { 0.5, 2.0 / 3, 1.0 }).Within(1e-12));
        Assert.That(report.Recall, Is.EqualTo(new[] { 0.5, 1.0, 2.0 / 3 }).Within(1e-12));
        Assert.That(report.MacroF1, Is.EqualTo((0.5 + 0.8 + 0.8) / 3).Within(1e-12));
        Assert.That(report.Confusion[2, 0], Is.EqualTo(1));
    }
}
