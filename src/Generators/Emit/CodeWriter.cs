using System.Text;

namespace ModelGen.Generators.Emit;

/// <summary>Writes indented C# (four spaces, \n line ends) deterministically.</summary>
public sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length == 0)
        {
            _sb.Append('\n');
            return;
        }
        foreach (var line in text.Split('\n'))
        {
            _sb.Append(' ', _indent * 4).Append(line.TrimEnd('\r')).Append('\n');
        }
    }

    public void Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _sb.ToString();
}
