using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ModelGen.IO;
using ModelGen.Tests.Ops;

namespace ModelGen.Tests.IO;

/// <summary>Every dtype through safetensors, against files written by hand in Python
/// (tests/oracle/make_safetensors_fixtures.py): dtypes.safetensors and the F16/BF16 checkpoints tiny_*.safetensors.</summary>
public sealed class SafeTensorsDTypeTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "modelgen-stdt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string FixturePath(string file) => Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", file);

    /// <summary>The tensors of dtypes.json, built from their recorded bit patterns.</summary>
    private static List<(string Name, Tensor Tensor)> FixtureTensors(JsonElement json)
    {
        var list = new List<(string, Tensor)>();
        foreach (var e in json.GetProperty("tensors").EnumerateArray())
        {
            var shape = new Shape(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
            var dtype = DTypeExtensions.ParseSafeTensorsName(e.GetProperty("dtype").GetString()!);
            var values = e.GetProperty("values");
            Tensor t = dtype switch
            {
                DType.Float32 => Tensor.From<float>(DTypeTests.Floats(DTypeTests.Hex32(values)), shape, dtype),
                DType.Float64 => Tensor.From<double>(DTypeTests.Hex64(values).Select(BitConverter.UInt64BitsToDouble).ToArray(), shape, dtype),
                DType.Float16 => Tensor.From<Half>(DTypeTests.Hex16(values).Select(BitConverter.UInt16BitsToHalf).ToArray(), shape, dtype),
                DType.BFloat16 => Tensor.From<BFloat16>(DTypeTests.Hex16(values).Select(BFloat16.FromBits).ToArray(), shape, dtype),
                DType.Bool => Tensor.From<bool>(values.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray(), shape, dtype),
                _ => Tensor.From<long>(values.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape, dtype),
            };
            list.Add((e.GetProperty("name").GetString()!, t));
        }
        return list;
    }

    /// <summary>The raw bytes of a CPU tensor (for bit-exact comparisons, NaN payloads included).</summary>
    private static byte[] Bytes(Tensor t) => t.DType switch
    {
        DType.Float32 => t.AsSpan<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray(),
        DType.Float64 => t.AsSpan<double>().ToArray().SelectMany(BitConverter.GetBytes).ToArray(),
        DType.Int32 => t.AsSpan<int>().ToArray().SelectMany(BitConverter.GetBytes).ToArray(),
        DType.Int64 => t.AsSpan<long>().ToArray().SelectMany(BitConverter.GetBytes).ToArray(),
        DType.Bool => t.AsSpan<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
        DType.Float16 => t.AsSpan<Half>().ToArray().SelectMany(BitConverter.GetBytes).ToArray(),
        _ => t.AsSpan<BFloat16>().ToArray().SelectMany(v => BitConverter.GetBytes(v.Bits)).ToArray(),
    };

    private static void DisposeAll(List<(string Name, Tensor Tensor)> tensors)
    {
        foreach (var (_, t) in tensors) t.Dispose();
    }

    [Test]
    public void PythonFixture_ReadsEveryDTypeExactly()
    {
        var json = DTypeTests.Fixture("dtypes.json");
        var expected = FixtureTensors(json);
        try
        {
            using var file = SafeTensorsFile.Open(FixturePath("dtypes.safetensors"));
            Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(expected.Select(e => e.Name)));
            Assert.That(file.Metadata["source"], Is.EqualTo("make_safetensors_fixtures.py"));
            Assert.That(file.Tensors.Select(t => t.DType), Is.EquivalentTo(new[] { "F32", "F64", "F64", "I32", "I64", "BOOL", "F16", "BF16", "F16", "I64" }));
            foreach (var (name, want) in expected)
            {
                using var got = file.ReadTensor(name);
                Assert.That(got.DType, Is.EqualTo(want.DType), name);
                Assert.That(got.Shape, Is.EqualTo(want.Shape), name);
                Assert.That(Bytes(got), Is.EqualTo(Bytes(want)), name);
            }
            using var i64 = file.ReadTensor("i64");
            Assert.That(i64.ToArray<long>(), Is.EqualTo(new[] { 0, -1, 1L << 62, long.MinValue, long.MaxValue, (1L << 53) + 1 }));
            using var scalar = file.ReadTensor("i64_scalar");
            Assert.That(scalar.Item<long>(), Is.EqualTo(42));
            using var flags = file.ReadTensor("bool");
            Assert.That(flags.ToArray<bool>(), Is.EqualTo(new[] { true, false, true, true, false, false }));
            using var f16 = file.ReadTensor("f16");
            Assert.That(f16.ToArray()[..6], Is.EqualTo(new[] { 0f, -0f, 1f, -2.5f, 65504f, float.PositiveInfinity }));
            // the float readers convert every dtype
            Assert.That(file.ReadDoubles("i32"), Is.EqualTo(new[] { 0.0, 1, -1, int.MaxValue, int.MinValue, 123456, -7 }));
            Assert.That(file.ReadFloats("bf16")[2], Is.EqualTo(1f));
        }
        finally
        {
            DisposeAll(expected);
        }
    }

    [Test]
    public void Writer_ProducesThePythonFileByteForByte()
    {
        var json = DTypeTests.Fixture("dtypes.json");
        var tensors = FixtureTensors(json);
        try
        {
            var metadata = json.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var path = Path.Combine(_dir, "dtypes.safetensors");
            SafeTensorsWriter.Write(path, tensors, metadata);
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(File.ReadAllBytes(FixturePath("dtypes.safetensors"))));
        }
        finally
        {
            DisposeAll(tensors);
        }
    }

    [Test]
    public void EveryDType_RoundTripsThroughTheWriterAndReader()
    {
        var rng = new Random(20);
        var tensors = new List<(string Name, Tensor Tensor)>();
        try
        {
            foreach (var dtype in Enum.GetValues<DType>())
                foreach (int[] dims in new[] { new[] { 3, 7 }, [], [0, 4], [33] })
                {
                    var shape = new Shape(dims);
                    var values = Enumerable.Range(0, shape.Count).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 8))).ToArray();
                    tensors.Add(($"{dtype}.{string.Join("x", dims)}", Tensor.From<double>(values, shape, dtype)));
                }
            var first = Path.Combine(_dir, "a.safetensors");
            SafeTensorsWriter.Write(first, tensors);
            using var file = SafeTensorsFile.Open(first);
            var back = new List<(string Name, Tensor Tensor)>();
            try
            {
                foreach (var (name, t) in tensors)
                {
                    var info = file.GetInfo(name);
                    Assert.That(info.DType, Is.EqualTo(t.DType.SafeTensorsName()), name);
                    Assert.That(info.ByteLength, Is.EqualTo((long)t.Count * t.DType.Size()), name);
                    var read = file.ReadTensor(name);
                    back.Add((name, read));
                    Assert.That(read.DType, Is.EqualTo(t.DType));
                    Assert.That(Bytes(read), Is.EqualTo(Bytes(t)), name);
                }
                var second = Path.Combine(_dir, "b.safetensors");
                SafeTensorsWriter.Write(second, back);
                Assert.That(File.ReadAllBytes(second), Is.EqualTo(File.ReadAllBytes(first)), "rewriting what was read gives the same bytes");
            }
            finally
            {
                DisposeAll(back);
            }
        }
        finally
        {
            DisposeAll(tensors);
        }
    }

    [Test]
    public void ReadTensor_WithADType_Converts()
    {
        using var file = SafeTensorsFile.Open(FixturePath("dtypes.safetensors"));
        using (var f = file.ReadTensor("f32", DType.Float32))
        using (var asInt = file.ReadTensor("f32", DType.Int32))
        {
            var ints = asInt.ToArray<int>();
            Assert.That(ints[2], Is.EqualTo(1));   // 1.5
            Assert.That(ints[3], Is.EqualTo(-2));  // -2.25: toward zero
            using var viaTo = f.To(DType.Int32);
            Assert.That(ints, Is.EqualTo(viaTo.ToArray<int>()));
        }
        using (var f = file.ReadTensor("f32"))
        using (var asBf = file.ReadTensor("f32", DType.BFloat16))
        using (var viaTo = f.To(DType.BFloat16))
            Assert.That(Bytes(asBf), Is.EqualTo(Bytes(viaTo)));
        using (var f64 = file.ReadTensor("f64"))
        using (var asHalf = file.ReadTensor("f64", DType.Float16))
        using (var viaTo = f64.To(DType.Float16))
            Assert.That(Bytes(asHalf), Is.EqualTo(Bytes(viaTo)), "F64 → Float16 through float32, as Tensor.To");
        using (var asBool = file.ReadTensor("i32", DType.Bool))
            Assert.That(asBool.ToArray<bool>(), Is.EqualTo(new[] { false, true, true, true, true, true, true }));
        using (var asFloat = file.ReadTensor("bool", DType.Float32))
            Assert.That(asFloat.ToArray(), Is.EqualTo(new[] { 1f, 0f, 1f, 1f, 0f, 0f }));
        using (var asLong = file.ReadTensor("f16", DType.Int64))
            Assert.That(asLong.ToArray<long>()[..5], Is.EqualTo(new long[] { 0, 0, 1, -2, 65504 }));
        using var dest = Tensor.Zeros(new Shape(7), DType.Int64);
        file.ReadInto("i32", dest);
        Assert.That(dest.ToArray<long>(), Is.EqualTo(new long[] { 0, 1, -1, int.MaxValue, int.MinValue, 123456, -7 }));
        var ex = Assert.Throws<ArgumentException>(() => file.ReadInto("i32", Tensor.Zeros(new Shape(6), DType.Int32)));
        Assert.That(ex!.Message, Does.Contain("'i32'").And.Contain("7 elements"));
    }

    [TestCase("tiny_f16.safetensors", "f16", "F16")]
    [TestCase("tiny_bf16.safetensors", "bf16", "BF16")]
    public void HalfPrecisionCheckpoint_LoadsIntoAFloat32Model_Converted(string file, string key, string dtype)
    {
        var expected = DTypeTests.Fixture("tiny.json").GetProperty(key);
        using (var f = SafeTensorsFile.Open(FixturePath(file)))
            Assert.That(f.Tensors.Select(t => t.DType), Is.All.EqualTo(dtype));
        foreach (var modelDType in new[] { DType.Float32, DType.Float64 })
        {
            using var model = new OracleTanhSigmoid(Device.Cpu, 0, modelDType);
            model.Load(FixturePath(file));
            foreach (var p in model.Parameters)
            {
                Assert.That(p.Value.DType, Is.EqualTo(modelDType));
                var want = DTypeTests.Floats(DTypeTests.Hex32(expected.GetProperty(p.Name).GetProperty("float32")));
                Assert.That(p.Value.ToArray(), Is.EqualTo(want), $"{p.Name} ({modelDType})");
                Assert.That(p.Value.ToDoubleArray(), Is.EqualTo(want.Select(v => (double)v).ToArray()));
            }
            // and saved back, the model writes its own dtype
            var saved = Path.Combine(_dir, $"{key}-{modelDType}.safetensors");
            model.Save(saved);
            using var back = SafeTensorsFile.Open(saved);
            Assert.That(back.Tensors.Select(t => t.DType), Is.All.EqualTo(modelDType.SafeTensorsName()));
        }
        using var st = SafeTensorsFile.Open(FixturePath(file));
        using var weight = st.ReadTensor("fc1.weight");
        Assert.That(weight.DType, Is.EqualTo(DTypeExtensions.ParseSafeTensorsName(dtype)), "read standalone, a tensor keeps its dtype");
        using var asFloat = weight.To(DType.Float32);
        Assert.That(asFloat.ToArray(), Is.EqualTo(DTypeTests.Floats(DTypeTests.Hex32(expected.GetProperty("fc1.weight").GetProperty("float32")))));
    }

    [Test]
    public void Float16Checkpoint_WrittenByModelGen_LoadsIntoAFloat32Model()
    {
        using var source = new OracleTanhSigmoid(Device.Cpu, 3);
        var halves = source.Parameters.Select(p => (p.Name, Tensor: p.Value.To(DType.Float16))).ToList();
        try
        {
            var path = Path.Combine(_dir, "half.safetensors");
            SafeTensorsWriter.Write(path, halves);
            using var model = new OracleTanhSigmoid(Device.Cpu, 99);
            model.Load(path);
            foreach (var (name, half) in halves)
                Assert.That(model.Parameter(name).Value.ToArray(), Is.EqualTo(half.ToArray()), name);
        }
        finally
        {
            DisposeAll(halves);
        }
    }

    [Test]
    public void IlgpuTensorsOfEveryStorageDType_AreWrittenAndReadInto()
    {
        var gpu = Device.Parse("ilgpu-cpu");
        using var ids = Tensor.From<int>([5, -6, 7], new Shape(3), DType.Int32, gpu);
        using var half = Tensor.From<float>([0.5f, -0.25f], new Shape(2), DType.Float16, gpu);
        var path = Path.Combine(_dir, "gpu.safetensors");
        SafeTensorsWriter.Write(path, [("ids", ids), ("half", half)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.GetInfo("ids").DType, Is.EqualTo("I32"));
        using var read = file.ReadTensor("ids");
        Assert.That(read.ToArray<int>(), Is.EqualTo(new[] { 5, -6, 7 }));
        using var dest = Tensor.Zeros(new Shape(2), DType.Float32, gpu);
        file.ReadInto("half", dest);
        Assert.That(dest.ToArray(), Is.EqualTo(new[] { 0.5f, -0.25f }));
    }

    [Test]
    public void BoolBytesOtherThanZeroOrOne_ReadAsTrue()
    {
        var path = WriteRaw("bool.safetensors", "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", [0, 1, 2, 255]);
        using var file = SafeTensorsFile.Open(path);
        using var m = file.ReadTensor("m");
        Assert.That(m.DType, Is.EqualTo(DType.Bool));
        Assert.That(m.ToArray<int>(), Is.EqualTo(new[] { 0, 1, 1, 1 }));
        Assert.That(Bytes(m), Is.EqualTo(new byte[] { 0, 1, 1, 1 }), "stored as 0 or 1");
    }

    [TestCase("F8")]
    [TestCase("f32")]
    [TestCase("FLOAT16")]
    [TestCase("")]
    public void UnknownDTypeString_IsAClearError(string dtype)
    {
        var path = WriteRaw("bad.safetensors", $"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[0,4]}}}}", new byte[4]);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.That(ex!.Problem, Does.Contain("'w'").And.Contain($"unknown dtype '{dtype}'").And.Contain("BF16"));
        Assert.That(ex.Message, Does.StartWith(path));
    }

    [TestCase("F16", "[3]", 8, 6)]
    [TestCase("BF16", "[2,2]", 4, 8)]
    [TestCase("BOOL", "[5]", 4, 5)]
    [TestCase("I64", "[2]", 8, 16)]
    [TestCase("I32", "[3]", 16, 12)]
    public void SizeNotMatchingTheDType_IsAClearError(string dtype, string shape, int bytes, int needed)
    {
        var path = WriteRaw("size.safetensors", $"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[0,{bytes}]}}}}", new byte[bytes]);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.That(ex!.Problem, Does.Contain("'w'").And.Contain($"[0, {bytes}]").And.Contain($"{dtype} ").And.Contain($"needs {needed} bytes"));
    }

    private string WriteRaw(string name, string header, byte[] data)
    {
        var path = Path.Combine(_dir, name);
        var headerBytes = Encoding.UTF8.GetBytes(header);
        using var fs = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerBytes.Length);
        fs.Write(prefix);
        fs.Write(headerBytes);
        fs.Write(data);
        return path;
    }
}
