using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;

namespace ModelGen.Reliability.Tests.Fuzz;

/// <summary>A part of a seed file: the JSON header of a safetensors file, the pixels of an IDX file, a whole text file.
/// Text segments also get the text mutations (numbers, strings, punctuation, nesting, lines).</summary>
public sealed record Segment(byte[] Bytes, bool Text);

/// <summary>A valid file, in segments, and how to put the (mutated) segments together: a safetensors file recomputes
/// its header length, a gzipped IDX file compresses its parts, so that mutations reach past the first check.</summary>
public sealed record FuzzSeed(string Name, Segment[] Segments, Func<byte[][], byte[]> Assemble)
{
    public static FuzzSeed Whole(string name, byte[] bytes, bool text) => new(name, [new Segment(bytes, text)], parts => parts[0]);
}

/// <summary>One corruption. <see cref="Target"/>: a segment (modulo their count), or −1 for the assembled file.</summary>
public readonly record struct Mutation(int Kind, int Target, double Pos, int Len, int Value)
{
    public override string ToString() => $"{Mutations.KindNames[Kind]}(target {Target}, pos {Pos:F3}, len {Len}, value {Value})";
}

/// <summary>A seed and the corruptions applied to it.</summary>
public sealed record FuzzInput(int Seed, Mutation[] Mutations)
{
    public override string ToString() => $"seed {Seed}: {string.Join(", ", Mutations)}";
}

public static class Mutations
{
    public static readonly string[] KindNames =
    [
        "truncate", "flip-bits", "set-byte", "interesting-int", "delete-range", "insert-random", "duplicate-range", "special-float",
        "replace-number", "punctuation", "replace-string", "deep-nesting", "line-op",
    ];

    private const int BinaryKinds = 8;

    /// <summary>Integers that break length and offset arithmetic: zero, ±1, the edges of 8/16/32/64-bit types, 2^62.</summary>
    private static readonly long[] InterestingIntegers =
    [
        0, 1, -1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, int.MaxValue, int.MinValue, 0x80000000L, 0xFFFFFFFFL, 1L << 32,
        1L << 40, 1L << 62, long.MaxValue, long.MinValue, 100_000_000, 100_000_001, 60_000, 784, -2, 1 << 30,
    ];

