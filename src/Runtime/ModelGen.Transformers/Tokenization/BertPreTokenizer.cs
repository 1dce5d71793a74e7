using System.Globalization;
using System.Text;

namespace ModelGen.Transformers;

/// <summary>The text side of BERT tokenization, before the vocabulary is consulted: HuggingFace's
/// <c>BertNormalizer</c> (clean text, pad CJK ideographs with spaces, NFD + drop non-spacing marks, lowercase, in that
/// order) and <c>BertPreTokenizer</c> (split on whitespace, isolate every punctuation character).</summary>
/// <remarks>Rules follow HuggingFace tokenizers (Rust), <c>normalizers/bert.rs</c> and <c>pre_tokenizers/bert.rs</c>:
/// <list type="bullet">
/// <item>clean text drops U+0000, U+FFFD and every "other" character (categories Cc, Cf, Cn, Co, Cs) except tab, LF
/// and CR, then maps every whitespace character to a space;</item>
/// <item>"Chinese characters" are the CJK Unified Ideograph blocks (not Hangul, Hiragana or Katakana);</item>
/// <item>lowercasing is per character with the full Unicode mapping (U+0130 becomes "i" + U+0307), without the
/// context-dependent rules (final sigma);</item>
/// <item>punctuation is any ASCII character that is neither alphanumeric, space nor control, and any Unicode P*
/// character; <c>$</c>, <c>+</c>, <c>^</c> etc. are therefore words of their own.</item>
/// </list></remarks>
internal readonly struct BertPreTokenizer(bool cleanText, bool tokenizeChineseChars, bool stripAccents, bool lowercase)
{
    public bool CleanText { get; } = cleanText;
    public bool TokenizeChineseChars { get; } = tokenizeChineseChars;
    public bool StripAccents { get; } = stripAccents;
    public bool Lowercase { get; } = lowercase;

    /// <summary>Applies the normalizer to <paramref name="text"/>.</summary>
    public string Normalize(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length + 8);
        // Steps 1 and 2 in one pass. Lone surrogates become U+FFFD, as in a lossy UTF-16 -> UTF-8 conversion.
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text[i..], out var rune, out int len); // invalid input yields U+FFFD, length 1
            i += len;
            int c = rune.Value;
            if (CleanText)
            {
                if (c == 0 || c == 0xFFFD || IsControl(rune)) continue;
                if (IsWhitespace(rune))
                {
                    sb.Append(' ');
                    continue;
                }
            }
            if (TokenizeChineseChars && IsChineseChar(c))
            {
                sb.Append(' ');
                AppendRune(sb, rune);
                sb.Append(' ');
                continue;
            }
            AppendRune(sb, rune);
        }

        string s = sb.ToString();
        if (StripAccents)
        {
            s = s.Normalize(NormalizationForm.FormD);
            sb.Clear();
            foreach (var rune in s.EnumerateRunes())
                if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) AppendRune(sb, rune);
            s = sb.ToString();
        }
        if (Lowercase)
        {
            sb.Clear();
            foreach (var rune in s.EnumerateRunes())
            {
                if (rune.Value == 0x130) sb.Append("i\u0307"); // the one unconditional multi-character lowercase mapping
                else AppendRune(sb, Rune.ToLowerInvariant(rune));
            }
            s = sb.ToString();
        }
        return s;
    }

    /// <summary>Splits normalized text into words: whitespace separates, each punctuation character stands alone.</summary>
    public static void Split(string normalized, List<string> words)
    {
        int start = -1; // start of the current word, -1 when none
        int i = 0;
        while (i < normalized.Length)
        {
            Rune.DecodeFromUtf16(normalized.AsSpan(i), out var rune, out int len);
            if (Rune.IsWhiteSpace(rune))
            {
                if (start >= 0) words.Add(normalized[start..i]);
                start = -1;
            }
            else if (IsPunctuation(rune))
            {
                if (start >= 0) words.Add(normalized[start..i]);
                words.Add(normalized.Substring(i, len));
                start = -1;
            }
            else if (start < 0)
            {
                start = i;
            }
            i += len;
        }
        if (start >= 0) words.Add(normalized[start..]);
    }

    private static void AppendRune(StringBuilder sb, Rune rune)
    {
        if (rune.IsBmp) sb.Append((char)rune.Value);
        else
        {
            Span<char> buf = stackalloc char[2];
            int n = rune.EncodeToUtf16(buf);
            sb.Append(buf[..n]);
        }
    }

    internal static bool IsWhitespace(Rune r) => r.Value is '\t' or '\n' or '\r' || Rune.IsWhiteSpace(r);

    internal static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    internal static bool IsChineseChar(int c) =>
        c is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    internal static bool IsPunctuation(Rune r)
    {
        int c = r.Value;
        if (c is (>= 0x21 and <= 0x2F) or (>= 0x3A and <= 0x40) or (>= 0x5B and <= 0x60) or (>= 0x7B and <= 0x7E)) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
