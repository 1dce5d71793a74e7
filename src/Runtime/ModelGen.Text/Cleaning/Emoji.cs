using System.Globalization;
using System.Text;

namespace ModelGen.Text.Cleaning;

/// <summary>Emoji and pictograph detection on whole grapheme clusters (UAX #29 extended grapheme clusters, as
/// <see cref="StringInfo.GetNextTextElementLength(ReadOnlySpan{char})"/> splits them), so that a ZWJ family, a flag
/// (two regional indicators), a keycap, a skin-tone or variation-selector sequence and a tag sequence are one unit.</summary>
/// <remarks>A cluster is an emoji when
/// <list type="bullet">
/// <item>its first code point is pictographic: U+1F000–U+1FAFF (mahjong and cards, enclosed alphanumerics and
/// ideographs, regional indicators, pictographs, emoticons, transport, supplemental symbols, skin-tone modifiers),
/// U+2600–U+27BF (miscellaneous symbols, dingbats), the emoji of U+2300–U+23FF (⌚ ⌛ ⌨ ⏏ ⏩–⏳ ⏸–⏺), ⬅ ⬆ ⬇ ⬛ ⬜ ⭐ ⭕,
/// ◽ ◾, 〰 〽 ㊗ ㊙; or</item>
/// <item>it contains the keycap mark U+20E3 (1️⃣, #️⃣); or</item>
/// <item>it contains the emoji presentation selector U+FE0F after a first code point that is not a letter or digit
/// (©️, ®️, ™️, ‼️, ↔️); text-style ©, ® and ™ without U+FE0F are kept; or</item>
/// <item>it starts with a stray emoji component (ZWJ, a variation selector, a skin-tone modifier or a tag character).</item>
/// </list></remarks>
internal static class Emoji
{
    public static bool IsEmojiCluster(ReadOnlySpan<char> cluster)
    {
        if (cluster.IsEmpty) return false;
        if (Rune.DecodeFromUtf16(cluster, out var first, out _) != System.Buffers.OperationStatus.Done) return false;
        int cp = first.Value;
        if (IsPictographic(cp) || IsComponent(cp)) return true;
        bool vs16 = false;
        foreach (var rune in cluster.EnumerateRunes())
        {
            if (rune.Value == 0x20E3) return true;
            if (rune.Value == 0xFE0F) vs16 = true;
        }
        return vs16 && !Rune.IsLetterOrDigit(first);
    }

    /// <summary>A code point that can only be part of an emoji sequence: ZWJ, VS15/VS16, skin tones, tag characters.</summary>
    private static bool IsComponent(int cp) => cp is 0x200D or 0xFE0E or 0xFE0F or (>= 0x1F3FB and <= 0x1F3FF) or (>= 0xE0020 and <= 0xE007F);

    public static bool IsPictographic(int cp) => cp switch
    {
        >= 0x1F000 and <= 0x1FAFF => true,
        >= 0x2600 and <= 0x27BF => true,
        0x231A or 0x231B or 0x2328 or 0x23CF => true,
        >= 0x23E9 and <= 0x23F3 => true,
        >= 0x23F8 and <= 0x23FA => true,
        >= 0x2B05 and <= 0x2B07 => true,
        0x2B1B or 0x2B1C or 0x2B50 or 0x2B55 => true,
        0x25FD or 0x25FE => true,
        0x3030 or 0x303D or 0x3297 or 0x3299 => true,
        _ => false,
    };

    /// <summary>Whether <paramref name="text"/> may contain an emoji at all (every emoji has a code unit ≥ U+2000).</summary>
    public static bool MayContainEmoji(ReadOnlySpan<char> text) => text.IndexOfAnyInRange('\u2000', '\uFFFF') >= 0;

    /// <summary>Removes every emoji cluster; a removed cluster between two non-space characters leaves one space.</summary>
    public static string Remove(string text, out int removed)
    {
        removed = 0;
        if (!MayContainEmoji(text)) return text;
        var span = text.AsSpan();
        StringBuilder? sb = null;
        int copied = 0, i = 0;
        while (i < span.Length)
        {
            int length = StringInfo.GetNextTextElementLength(span[i..]);
            if (length <= 0) length = 1;
            if ((length > 1 || span[i] >= '\u2000') && IsEmojiCluster(span.Slice(i, length)))
            {
                sb ??= new StringBuilder(text.Length);
                sb.Append(span[copied..i]);
                removed++;
                int next = i + length;
                // Swallow directly following emoji so that a run of them leaves at most one space.
                while (next < span.Length)
                {
                    int l2 = StringInfo.GetNextTextElementLength(span[next..]);
                    if (l2 <= 0 || (l2 == 1 && span[next] < '\u2000') || !IsEmojiCluster(span.Slice(next, l2))) break;
                    removed++;
                    next += l2;
                }
                bool before = sb.Length > 0 && !char.IsWhiteSpace(sb[^1]);
                bool after = next < span.Length && !char.IsWhiteSpace(span[next]);
                if (before && after) sb.Append(' ');
                i = copied = next;
                continue;
            }
            i += length;
        }
        if (sb is null) return text;
        sb.Append(span[copied..]);
        return sb.ToString();
    }
}
