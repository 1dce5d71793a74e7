using System.Text.Json;
using ModelGen.IO;

namespace ModelGen.Transformers;

/// <summary>
/// The files of a HuggingFace model directory (what <c>save_pretrained</c> writes): config.json and the weights as
/// model.safetensors or as shards listed by model.safetensors.index.json. PyTorch pickle weights (pytorch_model.bin)
/// are refused: unpickling can run arbitrary code.
/// </summary>
public static class PretrainedFiles
{
    public const string ConfigFileName = BertConfig.FileName;
    public const string WeightsFileName = "model.safetensors";
    public const string WeightsIndexFileName = "model.safetensors.index.json";
    public const string VocabFileName = "vocab.txt";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <summary>Reads the directory's config.json.</summary>
    public static BertConfig LoadConfig(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return BertConfig.Load(Path.Combine(directory, ConfigFileName));
    }

    /// <summary>
    /// Opens the weights of a model directory, memory-mapped: model.safetensors when present, else the shards named by
    /// model.safetensors.index.json. Throws <see cref="NotSupportedException"/> for a directory that holds only pickle
    /// weights (*.bin, *.pt, *.pth, *.ckpt), with the command that converts them, and <see cref="FileNotFoundException"/>
    /// when there are no weights at all.
    /// </summary>
    public static PretrainedWeights OpenWeights(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: model directory not found.");

        var single = Path.Combine(directory, WeightsFileName);
        if (File.Exists(single))
            return PretrainedWeights.FromFiles(directory, [SafeTensorsFile.Open(single)], null);

        var index = Path.Combine(directory, WeightsIndexFileName);
        if (File.Exists(index))
            return OpenSharded(directory, index);

        var pickles = Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .Where(n => n is not null && IsPickleName(n))
            .Select(n => n!)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (pickles.Count > 0)
            throw new NotSupportedException(PickleRefusal(directory, pickles));

        var present = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        throw new FileNotFoundException(
            $"{directory}: no {WeightsFileName} or {WeightsIndexFileName} (the directory holds: {(present.Count == 0 ? "nothing" : string.Join(", ", present))}).",
            single);
    }

    private static bool IsPickleName(string name)
        => name.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".pt", StringComparison.OrdinalIgnoreCase)
           || name.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ckpt", StringComparison.OrdinalIgnoreCase)
           || name.EndsWith(".bin.index.json", StringComparison.OrdinalIgnoreCase);

    private static string PickleRefusal(string directory, IReadOnlyList<string> pickles)
    {
        var d = Path.GetFullPath(directory).Replace("'", "\\'", StringComparison.Ordinal);
        return $"{directory}: holds only PyTorch pickle weights ({string.Join(", ", pickles)}), which ModelGen does not load: "
               + "unpickling a checkpoint can run arbitrary code, so a downloaded .bin file is a program, not data. "
               + "Convert it once to safetensors (a plain tensor format) with Python and transformers:\n"
               + $"    python -c \"from transformers import AutoModel; d = r'{d}'; AutoModel.from_pretrained(d).save_pretrained(d, safe_serialization=True)\"\n"
               + "(for a checkpoint with a task head, use its class instead of AutoModel, e.g. AutoModelForSequenceClassification, so the head is kept), "
               + $"or download the repository's {WeightsFileName} where the Hub has one.";
    }

    private static PretrainedWeights OpenSharded(string directory, string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: the index must be a JSON object.");
            if (!doc.RootElement.TryGetProperty("weight_map", out var map))
                throw new InvalidDataException($"{indexPath}: missing 'weight_map' (tensor name → shard file).");
            if (map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: 'weight_map' must be an object of tensor name → shard file.");
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{indexPath}: 'weight_map'[\"{entry.Name}\"] must be a file name, not {entry.Value.ValueKind.ToString().ToLowerInvariant()}.");
                weightMap[entry.Name] = entry.Value.GetString()!;
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{indexPath}: not valid JSON: {ex.Message}", ex);
        }
        if (weightMap.Count == 0)
            throw new InvalidDataException($"{indexPath}: 'weight_map' is empty.");

        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var shard in shardNames)
        {
            // A shard is a plain file name beside the index: no folders, no way out of the directory.
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\') || Path.IsPathRooted(shard))
                throw new InvalidDataException($"{indexPath}: 'weight_map' names '{shard}', which is not a file name inside the model directory.");
            if (!File.Exists(Path.Combine(directory, shard)))
                throw new FileNotFoundException($"{indexPath}: 'weight_map' names shard '{shard}', which does not exist in {directory}.",
                    Path.Combine(directory, shard));
        }

        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (var shard in shardNames) files.Add(SafeTensorsFile.Open(Path.Combine(directory, shard)));
            var byName = files.ToDictionary(f => Path.GetFileName(f.Path), StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
                if (!byName[shard].Contains(tensor))
                    throw new InvalidDataException($"{indexPath}: 'weight_map' puts '{tensor}' in {shard}, but that file does not hold it.");
            return PretrainedWeights.FromFiles(directory, files, indexPath);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The name a checkpoint key is matched by: without the <c>bert.</c> / <c>distilbert.</c> base-model prefix, and
    /// with legacy LayerNorm <c>gamma</c> / <c>beta</c> spelled <c>weight</c> / <c>bias</c>.
    /// </summary>
    public static string NormalizeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var prefix in BasePrefixes)
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                name = name[prefix.Length..];
                break;
            }
        if (name.EndsWith(".gamma", StringComparison.Ordinal)) name = name[..^".gamma".Length] + ".weight";
        else if (name.EndsWith(".beta", StringComparison.Ordinal)) name = name[..^".beta".Length] + ".bias";
        return name;
    }

    private static readonly string[] BasePrefixes = ["bert.", "distilbert."];
}

