using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen.Text.Cleaning;

/// <summary>The kinds of personal data <see cref="PiiScrubber"/> finds.</summary>
public enum PiiKind
{
    Email,
    Phone,
    Url,
    CreditCard,
    IPv4,
}

/// <summary>One piece of personal data found in a text.</summary>
public readonly record struct PiiMatch(PiiKind Kind, int Index, int Length, string Value);

/// <summary>Which kinds <see cref="PiiScrubber"/> replaces, and with what.</summary>
public sealed record PiiScrubberOptions
{
    public bool Emails { get; init; } = true;
    public bool Phones { get; init; } = true;

    /// <summary>URLs that carry credentials: user info (<c>https://user:pass@host</c>) or a query or fragment parameter
    /// whose name marks a secret (see <see cref="SecretParameterNames"/>).</summary>
    public bool UrlsWithSecrets { get; init; } = true;

    /// <summary>Every URL, not only those with secrets.</summary>
    public bool AllUrls { get; init; }

    /// <summary>13–19 digit numbers (optionally grouped by spaces or dashes) that pass the Luhn check.</summary>
    public bool CreditCards { get; init; } = true;

    public bool IPv4Addresses { get; init; } = true;

    public string EmailPlaceholder { get; init; } = "<EMAIL>";
    public string PhonePlaceholder { get; init; } = "<PHONE>";
    public string UrlPlaceholder { get; init; } = "<URL>";
    public string CreditCardPlaceholder { get; init; } = "<CARD>";
    public string IPv4Placeholder { get; init; } = "<IP>";

    /// <summary>Query/fragment parameter names that mark a secret. A parameter name matches when, lowercased and split
    /// at <c>_ - . [ ]</c>, one of its parts is in this set, or when all of it with the separators removed is
    /// (<c>api_key</c>, <c>X-Amz-Signature</c>, <c>accessToken</c> → "accesstoken"). Parameters with an empty value don't count.</summary>
    public IReadOnlySet<string> SecretParameterNames { get; init; } = DefaultSecretParameterNames;

    public static IReadOnlySet<string> DefaultSecretParameterNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "key", "apikey", "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "auth", "authorization", "bearer",
        "jwt", "secret", "clientsecret", "password", "passwd", "pwd", "pass", "passcode", "signature", "sig", "session",
        "sessionid", "sid", "credential", "credentials", "code", "otp", "privatekey", "accesskey", "secretkey",
    };
}

/// <summary>What <see cref="PiiScrubber"/> replaced, counted per kind and summed over every text scrubbed with the same
/// report. Not thread-safe.</summary>
public sealed class PiiReport
{
    private readonly int[] _counts = new int[5];

    public int Texts { get; internal set; }
    public int TextsChanged { get; internal set; }

    public int Emails => _counts[(int)PiiKind.Email];
    public int Phones => _counts[(int)PiiKind.Phone];
    public int Urls => _counts[(int)PiiKind.Url];
    public int CreditCards => _counts[(int)PiiKind.CreditCard];
    public int IPv4Addresses => _counts[(int)PiiKind.IPv4];

    /// <summary>All replacements.</summary>
    public int Total => _counts.Sum();

    public int Count(PiiKind kind) => _counts[(int)kind];

    internal void Increment(PiiKind kind) => _counts[(int)kind]++;

    public void Add(PiiReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Texts += other.Texts;
        TextsChanged += other.TextsChanged;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Texts} texts, {TextsChanged} changed: {Emails} e-mails, {Phones} phones, {Urls} URLs, {CreditCards} cards, {IPv4Addresses} IPv4");
}

/// <summary>Replaces personal data with placeholders: e-mail addresses (<c>&lt;EMAIL&gt;</c>), phone numbers in
/// international (+CC …, 8–15 digits) and US formats (<c>&lt;PHONE&gt;</c>), URLs with credentials or tokens
/// (<c>&lt;URL&gt;</c>), Luhn-valid card numbers (<c>&lt;CARD&gt;</c>) and IPv4 addresses (<c>&lt;IP&gt;</c>).
/// Immutable and thread-safe.</summary>
/// <remarks>
/// <para>Detectors run in a fixed priority order and a later one never matches inside an earlier one's match: URLs
/// with secrets (so <c>https://user:pw@host</c> is one URL, not an e-mail), e-mail addresses, card numbers, IPv4
/// addresses, phone numbers, and last (with <see cref="PiiScrubberOptions.AllUrls"/>) the remaining URLs. An IP address
/// or e-mail inside a URL without secrets is therefore still replaced, inside the URL.</para>
/// <para>US phones: optional leading 1, a 3-digit area code in parentheses or followed by a space, dot or dash,
/// 3 digits, a separator, 4 digits — "(555) 123-4567", "555-123-4567", "555.123.4567", "1-800-555-0199". A bare
/// 10-digit number is not taken for a phone (it is as likely an order number). International: "+" and 8–15 digits
/// grouped by single spaces, dots, dashes or a parenthesised group ("+44 20 7946 0958", "+49 (30) 1234567",
/// "+4915112345678"). Card numbers: 13–19 digits, either ungrouped or grouped consistently by spaces or by dashes,
/// and Luhn-valid; a 16-digit number failing Luhn is left alone. IPv4: four dotted octets 0–255 without leading zeros,
/// not part of a longer dotted number.</para>
/// <para>Placeholders are never matched again, so scrubbing is idempotent.</para>
/// </remarks>
public sealed partial class PiiScrubber
{
    public PiiScrubber() : this(new PiiScrubberOptions()) { }

