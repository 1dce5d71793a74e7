using ModelGen.Testing;
using System.Buffers.Binary;
using System.IO.Compression;
using ModelGen.Data;
using NUnit.Framework;

namespace ModelGen.Tests.Data;

[TestFixture]
public sealed class IdxTests
{
    private const string SystemDataDir = "/usr/share/datasets/fashion-mnist";
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "modelgen-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static byte[] IdxBytes(int magic, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private string WriteFile(string name, byte[] content, bool gzip)
    {
        var path = Path.Combine(_dir, name);
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return path;
        }
        using var fs = File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        gz.Write(content);
        return path;
    }

    private static byte[] Pixels(int count, int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var p = new byte[count * rows * cols];
        rng.NextBytes(p);
        return p;
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ReadImagesAndLabels_RoundTrip(bool gzip)
    {
        var pixels = Pixels(3, 4, 5, seed: 7);
        var images = WriteFile("img" + (gzip ? ".gz" : ""), IdxBytes(Idx.ImagesMagic, [3, 4, 5], pixels), gzip);
        var labels = WriteFile("lbl" + (gzip ? ".gz" : ""), IdxBytes(Idx.LabelsMagic, [3], [2, 0, 9]), gzip);

        var (count, rows, cols, read) = Idx.ReadImages(images);
        Assert.That((count, rows, cols), Is.EqualTo((3, 4, 5)));
        Assert.That(read, Is.EqualTo(pixels));
        Assert.That(Idx.ReadLabels(labels), Is.EqualTo(new byte[] { 2, 0, 9 }));
    }

    [Test]
    public void ZeroImages_IsValid()
    {
        var path = WriteFile("empty.gz", IdxBytes(Idx.ImagesMagic, [0, 28, 28], []), gzip: true);
        Assert.That(Idx.ReadImages(path).Count, Is.Zero);
    }

    [Test]
    public void BadMagic_NamesFileAndValue()
    {
        var path = WriteFile("labels-as-images.gz", IdxBytes(Idx.LabelsMagic, [3], [1, 2, 3]), gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain("labels-as-images.gz").And.Contain("magic").And.Contain("0x00000801"));

        var other = WriteFile("junk.bin", [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 0], gzip: false);
        ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(other));
        Assert.That(ex!.Message, Does.Contain("junk.bin").And.Contain("0xDEADBEEF"));
    }

    [Test]
    public void TruncatedPayload_NamesFileAndSizes()
    {
        var full = IdxBytes(Idx.ImagesMagic, [2, 3, 3], Pixels(2, 3, 3, seed: 1));
        var path = WriteFile("short-images.gz", full[..^5], gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain("short-images.gz").And.Contain("truncated").And.Contain("18").And.Contain("13"));
    }

    [Test]
    public void TruncatedHeader_NamesFile()
    {
        var full = IdxBytes(Idx.ImagesMagic, [2, 3, 3], []);
        var path = WriteFile("short-header", full[..10], gzip: false);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain("short-header").And.Contain("truncated"));
    }

    [Test]
    public void CountMismatch_ExtraData_NamesFile()
    {
        var path = WriteFile("long-labels.gz", IdxBytes(Idx.LabelsMagic, [2], [1, 2, 3, 4]), gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path));
        Assert.That(ex!.Message, Does.Contain("long-labels.gz").And.Contain("count"));
    }

    [Test]
    public void CorruptGzip_NamesFile()
    {
        var bytes = new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        var path = WriteFile("corrupt.gz", bytes, gzip: false);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path));
        Assert.That(ex!.Message, Does.Contain("corrupt.gz"));
    }

    private void WriteFakeFashionMnist(int train, int test, int? trainLabelCount = null, bool gzip = true)
    {
        var suffix = gzip ? ".gz" : "";
        WriteFile("train-images-idx3-ubyte" + suffix, IdxBytes(Idx.ImagesMagic, [train, 28, 28], Pixels(train, 28, 28, 3)), gzip);
        var trainLabels = Enumerable.Range(0, trainLabelCount ?? train).Select(i => (byte)(i % 10)).ToArray();
        WriteFile("train-labels-idx1-ubyte" + suffix, IdxBytes(Idx.LabelsMagic, [trainLabels.Length], trainLabels), gzip);
        WriteFile("t10k-images-idx3-ubyte" + suffix, IdxBytes(Idx.ImagesMagic, [test, 28, 28], Pixels(test, 28, 28, 4)), gzip);
        var testLabels = Enumerable.Range(0, test).Select(i => (byte)(9 - i % 10)).ToArray();
        WriteFile("t10k-labels-idx1-ubyte" + suffix, IdxBytes(Idx.LabelsMagic, [test], testLabels), gzip);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void FashionMnist_LoadsFromDataDir(bool gzip)
    {
        WriteFakeFashionMnist(train: 20, test: 7, gzip: gzip);
        var data = FashionMnist.Load(_dir);
        Assert.That(data.Directory, Is.EqualTo(_dir));
        Assert.That(data.Train.Count, Is.EqualTo(20));
        Assert.That(data.Test.Count, Is.EqualTo(7));
        Assert.That(data.Train.Features, Is.EqualTo(784));
        Assert.That(data.Train.Images, Has.Length.EqualTo(20 * 784));
        Assert.That(data.Train.Labels.Take(12), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1 }));
        Assert.That(data.Test.Labels[0], Is.EqualTo(9));

        var pixels = Pixels(20, 28, 28, 3);
        Assert.That(data.Train.Images[0], Is.EqualTo(pixels[0] / 255f));
        Assert.That(data.Train.Images[^1], Is.EqualTo(pixels[^1] / 255f));
        Assert.That(data.Train.Images.Min(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(data.Train.Images.Max(), Is.LessThanOrEqualTo(1f));

        var first5 = data.Train.Take(5);
        Assert.That(first5.Count, Is.EqualTo(5));
        Assert.That(first5.Images, Is.EqualTo(data.Train.Images.Take(5 * 784)));
        Assert.That(first5.Labels, Is.EqualTo(data.Train.Labels.Take(5)));
        Assert.That(data.Train.Take(1000).Count, Is.EqualTo(20));
        Assert.That(data.Train.Image(1).ToArray(), Is.EqualTo(data.Train.Images.Skip(784).Take(784)));
    }

    [Test]
    public void FashionMnist_LabelCountMismatch_NamesFile()
    {
        WriteFakeFashionMnist(train: 10, test: 5, trainLabelCount: 9);
        var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir));
        Assert.That(ex!.Message, Does.Contain("train-labels-idx1-ubyte.gz").And.Contain("count"));
    }

    [Test]
    public void FashionMnist_NotFound_ExplainsWhereAndHow()
    {
        var empty = Path.Combine(_dir, "nothing-here");
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadFirst([empty]));
        Assert.That(ex!.Message, Does.Contain(empty)
            .And.Contain("apt-get install dataset-fashion-mnist")
            .And.Contain("--data DIR")
            .And.Contain("FashionMnist.Download"));
    }

    [Test]
    public void FashionMnist_SearchOrder()
    {
        var dirs = FashionMnist.SearchDirectories("/some/dir");
        Assert.That(dirs[0], Is.EqualTo("/some/dir"));
        Assert.That(dirs[^1], Is.EqualTo(SystemDataDir));
        Assert.That(dirs, Has.Some.EndsWith(Path.Combine(".cache", "modelgen", "fashion-mnist")));
        Assert.That(FashionMnist.ClassNames, Has.Count.EqualTo(10));
        Assert.That(FashionMnist.ClassNames[0], Is.EqualTo("T-shirt/top"));
        Assert.That(FashionMnist.ClassNames[9], Is.EqualTo("Ankle boot"));
    }

    [Test]
    public void FashionMnist_SystemDataset_LoadsAndIsBalanced()
    {
        Requirement.That(Directory.Exists(SystemDataDir), $"{SystemDataDir} is absent (apt-get install dataset-fashion-mnist; .ci/run installs it).");
        var data = FashionMnist.LoadFirst([SystemDataDir]);
        Assert.That(data.Train.Count, Is.EqualTo(60000));
        Assert.That(data.Test.Count, Is.EqualTo(10000));
        Assert.That(data.Train.Images, Has.Length.EqualTo(60000 * 784));
        Assert.That(data.Train.Labels, Has.All.InRange(0, 9));
        Assert.That(data.Test.Labels, Has.All.InRange(0, 9));
        var perClass = new int[10];
        foreach (var l in data.Train.Labels) perClass[l]++;
        Assert.That(perClass, Has.All.EqualTo(6000));
        var testPerClass = new int[10];
        foreach (var l in data.Test.Labels) testPerClass[l]++;
        Assert.That(testPerClass, Has.All.EqualTo(1000));
        Assert.That(data.Train.Images.Max(), Is.EqualTo(1f));
    }
}