/// <summary>What loading a checkpoint into a model found, as HuggingFace reports it.</summary>
public sealed class LoadReport
{
    internal LoadReport(IReadOnlyList<string> loaded, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> ignored)
    {
        Loaded = loaded;
        Missing = missing;
        Unexpected = unexpected;
        Ignored = ignored;
    }

    /// <summary>Model names found in the checkpoint.</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>Model names the checkpoint lacks (HuggingFace's missing_keys: these stay newly initialised).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checkpoint names the model does not use (HuggingFace's unexpected_keys), as stored in the checkpoint.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Checkpoint buffers that are never parameters (<c>embeddings.position_ids</c>): not reported as unexpected.</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>Every model name was found and every checkpoint tensor used.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0;

    public override string ToString()
    {
        if (IsExact) return $"All {Loaded.Count} weights loaded.";
        var parts = new List<string> { $"{Loaded.Count} weights loaded" };
        if (Missing.Count > 0) parts.Add($"missing (newly initialised): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) parts.Add($"unexpected (unused): {string.Join(", ", Unexpected)}");
        return string.Join("; ", parts) + ".";
    }
}

/// <summary>
/// The tensors of a model directory, by name, memory-mapped (see <see cref="PretrainedFiles.OpenWeights"/>). Lookups
/// accept the stored name or any name with the same <see cref="PretrainedFiles.NormalizeName">normal form</see>:
/// with or without <c>bert.</c>, and <c>gamma</c>/<c>beta</c> for LayerNorm <c>weight</c>/<c>bias</c>.
/// </summary>
public sealed class PretrainedWeights : IDisposable
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _fileOf;
    private readonly Dictionary<string, string> _byNormal;
    private readonly List<string> _names;

    private PretrainedWeights(string directory, List<SafeTensorsFile> files, string? indexPath,
        Dictionary<string, SafeTensorsFile> fileOf, Dictionary<string, string> byNormal, List<string> names)
    {
        Directory = directory;
        _files = files;
        IndexPath = indexPath;
        _fileOf = fileOf;
        _byNormal = byNormal;
        _names = names;
    }

