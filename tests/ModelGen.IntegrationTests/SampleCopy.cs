namespace ModelGen.IntegrationTests;

/// <summary>A copy of one sample's folder (its own project file and sources, no build output) placed beside the
/// original under samples/, so that its relative references (samples/ModelGen.Samples.props, samples/Shared) resolve
/// exactly as they do for the sample itself. Deleted on dispose.</summary>
internal sealed class SampleCopy : IDisposable
{
    private SampleCopy(string folder, string project)
    {
        Folder = folder;
        Project = project;
    }

    public string Folder { get; }
    public string Project { get; }

    public static SampleCopy Create(string sample)
    {
        var source = Path.Combine(Repo.Root, "samples", sample);
        var folder = Path.Combine(Repo.Root, "samples", $"{sample}.mutated-{Guid.NewGuid():N}"); // ignored by git
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return new SampleCopy(folder, Path.Combine(folder, sample + ".csproj"));
    }

    /// <summary>Replaces the first occurrence of <paramref name="from"/> in <paramref name="file"/>; returns the new text.</summary>
    public string Edit(string file, string from, string to)
    {
        var path = Path.Combine(Folder, file);
        var text = File.ReadAllText(path);
        int at = text.IndexOf(from, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), $"{file} contains '{from}'");
        text = text.Substring(0, at) + to + text.Substring(at + from.Length);
        File.WriteAllText(path, text);
        return text;
    }

    public (int ExitCode, string Output) Build() => Repo.Run("dotnet", $"build \"{Project}\" -c {Repo.Configuration}", Folder);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }

    public static (int Line, int Column) LineColumn(string text, int index)
    {
        int line = 1, column = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }
}
