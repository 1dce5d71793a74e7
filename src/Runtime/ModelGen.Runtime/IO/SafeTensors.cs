using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace ModelGen.IO;

/// <summary>A safetensors file that breaks the format. The message starts with the file's path and names the problem.</summary>
public sealed class SafeTensorsFormatException : FormatException
{
    public SafeTensorsFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The path of the offending file, as it was given.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the path.</summary>
    public string Problem { get; }
}

/// <summary>One tensor entry of a safetensors header.</summary>
public sealed class SafeTensorInfo
{
    public SafeTensorInfo(string name, string dtype, int[] shape, long offset, long byteLength)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Offset = offset;
        ByteLength = byteLength;
    }

    public string Name { get; }

    /// <summary>The safetensors dtype name: BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64 or U64.</summary>
    public string DType { get; }

    public int[] Shape { get; }

    /// <summary>Start of the tensor's bytes, relative to the start of the data buffer (the first data_offsets value).</summary>
    public long Offset { get; }

    public long ByteLength { get; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    public override string ToString() => $"{Name}: {DType} {ModelGen.Shape.Format(Shape)} @ [{Offset}, {Offset + ByteLength}]";
}

/// <summary>Reads a HuggingFace safetensors file through a read-only memory map. The whole header is validated by
/// <see cref="Open"/>; reads convert any supported dtype to float or double, or read tensors in their own dtype
/// (<see cref="ReadTensor"/>).</summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the limit the reference implementation uses).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long dataStart,
        long dataLength, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        _path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors) _byName[t.Name] = t;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path => _path;

    /// <summary>The <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, in the order of the header.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Offset of the data buffer from the start of the file (8 + header length).</summary>
    public long DataStart => _dataStart;

    /// <summary>Size of the data buffer in bytes.</summary>
    public long DataLength { get; }

    /// <summary>Opens and validates a safetensors file. Throws <see cref="SafeTensorsFormatException"/> when it breaks the format.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            long fileLength = stream.Length;
            if (fileLength < 8)
                throw Fail(path, $"file is too short ({fileLength} bytes): a safetensors file starts with an 8-byte header length (truncated?)");

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            p += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p, 8));
            if (headerLength > MaxHeaderBytes)
                throw Fail(path, $"header length {headerLength} exceeds the 100 MB limit (corrupt file or not safetensors)");
            if ((long)headerLength > fileLength - 8)
                throw Fail(path, $"header length {headerLength} runs past the end of the file (only {fileLength - 8} bytes follow the 8-byte prefix; truncated?)");

            long dataStart = 8 + (long)headerLength;
            long dataLength = fileLength - dataStart;
            var (tensors, metadata) = ParseHeader(new ReadOnlySpan<byte>(p + 8, (int)headerLength), path);
            ValidateLayout(tensors, dataLength, path);
            return new SafeTensorsFile(path, map, view, p, dataStart, dataLength, tensors, metadata);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of a tensor; throws <see cref="KeyNotFoundException"/> naming the file when absent.</summary>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var info)) return info;
        throw new KeyNotFoundException($"{_path}: no tensor named '{name}' (the file holds {Tensors.Count} tensors).");
    }

    /// <summary>Reads a tensor, converting its elements to float. <paramref name="dest"/> must hold exactly its elements.</summary>
    public void ReadInto(string name, Span<float> dest) => ReadConverted(GetInfo(name), dest);

    /// <summary>Reads a tensor, converting its elements to double. <paramref name="dest"/> must hold exactly its elements.</summary>
    public void ReadInto(string name, Span<double> dest) => ReadConverted(GetInfo(name), dest);

    public float[] ReadFloats(string name)
    {
        var info = GetInfo(name);
        var result = new float[CheckedCount(info)];
        ReadConverted(info, result.AsSpan());
        return result;
    }

    public double[] ReadDoubles(string name)
    {
        var info = GetInfo(name);
        var result = new double[CheckedCount(info)];
        ReadConverted(info, result.AsSpan());
        return result;
    }

    /// <summary>Reads a tensor into a new CPU tensor of its shape. Without <paramref name="dtype"/>, the tensor keeps the
    /// file's dtype where ModelGen has it (F32, F64, I32, I64, BOOL, F16, BF16 become Float32, Float64, Int32, Int64,
    /// Bool, Float16, BFloat16 tensors); the other integer dtypes (U8, I8, I16, U16, U32, U64) become Float32. With
    /// <paramref name="dtype"/>, the elements are converted as <see cref="Tensor.To(ModelGen.DType)"/> converts (a BF16
    /// checkpoint read as Float32, say).</summary>
    public Tensor ReadTensor(string name, DType? dtype = null)
    {
        var info = GetInfo(name);
        CheckedCount(info);
        var type = dtype ?? (DTypeExtensions.TryParseSafeTensorsName(info.DType, out var own) ? own : ModelGen.DType.Float32);
        var tensor = Tensor.Zeros(new Shape(info.Shape), type, Device.Cpu);
        try
        {
            ReadIntoCpu(info, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    /// <summary>Reads a tensor into an existing tensor of any dtype and device with the same number of elements,
    /// converting as <see cref="Tensor.To(ModelGen.DType)"/> converts (an F16 weight into a Float32 parameter, say).</summary>
    public void ReadInto(string name, Tensor dest)
    {
        ArgumentNullException.ThrowIfNull(dest);
        var info = GetInfo(name);
        CheckedCount(info);
        if (info.ElementCount != dest.Count)
            throw new ArgumentException(
                $"{_path}: tensor '{info.Name}' ({info.DType} {ModelGen.Shape.Format(info.Shape)}) has {info.ElementCount} elements but the destination {dest.Shape} holds {dest.Count}.",
                nameof(dest));
        if (dest.Device.IsCpu)
        {
            ReadIntoCpu(info, dest);
            return;
        }
        using var host = Tensor.Zeros(dest.Shape, dest.DType, Device.Cpu);
        ReadIntoCpu(info, host);
        dest.CopyFrom(host);
    }

    private void ReadIntoCpu(SafeTensorInfo info, Tensor dest)
    {
        if (_base == null) throw new ObjectDisposedException(nameof(SafeTensorsFile), $"{_path} has been closed.");
        bool known = DTypeExtensions.TryParseSafeTensorsName(info.DType, out var fileType);
        if (known && fileType == dest.DType)
        {
            // the same representation: copy the bytes (in host order), and make BOOL bytes 0 or 1
            long bytes = info.ByteLength;
            if (bytes == 0) return;
            byte* src = _base + _dataStart + info.Offset;
            byte* d = (byte*)dest.Data;
            Buffer.MemoryCopy(src, d, bytes, bytes);
            int size = fileType.Size();
            if (fileType == ModelGen.DType.Bool)
                for (long i = 0; i < bytes; i++) d[i] = d[i] != 0 ? (byte)1 : (byte)0;
            else if (!BitConverter.IsLittleEndian)
                for (long i = 0; i < bytes; i += size) new Span<byte>(d + i, size).Reverse();
            return;
        }
        switch (dest.DType)
        {
            case ModelGen.DType.Float32: ReadConverted(info, dest.AsSpan<float>()); return;
            case ModelGen.DType.Float64: ReadConverted(info, dest.AsSpan<double>()); return;
            case ModelGen.DType.Int32: ReadConverted(info, dest.AsSpan<int>()); return;
            case ModelGen.DType.Int64: ReadConverted(info, dest.AsSpan<long>()); return;
        }
        // Bool, Float16, BFloat16 from another dtype: through float (exact for F32, F16, BF16) or double (the others)
        if (known && fileType is ModelGen.DType.Float32 or ModelGen.DType.Float16 or ModelGen.DType.BFloat16)
        {
            var values = new float[dest.Count];
            ReadConverted(info, values.AsSpan());
            dest.CopyFrom<float>(values);
        }
        else
        {
            var values = new double[dest.Count];
            ReadConverted(info, values.AsSpan());
            dest.CopyFrom<double>(values);
        }
    }

    private int CheckedCount(SafeTensorInfo info)
    {
        long n = info.ElementCount;
        if (n > Array.MaxLength)
            throw new NotSupportedException($"{_path}: tensor '{info.Name}' has {n} elements, more than one array can hold.");
        return (int)n;
    }

    private void ReadConverted<T>(SafeTensorInfo info, Span<T> dest) where T : unmanaged, INumberBase<T>
    {
        if (_base == null) throw new ObjectDisposedException(nameof(SafeTensorsFile), $"{_path} has been closed.");
        long count = info.ElementCount;
        if (dest.Length != count)
            throw new ArgumentException(
                $"{_path}: tensor '{info.Name}' ({info.DType} {ModelGen.Shape.Format(info.Shape)}) has {count} elements but the destination holds {dest.Length}.",
                nameof(dest));
        if (count == 0) return;
        byte* src = _base + _dataStart + info.Offset;
        switch (info.DType)
        {
            case "F32": Convert<F32, T>(src, dest); break;
            case "F64": Convert<F64, T>(src, dest); break;
            case "F16": Convert<F16, T>(src, dest); break;
            case "BF16": Convert<BF16, T>(src, dest); break;
            case "BOOL": Convert<Bool, T>(src, dest); break;
            case "U8": Convert<U8, T>(src, dest); break;
            case "I8": Convert<I8, T>(src, dest); break;
            case "I16": Convert<I16, T>(src, dest); break;
            case "U16": Convert<U16, T>(src, dest); break;
            case "I32": Convert<I32, T>(src, dest); break;
            case "U32": Convert<U32, T>(src, dest); break;
            case "I64": Convert<I64, T>(src, dest); break;
            case "U64": Convert<U64, T>(src, dest); break;
            default: throw new InvalidOperationException($"{_path}: unsupported dtype '{info.DType}'.");
        }
    }

    private static void Convert<TElem, TDest>(byte* src, Span<TDest> dest)
        where TElem : struct, IElement where TDest : unmanaged, INumberBase<TDest>
    {
        int size = TElem.Size;
        // Same representation on a little-endian machine: a plain copy.
        if (BitConverter.IsLittleEndian && TElem.IsSame<TDest>())
        {
            fixed (TDest* d = dest)
            {
                long bytes = (long)dest.Length * size;
                Buffer.MemoryCopy(src, d, bytes, bytes);
            }
            return;
        }
        // Element-wise in chunks, so no span over the mapped bytes exceeds 2^31 bytes.
        int chunk = (1 << 28) / size;
        for (int start = 0; start < dest.Length; start += chunk)
        {
            int n = Math.Min(chunk, dest.Length - start);
            var s = new ReadOnlySpan<byte>(src + (long)start * size, n * size);
            var d = dest.Slice(start, n);
            for (int i = 0; i < d.Length; i++) d[i] = TElem.Read<TDest>(s.Slice(i * size, size));
        }
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    public override string ToString() => $"{_path} ({Tensors.Count} tensors, {DataLength} data bytes)";

    // ---- header parsing and validation ----

    private static SafeTensorsFormatException Fail(string path, string problem, Exception? inner = null) => new(path, problem, inner);

    internal static (List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(ReadOnlySpan<byte> header, string path)
    {
        if (header.Length == 0) throw Fail(path, "header is empty (length 0); it must be a JSON object");
        if (!Utf8.IsValid(header)) throw Fail(path, "header is not valid UTF-8");
        if (header[0] != (byte)'{')
        {
            int i = 0;
            while (i < header.Length && header[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
            throw i < header.Length && header[i] == (byte)'{'
                ? Fail(path, "header must start with '{' (found leading whitespace)")
                : Fail(path, $"header is not a JSON object (it starts with '{(i < header.Length ? (char)header[i] : ' ')}')");
        }

        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            Next(ref reader, path);
            if (reader.TokenType != JsonTokenType.StartObject) throw Fail(path, "header is not a JSON object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            while (true)
            {
                Next(ref reader, path);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string name = reader.GetString()!;
                Next(ref reader, path);
                if (name == "__metadata__")
                {
                    if (sawMetadata) throw Fail(path, "duplicate '__metadata__' entry in the header");
                    sawMetadata = true;
                    ParseMetadata(ref reader, path, metadata);
                    continue;
                }
                if (!names.Add(name)) throw Fail(path, $"duplicate tensor name '{name}' in the header");
                tensors.Add(ParseTensor(ref reader, path, name));
            }
            // Only (space) padding may follow the object; anything else makes Read throw.
            if (reader.Read()) throw Fail(path, "unexpected data after the header's JSON object");
        }
        catch (JsonException ex)
        {
            throw Fail(path, $"header is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw Fail(path, $"header is not valid JSON: {ex.Message}", ex);
        }
        return (tensors, metadata);
    }

    private static void Next(ref Utf8JsonReader reader, string path)
    {
        if (!reader.Read()) throw Fail(path, "header is not valid JSON: it ends before the object is closed");
    }

    private static void ParseMetadata(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(path, $"'__metadata__' must be an object of strings, not {Describe(reader.TokenType)}");
        while (true)
        {
            Next(ref reader, path);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = reader.GetString()!;
            Next(ref reader, path);
            if (reader.TokenType != JsonTokenType.String)
                throw Fail(path, $"'__metadata__' value for '{key}' must be a string, not {Describe(reader.TokenType)}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Fail(path, $"duplicate key '{key}' in '__metadata__'");
        }
    }

    private static SafeTensorInfo ParseTensor(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(path, $"entry '{name}' must be an object with dtype, shape and data_offsets, not {Describe(reader.TokenType)}");
        string? dtype = null;
        List<long>? shape = null;
        List<long>? offsets = null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            Next(ref reader, path);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string key = reader.GetString()!;
            if (!keys.Add(key)) throw Fail(path, $"tensor '{name}' has a duplicate key '{key}'");
            Next(ref reader, path);
            switch (key)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String)
                        throw Fail(path, $"tensor '{name}' dtype must be a string, not {Describe(reader.TokenType)}");
                    dtype = reader.GetString()!;
                    break;
                case "shape":
                    shape = ReadIntegers(ref reader, path, name, key);
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, path, name, key);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (dtype is null) throw Fail(path, $"tensor '{name}' is missing 'dtype'");
        if (shape is null) throw Fail(path, $"tensor '{name}' is missing 'shape'");
        if (offsets is null) throw Fail(path, $"tensor '{name}' is missing 'data_offsets'");
        int elementSize = SafeTensorsDTypes.SizeOf(dtype);
        if (elementSize == 0)
            throw Fail(path, $"tensor '{name}' has unknown dtype '{dtype}' (known: {string.Join(", ", SafeTensorsDTypes.Names)})");

        var dims = new int[shape.Count];
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = shape[i];
            if (d < 0) throw Fail(path, $"tensor '{name}' has a negative dimension {d} in shape {FormatLongs(shape)}");
            if (d > int.MaxValue) throw Fail(path, $"tensor '{name}' has a dimension {d} that is too large in shape {FormatLongs(shape)}");
            dims[i] = (int)d;
            if (!overflow)
            {
                try { elements = checked(elements * d); }
                catch (OverflowException) { overflow = true; }
            }
        }
        if (elements == 0) overflow = false; // a zero dimension wins over any overflow
        long needed = 0;
        if (!overflow)
        {
            try { needed = checked(elements * elementSize); }
            catch (OverflowException) { overflow = true; }
        }
        if (overflow) throw Fail(path, $"tensor '{name}' shape {FormatLongs(shape)} is too large (its byte count overflows)");

        if (offsets.Count != 2)
            throw Fail(path, $"tensor '{name}' data_offsets must be [begin, end], not {offsets.Count} values {FormatLongs(offsets)}");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < 0) throw Fail(path, $"tensor '{name}' has negative data_offsets [{begin}, {end}]");
        if (end < begin) throw Fail(path, $"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin");
        if (end - begin != needed)
            throw Fail(path, $"tensor '{name}' has data_offsets [{begin}, {end}] but {dtype} {Shape.Format(dims)} needs {needed} bytes");
        return new SafeTensorInfo(name, dtype, dims, begin, needed);
    }

    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string path, string name, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(path, $"tensor '{name}' {key} must be an array of integers, not {Describe(reader.TokenType)}");
        var values = new List<long>();
        while (true)
        {
            Next(ref reader, path);
            if (reader.TokenType == JsonTokenType.EndArray) return values;
            if (reader.TokenType != JsonTokenType.Number)
                throw Fail(path, $"tensor '{name}' {key} must be an array of integers, but holds {Describe(reader.TokenType)}");
            if (!reader.TryGetInt64(out long v))
            {
                var text = System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray());
                throw Fail(path, $"tensor '{name}' {key} holds {text}, which is not an integer or is too large");
            }
            values.Add(v);
        }
    }

    internal static void ValidateLayout(List<SafeTensorInfo> tensors, long dataLength, string path)
    {
        var sorted = tensors.ToArray();
        Array.Sort(sorted, static (a, b) =>
        {
            int c = a.Offset.CompareTo(b.Offset);
            return c != 0 ? c : a.ByteLength.CompareTo(b.ByteLength);
        });
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in sorted)
        {
            if (t.Offset < covered)
                throw Fail(path, $"tensors '{previous!.Name}' [{previous.Offset}, {previous.Offset + previous.ByteLength}] and '{t.Name}' [{t.Offset}, {t.Offset + t.ByteLength}] overlap");
            if (t.Offset > covered)
                throw Fail(path, previous is null
                    ? $"hole in the data buffer: bytes [0, {t.Offset}) before '{t.Name}' belong to no tensor"
                    : $"hole in the data buffer: bytes [{covered}, {t.Offset}) between '{previous.Name}' and '{t.Name}' belong to no tensor");
            covered = t.Offset + t.ByteLength;
            previous = t;
        }
        if (covered > dataLength)
            throw Fail(path, $"file is truncated: the tensors need {covered} data bytes but the data buffer holds only {dataLength}");
        if (covered < dataLength)
            throw Fail(path, $"the tensors cover only {covered} of the {dataLength} data bytes; the remaining {dataLength - covered} bytes are unused (trailing data)");
    }

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    private static string FormatLongs(List<long> values) => "[" + string.Join(", ", values) + "]";

    // ---- element readers (little-endian) ----

    private interface IElement
    {
        static abstract int Size { get; }
        static abstract T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T>;
        static virtual bool IsSame<T>() => false;
    }

    private readonly struct F32 : IElement
    {
        public static int Size => 4;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(s));
        public static bool IsSame<T>() => typeof(T) == typeof(float);
    }

    private readonly struct F64 : IElement
    {
        public static int Size => 8;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(s));
        public static bool IsSame<T>() => typeof(T) == typeof(double);
    }

    private readonly struct F16 : IElement
    {
        public static int Size => 2;
        public static bool IsSame<T>() => typeof(T) == typeof(System.Half);
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating((float)BinaryPrimitives.ReadHalfLittleEndian(s));
    }

    private readonly struct BF16 : IElement
    {
        public static int Size => 2;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> =>
            T.CreateTruncating(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s) << 16));
    }

    private readonly struct Bool : IElement
    {
        public static int Size => 1;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => s[0] != 0 ? T.One : T.Zero;
    }

    private readonly struct U8 : IElement
    {
        public static int Size => 1;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(s[0]);
    }

    private readonly struct I8 : IElement
    {
        public static int Size => 1;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating((sbyte)s[0]);
    }

    private readonly struct I16 : IElement
    {
        public static int Size => 2;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadInt16LittleEndian(s));
    }

    private readonly struct U16 : IElement
    {
        public static int Size => 2;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadUInt16LittleEndian(s));
    }

    private readonly struct I32 : IElement
    {
        public static int Size => 4;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadInt32LittleEndian(s));
        public static bool IsSame<T>() => typeof(T) == typeof(int);
    }

    private readonly struct U32 : IElement
    {
        public static int Size => 4;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadUInt32LittleEndian(s));
    }

    private readonly struct I64 : IElement
    {
        public static int Size => 8;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadInt64LittleEndian(s));
        public static bool IsSame<T>() => typeof(T) == typeof(long);
    }

    private readonly struct U64 : IElement
    {
        public static int Size => 8;
        public static T Read<T>(ReadOnlySpan<byte> s) where T : INumberBase<T> => T.CreateTruncating(BinaryPrimitives.ReadUInt64LittleEndian(s));
    }
}

