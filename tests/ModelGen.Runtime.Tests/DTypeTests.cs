using System.Text.Json;
using ModelGen.Tests.Ops;

namespace ModelGen.Tests;

/// <summary>The dtypes: their properties, tensor creation and conversion, and PyTorch's conversions (fixtures/conversions.json,
/// written by tests/oracle/make_safetensors_fixtures.py).</summary>
public class DTypeTests
{
    private static readonly DType[] All = [DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool, DType.Float16, DType.BFloat16];

    internal static JsonElement Fixture(string file)
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", file))).RootElement;

    internal static uint[] Hex32(JsonElement e) => e.EnumerateArray().Select(v => Convert.ToUInt32(v.GetString()!, 16)).ToArray();
    internal static ushort[] Hex16(JsonElement e) => e.EnumerateArray().Select(v => Convert.ToUInt16(v.GetString()!, 16)).ToArray();
    internal static ulong[] Hex64(JsonElement e) => e.EnumerateArray().Select(v => Convert.ToUInt64(v.GetString()!, 16)).ToArray();
    internal static float[] Floats(uint[] bits) => bits.Select(BitConverter.UInt32BitsToSingle).ToArray();

    [Test]
    public void EnumValues_KeepTheirOrder_NewOnesAppended()
    {
        Assert.That((int)DType.Float32, Is.Zero);
        Assert.That((int)DType.Float64, Is.EqualTo(1));
        Assert.That(All.Select(d => (int)d), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 6 }));
        Assert.That(Enum.GetValues<DType>(), Is.EqualTo(All));
    }

    [Test]
    public void Size_Name_Parse_IsFloatingPoint()
    {
        Assert.That(All.Select(d => d.Size()), Is.EqualTo(new[] { 4, 8, 4, 8, 1, 2, 2 }));
        string[] names = ["F32", "F64", "I32", "I64", "BOOL", "F16", "BF16"];
        Assert.That(All.Select(d => d.SafeTensorsName()), Is.EqualTo(names));
        for (int i = 0; i < All.Length; i++)
        {
            Assert.That(DTypeExtensions.ParseSafeTensorsName(names[i]), Is.EqualTo(All[i]));
            Assert.That(DTypeExtensions.TryParseSafeTensorsName(names[i], out var d) && d == All[i]);
        }
        Assert.That(All.Where(d => d.IsFloatingPoint()), Is.EqualTo(new[] { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16 }));
    }

    [TestCase("f32")]
    [TestCase("FP16")]
    [TestCase("U8")]
    [TestCase("")]
    public void Parse_UnknownName_NamesIt(string name)
    {
        Assert.That(DTypeExtensions.TryParseSafeTensorsName(name, out _), Is.False);
        var ex = Assert.Throws<FormatException>(() => DTypeExtensions.ParseSafeTensorsName(name));
        Assert.That(ex!.Message, Does.Contain($"'{name}'").And.Contain("BF16"));
    }

    [Test]
    public void UndefinedDType_Throws()
    {
        var bad = (DType)99;
        Assert.Throws<ArgumentOutOfRangeException>(() => bad.Size());
        Assert.Throws<ArgumentOutOfRangeException>(() => bad.SafeTensorsName());
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(new Shape(2), bad));
    }

    [Test]
    public void Of_MapsEveryElementType()
    {
        Assert.That(DTypeExtensions.Of<float>(), Is.EqualTo(DType.Float32));
        Assert.That(DTypeExtensions.Of<double>(), Is.EqualTo(DType.Float64));
        Assert.That(DTypeExtensions.Of<int>(), Is.EqualTo(DType.Int32));
        Assert.That(DTypeExtensions.Of<long>(), Is.EqualTo(DType.Int64));
        Assert.That(DTypeExtensions.Of<bool>(), Is.EqualTo(DType.Bool));
        Assert.That(DTypeExtensions.Of<Half>(), Is.EqualTo(DType.Float16));
        Assert.That(DTypeExtensions.Of<BFloat16>(), Is.EqualTo(DType.BFloat16));
        var ex = Assert.Throws<NotSupportedException>(() => DTypeExtensions.Of<decimal>());
        Assert.That(ex!.Message, Does.Contain("Decimal"));
    }

    [TestCaseSource(nameof(All))]
    public void Zeros_EveryDType_ReadsBackAsZeros(DType dtype)
    {
        using var t = Tensor.Zeros(new Shape(3, 5), dtype);
        Assert.That(t.DType, Is.EqualTo(dtype));
        Assert.That(t.ToArray(), Is.EqualTo(new float[15]));
        Assert.That(t.ToDoubleArray(), Is.EqualTo(new double[15]));
        Assert.That(t.ToArray<long>(), Is.EqualTo(new long[15]));
        Assert.That(t.ToArray<bool>(), Is.All.False);
    }

    [Test]
    public void From_ToArray_RoundTripsEachElementType()
    {
        using (var t = Tensor.From<int>([1, -2, int.MaxValue, int.MinValue], new Shape(2, 2), DType.Int32))
        {
            Assert.That(t.ToArray<int>(), Is.EqualTo(new[] { 1, -2, int.MaxValue, int.MinValue }));
            Assert.That(t.AsSpan<int>()[2], Is.EqualTo(int.MaxValue));
            Assert.That(t.ToDoubleArray(), Is.EqualTo(new[] { 1.0, -2, int.MaxValue, int.MinValue }));
        }
        long big = (1L << 53) + 1;
        using (var t = Tensor.From<long>([big, long.MinValue, -1], new Shape(3), DType.Int64))
        {
            Assert.That(t.ToArray<long>(), Is.EqualTo(new[] { big, long.MinValue, -1 }));
            Assert.That(t.ToArray<int>()[2], Is.EqualTo(-1));
        }
        using (var t = Tensor.From<long>([big], Shape.Scalar, DType.Int64))
        {
            Assert.That(t.Item<long>(), Is.EqualTo(big), "Item<long> is exact where Item() (a double) is not");
            Assert.That(t.Item(), Is.EqualTo((double)big));
        }
        using (var t = Tensor.From<bool>([true, false, true], new Shape(3), DType.Bool))
        {
            Assert.That(t.ToArray<bool>(), Is.EqualTo(new[] { true, false, true }));
            Assert.That(t.ToArray(), Is.EqualTo(new[] { 1f, 0f, 1f }));
            Assert.That(t.ToArray<int>(), Is.EqualTo(new[] { 1, 0, 1 }));
        }
        using (var t = Tensor.From<Half>([(Half)1.5f, Half.MaxValue, Half.NegativeInfinity], new Shape(3), DType.Float16))
        {
            Assert.That(t.ToArray(), Is.EqualTo(new[] { 1.5f, 65504f, float.NegativeInfinity }));
            Assert.That(t.ToArray<Half>()[1], Is.EqualTo(Half.MaxValue));
        }
        using (var t = Tensor.From<BFloat16>([BFloat16.One, BFloat16.MaxValue, BFloat16.Epsilon], new Shape(3), DType.BFloat16))
        {
            Assert.That(t.ToArray(), Is.EqualTo(new[] { 1f, 3.3895314e38f, MathF.Pow(2, -133) }));
            Assert.That(t.ToArray<BFloat16>().Select(v => v.Bits), Is.EqualTo(new ushort[] { 0x3F80, 0x7F7F, 0x0001 }));
        }
    }

    [Test]
    public void FloatToInt_TruncatesTowardZero_AsTorch()
    {
        var fixture = Fixture("conversions.json");
        foreach (var (key, dtype) in new[] { ("to_int32", DType.Int32), ("to_int64", DType.Int64) })
        {
            var section = fixture.GetProperty(key);
            var x = Floats(Hex32(section.GetProperty("float32")));
            var expected = section.GetProperty(key == "to_int32" ? "int32" : "int64").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            using var t = Tensor.From<float>(x, new Shape(x.Length), dtype);
            Assert.That(t.ToArray<long>(), Is.EqualTo(expected), key);
            using var f = Tensor.From<float>(x, new Shape(x.Length), DType.Float32);
            using var converted = f.To(dtype);
            Assert.That(converted.ToArray<long>(), Is.EqualTo(expected), key + " through To(DType)");
            // double sources truncate the same way
            using var fromDouble = Tensor.From<double>(x.Select(v => (double)v).ToArray(), new Shape(x.Length), dtype);
            Assert.That(fromDouble.ToArray<long>(), Is.EqualTo(expected), key + " from double");
        }
        using var special = Tensor.From<float>([float.NaN, 1e20f, -1e20f], new Shape(3), DType.Int32);
        Assert.That(special.ToArray<int>(), Is.EqualTo(new[] { 0, int.MaxValue, int.MinValue }), "NaN gives 0, out of range saturates");
        using var wide = Tensor.From<long>([(1L << 40) + 5, -1], new Shape(2), DType.Int32);
        Assert.That(wide.ToArray<int>(), Is.EqualTo(new[] { 5, -1 }), "a narrower integer wraps, as a C cast (and torch) does");
    }

    [Test]
    public void ToBool_IsNonZero_AsTorch()
    {
        var section = Fixture("conversions.json").GetProperty("to_bool");
        var x = Floats(Hex32(section.GetProperty("float32")));
        var expected = section.GetProperty("bool").EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();
        using var t = Tensor.From<float>(x, new Shape(x.Length), DType.Bool);
        Assert.That(t.ToArray<bool>(), Is.EqualTo(expected));
        using var i = Tensor.From<int>([0, 3, -1], new Shape(3), DType.Bool);
        Assert.That(i.ToArray<bool>(), Is.EqualTo(new[] { false, true, true }));
    }

    [Test]
    public void Float32To16Bit_MatchesTorch_RoundingToNearestEven()
    {
        var section = Fixture("conversions.json").GetProperty("float32_to_16");
        var bits = Hex32(section.GetProperty("float32"));
        var x = Floats(bits);
        var f16 = Hex16(section.GetProperty("float16"));
        var bf16 = Hex16(section.GetProperty("bfloat16"));
        Assert.That(x, Has.Length.GreaterThan(250));
        using var h = Tensor.From<float>(x, new Shape(x.Length), DType.Float16);
        using var b = Tensor.From<float>(x, new Shape(x.Length), DType.BFloat16);
        var hv = h.ToArray<Half>();
        var bv = b.ToArray<BFloat16>();
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i]))
            {
                // torch's NaN patterns differ between its scalar and vector paths (bfloat16 0x7FC0 or 0xFFFF): NaN stays NaN
                Assert.That(Half.IsNaN(hv[i]) && BFloat16.IsNaN(bv[i]), $"NaN {bits[i]:x8}");
                continue;
            }
            Assert.That(BitConverter.HalfToUInt16Bits(hv[i]), Is.EqualTo(f16[i]), $"float16 of {x[i]:R} ({bits[i]:x8})");
            Assert.That(bv[i].Bits, Is.EqualTo(bf16[i]), $"bfloat16 of {x[i]:R} ({bits[i]:x8})");
            Assert.That(((BFloat16)x[i]).Bits, Is.EqualTo(bf16[i]), "the BFloat16 cast");
        }
        using var viaTo = Tensor.From<float>(x, new Shape(x.Length), DType.Float32);
        using var toF16 = viaTo.To(DType.Float16);
        using var toBf16 = viaTo.To(DType.BFloat16);
        Assert.That(toF16.ToArray<Half>().Select(BitConverter.HalfToUInt16Bits), Is.EqualTo(hv.Select(BitConverter.HalfToUInt16Bits)));
        Assert.That(toBf16.ToArray<BFloat16>().Select(v => v.Bits), Is.EqualTo(bv.Select(v => v.Bits)));
    }

    [Test]
    public void Float64To16Bit_GoesThroughFloat32_AsTorch()
    {
        var section = Fixture("conversions.json").GetProperty("float64_to_16");
        var x = Hex64(section.GetProperty("float64")).Select(BitConverter.UInt64BitsToDouble).ToArray();
        using var h = Tensor.From<double>(x, new Shape(x.Length), DType.Float16);
        using var b = Tensor.From<double>(x, new Shape(x.Length), DType.BFloat16);
        Assert.That(h.ToArray<Half>().Select(BitConverter.HalfToUInt16Bits), Is.EqualTo(Hex16(section.GetProperty("float16"))));
        Assert.That(b.ToArray<BFloat16>().Select(v => v.Bits), Is.EqualTo(Hex16(section.GetProperty("bfloat16"))));
        using var d = Tensor.From<double>(x, new Shape(x.Length), DType.Float64);
        using var viaTo = d.To(DType.Float16);
        Assert.That(viaTo.ToArray<Half>().Select(BitConverter.HalfToUInt16Bits), Is.EqualTo(Hex16(section.GetProperty("float16"))));
    }

    [Test]
    public void Widening16Bit_IsExact_AsTorch()
    {
        var section = Fixture("conversions.json").GetProperty("widen");
        var patterns = Hex16(section.GetProperty("bits"));
        using var h = Tensor.From<Half>(patterns.Select(BitConverter.UInt16BitsToHalf).ToArray(), new Shape(patterns.Length), DType.Float16);
        using var b = Tensor.From<BFloat16>(patterns.Select(BFloat16.FromBits).ToArray(), new Shape(patterns.Length), DType.BFloat16);
        Assert.That(h.ToArray().Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(Hex32(section.GetProperty("float16"))));
        Assert.That(b.ToArray().Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(Hex32(section.GetProperty("bfloat16"))));
        using var hf = h.To(DType.Float32);
        Assert.That(hf.ToArray().Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(Hex32(section.GetProperty("float16"))));
        // widening then narrowing gives the pattern back (NaNs aside)
        foreach (var p in patterns)
        {
            var f = (float)BFloat16.FromBits(p);
            if (!float.IsNaN(f)) Assert.That(((BFloat16)f).Bits, Is.EqualTo(p));
        }
    }

    [Test]
    public void BFloat16_Struct()
    {
        Assert.That(((BFloat16)1.0f).Bits, Is.EqualTo(0x3F80));
        Assert.That((float)(BFloat16)(-2.5f), Is.EqualTo(-2.5f));
        Assert.That(((BFloat16)float.MaxValue).Bits, Is.EqualTo(BFloat16.PositiveInfinity.Bits), "overflow rounds to infinity");
        Assert.That(BFloat16.IsNaN((BFloat16)float.NaN));
        Assert.That(((BFloat16)BitConverter.UInt32BitsToSingle(0xFFA00001)).Bits, Is.EqualTo(0xFFE0), "a NaN keeps its sign and upper payload, made quiet");
        Assert.That(BFloat16.IsInfinity(BFloat16.NegativeInfinity) && !BFloat16.IsFinite(BFloat16.NaN) && BFloat16.IsFinite(BFloat16.MaxValue));
        Assert.That(BFloat16.NaN == BFloat16.NaN, Is.False);
        Assert.That(BFloat16.NaN.Equals(BFloat16.NaN), Is.True);
        Assert.That(BFloat16.Zero == BFloat16.FromBits(0x8000), Is.True);
        Assert.That(BFloat16.One > BFloat16.Zero && BFloat16.MinValue < BFloat16.Zero);
        Assert.That(((BFloat16)0.15625).ToString(), Is.EqualTo("0.15625"));
    }

    [Test]
    public void To_DType_IsAConvertedCopy()
    {
        using var f = Tensor.From([1.25f, -2.75f, 3.5f, 0f], 2, 2);
        using var same = f.To(DType.Float32);
        Assert.That(same, Is.Not.SameAs(f));
        same.AsSpan<float>()[0] = 9;
        Assert.That(f.ToArray()[0], Is.EqualTo(1.25f));
        using var i = f.To(DType.Int64);
        Assert.That(i.Shape, Is.EqualTo(f.Shape));
        Assert.That(i.ToArray<long>(), Is.EqualTo(new long[] { 1, -2, 3, 0 }));
        using var back = i.To(DType.Float64);
        Assert.That(back.ToDoubleArray(), Is.EqualTo(new[] { 1.0, -2, 3, 0 }));
        using var b = f.To(DType.Bool);
        Assert.That(b.ToArray<bool>(), Is.EqualTo(new[] { true, true, true, false }));
        using var target = Tensor.Zeros(new Shape(4), DType.Float16);
        target.CopyFrom(i);
        Assert.That(target.ToArray(), Is.EqualTo(new[] { 1f, -2f, 3f, 0f }));
    }

    [Test]
    public void WrongElementAccess_NamesTheDType()
    {
        using var t = Tensor.Zeros(new Shape(3), DType.Int32);
        var ex = Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
        Assert.That(ex!.Message, Does.Contain("Int32").And.Contain("Single").And.Contain("To(DType)"));
        var nse = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.Scale(t, 2));
        Assert.That(nse!.Message, Does.Contain("Scale").And.Contain("Int32"));
        using var h = Tensor.Zeros(new Shape(2, 2), DType.Float16);
        using var f = Tensor.Zeros(new Shape(2, 2));
        nse = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.MatMul(h, false, f, false, f));
        Assert.That(nse!.Message, Does.Contain("MatMul").And.Contain("Float16"));
        ModelGen.Ops.Fill(t, 7.9);
        Assert.That(t.ToArray<int>(), Is.EqualTo(new[] { 7, 7, 7 }), "Fill works for every dtype on the CPU (converted)");
    }

    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    [TestCase(DType.Bool)]
    [TestCase(DType.Float16)]
    [TestCase(DType.BFloat16)]
    public void Model_OfAStorageDType_IsRefused(DType dtype)
    {
        var ex = Assert.Throws<ArgumentException>(() => new OracleTanhSigmoid(Device.Cpu, 0, dtype));
        Assert.That(ex!.Message, Does.Contain(dtype.ToString()).And.Contain("Float32 or Float64"));
        Assert.That(ex.ParamName, Is.EqualTo("dtype"));
    }

    [Test]
    public void IlgpuDevice_StoresAndCopiesEveryStorageDType()
    {
        var gpu = Device.Parse("ilgpu-cpu");
        using (var i = Tensor.From<int>([1, -2, 3], new Shape(3), DType.Int32, gpu))
        {
            Assert.That(i.Device, Is.SameAs(gpu));
            Assert.That(i.ToArray<int>(), Is.EqualTo(new[] { 1, -2, 3 }));
            Assert.That(i.ToArray(), Is.EqualTo(new[] { 1f, -2f, 3f }));
            using var host = i.To(Device.Cpu);
            Assert.That(host.AsSpan<int>().ToArray(), Is.EqualTo(new[] { 1, -2, 3 }));
            using var back = host.To(gpu);
            Assert.That(back.ToArray<int>(), Is.EqualTo(new[] { 1, -2, 3 }));
            using var f = i.To(DType.Float32);
            Assert.That(f.Device, Is.SameAs(gpu));
            Assert.That(f.ToArray(), Is.EqualTo(new[] { 1f, -2f, 3f }));
            var ex = Assert.Throws<NotSupportedException>(() => _ = i.GpuView);
            Assert.That(ex!.Message, Does.Contain("Int32").And.Contain("Float32"));
            using var onGpu = Tensor.Zeros(new Shape(3), DType.Int64, gpu);
            onGpu.CopyFrom(i);
            Assert.That(onGpu.ToArray<long>(), Is.EqualTo(new long[] { 1, -2, 3 }));
        }
        long big = (1L << 53) + 1;
        using (var l = Tensor.From<long>([big, -1], new Shape(2), DType.Int64, gpu))
            Assert.That(l.ToArray<long>(), Is.EqualTo(new[] { big, -1 }));
        using (var b = Tensor.From<bool>([true, false, true], new Shape(3), DType.Bool, gpu))
            Assert.That(b.ToArray<bool>(), Is.EqualTo(new[] { true, false, true }));
        using (var h = Tensor.From<float>([0.1f, 65520f, -1.5f], new Shape(3), DType.Float16, gpu))
            Assert.That(h.ToArray(), Is.EqualTo(new[] { (float)(Half)0.1f, float.PositiveInfinity, -1.5f }));
        using (var bf = Tensor.From<float>([0.1f, -1.5f], new Shape(2), DType.BFloat16, gpu))
        {
            Assert.That(bf.ToArray<BFloat16>().Select(v => v.Bits), Is.EqualTo(new ushort[] { 0x3DCD, 0xBFC0 }));
            Assert.That(bf.Item<float>, Throws.InvalidOperationException);
        }
        using (var f = Tensor.From<float>([1f, 2f], new Shape(2), DType.Float32, gpu))
        {
            Assert.That(f.ToArray<int>(), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(f.ToDoubleArray(), Is.EqualTo(new[] { 1.0, 2.0 }));
        }
        var f64 = Assert.Throws<NotSupportedException>(() => Tensor.Zeros(new Shape(2), DType.Float64, gpu));
        Assert.That(f64!.Message, Does.Contain("Float64"));
    }
}
