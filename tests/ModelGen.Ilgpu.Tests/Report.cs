namespace ModelGen.Ilgpu.Tests;

/// <summary>A test's one-line summary (worst deviation): to NUnit's output, and to <see cref="Sink"/> when the GPU
/// bundle's own runner (tools/GpuCheck) runs the test outside NUnit and puts the line in its table.</summary>
public static class Report
{
    public static Action<string>? Sink { get; set; }

    public static void Line(string text)
    {
        TestContext.Out.WriteLine(text);
        Sink?.Invoke(text);
    }
}
