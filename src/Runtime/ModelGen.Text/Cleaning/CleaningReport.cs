using System.Globalization;

namespace ModelGen.Text.Cleaning;

/// <summary>What <see cref="TextCleaner.Clean(string, CleaningReport?)"/> changed, counted per step and summed over every
/// text cleaned with the same report. Not thread-safe: use one report per thread and <see cref="Add"/> them.</summary>
public sealed class CleaningReport
{
    /// <summary>Texts cleaned.</summary>
    public int Texts { get; internal set; }

    /// <summary>Texts that came out different from how they went in.</summary>
    public int TextsChanged { get; internal set; }

    /// <summary>HTML tags, comments and script/style blocks removed.</summary>
    public int HtmlTags { get; internal set; }

    /// <summary>HTML character references decoded (<c>&amp;amp;</c>, <c>&amp;#39;</c>, <c>&amp;#x1F600;</c>).</summary>
    public int HtmlEntities { get; internal set; }

    /// <summary>Texts that Unicode normalisation changed.</summary>
    public int NormalizedTexts { get; internal set; }

    /// <summary>Control and invisible format characters removed.</summary>
    public int ControlCharacters { get; internal set; }

    /// <summary>E-mail addresses removed.</summary>
    public int Emails { get; internal set; }

    /// <summary>URLs removed.</summary>
    public int Urls { get; internal set; }

    /// <summary>Emoji grapheme clusters removed (a ZWJ family or a flag counts once).</summary>
    public int Emojis { get; internal set; }

    /// <summary>Runs of repeated punctuation collapsed ("!!!!" → "!").</summary>
    public int RepeatedPunctuation { get; internal set; }

    /// <summary>Whitespace runs replaced by one space (or trimmed at either end).</summary>
    public int WhitespaceRuns { get; internal set; }

    /// <summary>Texts that lowercasing changed.</summary>
    public int LowercasedTexts { get; internal set; }

    /// <summary>Adds the counts of <paramref name="other"/> to this report.</summary>
    public void Add(CleaningReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Texts += other.Texts;
        TextsChanged += other.TextsChanged;
        HtmlTags += other.HtmlTags;
        HtmlEntities += other.HtmlEntities;
        NormalizedTexts += other.NormalizedTexts;
        ControlCharacters += other.ControlCharacters;
        Emails += other.Emails;
        Urls += other.Urls;
        Emojis += other.Emojis;
        RepeatedPunctuation += other.RepeatedPunctuation;
        WhitespaceRuns += other.WhitespaceRuns;
        LowercasedTexts += other.LowercasedTexts;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Texts} texts, {TextsChanged} changed: {HtmlTags} HTML tags, {HtmlEntities} entities, {NormalizedTexts} normalised, " +
        $"{ControlCharacters} control characters, {Emails} e-mails, {Urls} URLs, {Emojis} emojis, " +
        $"{RepeatedPunctuation} punctuation runs, {WhitespaceRuns} whitespace runs, {LowercasedTexts} lowercased");
}