    public PiiScrubber(PiiScrubberOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    public PiiScrubberOptions Options { get; }

    [GeneratedRegex(@"(?<![\w+\-])\d(?:[ \-]?\d){12,18}(?![\w\-])", RegexOptions.CultureInvariant)]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)", RegexOptions.CultureInvariant)]
    private static partial Regex IPv4();

    [GeneratedRegex(@"(?<![\w+/.\-])(?:1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w/]|[.\-]\d)", RegexOptions.CultureInvariant)]
    private static partial Regex UsPhone();

    [GeneratedRegex(@"(?<![\w+/.\-])\+\d[\d ().\-]{5,24}\d(?![\w/])", RegexOptions.CultureInvariant)]
    private static partial Regex InternationalCandidate();

    /// <summary>Replaces the personal data in <paramref name="text"/>.</summary>
    public string Scrub(string text) => Scrub(text, null);

    /// <summary>Replaces the personal data in <paramref name="text"/> and counts the replacements in <paramref name="report"/>.</summary>
    public string Scrub(string text, PiiReport? report)
    {
        ArgumentNullException.ThrowIfNull(text);
        var matches = Find(text);
        if (report is not null)
        {
            report.Texts++;
            if (matches.Count > 0) report.TextsChanged++;
            foreach (var m in matches) report.Increment(m.Kind);
        }
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int copied = 0;
        foreach (var m in matches)
        {
            sb.Append(text, copied, m.Index - copied).Append(Placeholder(m.Kind));
            copied = m.Index + m.Length;
        }
        sb.Append(text, copied, text.Length - copied);
        return sb.ToString();
    }

