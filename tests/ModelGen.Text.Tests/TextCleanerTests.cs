using System.Diagnostics;
using System.Text;
using ModelGen.Data;
using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class TextCleanerTests
{
    private sealed record Review(string Text, int Label);

    [Test]
    public void Html_BreaksBecomeSpaces_EntitiesAreDecoded()
    {
        var report = new CleaningReport();
        string cleaned = new TextCleaner().Clean("Great movie!<br /><br />Loved it &amp; more", report);
        Assert.That(cleaned, Is.EqualTo("Great movie! Loved it & more"));
        Assert.That(report.HtmlTags, Is.EqualTo(2));
        Assert.That(report.HtmlEntities, Is.EqualTo(1));
        Assert.That(report.TextsChanged, Is.EqualTo(1));
    }

    [Test]
    public void Html_NumericAndNamedEntities()
    {
        var cleaner = new TextCleaner();
        Assert.That(cleaner.Clean("It&#39;s &quot;fine&quot; &ndash; &#x263A; &eacute;t&eacute;"), Is.EqualTo("It's \"fine\" – ☺ été"));
        Assert.That(cleaner.Clean("Tom &amp;amp; Jerry"), Is.EqualTo("Tom &amp; Jerry"), "entities are decoded once");
        Assert.That(cleaner.Clean("&lt;b&gt;not a tag&lt;/b&gt;"), Is.EqualTo("<b>not a tag</b>"), "decoded text is not parsed again");
    }

    [Test]
    public void Html_InlineTagsJoin_BlockTagsSeparate_ScriptsAndCommentsGo()
    {
        var cleaner = new TextCleaner();
        Assert.That(cleaner.Clean("<b>Great</b> <i>acting</i>, un<b>believ</b>able"), Is.EqualTo("Great acting, unbelievable"));
        Assert.That(cleaner.Clean("<p>First.</p><p>Second.</p><div class=\"x\">Third</div>"), Is.EqualTo("First. Second. Third"));
        Assert.That(cleaner.Clean("Hi<script type=\"text/javascript\">alert('x<y')</script> there<!-- a comment --> <STYLE>p{}</STYLE>!"), Is.EqualTo("Hi there !"));
        Assert.That(cleaner.Clean("<a href=\"https://example.com\">link</a> text"), Is.EqualTo("link text"));
    }

    [Test]
    public void Html_PlaceholdersComparisonsAndHeartsAreNotTags()
    {
        var cleaner = new TextCleaner();
        const string text = "Mail <EMAIL> or <PHONE> if a < b and c > d, <3";
        Assert.That(cleaner.Clean(text), Is.EqualTo(text));
    }

    [Test]
    public void Urls_AreRemovedWithoutTrailingPunctuation()
    {
        var report = new CleaningReport();
        var cleaner = new TextCleaner().RemoveUrls();
        Assert.That(cleaner.Clean("Trailer at https://youtu.be/dQw4w9WgXcQ?t=42 is great", report), Is.EqualTo("Trailer at is great"));
        Assert.That(cleaner.Clean("See www.imdb.com/title/tt0111161/.", report), Is.EqualTo("See ."));
        Assert.That(cleaner.Clean("(see https://en.wikipedia.org/wiki/Heat_(1995_film)) ok", report), Is.EqualTo("(see ) ok"));
        Assert.That(report.Urls, Is.EqualTo(3));
        Assert.That(new TextCleaner().RemoveUrls(replacement: "<URL>").Clean("go to http://a.example.org now"), Is.EqualTo("go to <URL> now"));
    }

    [Test]
    public void Emails_AreRemoved()
    {
        var report = new CleaningReport();
        string cleaned = new TextCleaner().RemoveEmails().Clean("Contact john.doe+films@example.co.uk for the DVD.", report);
        Assert.That(cleaned, Is.EqualTo("Contact for the DVD."));
        Assert.That(report.Emails, Is.EqualTo(1));
    }

    [Test]
    public void Emojis_WholeClustersGo_AccentsCjkAndTextSymbolsStay()
    {
        var report = new CleaningReport();
        var cleaner = new TextCleaner().RemoveEmojis();
        // thumbs up + skin tone, ZWJ family, US flag, heart + VS16, keycap 1, England (tag sequence), woman technologist (ZWJ)
        string text = "Loved it 👍🏽 so much 👨‍👩‍👧‍👦 🇺🇸 ❤️ 1️⃣ 🏴󠁧󠁢󠁥󠁮󠁧󠁿 👩🏾‍💻 café naïve Zoë 東京 © 2024 ™ ok";
        string cleaned = cleaner.Clean(text, report);
        Assert.That(cleaned, Is.EqualTo("Loved it so much café naïve Zoë 東京 © 2024 ™ ok"));
        Assert.That(report.Emojis, Is.EqualTo(7));
    }

    [Test]
    public void Emojis_BetweenWordsLeaveOneSpace_AndComponentsNeverSurviveAlone()
    {
        var cleaner = new TextCleaner().RemoveEmojis();
        Assert.That(cleaner.Clean("Great😍😍movie"), Is.EqualTo("Great movie"));
        Assert.That(cleaner.Clean("Tasty 🍕!"), Is.EqualTo("Tasty !"));
        string cleaned = cleaner.Clean("a 👍🏿👍 b 👨‍👩‍👧 c ©️ ✨✨ d");
        Assert.That(cleaned, Is.EqualTo("a b c d"));
        Assert.That(cleaned.EnumerateRunes().Any(r => r.Value is 0x200D or 0xFE0F or (>= 0x1F3FB and <= 0x1F3FF)), Is.False);
    }

    [Test]
    public void Emojis_EntityDecodedEmojiIsRemovedToo()
    {
        // HTML runs before emoji removal, whatever order the fluent calls came in.
        var a = new TextCleaner().RemoveEmojis().RemoveHtml().Lowercase();
        var b = new TextCleaner().Lowercase().RemoveHtml().RemoveEmojis();
        Assert.That(a.Clean("&#128512; Fun &#x1F44D;&#x1F3FD; SHOW"), Is.EqualTo("fun show"));
        Assert.That(b.Clean("&#128512; Fun &#x1F44D;&#x1F3FD; SHOW"), Is.EqualTo("fun show"));
    }

    [Test]
    public void OnlyEmoji_And_Empty_GiveEmpty()
    {
        var cleaner = TextCleaner.All;
        Assert.That(cleaner.Clean("😀😂👍🏽👨‍👩‍👧‍👦🇯🇵"), Is.EqualTo(""));
        Assert.That(cleaner.Clean(""), Is.EqualTo(""));
        Assert.That(cleaner.Clean("   \t\n "), Is.EqualTo(""));
        Assert.That(TextCleaner.None.Clean(""), Is.EqualTo(""));
    }

    [Test]
    public void ControlCharacters_AreRemoved_TabsAndNewlinesLeftToWhitespace()
    {
        var report = new CleaningReport();
        var cleaner = new TextCleaner().CollapseWhitespace(false);
        Assert.That(cleaner.Clean("a\u0000b\u200Bc\uFEFFd\u00ADe\u202Ef\tg\nh\u0007i\u000Bj", report), Is.EqualTo("abcdef\tg\nhi j"));
        Assert.That(report.ControlCharacters, Is.EqualTo(7));
        Assert.That(cleaner.Clean("bad \uD800 surrogate"), Is.EqualTo("bad  surrogate"));
        Assert.That(cleaner.Clean("پی\u200Cامک"), Is.EqualTo("پی\u200Cامک"), "ZWNJ is kept");
    }

    [Test]
    public void RepeatedPunctuation_Collapses_ButUrlsAndEmailsStay()
    {
        var report = new CleaningReport();
        var cleaner = new TextCleaner().CollapseRepeatedPunctuation();
        Assert.That(cleaner.Clean("Wow!!!! Really??? What?!?! Hmm..... ok,, fine.. end", report), Is.EqualTo("Wow! Really? What?! Hmm... ok, fine. end"));
        Assert.That(report.RepeatedPunctuation, Is.EqualTo(6));
        Assert.That(cleaner.Clean("see http://example.com//a--b?x=1!!! now"), Is.EqualTo("see http://example.com//a--b?x=1! now"));
        Assert.That(new TextCleaner().CollapseRepeatedPunctuation(keepEllipsis: false).Clean("So..."), Is.EqualTo("So."));
        Assert.That(cleaner.Clean("Wait... what?"), Is.EqualTo("Wait... what?"), "an ellipsis is not a repetition to collapse");
    }

    [Test]
    public void Whitespace_Collapses_AndCanKeepNewlines()
    {
        var report = new CleaningReport();
        Assert.That(new TextCleaner().Clean("  Good \t\u00A0 film \r\n\n bad  ending  ", report), Is.EqualTo("Good film bad ending"));
        Assert.That(report.WhitespaceRuns, Is.EqualTo(5));
        Assert.That(new TextCleaner().CollapseWhitespace(keepNewlines: true).Clean("Line one. \n\n  Line two."), Is.EqualTo("Line one.\nLine two."));
    }

    [Test]
    public void Lowercase_KeepsPlaceholders()
    {
        Assert.That(new TextCleaner().Lowercase().Clean("Hello <EMAIL> WORLD Ångström"), Is.EqualTo("hello <EMAIL> world ångström"));
    }

    [Test]
    public void Normalization_ComposesToNfc()
    {
        var report = new CleaningReport();
        string cleaned = new TextCleaner().Clean("Cafe\u0301 ame\u0301lie", report);
        Assert.That(cleaned, Is.EqualTo("Café amélie"));
        Assert.That(cleaned.Length, Is.EqualTo(11));
        Assert.That(report.NormalizedTexts, Is.EqualTo(1));
        Assert.That(TextCleaner.None.Clean("Cafe\u0301"), Is.EqualTo("Cafe\u0301"), "switched off");
        Assert.That(new TextCleaner().NormalizeUnicode(NormalizationForm.FormKC).Clean("ﬁne ①"), Is.EqualTo("fine 1"));
    }

    [Test]
    public void None_ChangesNothing_All_ChangesEverything()
    {
        const string messy = "  <b>WOW</b>!!! 😀 Visit https://x.example.com or mail a@b.org &amp; more\u200B  ";
        Assert.That(TextCleaner.None.Clean(messy), Is.EqualTo(messy));
        Assert.That(TextCleaner.All.Lowercase().Clean(messy), Is.EqualTo("wow! visit or mail & more"));
    }

    [Test]
    public void Report_AccumulatesOverTexts_AndAdds()
    {
        var cleaner = TextCleaner.All;
        var a = new CleaningReport();
        var b = new CleaningReport();
        cleaner.Clean("one <br> two", a);
        cleaner.Clean("already clean", a);
        cleaner.Clean("😀 three!!", b);
        a.Add(b);
        Assert.That(a.Texts, Is.EqualTo(3));
        Assert.That(a.TextsChanged, Is.EqualTo(2));
        Assert.That(a.HtmlTags, Is.EqualTo(1));
        Assert.That(a.Emojis, Is.EqualTo(1));
        Assert.That(a.RepeatedPunctuation, Is.EqualTo(1));
        Assert.That(a.ToString(), Does.Contain("3 texts, 2 changed"));
    }

    [Test]
    public void Dataset_MapCleansEveryRow_AndKeepsLabels()
    {
        var data = Dataset.From(new[]
        {
            new Review("Great movie!<br /><br />Loved it &amp; more", 1),
            new Review("Terrible!!!! 😡 Avoid.", 0),
        });
        var cleaner = TextCleaner.All;
        var cleaned = data.Map(row => row with { Text = cleaner.Clean(row.Text) });
        Assert.That(cleaned.Select(r => r.Text), Is.EqualTo(new[] { "Great movie! Loved it & more", "Terrible! Avoid." }));
        Assert.That(cleaned.Select(r => r.Label), Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void OneMegabyte_IsCleanedInReasonableTime()
    {
        var sb = new StringBuilder();
        const string review = "Great movie!!!<br /><br />Loved it &amp; more 👍🏽 see https://example.com/a?b=c or mail x.y@example.org\u200B  café  ";
        while (sb.Length < 1 << 20) sb.Append(review);
        string text = sb.ToString();
        var report = new CleaningReport();
        var cleaner = TextCleaner.All.Lowercase();
        cleaner.Clean(review); // warm up the regexes
        var watch = Stopwatch.StartNew();
        string cleaned = cleaner.Clean(text, report);
        watch.Stop();
        int copies = text.Length / review.Length;
        Assert.That(report.Emojis, Is.EqualTo(copies));
        Assert.That(report.Urls, Is.EqualTo(copies));
        Assert.That(report.Emails, Is.EqualTo(copies));
        Assert.That(cleaned, Does.StartWith("great movie! loved it & more see or mail café great movie!"));
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(5), $"1 MB took {watch.Elapsed.TotalSeconds:F2} s");
        TestContext.Out.WriteLine($"1 MB cleaned in {watch.Elapsed.TotalMilliseconds:F0} ms: {report}");

        // A megabyte without a space that almost matches an e-mail address or a URL must not make a step quadratic.
        string word = new string('a', 1 << 20) + "@b http://" + new string('c', 1 << 20);
        watch.Restart();
        Assert.That(cleaner.Clean(word), Is.EqualTo(new string('a', 1 << 20) + "@b"));
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(5), $"1 MB word took {watch.Elapsed.TotalSeconds:F2} s");
    }

    [Test]
    public void NullText_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new TextCleaner().Clean(null!));
    }
}
