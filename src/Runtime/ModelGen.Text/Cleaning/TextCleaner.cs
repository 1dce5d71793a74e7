using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen.Text.Cleaning;

/// <summary>Which steps a <see cref="TextCleaner"/> runs. The defaults are the steps that lose no content: HTML,
/// NFC normalisation, control characters and whitespace.</summary>
public sealed record TextCleanerOptions
{
    /// <summary>Step 1: remove HTML tags, comments and script/style blocks, then decode character references.</summary>
    public bool Html { get; init; } = true;

    /// <summary>Step 2: remove control characters and invisible format characters.</summary>
    public bool ControlCharacters { get; init; } = true;

    /// <summary>Step 3: Unicode normalisation form, or null for none (default NFC).</summary>
    public NormalizationForm? Normalization { get; init; } = NormalizationForm.FormC;

    /// <summary>Step 4: remove e-mail addresses (replaced by <see cref="EmailReplacement"/>).</summary>
    public bool Emails { get; init; }

    public string EmailReplacement { get; init; } = " ";

    /// <summary>Step 5: remove URLs (replaced by <see cref="UrlReplacement"/>).</summary>
    public bool Urls { get; init; }

    public string UrlReplacement { get; init; } = " ";

    /// <summary>Step 6: remove emoji and pictograph grapheme clusters.</summary>
    public bool Emojis { get; init; }

    /// <summary>Step 7: collapse runs of repeated punctuation.</summary>
    public bool RepeatedPunctuation { get; init; }

    /// <summary>With <see cref="RepeatedPunctuation"/>: a run of three or more periods becomes "..." rather than ".".</summary>
    public bool KeepEllipsis { get; init; } = true;

    /// <summary>Step 8: replace every whitespace run by one space and trim both ends.</summary>
    public bool Whitespace { get; init; } = true;

    /// <summary>With <see cref="Whitespace"/>: a whitespace run containing a line break becomes one "\n".</summary>
    public bool KeepNewlines { get; init; }

    /// <summary>Step 9: lowercase (invariant culture); placeholders such as <c>&lt;EMAIL&gt;</c> keep their case.</summary>
    public bool Lowercase { get; init; }
}

/// <summary>A composable text cleaner for training data. Immutable and thread-safe: each fluent method returns a new
/// cleaner with one step switched on or off.</summary>
/// <remarks>
/// <para>The steps always run in this fixed order, whatever order they were switched on in:</para>
/// <list type="number">
/// <item><b>HTML</b>: script/style blocks and comments are dropped; tags of known HTML elements are removed (block
/// and line-break tags such as <c>&lt;br /&gt;</c>, <c>&lt;p&gt;</c>, <c>&lt;div&gt;</c> become a space, inline tags such
/// as <c>&lt;b&gt;</c>, <c>&lt;i&gt;</c>, <c>&lt;a&gt;</c> nothing). Only known element names count as tags, so
/// placeholders (<c>&lt;EMAIL&gt;</c>), "<c>a &lt; b</c>" and "<c>&lt;3</c>" survive. Then character references
/// (<c>&amp;amp;</c>, <c>&amp;quot;</c>, <c>&amp;#39;</c>, <c>&amp;#x1F600;</c>) are decoded once, with
/// <see cref="WebUtility.HtmlDecode(string)"/>; a decoded "&lt;b&gt;" is text and stays.</item>
/// <item><b>Control characters</b>: C0/C1 controls other than tab, LF and CR are removed (vertical tab, form feed and
/// U+0085 become a space), as are lone surrogates, U+FFFE/U+FFFF and invisible format characters (zero-width space,
/// BOM, soft hyphen, bidirectional marks and embeddings, word joiner). ZWJ and ZWNJ are kept: scripts and emoji need them.</item>
/// <item><b>Unicode normalisation</b> (NFC by default), early so that every later step sees composed characters
/// (lone surrogates, when step 2 is off, become U+FFFD first: they cannot be normalised).</item>
/// <item><b>E-mail addresses</b>, before URLs so that an address is never half-removed.</item>
/// <item><b>URLs</b>: http, https, ftp or www., without trailing sentence punctuation.</item>
/// <item><b>Emojis</b>: whole grapheme clusters, so ZWJ families, flags, keycaps, skin tones and variation selectors
/// go together (see <c>Emoji</c>); accented letters, CJK and text-style ©®™ stay.</item>
/// <item><b>Repeated punctuation</b>: a run of one punctuation character collapses to one ("!!!!" → "!"), a mixed run
/// of ! and ? keeps each once in order ("?!?!" → "?!"), three or more periods become "..." (with
/// <see cref="TextCleanerOptions.KeepEllipsis"/>). URLs, e-mails and placeholders still in the text are left alone.</item>
/// <item><b>Whitespace</b>: every run of Unicode whitespace becomes one space (or one "\n"), both ends trimmed.</item>
/// <item><b>Lowercase</b> (invariant), last; placeholders keep their case.</item>
/// </list>
/// <para>Cleaning a dataset: <c>dataset.Map(row =&gt; row with { Text = cleaner.Clean(row.Text) })</c>.</para>
/// </remarks>
public sealed partial class TextCleaner
{
    public TextCleaner() : this(new TextCleanerOptions()) { }

