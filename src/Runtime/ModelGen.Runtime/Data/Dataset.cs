using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ModelGen.Data;

/// <summary>An immutable list of rows with HuggingFace-datasets-style operations. Every operation returns a new
/// dataset; shuffles and splits are deterministic for a seed.</summary>
public sealed class Dataset<T> : IReadOnlyList<T>
{
    private readonly T[] _rows;

    public Dataset(IEnumerable<T> rows) => _rows = rows.ToArray();

    public int Count => _rows.Length;
    public T this[int index] => _rows[index];
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_rows).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public Dataset<TOut> Map<TOut>(Func<T, TOut> map) => new(_rows.Select(map));
    public Dataset<T> Filter(Func<T, bool> keep) => new(_rows.Where(keep));
    public Dataset<T> Take(int count) => new(_rows.Take(count));
    public Dataset<T> Skip(int count) => new(_rows.Skip(count));
    public Dataset<T> Concat(IEnumerable<T> more) => new(_rows.Concat(more));

    /// <summary>A seeded Fisher–Yates shuffle.</summary>
    public Dataset<T> Shuffle(int seed)
    {
        var rows = (T[])_rows.Clone();
        new Random(seed).Shuffle(rows);
        return new Dataset<T>(rows);
    }

    /// <summary>Splits into train and test parts. With <paramref name="stratifyBy"/>, each class keeps its share in both
    /// parts (as scikit-learn's stratified split); the order within each part is shuffled by the seed.</summary>
    public (Dataset<T> Train, Dataset<T> Test) TrainTestSplit(double testSize, int seed, Func<T, object>? stratifyBy = null)
    {
        if (!(testSize > 0 && testSize < 1)) throw new ArgumentOutOfRangeException(nameof(testSize), $"testSize {testSize} must be in (0, 1).");
        var rng = new Random(seed);
        var train = new List<T>();
        var test = new List<T>();
        var groups = stratifyBy is null
            ? new[] { _rows.ToList() }
            : _rows.GroupBy(stratifyBy).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal).Select(g => g.ToList()).ToArray();
        foreach (var group in groups)
        {
            var rows = group.ToArray();
            rng.Shuffle(rows);
            int testCount = (int)Math.Round(rows.Length * testSize, MidpointRounding.AwayFromZero);
            test.AddRange(rows.Take(testCount));
            train.AddRange(rows.Skip(testCount));
        }
        var trainRows = train.ToArray();
        var testRows = test.ToArray();
        rng.Shuffle(trainRows);
        rng.Shuffle(testRows);
        return (new Dataset<T>(trainRows), new Dataset<T>(testRows));
    }
}

/// <summary>A row read from CSV, TSV, JSON or JSONL: field name → value (string, double, long, bool or null).</summary>
public sealed class Record : IReadOnlyDictionary<string, object?>
{
    private readonly Dictionary<string, object?> _fields;

    public Record(Dictionary<string, object?> fields, string source)
    {
        _fields = fields;
        Source = source;
    }

    /// <summary>Where the row came from (file and line), for error messages.</summary>
    public string Source { get; }

    public object? this[string key] => _fields.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{Source}: no field '{key}' (fields: {string.Join(", ", _fields.Keys)}).");
    public IEnumerable<string> Keys => _fields.Keys;
    public IEnumerable<object?> Values => _fields.Values;
    public int Count => _fields.Count;
    public bool ContainsKey(string key) => _fields.ContainsKey(key);
    public bool TryGetValue(string key, out object? value) => _fields.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _fields.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public string GetString(string key) => this[key] switch
    {
        null => throw new InvalidDataException($"{Source}: field '{key}' is null."),
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var v => v.ToString()!,
    };

    public double GetDouble(string key) => this[key] switch
    {
        double d => d,
        long l => l,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        var v => throw new InvalidDataException($"{Source}: field '{key}' is '{v ?? "null"}', not a number."),
    };

    public int GetInt32(string key) => this[key] switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        double d when d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue => (int)d,
        string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
        var v => throw new InvalidDataException($"{Source}: field '{key}' is '{v ?? "null"}', not an integer."),
    };

    public bool IsNull(string key) => this[key] is null;
}

/// <summary>Loaders that read files into datasets; malformed input raises InvalidDataException naming the file and line.</summary>
public static class Dataset
{
    public static Dataset<T> From<T>(IEnumerable<T> rows) => new(rows);

