using System.Text.RegularExpressions;

namespace ModelGen.Text.Cleaning;

/// <summary>The patterns shared by the cleaner, the PII scrubber, the typo corrector and the augmenter: URLs, e-mail
/// addresses and placeholders such as <c>&lt;EMAIL&gt;</c>.</summary>
/// <remarks>URLs and e-mail addresses use the non-backtracking engine, so a megabyte of adversarial text costs linear
/// time.</remarks>
internal static class TextPatterns
{
    /// <summary>A URL: an http, https or ftp scheme, or a bare <c>www.</c> host, up to whitespace, a quote or an angle
    /// bracket. Trailing sentence punctuation is not part of it: see <see cref="UrlLength"/>.</summary>
    public static readonly Regex Url = new(@"\b(?:(?:https?|ftp)://|www\.)[^\s<>""]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>An e-mail address with an ASCII local part and a dotted domain ending in a 2+ letter label.</summary>
    public static readonly Regex Email = new(@"\b[A-Za-z0-9_.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b",
        RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>A placeholder token: <c>&lt;</c>, an upper-case name (letters, digits, underscores), <c>&gt;</c>.</summary>
    public static readonly Regex Placeholder = new(@"<[A-Z][A-Z0-9_]*>", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>The length of a URL match once trailing punctuation that belongs to the sentence is dropped: <c>.,;:!?'"</c>
    /// and closing brackets without an opening one inside the URL.</summary>
    public static int UrlLength(ReadOnlySpan<char> match)
    {
        int length = match.Length;
        while (length > 0)
        {
            char c = match[length - 1];
            if (c is '.' or ',' or ';' or ':' or '!' or '?' or '\'' or '"' or '*') { length--; continue; }
            if (c is ')' or ']' or '}')
            {
                char open = c == ')' ? '(' : c == ']' ? '[' : '{';
                var body = match[..(length - 1)];
                if (body.Count(open) <= body.Count(c)) { length--; continue; }
            }
            break;
        }
        return length;
    }

    /// <summary>URL spans (index, length) of <paramref name="text"/> with trailing punctuation dropped.</summary>
    public static List<(int Index, int Length)> Urls(string text)
    {
        var spans = new List<(int Index, int Length)>();
        foreach (var m in Url.EnumerateMatches(text))
        {
            int length = UrlLength(text.AsSpan(m.Index, m.Length));
            if (length > 0) spans.Add((m.Index, length));
        }
        return spans;
    }

    /// <summary>Spans of URLs, e-mail addresses and placeholders, sorted by index and merged where they overlap.</summary>
    public static List<(int Index, int Length)> ProtectedSpans(string text)
    {
        var spans = new List<(int Index, int Length)>();
        if (text.Contains("://", StringComparison.Ordinal) || text.Contains("www.", StringComparison.OrdinalIgnoreCase)) spans.AddRange(Urls(text));
        if (text.Contains('@')) foreach (var m in Email.EnumerateMatches(text)) spans.Add((m.Index, m.Length));
        if (text.Contains('<')) foreach (var m in Placeholder.EnumerateMatches(text)) spans.Add((m.Index, m.Length));
        return Merge(spans);
    }

    public static List<(int Index, int Length)> Merge(List<(int Index, int Length)> spans)
    {
        if (spans.Count < 2) return spans;
        spans.Sort((a, b) => a.Index.CompareTo(b.Index));
        var merged = new List<(int Index, int Length)> { spans[0] };
        for (int i = 1; i < spans.Count; i++)
        {
            var last = merged[^1];
            var s = spans[i];
            if (s.Index <= last.Index + last.Length)
                merged[^1] = (last.Index, Math.Max(last.Index + last.Length, s.Index + s.Length) - last.Index);
            else merged.Add(s);
        }
        return merged;
    }

    /// <summary>Whether the whole of <paramref name="token"/> is a URL, an e-mail address or a placeholder.</summary>
    public static bool IsUrlEmailOrPlaceholder(string token)
    {
        if (token.Length == 0) return false;
        foreach (var (index, length) in ProtectedSpans(token))
            if (index == 0 && length == token.Length) return true;
        return false;
    }
}