    public TextCleaner(TextCleanerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    public TextCleanerOptions Options { get; }

    /// <summary>A cleaner with every step off.</summary>
    public static TextCleaner None { get; } = new(new TextCleanerOptions
    {
        Html = false, Normalization = null, ControlCharacters = false, Whitespace = false,
    });

    /// <summary>A cleaner with every step on except lowercasing.</summary>
    public static TextCleaner All { get; } = new(new TextCleanerOptions
    {
        Emails = true, Urls = true, Emojis = true, RepeatedPunctuation = true,
    });

    public TextCleaner RemoveHtml(bool enabled = true) => new(Options with { Html = enabled });

    /// <summary>Normalises to <paramref name="form"/>; null switches normalisation off.</summary>
    public TextCleaner NormalizeUnicode(NormalizationForm? form = NormalizationForm.FormC) => new(Options with { Normalization = form });

    public TextCleaner RemoveControlCharacters(bool enabled = true) => new(Options with { ControlCharacters = enabled });

    public TextCleaner RemoveEmails(bool enabled = true, string replacement = " ")
    {
        ArgumentNullException.ThrowIfNull(replacement);
        return new(Options with { Emails = enabled, EmailReplacement = replacement });
    }

    public TextCleaner RemoveUrls(bool enabled = true, string replacement = " ")
    {
        ArgumentNullException.ThrowIfNull(replacement);
        return new(Options with { Urls = enabled, UrlReplacement = replacement });
    }

    public TextCleaner RemoveEmojis(bool enabled = true) => new(Options with { Emojis = enabled });

    public TextCleaner CollapseRepeatedPunctuation(bool enabled = true, bool keepEllipsis = true)
        => new(Options with { RepeatedPunctuation = enabled, KeepEllipsis = keepEllipsis });

    public TextCleaner CollapseWhitespace(bool enabled = true, bool keepNewlines = false)
        => new(Options with { Whitespace = enabled, KeepNewlines = keepNewlines });

    public TextCleaner Lowercase(bool enabled = true) => new(Options with { Lowercase = enabled });

    /// <summary>Cleans <paramref name="text"/> with the enabled steps.</summary>
    public string Clean(string text) => Clean(text, null);

    /// <summary>Cleans <paramref name="text"/> and adds what each step changed to <paramref name="report"/>.</summary>
    public string Clean(string text, CleaningReport? report)
    {
        ArgumentNullException.ThrowIfNull(text);
        var o = Options;
        var r = report ?? new CleaningReport();
        string s = text;
        if (o.Html) s = StripHtml(s, r);
        if (o.ControlCharacters) s = RemoveControls(s, r);
        if (o.Normalization is { } form)
        {
            string valid = ReplaceLoneSurrogates(s); // Normalize throws on invalid UTF-16
            if (!valid.IsNormalized(form))
            {
                s = valid.Normalize(form);
                r.NormalizedTexts++;
            }
            else s = valid;
        }
        if (o.Emails && s.Contains('@'))
        {
            int n = 0;
            s = TextPatterns.Email.Replace(s, _ => { n++; return o.EmailReplacement; });
            r.Emails += n;
        }
        if (o.Urls) s = RemoveUrlSpans(s, o.UrlReplacement, r);
        if (o.Emojis)
        {
            s = Emoji.Remove(s, out int removed);
            r.Emojis += removed;
        }
        if (o.RepeatedPunctuation) s = CollapsePunctuation(s, o.KeepEllipsis, r);
        if (o.Whitespace) s = CollapseSpaces(s, o.KeepNewlines, r);
        if (o.Lowercase) s = ToLower(s, r);
        r.Texts++;
        if (!string.Equals(s, text, StringComparison.Ordinal)) r.TextsChanged++;
        return s;
    }

    // ---- step 1: HTML ----

    [GeneratedRegex(@"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex HtmlBlock();

    // Known element names only, so that placeholders and "a < b" are not tags.
    [GeneratedRegex(@"</?(a|abbr|address|article|aside|audio|b|bdi|bdo|big|blink|blockquote|body|br|button|caption|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|em|embed|fieldset|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|li|link|main|mark|meta|nav|nobr|noscript|object|ol|option|p|param|pre|q|s|samp|section|select|small|source|span|strike|strong|sub|summary|sup|table|tbody|td|textarea|tfoot|th|thead|title|tr|tt|u|ul|var|video|wbr)\b[^<>]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HtmlTag();

    [GeneratedRegex(@"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});", RegexOptions.CultureInvariant)]
    private static partial Regex HtmlEntity();

    private static readonly HashSet<string> InlineTags = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "abbr", "b", "bdi", "bdo", "big", "blink", "cite", "code", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark",
        "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "tt", "u", "var", "wbr",
    };

    private static string StripHtml(string s, CleaningReport r)
    {
        if (s.Contains('<'))
        {
            int tags = 0;
            if (s.Contains("<!--", StringComparison.Ordinal) || s.Contains("<s", StringComparison.OrdinalIgnoreCase))
                s = HtmlBlock().Replace(s, _ => { tags++; return " "; });
            s = HtmlTag().Replace(s, m => { tags++; return InlineTags.Contains(m.Groups[1].Value) ? "" : " "; });
            r.HtmlTags += tags;
        }
        if (s.Contains('&'))
        {
            int entities = 0;
            s = HtmlEntity().Replace(s, m =>
            {
                string decoded = WebUtility.HtmlDecode(m.Value);
                if (decoded == m.Value) return decoded;
                entities++;
                return decoded;
            });
            r.HtmlEntities += entities;
        }
        return s;
    }

    // ---- step 3: control characters ----

    private static bool IsInvisibleFormat(char c) => c is '\u00AD' or '\u061C' or '\u180E' or '\u200B' or '\u200E' or '\u200F'
        or (>= '\u202A' and <= '\u202E') or (>= '\u2060' and <= '\u2064') or (>= '\u2066' and <= '\u206F') or '\uFEFF';

    private static string RemoveControls(string s, CleaningReport r)
    {
        var span = s.AsSpan();
        int i = 0;
        for (; i < span.Length; i++)
        {
            char c = span[i];
            if ((char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || IsInvisibleFormat(c) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF') break;
        }
        if (i == span.Length) return s;
        var sb = new StringBuilder(s.Length);
        sb.Append(span[..i]);
        int removed = 0;
        for (; i < span.Length; i++)
        {
            char c = span[i];
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                sb.Append(c).Append(span[i + 1]);
                i++;
                continue;
            }
            if (c is '\v' or '\f' or '\u0085') { sb.Append(' '); removed++; continue; }
            if ((char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || IsInvisibleFormat(c) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
            {
                removed++;
                continue;
            }
            sb.Append(c);
        }
        r.ControlCharacters += removed;
        return sb.ToString();
    }

    private static string ReplaceLoneSurrogates(string s)
    {
        if (s.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return s;
        char[]? chars = null;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) (chars ??= s.ToCharArray())[i] = '\uFFFD';
        }
        return chars is null ? s : new string(chars);
    }

    // ---- step 5: URLs ----

    private static string RemoveUrlSpans(string s, string replacement, CleaningReport r)
    {
        if (!s.Contains("://", StringComparison.Ordinal) && !s.Contains("www.", StringComparison.OrdinalIgnoreCase)) return s;
        StringBuilder? sb = null;
        int copied = 0;
        foreach (var (index, length) in TextPatterns.Urls(s))
        {
            sb ??= new StringBuilder(s.Length);
            sb.Append(s, copied, index - copied).Append(replacement);
            copied = index + length;
            r.Urls++;
        }
        if (sb is null) return s;
        sb.Append(s, copied, s.Length - copied);
        return sb.ToString();
    }

    // ---- step 7: repeated punctuation ----

    private static string CollapsePunctuation(string s, bool keepEllipsis, CleaningReport r)
    {
        var span = s.AsSpan();
        bool any = false;
        for (int k = 1; k < span.Length; k++)
            if ((span[k] == span[k - 1] && char.IsPunctuation(span[k])) || (span[k] is '!' or '?' && span[k - 1] is '!' or '?')) { any = true; break; }
        if (!any) return s;
        var protectedSpans = TextPatterns.ProtectedSpans(s);
        int p = 0;
        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < span.Length)
        {
            while (p < protectedSpans.Count && protectedSpans[p].Index + protectedSpans[p].Length <= i) p++;
            if (p < protectedSpans.Count && protectedSpans[p].Index <= i)
            {
                int end = protectedSpans[p].Index + protectedSpans[p].Length;
                sb.Append(span[i..end]);
                i = end;
                continue;
            }
            char c = span[i];
            if (!char.IsPunctuation(c)) { sb.Append(c); i++; continue; }
            bool bang = c is '!' or '?';
            int j = i + 1;
            int limit = p < protectedSpans.Count ? protectedSpans[p].Index : span.Length;
            while (j < limit && (span[j] == c || (bang && span[j] is '!' or '?'))) j++;
            int run = j - i;
            if (run == 1) { sb.Append(c); i = j; continue; }
            string replacement;
            if (bang)
            {
                int firstBang = span[i..j].IndexOf('!'), firstQuestion = span[i..j].IndexOf('?');
                replacement = firstBang < 0 ? "?" : firstQuestion < 0 ? "!" : firstBang < firstQuestion ? "!?" : "?!";
            }
            else if (c == '.' && keepEllipsis && run >= 3) replacement = "...";
            else replacement = c.ToString();
            if (!span[i..j].SequenceEqual(replacement)) r.RepeatedPunctuation++;
            sb.Append(replacement);
            i = j;
        }
        return sb.ToString();
    }

    // ---- step 8: whitespace ----

    private static string CollapseSpaces(string s, bool keepNewlines, CleaningReport r)
    {
        var span = s.AsSpan();
        var sb = new StringBuilder(s.Length);
        int runs = 0;
        int i = 0;
        while (i < span.Length)
        {
            char c = span[i];
            if (!char.IsWhiteSpace(c)) { sb.Append(c); i++; continue; }
            int j = i;
            bool newline = false;
            while (j < span.Length && char.IsWhiteSpace(span[j]))
            {
                if (span[j] is '\n' or '\r' or '\u2028' or '\u2029') newline = true;
                j++;
            }
            if (i == 0 || j == span.Length) { runs++; i = j; continue; }
            string replacement = keepNewlines && newline ? "\n" : " ";
            if (!span[i..j].SequenceEqual(replacement)) runs++;
            sb.Append(replacement);
            i = j;
        }
        if (runs == 0) return s;
        r.WhitespaceRuns += runs;
        return sb.ToString();
    }

    // ---- step 9: lowercase ----

    private static string ToLower(string s, CleaningReport r)
    {
        string lowered;
        if (!s.Contains('<')) lowered = s.ToLowerInvariant();
        else
        {
            var sb = new StringBuilder(s.Length);
            int copied = 0;
            foreach (var m in TextPatterns.Placeholder.EnumerateMatches(s))
            {
                sb.Append(s.AsSpan(copied, m.Index - copied).ToString().ToLowerInvariant()).Append(s, m.Index, m.Length);
                copied = m.Index + m.Length;
            }
            sb.Append(s[copied..].ToLowerInvariant());
            lowered = sb.ToString();
        }
        if (!string.Equals(lowered, s, StringComparison.Ordinal)) r.LowercasedTexts++;
        return lowered;
    }
}