    /// <summary>CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes). The first row names the fields
    /// unless <paramref name="header"/> is false (then the fields are "0", "1", ...).</summary>
    public static Dataset<Record> FromCsv(string path, char separator = ',', bool header = true)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var rows = new List<Record>();
        string[]? names = null;
        int line = 0;
        foreach (var (fields, startLine) in ReadDelimited(reader, separator, path, () => line, l => line = l))
        {
            if (names is null)
            {
                if (header)
                {
                    names = fields;
                    if (names.Distinct().Count() != names.Length) throw new InvalidDataException($"{path}:{startLine}: duplicate column names in the header.");
                    continue;
                }
                names = Enumerable.Range(0, fields.Length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            }
            if (fields.Length == 1 && fields[0].Length == 0) continue; // blank line
            if (fields.Length != names.Length)
                throw new InvalidDataException($"{path}:{startLine}: {fields.Length} fields, but the header has {names.Length}.");
            var dict = new Dictionary<string, object?>(names.Length);
            for (int i = 0; i < names.Length; i++) dict[names[i]] = fields[i];
            rows.Add(new Record(dict, $"{path}:{startLine}"));
        }
        return new Dataset<Record>(rows);
    }

    public static Dataset<Record> FromTsv(string path, bool header = true) => FromCsv(path, '\t', header);

    private static IEnumerable<(string[] Fields, int Line)> ReadDelimited(StreamReader reader, char separator, string path, Func<int> getLine, Action<int> setLine)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false, wasQuoted = false;
        int line = 1, start = 1;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            char ch = (char)c;
            any = true;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            if (ch == '"' && field.Length == 0 && !wasQuoted) { quoted = true; wasQuoted = true; }
            else if (ch == separator) { fields.Add(field.ToString()); field.Clear(); wasQuoted = false; }
            else if (ch == '\r') { }
            else if (ch == '\n')
            {
                fields.Add(field.ToString());
                yield return (fields.ToArray(), start);
                fields.Clear(); field.Clear(); wasQuoted = false; any = false;
                line++;
                start = line;
            }
            else field.Append(ch);
        }
        if (quoted) throw new InvalidDataException($"{path}:{start}: a quoted field is not closed before the end of the file.");
        if (any)
        {
            fields.Add(field.ToString());
            yield return (fields.ToArray(), start);
        }
        setLine(line);
        _ = getLine;
    }

    /// <summary>A JSON array of objects.</summary>
    public static Dataset<Record> FromJson(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}:{(e.LineNumber ?? 0) + 1}: invalid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: expected a JSON array of objects, found {doc.RootElement.ValueKind}.");
            var rows = new List<Record>();
            int index = 0;
            foreach (var element in doc.RootElement.EnumerateArray())
            {
                rows.Add(ToRecord(element, $"{path}[{index}]"));
                index++;
            }
            return new Dataset<Record>(rows);
        }
    }

    /// <summary>JSON Lines: one object per line (blank lines skipped).</summary>
    public static Dataset<Record> FromJsonLines(string path)
    {
        var rows = new List<Record>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                rows.Add(ToRecord(doc.RootElement, $"{path}:{lineNumber}"));
            }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON: {e.Message}", e); }
        }
        return new Dataset<Record>(rows);
    }

    private static Record ToRecord(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: expected an object, found {element.ValueKind}.");
        var dict = new Dictionary<string, object?>();
        try
        {
            foreach (var p in element.EnumerateObject())
            {
                dict[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number => p.Value.TryGetInt64(out var l) ? l
                        : p.Value.TryGetDouble(out var d) ? d
                        : throw new InvalidDataException($"{source}: field '{p.Name}' holds the number {p.Value.GetRawText()}, which is out of range."),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    _ => p.Value.GetRawText(),
                };
            }
        }
        catch (InvalidOperationException e)
        {
            // the parser checks escapes lazily: "\ud800" (a lone surrogate) or invalid UTF-8 fails when the string is read
            throw new InvalidDataException($"{source}: invalid text in a JSON string: {e.Message}", e);
        }
        return new Record(dict, source);
    }

    /// <summary>A labelled-image dataset from IDX files (pixels scaled to [0, 1]).</summary>
    public static Dataset<LabeledImage> FromIdx(string imagesPath, string labelsPath)
    {
        var (count, rows, cols, pixels) = Idx.ReadImages(imagesPath);
        var labels = Idx.ReadLabels(labelsPath);
        if (labels.Length != count) throw new InvalidDataException($"{labelsPath}: {labels.Length} labels for {count} images in {imagesPath}.");
        int size = rows * cols;
        return new Dataset<LabeledImage>(Enumerable.Range(0, count).Select(i =>
            new LabeledImage(pixels.AsSpan(i * size, size).ToArray().Select(p => p / 255f).ToArray(), labels[i])));
    }

    /// <summary>The examples of an <see cref="ImageSet"/> as a dataset.</summary>
    public static Dataset<LabeledImage> FromImageSet(ImageSet set)
        => new(Enumerable.Range(0, set.Count).Select(i => new LabeledImage(set.Image(i).ToArray(), set.Labels[i])));
}

/// <summary>An image's pixels (row-major, scaled) and its class.</summary>
public sealed record LabeledImage(float[] Pixels, int Label);