    /// <summary>Number literals for text formats: overflowing, negative, fractional, non-finite, not numbers at all.</summary>
    private static readonly string[] InterestingNumbers =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "4611686018427387904", "1e999", "-1e999", "1e-400", "NaN", "Infinity", "-Infinity", "1.5", "-0",
        "0.0", "1e9", "99999999999999999999999999999", "0x10", "00", "1E+2", "-9223372036854775808", "3e38", "1e308",
    ];

    private static readonly string[] InterestingStrings =
    [
        "", "\\u0000", "\\ud800", "\\udfff\\ud800", "é", "\u202e", "\\\"", "\\\\", "__metadata__", "[UNK]", "[CLS]", "[SEP]", "[PAD]",
        "F32", "F64", "F16", "BF16", "I64", "U64", "BOOL", "F8", "gelu", "relu", "swish", "bert", "distilbert", "WordPiece", "BPE",
        "BertNormalizer", "BertPreTokenizer", "TemplateProcessing", "BertProcessing", "##", "dtype", "shape", "data_offsets",
        "0", "-1", "1e999", "NaN", "null", "true", "label", "text", new string('a', 5000),
    ];

    private const string Punctuation = "{}[]\",:\n\r\t\\' \0";

    public static readonly Gen<Mutation> Gen = CsCheck.Gen.Select(
        CsCheck.Gen.Int[0, KindNames.Length - 1], CsCheck.Gen.Int[-1, 3], CsCheck.Gen.Double[0, 1], CsCheck.Gen.Int[1, 64], CsCheck.Gen.Int,
        (kind, target, pos, len, value) => new Mutation(kind, target, pos, len, value));

    public static Gen<FuzzInput> Inputs(int seeds) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int[0, seeds - 1], Gen.Array[1, 4], (seed, mutations) => new FuzzInput(seed, mutations));

    /// <summary>The file bytes of an input: segment mutations, assembly, then whole-file mutations.</summary>
    public static byte[] Build(IReadOnlyList<FuzzSeed> seeds, FuzzInput input)
    {
        var seed = seeds[input.Seed % seeds.Count];
        var parts = seed.Segments.Select(s => s.Bytes).ToArray();
        foreach (var m in input.Mutations.Where(m => m.Target >= 0))
        {
            int i = m.Target % parts.Length;
            parts[i] = Apply(parts[i], m, seed.Segments[i].Text);
        }
        var file = seed.Assemble(parts);
        foreach (var m in input.Mutations.Where(m => m.Target < 0)) file = Apply(file, m, seed.Segments.Any(s => s.Text) && seed.Segments.Length == 1);
        return file;
    }

    public static byte[] Apply(byte[] data, Mutation m, bool text)
    {
        int kind = text ? m.Kind : m.Kind % BinaryKinds;
        int n = data.Length;
        int pos = Math.Clamp((int)(m.Pos * (n + 1)), 0, n);
        int len = Math.Max(1, m.Len);
        var rng = new Random(m.Value);
        var list = new List<byte>(data);
        switch (kind)
        {
            case 0: // truncate
                return data[..pos];
            case 1: // flip bits
                if (n == 0) return data;
                for (int i = 0; i < 1 + len % 8; i++)
                {
                    int p = rng.Next(n);
                    list[p] ^= (byte)(1 << rng.Next(8));
                }
                return [.. list];
            case 2: // set a byte
                if (n == 0) return [(byte)m.Value];
                list[Math.Min(pos, n - 1)] = (byte)m.Value;
                return [.. list];
            case 3: // an interesting integer, 1/2/4/8 bytes, either endianness
            {
                long v = InterestingIntegers[(uint)m.Value % InterestingIntegers.Length];
                int width = (len & 3) switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
                var bytes = new byte[8];
                if ((m.Value >> 16 & 1) == 0) BinaryPrimitives.WriteInt64LittleEndian(bytes, v);
                else
                {
                    BinaryPrimitives.WriteInt64BigEndian(bytes, v);
                    bytes = bytes[(8 - width)..];
                }
                return Overwrite(list, pos, bytes.AsSpan(0, width));
            }
            case 4: // delete a range
                list.RemoveRange(pos, Math.Min(len, n - pos));
                return [.. list];
            case 5: // insert random bytes
            {
                var bytes = new byte[len];
                rng.NextBytes(bytes);
                list.InsertRange(pos, bytes);
                return [.. list];
            }
            case 6: // duplicate a range
                list.InsertRange(pos, data.Skip(pos).Take(len).ToArray());
                return [.. list];
            case 7: // NaN, infinities, extremes as float or double
            {
                float[] floats = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.Epsilon, -0f];
                var bytes = new byte[8];
                if ((len & 1) == 0) BinaryPrimitives.WriteSingleLittleEndian(bytes, floats[(uint)m.Value % floats.Length]);
                else BinaryPrimitives.WriteDoubleLittleEndian(bytes, floats[(uint)m.Value % floats.Length]);
                return Overwrite(list, pos, bytes.AsSpan(0, (len & 1) == 0 ? 4 : 8));
            }
            case 8: // replace a number literal
                return ReplaceMatch(data, NumberPattern, rng, Utf8(InterestingNumbers[(uint)m.Value % InterestingNumbers.Length]));
            case 9: // delete or insert punctuation
                if ((m.Value & 1) == 0 && n > 0)
                {
                    var marks = Enumerable.Range(0, n).Where(i => Punctuation.Contains((char)data[i])).ToList();
                    if (marks.Count > 0)
                    {
                        list.RemoveAt(marks[rng.Next(marks.Count)]);
                        return [.. list];
                    }
                }
                list.Insert(pos, (byte)Punctuation[(int)((uint)m.Value % Punctuation.Length)]);
                return [.. list];
            case 10: // replace a string literal's content
                return ReplaceMatch(data, StringPattern, rng, Utf8("\"" + InterestingStrings[(uint)m.Value % InterestingStrings.Length] + "\""));
            case 11: // deep nesting
            {
                int depth = 10 + (int)((uint)m.Value % 3000);
                string open = (m.Value & 1) == 0 ? "[" : "{\"a\":";
                string close = (m.Value & 1) == 0 ? "]" : "}";
                list.InsertRange(pos, Utf8(string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth))));
                return [.. list];
            }
            default: // line operations: delete, duplicate or swap lines
            {
                var lines = SplitLines(data);
                if (lines.Count == 0) return data;
                int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
                switch (m.Value & 3)
                {
                    case 0: lines.RemoveAt(a); break;
                    case 1: lines.Insert(a, lines[b]); break;
                    case 2: (lines[a], lines[b]) = (lines[b], lines[a]); break;
                    default: lines.Insert(a, Enumerable.Repeat((byte)'x', 1 + (int)((uint)m.Value % 100_000)).ToArray()); break;
                }
                return lines.SelectMany((l, i) => i == lines.Count - 1 ? l : [.. l, (byte)'\n']).ToArray();
            }
        }
    }

    private static readonly Regex NumberPattern = new(@"-?\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.Compiled);
    private static readonly Regex StringPattern = new(@"""(?:[^""\\\n]|\\.)*""", RegexOptions.Compiled);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Overwrite(List<byte> list, int pos, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if (pos + i < list.Count) list[pos + i] = bytes[i];
            else list.Add(bytes[i]);
        }
        return [.. list];
    }

    /// <summary>Replaces one match (chosen by <paramref name="rng"/>) of a pattern over the bytes read as Latin-1 (one
    /// char per byte, so match positions are byte positions).</summary>
    private static byte[] ReplaceMatch(byte[] data, Regex pattern, Random rng, byte[] replacement)
    {
        var matches = pattern.Matches(Encoding.Latin1.GetString(data));
        if (matches.Count == 0) return data;
        var match = matches[rng.Next(matches.Count)];
        return [.. data.AsSpan(0, match.Index), .. replacement, .. data.AsSpan(match.Index + match.Length)];
    }

    private static List<byte[]> SplitLines(byte[] data)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i <= data.Length; i++)
        {
            if (i < data.Length && data[i] != '\n') continue;
            lines.Add(data[start..i]);
            start = i + 1;
        }
        return lines;
    }
}