/// <summary>The safetensors dtype names and their element sizes.</summary>
internal static class SafeTensorsDTypes
{
    public static readonly string[] Names = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"];

    /// <summary>Bytes per element, or 0 for an unknown name.</summary>
    public static int SizeOf(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "F64" or "I64" or "U64" => 8,
        _ => 0,
    };
}

/// <summary>Writes safetensors files: each tensor in its own <see cref="DType"/> (F32, F64, I32, I64, BOOL, F16 or BF16),
/// from any device.</summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes the tensors, in the given order, to <paramref name="path"/> atomically: a reader never sees a
    /// half-written file, and on failure any previous file at the path is left as it was.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata));
    }

    /// <summary>Writes the tensors in safetensors format to a stream (not atomic; see the path overload).</summary>
    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<(string Name, Tensor Tensor)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(tensor);
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(tensors));
            list.Add((name, tensor));
        }

        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                long bytes = (long)tensor.Count * tensor.DType.Size();
                json.WriteStartObject(name);
                json.WriteString("dtype", tensor.DType.SafeTensorsName());
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape.Dims) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }

        int padded = (header.WrittenCount + 7) / 8 * 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(header.WrittenSpan);
        for (int i = header.WrittenCount; i < padded; i++) stream.WriteByte((byte)' ');

        foreach (var (_, tensor) in list)
        {
            if (tensor.Device.IsCpu)
            {
                WriteLittleEndian(stream, tensor);
                continue;
            }
            using var host = tensor.To(Device.Cpu);
            WriteLittleEndian(stream, host);
        }
    }

    private static unsafe void WriteLittleEndian(Stream stream, Tensor tensor)
    {
        int size = tensor.DType.Size();
        long bytes = (long)tensor.Count * size;
        if (bytes == 0) return;
        byte* data = (byte*)tensor.Data;
        // Chunked so no byte span exceeds 2^31 bytes.
        const int chunk = 1 << 28; // a multiple of every element size
        if (BitConverter.IsLittleEndian || size == 1)
        {
            for (long start = 0; start < bytes; start += chunk)
                stream.Write(new ReadOnlySpan<byte>(data + start, (int)Math.Min(chunk, bytes - start)));
            return;
        }
        Span<byte> buf = stackalloc byte[8];
        for (long i = 0; i < bytes; i += size)
        {
            new ReadOnlySpan<byte>(data + i, size).CopyTo(buf);
            buf[..size].Reverse();
            stream.Write(buf[..size]);
        }
    }
}