    /// <summary>The personal data in <paramref name="text"/>, sorted by position and never overlapping.</summary>
    public IReadOnlyList<PiiMatch> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var o = Options;
        var found = new List<PiiMatch>();
        var taken = new bool[text.Length];
        List<(int Index, int Length)>? urls = null;
        if (o.UrlsWithSecrets || o.AllUrls) urls = TextPatterns.Urls(text);
        if (o.UrlsWithSecrets && urls is not null)
            foreach (var (index, length) in urls)
                if (HasSecret(text.AsSpan(index, length), o.SecretParameterNames)) TryAdd(found, taken, new(PiiKind.Url, index, length, text.Substring(index, length)));
        if (o.Emails && text.Contains('@'))
            foreach (var m in TextPatterns.Email.EnumerateMatches(text)) TryAdd(found, taken, new(PiiKind.Email, m.Index, m.Length, text.Substring(m.Index, m.Length)));
        if (o.CreditCards)
            foreach (Match m in CardCandidate().Matches(text))
                if (IsCardNumber(m.Value)) TryAdd(found, taken, new(PiiKind.CreditCard, m.Index, m.Length, m.Value));
        if (o.IPv4Addresses && text.Contains('.'))
            foreach (Match m in IPv4().Matches(text)) TryAdd(found, taken, new(PiiKind.IPv4, m.Index, m.Length, m.Value));
        if (o.Phones)
        {
            if (text.Contains('+'))
                foreach (Match m in InternationalCandidate().Matches(text))
                {
                    int length = InternationalLength(m.Value);
                    if (length > 0) TryAdd(found, taken, new(PiiKind.Phone, m.Index, length, m.Value[..length]));
                }
            foreach (Match m in UsPhone().Matches(text)) TryAdd(found, taken, new(PiiKind.Phone, m.Index, m.Length, m.Value));
        }
        if (o.AllUrls && urls is not null)
            foreach (var (index, length) in urls) TryAdd(found, taken, new(PiiKind.Url, index, length, text.Substring(index, length)));
        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        return found;
    }

    private string Placeholder(PiiKind kind) => kind switch
    {
        PiiKind.Email => Options.EmailPlaceholder,
        PiiKind.Phone => Options.PhonePlaceholder,
        PiiKind.Url => Options.UrlPlaceholder,
        PiiKind.CreditCard => Options.CreditCardPlaceholder,
        _ => Options.IPv4Placeholder,
    };

    /// <summary>Adds <paramref name="match"/> unless it overlaps a match found before.</summary>
    private static void TryAdd(List<PiiMatch> found, bool[] taken, PiiMatch match)
    {
        var range = taken.AsSpan(match.Index, match.Length);
        if (range.Contains(true)) return;
        range.Fill(true);
        found.Add(match);
    }

    /// <summary>Whether a URL carries user info or a secret query/fragment parameter.</summary>
    internal static bool HasSecret(ReadOnlySpan<char> url, IReadOnlySet<string> names)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        var rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        int authorityEnd = rest.IndexOfAny('/', '?', '#');
        var authority = authorityEnd >= 0 ? rest[..authorityEnd] : rest;
        if (authority.Contains('@')) return true;
        int q = rest.IndexOfAny('?', '#');
        if (q < 0) return false;
        var query = rest[(q + 1)..];
        foreach (var range in query.SplitAny("&;#?"))
        {
            var pair = query[range];
            int eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1) continue;
            if (IsSecretName(pair[..eq], names)) return true;
        }
        return false;
    }

    private static bool IsSecretName(ReadOnlySpan<char> name, IReadOnlySet<string> names)
    {
        string decoded = Uri.UnescapeDataString(name.ToString()).ToLowerInvariant();
        var joined = new StringBuilder(decoded.Length);
        foreach (var part in decoded.Split(['_', '-', '.', '[', ']'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (names.Contains(part)) return true;
            joined.Append(part);
        }
        return names.Contains(joined.ToString());
    }

    /// <summary>A 13–19 digit number, grouped by one kind of separator or none, passing the Luhn check.</summary>
    internal static bool IsCardNumber(string candidate)
    {
        bool space = candidate.Contains(' '), dash = candidate.Contains('-');
        if (space && dash) return false;
        Span<int> digits = stackalloc int[19];
        int n = 0;
        foreach (char c in candidate)
        {
            if (!char.IsAsciiDigit(c)) continue;
            if (n == 19) return false;
            digits[n++] = c - '0';
        }
        if (n < 13) return false;
        return Luhn(digits[..n]);
    }

    /// <summary>The Luhn (mod 10) check over <paramref name="digits"/>, the check digit last.</summary>
    public static bool Luhn(ReadOnlySpan<int> digits)
    {
        int sum = 0;
        for (int i = 0; i < digits.Length; i++)
        {
            int d = digits[digits.Length - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    /// <summary>"+", digits, single separators (space, dot, dash) between digit groups, and parenthesised digit groups
    /// (not nested, not empty); it ends with a digit or ")".</summary>
    private static bool WellFormedInternational(ReadOnlySpan<char> s)
    {
        if (s.Length < 2 || s[0] != '+' || !char.IsAsciiDigit(s[1])) return false;
        bool inParen = false;
        char prev = s[1];
        for (int i = 2; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsAsciiDigit(c)) { prev = c; continue; }
            switch (c)
            {
                case '(':
                    if (inParen || prev == '(' || prev == ')') return false;
                    inParen = true;
                    break;
                case ')':
                    if (!inParen || !char.IsAsciiDigit(prev)) return false;
                    inParen = false;
                    break;
                case ' ' or '.' or '-':
                    if (!(char.IsAsciiDigit(prev) || prev == ')')) return false;
                    break;
                default:
                    return false;
            }
            prev = c;
        }
        return !inParen && (char.IsAsciiDigit(prev) || prev == ')');
    }

    /// <summary>The length of the longest prefix of an international candidate that is a well-formed phone number
    /// with 8–15 digits and ends at a digit group, or 0.</summary>
    private static int InternationalLength(string candidate)
    {
        for (int length = candidate.Length; length >= 9; length--)
        {
            char last = candidate[length - 1];
            if (!(char.IsAsciiDigit(last) || last == ')')) continue;
            if (length < candidate.Length && char.IsAsciiDigit(candidate[length])) continue; // cut inside a group
            var prefix = candidate.AsSpan(0, length);
            int digits = 0;
            foreach (char c in prefix) if (char.IsAsciiDigit(c)) digits++;
            if (digits is < 8 or > 15) continue;
            if (WellFormedInternational(prefix)) return length;
        }
        return 0;
    }
}
