using System.Text;

namespace ModelGen;

/// <summary>An immutable tensor shape (row-major, contiguous).</summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"Shape {Format(dims)} has a negative dimension.");
        }
        _dims = (int[])dims.Clone();
        long n = 1;
        foreach (var d in dims) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Format(dims)} has more than 2^31 elements.");
        Count = (int)n;
    }

    public static Shape Scalar { get; } = new();

    public int Rank => _dims.Length;
    public int Count { get; }
    public int this[int axis] => _dims[axis < 0 ? _dims.Length + axis : axis];
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>Product of all dimensions but the last (the rows a GEMM or a row-wise op sees).</summary>
    public int Rows => Rank == 0 ? 1 : _dims[^1] == 0 ? 0 : Count / _dims[^1];
    public int Last => Rank == 0 ? 1 : _dims[^1];

    /// <summary>Resolves a reshape target with at most one −1 against the element count of <paramref name="from"/>.</summary>
    public static Shape Resolve(Shape from, ReadOnlySpan<int> dims)
    {
        var d = dims.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape {Format(dims)}: only one dimension can be -1.");
                infer = i;
            }
            else if (d[i] < 0) throw new ArgumentException($"Reshape {Format(dims)}: negative dimension.");
            else known *= d[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || from.Count % known != 0)
                throw new ArgumentException($"Cannot reshape {from} ({from.Count} elements) to {Format(dims)}.");
            d[infer] = (int)(from.Count / known);
        }
        var result = new Shape(d);
        if (result.Count != from.Count)
            throw new ArgumentException($"Cannot reshape {from} ({from.Count} elements) to {result} ({result.Count} elements).");
        return result;
    }

    public Shape WithLast(int last)
    {
        var d = (int[])_dims.Clone();
        d[^1] = last;
        return new Shape(d);
    }

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => Format(_dims);

    /// <summary>Dimensions as a shape is printed: [2, 3, 4].</summary>
    public static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(']').ToString();
    }
}