/// <summary>Replaces a file atomically: the content goes to a temporary file in the same folder, is flushed to disk,
/// and is then renamed over the target. Readers see either the old file or the complete new one.</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>. When <paramref name="write"/> (or the
    /// flush or rename) throws, the temporary file is deleted and any previous file at the path is left untouched.
    /// The folder is created when missing.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = full + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var fault = FaultInjectingStream.For(full);
                write(fault is null ? file : new FaultInjectingStream(file, fault.Value.After, fault.Value.Pause));
                file.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Test-only fault injection, so that crash tests are deterministic: MODELGEN_TEST_WRITE_FAULT =
    /// "fail-after:N[:name[:K]]" throws an IOException once N bytes of a file (whose name contains "name") are written;
    /// "pause-after:N[:name[:K]]" blocks the writer there (a test then kills the process). With K, only the K-th such
    /// file the process writes (1, 2, ...) is affected, e.g. the third checkpoint's model. Unset in normal use.
    /// </summary>
    private sealed class FaultInjectingStream(Stream inner, long after, bool pause) : Stream
    {
        private static int _matching;
        private long _written;

        public static (long After, bool Pause)? For(string path)
        {
            var spec = Environment.GetEnvironmentVariable("MODELGEN_TEST_WRITE_FAULT");
            if (string.IsNullOrEmpty(spec)) return null;
            var parts = spec.Split(':');
            if (parts.Length < 2 || !long.TryParse(parts[1], out var n)) return null;
            if (parts.Length > 2 && !System.IO.Path.GetFileName(path).Contains(parts[2], StringComparison.Ordinal)) return null;
            if (parts.Length > 3 && int.TryParse(parts[3], out var k) && Interlocked.Increment(ref _matching) != k) return null;
            return (n, parts[0] == "pause-after");
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > after)
            {
                int allowed = (int)Math.Max(0, after - _written);
                inner.Write(buffer[..allowed]);
                inner.Flush();
                _written += allowed;
                if (pause)
                {
                    Console.Error.WriteLine($"MODELGEN_TEST_WRITE_FAULT: writer paused after {_written} bytes");
                    Thread.Sleep(Timeout.Infinite);
                }
                throw new IOException($"Injected write fault after {_written} bytes (MODELGEN_TEST_WRITE_FAULT).");
            }
            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { } // the file stream is owned by AtomicFile.Write
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }
}
