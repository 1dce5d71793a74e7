using System.Diagnostics;
using System.Text;
using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class PiiScrubberTests
{
    private static readonly PiiScrubber Scrubber = new();

    [TestCase("Write to jane.doe+news@mail.example.co.uk today.", "Write to <EMAIL> today.")]
    [TestCase("Mail: JOHN_SMITH@Example.COM, thanks", "Mail: <EMAIL>, thanks")]
    public void Emails(string text, string expected)
    {
        var report = new PiiReport();
        Assert.That(Scrubber.Scrub(text, report), Is.EqualTo(expected));
        Assert.That(report.Emails, Is.EqualTo(1));
        Assert.That(report.Total, Is.EqualTo(1));
    }

    [TestCase("Call +44 20 7946 0958 now", "Call <PHONE> now")]
    [TestCase("Call +1 (555) 123-4567.", "Call <PHONE>.")]
    [TestCase("Ruf an: +49 (30) 1234567", "Ruf an: <PHONE>")]
    [TestCase("WhatsApp +4915112345678!", "WhatsApp <PHONE>!")]
    [TestCase("Tel. +33 1 42 68 53 00 (office)", "Tel. <PHONE> (office)")]
    [TestCase("Phone (555) 123-4567 or 555-123-4567", "Phone <PHONE> or <PHONE>")]
    [TestCase("Dots 555.123.4567 and toll-free 1-800-555-0199", "Dots <PHONE> and toll-free <PHONE>")]
    [TestCase("no space (555)123-4567", "no space <PHONE>")]
    [TestCase("+44 20 7946 0958 2023 was the year", "<PHONE> 2023 was the year")]
    public void Phones(string text, string expected)
    {
        Assert.That(Scrubber.Scrub(text), Is.EqualTo(expected));
    }

    [TestCase("I paid 1234 dollars for 2 tickets")]
    [TestCase("Released on 2023-10-12 at 19:30")]
    [TestCase("Order 5551234567 shipped")]
    [TestCase("Score 7/10, runtime 142 min, budget $25,000,000")]
    [TestCase("Version 1.2.3.4.5 of the app")]
    [TestCase("An invalid address 999.1.1.1 and 01.02.03.04")]
    [TestCase("Not a card: 4111 1111 1111 1112")]
    [TestCase("A short +12 34")]
    public void NotPersonalData(string text)
    {
        var report = new PiiReport();
        Assert.That(Scrubber.Scrub(text, report), Is.EqualTo(text));
        Assert.That(report.Total, Is.Zero);
        Assert.That(report.TextsChanged, Is.Zero);
    }

    [TestCase("Card 4111 1111 1111 1111 expired", "Card <CARD> expired")]
    [TestCase("Card 4111-1111-1111-1111.", "Card <CARD>.")]
    [TestCase("Card 4111111111111111", "Card <CARD>")]
    [TestCase("Amex 378282246310005 and Mastercard 5555 5555 5555 4444", "Amex <CARD> and Mastercard <CARD>")]
    public void CreditCards_AreLuhnChecked(string text, string expected)
    {
        Assert.That(Scrubber.Scrub(text), Is.EqualTo(expected));
    }

    [Test]
    public void Luhn()
    {
        Assert.That(PiiScrubber.Luhn([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]), Is.True);
        Assert.That(PiiScrubber.Luhn([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]), Is.False);
    }

    [TestCase("Server 192.168.1.254 is down", "Server <IP> is down")]
    [TestCase("Ping 10.0.0.1.", "Ping <IP>.")]
    [TestCase("from 8.8.8.8, 255.255.255.255 and 0.0.0.0", "from <IP>, <IP> and <IP>")]
    public void IPv4(string text, string expected)
    {
        Assert.That(Scrubber.Scrub(text), Is.EqualTo(expected));
    }

    [TestCase("Use https://api.example.com/v1/data?api_key=abc123&format=json please", "Use <URL> please")]
    [TestCase("https://example.com/login?user=bob&password=hunter2", "<URL>")]
    [TestCase("Admin: https://admin:s3cret@example.com/panel.", "Admin: <URL>.")]
    [TestCase("callback https://app.example.com/cb#access_token=eyJhbGciOi&state=1", "callback <URL>")]
    [TestCase("s3 https://bucket.s3.amazonaws.com/f.csv?X-Amz-Signature=abcd&X-Amz-Date=1", "s3 <URL>")]
    [TestCase("www.example.com/reset?token=Zm9vYmFy", "<URL>")]
    [TestCase("sdk https://x.example.com/?accessToken=1", "sdk <URL>")]
    public void UrlsWithSecrets(string text, string expected)
    {
        var report = new PiiReport();
        Assert.That(Scrubber.Scrub(text, report), Is.EqualTo(expected));
        Assert.That(report.Urls, Is.EqualTo(1));
        Assert.That(report.Emails, Is.Zero, "user info is part of the URL, not an e-mail");
    }

    [TestCase("See https://example.com/products?page=2&sort=price for more")]
    [TestCase("Read www.imdb.com/title/tt0111161/ first")]
    [TestCase("Empty https://example.com/?token= value")]
    [TestCase("Monkey https://zoo.example.com/?animal=monkey")]
    public void UrlsWithoutSecrets_AreKept(string text)
    {
        Assert.That(Scrubber.Scrub(text), Is.EqualTo(text));
        Assert.That(new PiiScrubber(new PiiScrubberOptions { AllUrls = true }).Scrub(text), Does.Contain("<URL>"));
    }

    [Test]
    public void PersonalDataInsideAnOrdinaryUrl_IsStillReplaced()
    {
        Assert.That(Scrubber.Scrub("http://192.168.0.1/admin"), Is.EqualTo("http://<IP>/admin"));
    }

    [Test]
    public void Mixed_CountsEachKind_AndIsIdempotent()
    {
        const string text = "Hi, I'm Ann (ann@example.org, +1 (555) 123-4567). My card 4111 1111 1111 1111 was charged from "
            + "203.0.113.7; see https://shop.example.com/order?session=9f8e7d. Call 555-987-6543 or mail bob@example.net.";
        var report = new PiiReport();
        string scrubbed = Scrubber.Scrub(text, report);
        Assert.That(scrubbed, Is.EqualTo("Hi, I'm Ann (<EMAIL>, <PHONE>). My card <CARD> was charged from <IP>; see <URL>. Call <PHONE> or mail <EMAIL>."));
        Assert.That((report.Emails, report.Phones, report.CreditCards, report.IPv4Addresses, report.Urls), Is.EqualTo((2, 2, 1, 1, 1)));
        Assert.That(report.Total, Is.EqualTo(7));
        Assert.That(Scrubber.Scrub(scrubbed), Is.EqualTo(scrubbed));

        var found = Scrubber.Find(text);
        Assert.That(found.Select(f => f.Kind), Is.EqualTo(new[]
        {
            PiiKind.Email, PiiKind.Phone, PiiKind.CreditCard, PiiKind.IPv4, PiiKind.Url, PiiKind.Phone, PiiKind.Email,
        }));
        Assert.That(found[0].Value, Is.EqualTo("ann@example.org"));
        Assert.That(text.Substring(found[2].Index, found[2].Length), Is.EqualTo("4111 1111 1111 1111"));
    }

    [Test]
    public void Options_SwitchKindsOff_AndChangePlaceholders()
    {
        var scrubber = new PiiScrubber(new PiiScrubberOptions { Phones = false, EmailPlaceholder = "[email]" });
        Assert.That(scrubber.Scrub("a@b.co 555-123-4567"), Is.EqualTo("[email] 555-123-4567"));
    }

    [Test]
    public void Report_AccumulatesAndAdds()
    {
        var a = new PiiReport();
        var b = new PiiReport();
        Scrubber.Scrub("x@y.com", a);
        Scrubber.Scrub("nothing here", a);
        Scrubber.Scrub("10.1.2.3", b);
        a.Add(b);
        Assert.That((a.Texts, a.TextsChanged, a.Emails, a.IPv4Addresses, a.Count(PiiKind.IPv4)), Is.EqualTo((3, 2, 1, 1, 1)));
    }

    [Test]
    public void EmptyAndOneMegabyte()
    {
        Assert.That(Scrubber.Scrub(""), Is.EqualTo(""));
        var sb = new StringBuilder();
        const string line = "Mail ann@example.org or call +44 20 7946 0958, card 4111 1111 1111 1111, host 10.0.0.1, order 12345678. ";
        while (sb.Length < 1 << 20) sb.Append(line);
        var report = new PiiReport();
        var watch = Stopwatch.StartNew();
        string scrubbed = Scrubber.Scrub(sb.ToString(), report);
        watch.Stop();
        int copies = sb.Length / line.Length;
        Assert.That((report.Emails, report.Phones, report.CreditCards, report.IPv4Addresses), Is.EqualTo((copies, copies, copies, copies)));
        Assert.That(scrubbed, Does.StartWith("Mail <EMAIL> or call <PHONE>, card <CARD>, host <IP>, order 12345678. Mail"));
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(10), $"1 MB took {watch.Elapsed.TotalSeconds:F2} s");
        TestContext.Out.WriteLine($"1 MB scrubbed in {watch.Elapsed.TotalMilliseconds:F0} ms: {report}");
    }
}
