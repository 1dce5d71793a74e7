using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace ModelGen.Transformers.Onnx;

/// <summary>
/// An ONNX model read with Google.Protobuf (the classes generated from onnx.proto beside this file), indexed for
/// following the graph: initializers and Constant outputs by name, the node producing each value and the nodes
/// consuming it. Reads float tensors from raw_data, float_data or external data files.
/// </summary>
internal sealed class OnnxModel
{
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);

    private OnnxModel(string path, ModelProto model)
    {
        Path = path;
        Model = model;
        foreach (var t in Graph.Initializer) _initializers[t.Name] = t;
        foreach (var node in Graph.Node)
        {
            foreach (var output in node.Output)
                if (output.Length > 0) _producer[output] = node;
            foreach (var input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                list.Add(node);
            }
        }
    }

    public string Path { get; }
    public ModelProto Model { get; }
    public GraphProto Graph => Model.Graph;
    public IEnumerable<TensorProto> Initializers => Graph.Initializer;

    /// <summary>Parses an .onnx file. Throws <see cref="InvalidDataException"/> naming the file when it is not ONNX.</summary>
    public static OnnxModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ModelProto model;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{path}: not an ONNX model ({ex.Message}).", ex);
        }
        if (model.Graph is null || (model.Graph.Node.Count == 0 && model.Graph.Initializer.Count == 0))
            throw new InvalidDataException($"{path}: not an ONNX model (no graph).");
        return new OnnxModel(path, model);
    }

    public bool TryGetInitializer(string name, out TensorProto tensor) => _initializers.TryGetValue(name, out tensor!);

    public TensorProto GetInitializer(string name)
        => _initializers.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: no initializer named '{name}'.");

    /// <summary>The constant value of <paramref name="name"/>: an initializer or the output of a Constant node.</summary>
    public bool TryGetConstant(string name, out TensorProto tensor)
    {
        if (_initializers.TryGetValue(name, out tensor!)) return true;
        if (_producer.TryGetValue(name, out var node) && node.OpType == "Constant")
        {
            var value = node.Attribute.FirstOrDefault(a => a.Name == "value");
            if (value?.T is { } t)
            {
                tensor = t;
                return true;
            }
        }
        tensor = null!;
        return false;
    }

    public NodeProto? Producer(string value) => _producer.GetValueOrDefault(value);

    public IReadOnlyList<NodeProto> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : [];

    public static int[] Dims(TensorProto t) => t.Dims.Select(d => checked((int)d)).ToArray();

    public static long Attribute(NodeProto node, string name, long defaultValue)
        => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : defaultValue;

    /// <summary>A FLOAT, DOUBLE or FLOAT16 tensor's elements as float.</summary>
    public float[] ReadFloats(TensorProto t)
    {
        long count = 1;
        foreach (var d in t.Dims) count *= d;
        var type = (TensorProto.Types.DataType)t.DataType;
        if (type == TensorProto.Types.DataType.Float && t.FloatData.Count > 0) return CheckCount(t, [.. t.FloatData], count);
        if (type == TensorProto.Types.DataType.Double && t.DoubleData.Count > 0) return CheckCount(t, t.DoubleData.Select(v => (float)v).ToArray(), count);
        var raw = RawBytes(t);
        int size = type switch
        {
            TensorProto.Types.DataType.Float => 4,
            TensorProto.Types.DataType.Double => 8,
            TensorProto.Types.DataType.Float16 => 2,
            _ => throw new InvalidDataException($"{Path}: tensor '{t.Name}' has data type {type}; a float tensor was expected."),
        };
        if (raw.Length != count * size)
            throw new InvalidDataException($"{Path}: tensor '{t.Name}' holds {raw.Length} bytes; its shape [{string.Join(", ", t.Dims)}] of {type} needs {count * size}.");
        var result = new float[count];
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                else for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4));
                break;
            case TensorProto.Types.DataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(i * 8));
                break;
            default:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(i * 2));
                break;
        }
        return result;
    }

    /// <summary>An INT64 or INT32 tensor's elements.</summary>
    public long[] ReadInt64s(TensorProto t)
    {
        var type = (TensorProto.Types.DataType)t.DataType;
        if (type == TensorProto.Types.DataType.Int64 && t.Int64Data.Count > 0) return [.. t.Int64Data];
        if (type == TensorProto.Types.DataType.Int32 && t.Int32Data.Count > 0) return t.Int32Data.Select(v => (long)v).ToArray();
        int size = type switch
        {
            TensorProto.Types.DataType.Int64 => 8,
            TensorProto.Types.DataType.Int32 => 4,
            _ => throw new InvalidDataException($"{Path}: tensor '{t.Name}' has data type {type}; an integer tensor was expected."),
        };
        var raw = RawBytes(t);
        var result = new long[raw.Length / size];
        for (int i = 0; i < result.Length; i++)
            result[i] = size == 8 ? BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8)) : BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4));
        return result;
    }

    private float[] CheckCount(TensorProto t, float[] values, long count)
        => values.Length == count ? values
            : throw new InvalidDataException($"{Path}: tensor '{t.Name}' holds {values.Length} values; its shape [{string.Join(", ", t.Dims)}] needs {count}.");

    /// <summary>raw_data, or the bytes of an external data file (location, offset, length relative to the model's folder).</summary>
    private ReadOnlySpan<byte> RawBytes(TensorProto t)
    {
        if (t.DataLocation != TensorProto.Types.DataLocation.External) return t.RawData.Span;
        var entries = t.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (!entries.TryGetValue("location", out var location) || location.Length == 0)
            throw new InvalidDataException($"{Path}: tensor '{t.Name}' is stored externally but names no location.");
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)) ?? ".";
        var file = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, location));
        if (!file.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{Path}: tensor '{t.Name}' names external data '{location}' outside the model's folder.");
        long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o, System.Globalization.CultureInfo.InvariantCulture) : 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = entries.TryGetValue("length", out var l) ? long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : stream.Length - offset;
        if (offset < 0 || length < 0 || offset + length > stream.Length || length > Array.MaxLength)
            throw new InvalidDataException($"{Path}: tensor '{t.Name}' names bytes [{offset}, {offset + length}) of '{location}', which holds {stream.Length}.");
        var bytes = new byte[length];
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }
}
