using ModelGen.Testing;
using System.Buffers.Binary;
using System.Text;
using ModelGen.IO;
using NUnit.Framework;

namespace ModelGen.Tests.IO;

[TestFixture]
public sealed class SafeTensorsTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "modelgen-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>Builds a file from a raw header (padded to the given length with spaces when asked) and data bytes.</summary>
    private string WriteRaw(string name, string header, byte[] data, long? declaredLength = null)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        return WriteRaw(name, headerBytes, data, declaredLength);
    }

    private string WriteRaw(string name, byte[] headerBytes, byte[] data, long? declaredLength = null)
    {
        var path = PathOf(name);
        using var fs = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(declaredLength ?? headerBytes.Length));
        fs.Write(prefix);
        fs.Write(headerBytes);
        fs.Write(data);
        return path;
    }

    private static Tensor RandomTensor(Random rng, DType dtype, params int[] dims)
    {
        var shape = new Shape(dims);
        var t = Tensor.Zeros(shape, dtype);
        if (dtype == DType.Float64)
        {
            var s = t.AsSpan<double>();
            for (int i = 0; i < s.Length; i++) s[i] = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 30));
        }
        else
        {
            var s = t.AsSpan<float>();
            for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-20, 20)));
        }
        return t;
    }

    [Test]
    public void RoundTrip_F32_ExactValuesShapesOrderAndMetadata()
    {
        var rng = new Random(1234);
        int[][] shapes = [[3, 5, 7], [1], [], [2, 0], [13], [1, 1, 1, 17], [31, 3]];
        var tensors = shapes.Select((s, i) => ($"layer{i}.weight", RandomTensor(rng, DType.Float32, s))).ToList();
        try
        {
            var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "grüße \"quoted\"" };
            var path = PathOf("f32.safetensors");
            SafeTensorsWriter.Write(path, tensors, meta);

            var bytes = File.ReadAllBytes(path);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.That((8 + headerLength) % 8, Is.Zero, "header padded to a multiple of 8");

            using var file = SafeTensorsFile.Open(path);
            Assert.That(file.Metadata, Is.EquivalentTo(meta));
            Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(tensors.Select(t => t.Item1)));
            for (int i = 0; i < tensors.Count; i++)
            {
                var (name, tensor) = tensors[i];
                var info = file.Tensors[i];
                Assert.That(info.DType, Is.EqualTo("F32"));
                Assert.That(info.Shape, Is.EqualTo(shapes[i]));
                Assert.That(info.ByteLength, Is.EqualTo(tensor.Count * 4L));
                Assert.That(file.Contains(name));
                Assert.That(file.ReadFloats(name), Is.EqualTo(tensor.ToArray()));
                var asDouble = new double[tensor.Count];
                file.ReadInto(name, asDouble);
                Assert.That(asDouble, Is.EqualTo(tensor.ToDoubleArray()));
                using var back = file.ReadTensor(name);
                Assert.That(back.DType, Is.EqualTo(DType.Float32));
                Assert.That(back.Shape, Is.EqualTo(tensor.Shape));
                Assert.That(back.ToArray(), Is.EqualTo(tensor.ToArray()));
            }
            Assert.That(file.Contains("missing"), Is.False);
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    [Test]
    public void RoundTrip_F64_Exact()
    {
        var rng = new Random(99);
        int[][] shapes = [[7, 3], [5, 1, 9], [1]];
        var tensors = shapes.Select((s, i) => ($"p{i}", RandomTensor(rng, DType.Float64, s))).ToList();
        try
        {
            var path = PathOf("f64.safetensors");
            SafeTensorsWriter.Write(path, tensors);
            using var file = SafeTensorsFile.Open(path);
            Assert.That(file.Metadata, Is.Empty);
            for (int i = 0; i < tensors.Count; i++)
            {
                var (name, tensor) = tensors[i];
                Assert.That(file.Tensors[i].DType, Is.EqualTo("F64"));
                var dest = new double[tensor.Count];
                file.ReadInto(name, dest);
                Assert.That(dest, Is.EqualTo(tensor.ToDoubleArray()));
                Assert.That(file.ReadDoubles(name), Is.EqualTo(tensor.ToDoubleArray()));
                Assert.That(file.ReadFloats(name), Is.EqualTo(tensor.ToArray()), "F64 narrowed like a cast");
                using var back = file.ReadTensor(name);
                Assert.That(back.DType, Is.EqualTo(DType.Float64));
                Assert.That(back.ToDoubleArray(), Is.EqualTo(tensor.ToDoubleArray()));
            }
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    [Test]
    public void MixedDTypes_RoundTrip()
    {
        using var a = Tensor.From([1f, 2f, 3f], 3);
        using var b = Tensor.From([0.1, 0.2], 2, 1);
        var path = PathOf("mixed.safetensors");
        SafeTensorsWriter.Write(path, [("a", a), ("b", b)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.ReadFloats("a"), Is.EqualTo(new[] { 1f, 2f, 3f }));
        Assert.That(file.ReadDoubles("b"), Is.EqualTo(new[] { 0.1, 0.2 }));
    }

    [Test]
    public void F16_ConvertsToFloatAndDouble()
    {
        Half[] values = [(Half)1.5f, (Half)(-2.25f), Half.MaxValue, Half.Epsilon, (Half)0f, (Half)0.1f];
        var data = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(i * 2), values[i]);
        var path = WriteRaw("f16.safetensors", $"{{\"h\":{{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,{data.Length}]}}}}", data);
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.ReadFloats("h"), Is.EqualTo(values.Select(v => (float)v).ToArray()));
        var d = new double[6];
        file.ReadInto("h", d);
        Assert.That(d, Is.EqualTo(values.Select(v => (double)(float)v).ToArray()));
        Assert.That(file.ReadFloats("h")[0], Is.EqualTo(1.5f));
        Assert.That(file.ReadFloats("h")[2], Is.EqualTo(65504f));
    }

    [Test]
    public void BF16_ConvertsToFloat()
    {
        float[] expected = [1f, -3.5f, 0.15625f, 3.3895314e38f, -0f, 1.0078125f];
        var data = new byte[expected.Length * 2];
        for (int i = 0; i < expected.Length; i++)
        {
            int bits = BitConverter.SingleToInt32Bits(expected[i]);
            Assert.That(bits & 0xFFFF, Is.Zero, "test values must be exact in bfloat16");
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), (ushort)(bits >>> 16));
        }
        // An odd header length puts the data at an unaligned address.
        var header = $"{{\"b\":{{\"dtype\":\"BF16\",\"shape\":[6],\"data_offsets\":[0,{data.Length}]}}}}";
        if (header.Length % 2 == 0) header += " ";
        var path = WriteRaw("bf16.safetensors", header, data);
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.DataStart % 2, Is.EqualTo(1));
        Assert.That(file.ReadFloats("b"), Is.EqualTo(expected));
        Assert.That(file.ReadDoubles("b"), Is.EqualTo(expected.Select(v => (double)v).ToArray()));
    }

    [Test]
    public void IntegerAndBoolDTypes_Convert()
    {
        var data = new List<byte>();
        data.AddRange(new byte[] { 0, 1, 2 });                                   // BOOL [3] @ 0..3
        data.AddRange(new byte[] { 0xFF, 0x80 });                                // I8 [2]  @ 3..5
        var i32 = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(i32, -7);
        BinaryPrimitives.WriteInt32LittleEndian(i32.AsSpan(4), 123456);
        data.AddRange(i32);                                                      // I32 [2] @ 5..13
        var u64 = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(u64, 1UL << 40);
        data.AddRange(u64);                                                      // U64 [1] @ 13..21
        var header = "{\"flag\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]},"
            + "\"s\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[3,5]},"
            + "\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[5,13]},"
            + "\"u\":{\"dtype\":\"U64\",\"shape\":[],\"data_offsets\":[13,21]}}";
        var path = WriteRaw("ints.safetensors", header, data.ToArray());
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.ReadFloats("flag"), Is.EqualTo(new[] { 0f, 1f, 1f }));
        Assert.That(file.ReadFloats("s"), Is.EqualTo(new[] { -1f, -128f }));
        Assert.That(file.ReadDoubles("i"), Is.EqualTo(new[] { -7.0, 123456.0 }));
        Assert.That(file.ReadDoubles("u"), Is.EqualTo(new[] { (double)(1UL << 40) }));
    }

    [Test]
    public void ReadInto_WrongLength_UnknownName_AndDisposed()
    {
        using var t = Tensor.From([1f, 2f, 3f, 4f], 2, 2);
        var path = PathOf("small.safetensors");
        SafeTensorsWriter.Write(path, [("w", t)]);
        var file = SafeTensorsFile.Open(path);
        Assert.Throws<ArgumentException>(() => file.ReadInto("w", new float[3]));
        var ex = Assert.Throws<KeyNotFoundException>(() => file.ReadFloats("nope"));
        Assert.That(ex!.Message, Does.Contain("nope").And.Contain("small.safetensors"));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloats("w"));
    }

    [Test]
    public void EmptyFile_NoTensors_RoundTrips()
    {
        var path = PathOf("empty.safetensors");
        SafeTensorsWriter.Write(path, [], new Dictionary<string, string> { ["k"] = "v" });
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.Tensors, Is.Empty);
        Assert.That(file.Metadata["k"], Is.EqualTo("v"));
    }

    [Test]
    public void Writer_RejectsDuplicateNames()
    {
        using var t = Tensor.Zeros(2);
        var path = PathOf("dup-write.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("a", t), ("a", t)]));
        Assert.That(File.Exists(path), Is.False);
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    // ---- malformed files ----

    private static void AssertFormatError(string path, params string[] words)
    {
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.That(ex, Is.InstanceOf<FormatException>());
        Assert.That(ex!.Message, Does.Contain(Path.GetFileName(path)), ex.Message);
        foreach (var w in words) Assert.That(ex.Message, Does.Contain(w).IgnoreCase, ex.Message);
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Test]
    public void Malformed_TruncatedData()
    {
        using var t = Tensor.From(new float[30], 5, 6);
        var good = PathOf("good.safetensors");
        SafeTensorsWriter.Write(good, [("fc1.weight", t)]);
        var bytes = File.ReadAllBytes(good);
        var path = PathOf("truncated.safetensors");
        File.WriteAllBytes(path, bytes[..^4]);
        AssertFormatError(path, "truncated");
    }

    [Test]
    public void Malformed_ShorterThanPrefix()
    {
        var path = PathOf("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertFormatError(path, "too short");
    }

    [Test]
    public void Malformed_HeaderLengthPastEnd()
    {
        var path = WriteRaw("pastend.safetensors", "{}", [], declaredLength: 1000);
        AssertFormatError(path, "header length", "past the end");
    }

    [Test]
    public void Malformed_HeaderOver100MB()
    {
        var path = WriteRaw("huge-header.safetensors", "{}", [], declaredLength: 200_000_000);
        AssertFormatError(path, "100 MB");
    }

    [Test]
    public void Malformed_OverlappingOffsets()
    {
        var path = WriteRaw("overlap.safetensors", "{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 4, 12) + "}", new byte[12]);
        AssertFormatError(path, "overlap", "'a'", "'b'");
    }

    [Test]
    public void Malformed_Hole()
    {
        var path = WriteRaw("hole.safetensors", "{" + Entry("a", "F32", "[2]", 0, 8) + "," + Entry("b", "F32", "[2]", 12, 20) + "}", new byte[20]);
        AssertFormatError(path, "hole");
    }

    [Test]
    public void Malformed_HoleAtStart()
    {
        var path = WriteRaw("hole0.safetensors", "{" + Entry("a", "F32", "[2]", 4, 12) + "}", new byte[12]);
        AssertFormatError(path, "hole");
    }

    [Test]
    public void Malformed_TrailingUnusedBytes()
    {
        var path = WriteRaw("trailing.safetensors", "{" + Entry("a", "F32", "[2]", 0, 8) + "}", new byte[12]);
        AssertFormatError(path, "unused");
    }

    [Test]
    public void Malformed_WrongByteCountForDType()
    {
        var path = WriteRaw("model.safetensors", "{" + Entry("fc1.weight", "F32", "[5, 6]", 0, 100) + "}", new byte[100]);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.That(ex!.Message, Does.Contain("model.safetensors: tensor 'fc1.weight' has data_offsets [0, 100] but F32 [5, 6] needs 120 bytes"));
    }

    [Test]
    public void Malformed_InvalidJson()
    {
        var path = WriteRaw("badjson.safetensors", "{\"a\": {\"dtype\": ", []);
        AssertFormatError(path, "JSON");
    }

    [Test]
    public void Malformed_TrailingGarbageAfterObject()
    {
        var path = WriteRaw("garbage.safetensors", "{} x", []);
        AssertFormatError(path, "JSON");
    }

    [Test]
    public void Malformed_InvalidUtf8()
    {
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"k\":\"v?\"}}");
        header[Array.IndexOf(header, (byte)'?')] = 0xFF;
        var path = WriteRaw("utf8.safetensors", header, []);
        AssertFormatError(path, "UTF-8");
    }

    [Test]
    public void Malformed_HeaderNotAnObject()
    {
        var path = WriteRaw("array.safetensors", "[1, 2]", []);
        AssertFormatError(path, "object");
    }

    [Test]
    public void Malformed_DuplicateNames()
    {
        var path = WriteRaw("dup.safetensors", "{" + Entry("w", "F32", "[1]", 0, 4) + "," + Entry("w", "F32", "[1]", 4, 8) + "}", new byte[8]);
        AssertFormatError(path, "duplicate", "'w'");
    }

    [Test]
    public void Malformed_UnknownDType()
    {
        var path = WriteRaw("dtype.safetensors", "{" + Entry("w", "F8_E4M3", "[1]", 0, 1) + "}", new byte[1]);
        AssertFormatError(path, "unknown dtype", "F8_E4M3");
    }

    [Test]
    public void Malformed_MissingField()
    {
        var path = WriteRaw("missing.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]);
        AssertFormatError(path, "missing", "shape");
    }

    [Test]
    public void Malformed_NegativeDimension()
    {
        var path = WriteRaw("negative.safetensors", "{" + Entry("w", "F32", "[-1, 4]", 0, 0) + "}", []);
        AssertFormatError(path, "negative");
    }

    [Test]
    public void Malformed_HugeShape()
    {
        var path = WriteRaw("hugeshape.safetensors", "{" + Entry("w", "F64", "[2000000000, 2000000000, 2000000000]", 0, 8) + "}", new byte[8]);
        AssertFormatError(path, "too large");
    }

    [Test]
    public void Malformed_MetadataValueNotString()
    {
        var path = WriteRaw("meta.safetensors", "{\"__metadata__\":{\"epoch\":3}}", []);
        AssertFormatError(path, "__metadata__", "string");
    }

    [Test]
    public void SpacePaddedHeader_IsAccepted()
    {
        var path = WriteRaw("padded.safetensors", "{" + Entry("w", "U8", "[3]", 0, 3) + "}       ", [7, 8, 9]);
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.ReadFloats("w"), Is.EqualTo(new[] { 7f, 8f, 9f }));
    }

    // ---- atomic writes ----

    private static IEnumerable<(string, Tensor)> ThrowMidway(Tensor first)
    {
        yield return ("first", first);
        throw new InvalidOperationException("boom while enumerating");
    }

    [Test]
    public void AtomicWrite_FailureMidway_LeavesPreviousFileAndNoTemp()
    {
        using var old = Tensor.From([1f, 2f, 3f], 3);
        var path = PathOf("ckpt.safetensors");
        SafeTensorsWriter.Write(path, [("old", old)]);
        var before = File.ReadAllBytes(path);

        using var next = Tensor.From([9f, 9f, 9f, 9f], 4);
        var ex = Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Write(path, ThrowMidway(next)));
        Assert.That(ex!.Message, Does.Contain("boom"));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "ckpt.safetensors" }));
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.ReadFloats("old"), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void AtomicFile_FailureInWriter_CreatesNothing_AndSuccessReplaces()
    {
        var path = PathOf("sub/state.json");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new IOException("disk on fire");
        }));
        Assert.That(File.Exists(path), Is.False);
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.Empty);

        AtomicFile.WriteAllText(path, "{\"a\":1}");
        AtomicFile.Write(path, s => s.Write("{\"a\":2}"u8));
        Assert.That(File.ReadAllText(path), Is.EqualTo("{\"a\":2}"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1));
    }

    [Test]
    public void AtomicWrite_ReplacesFileThatIsOpenForReading()
    {
        using var a = Tensor.From([1f], 1);
        using var b = Tensor.From([2f, 3f], 2);
        var path = PathOf("swap.safetensors");
        SafeTensorsWriter.Write(path, [("a", a)]);
        using var oldFile = SafeTensorsFile.Open(path);
        Requirement.Platform(!OperatingSystem.IsWindows(), "Windows cannot rename over a mapped file.");
        SafeTensorsWriter.Write(path, [("b", b)]);
        Assert.That(oldFile.ReadFloats("a"), Is.EqualTo(new[] { 1f }), "the old mapping stays readable");
        using var newFile = SafeTensorsFile.Open(path);
        Assert.That(newFile.ReadFloats("b"), Is.EqualTo(new[] { 2f, 3f }));
    }
}