    internal static PretrainedWeights FromFiles(string directory, IReadOnlyList<SafeTensorsFile> files, string? indexPath)
    {
        var fileOf = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var byNormal = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new List<string>();
        try
        {
            foreach (var file in files)
                foreach (var info in file.Tensors)
                {
                    if (fileOf.TryGetValue(info.Name, out var other))
                        throw new InvalidDataException($"{directory}: tensor '{info.Name}' is in both {Path.GetFileName(other.Path)} and {Path.GetFileName(file.Path)}.");
                    fileOf[info.Name] = file;
                    names.Add(info.Name);
                    var normal = PretrainedFiles.NormalizeName(info.Name);
                    if (byNormal.TryGetValue(normal, out var clash))
                        throw new InvalidDataException(
                            $"{file.Path}: tensors '{clash}' and '{info.Name}' both stand for '{normal}' (with and without the base-model prefix, or gamma/beta beside weight/bias); the checkpoint is ambiguous.");
                    byNormal[normal] = info.Name;
                }
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
        return new PretrainedWeights(directory, [.. files], indexPath, fileOf, byNormal, names);
    }

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>model.safetensors.index.json when the weights are sharded, else null.</summary>
    public string? IndexPath { get; }

    /// <summary>The safetensors files (one, or the shards in name order).</summary>
    public IReadOnlyList<string> Files => _files.Select(f => f.Path).ToList();

    /// <summary>The tensor names as stored, file by file in header order.</summary>
    public IReadOnlyList<string> Names => _names;

    public int Count => _names.Count;

    /// <summary>The stored name that <paramref name="name"/> stands for (exact, else by normal form).</summary>
    public bool TryResolve(string name, out string storedName)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_fileOf.ContainsKey(name))
        {
            storedName = name;
            return true;
        }
        if (_byNormal.TryGetValue(PretrainedFiles.NormalizeName(name), out var stored))
        {
            storedName = stored;
            return true;
        }
        storedName = "";
        return false;
    }

    public bool Contains(string name) => TryResolve(name, out _);

    /// <summary>The header entry (dtype, shape) of a tensor.</summary>
    public SafeTensorInfo GetInfo(string name)
    {
        var (file, stored) = Locate(name);
        return file.GetInfo(stored);
    }

    /// <summary>The shape of a tensor.</summary>
    public int[] GetShape(string name) => GetInfo(name).Shape;

    /// <summary>Reads a tensor, converting it to float (F16, BF16, F64, ... are converted).</summary>
    public float[] ReadFloats(string name)
    {
        var (file, stored) = Locate(name);
        return file.ReadFloats(stored);
    }

    public void ReadInto(string name, Span<float> destination)
    {
        var (file, stored) = Locate(name);
        file.ReadInto(stored, destination);
    }

    public void ReadInto(string name, Span<double> destination)
    {
        var (file, stored) = Locate(name);
        file.ReadInto(stored, destination);
    }

    /// <summary>Reads a tensor into a new CPU tensor of its shape.</summary>
    public Tensor ReadTensor(string name, DType? dtype = null)
    {
        var (file, stored) = Locate(name);
        return file.ReadTensor(stored, dtype);
    }

    private (SafeTensorsFile File, string Stored) Locate(string name)
    {
        ObjectDisposedException.ThrowIf(_files.Count == 0, this);
        if (TryResolve(name, out var stored)) return (_fileOf[stored], stored);
        throw new KeyNotFoundException($"{Directory}: no tensor named '{name}' (nor '{PretrainedFiles.NormalizeName(name)}'); the checkpoint holds {Count} tensors.");
    }

    /// <summary>Matches the names a model expects against the checkpoint, without reading anything.</summary>
    public LoadReport Match(IEnumerable<string> expectedNames)
    {
        ArgumentNullException.ThrowIfNull(expectedNames);
        var loaded = new List<string>();
        var missing = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in expectedNames)
        {
            if (TryResolve(name, out var stored) && used.Add(stored)) loaded.Add(name);
            else if (stored.Length > 0) throw new ArgumentException($"Two expected names stand for checkpoint tensor '{stored}' (second: '{name}').", nameof(expectedNames));
            else missing.Add(name);
        }
        var unexpected = new List<string>();
        var ignored = new List<string>();
        foreach (var name in _names)
        {
            if (used.Contains(name)) continue;
            if (IsIgnorable(name)) ignored.Add(name);
            else unexpected.Add(name);
        }
        return new LoadReport(loaded, missing, unexpected, ignored);
    }

    /// <summary>
    /// Copies every checkpoint tensor a parameter stands for into it (CPU or device), and reports the rest like
    /// HuggingFace's from_pretrained: parameters without a tensor are <see cref="LoadReport.Missing"/> (left as they
    /// are), tensors without a parameter <see cref="LoadReport.Unexpected"/>. A shape mismatch throws, naming both shapes.
    /// </summary>
    public LoadReport LoadInto(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        var report = Match(list.Select(p => p.Name));
        var byName = list.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var name in report.Loaded)
        {
            var p = byName[name];
            var (file, stored) = Locate(name);
            var info = file.GetInfo(stored);
            if (!info.Shape.AsSpan().SequenceEqual(p.Shape.Dims))
                throw new InvalidDataException(
                    $"{file.Path}: tensor '{stored}' has shape {Shape.Format(info.Shape)} but parameter '{name}' is {p.Shape} (size mismatch; a head with another number of labels?).");
            if (!p.Value.Device.IsCpu) p.Value.CopyFrom<float>(file.ReadFloats(stored));
            else if (p.Value.DType == DType.Float64) file.ReadInto(stored, p.Value.AsSpan<double>());
            else file.ReadInto(stored, p.Value.AsSpan<float>());
        }
        return report;
    }

    /// <summary>Loads into a model's parameters; see <see cref="LoadInto(IEnumerable{Parameter})"/>.</summary>
    public LoadReport LoadInto(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LoadInto(model.Parameters);
    }

    private static bool IsIgnorable(string name)
        => name.EndsWith("position_ids", StringComparison.Ordinal);

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }

    public override string ToString() => $"{Directory} ({Count} tensors in {_files.Count} file{(_files.Count == 1 ? "" : "s")})";
}
