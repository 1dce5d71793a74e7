using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen.Text.Cleaning;

/// <summary>What to do when several dictionary words are equally good corrections.</summary>
public enum TypoTieBreak
{
    /// <summary>Keep the original word and count it as ambiguous (the default: no guess).</summary>
    KeepOriginal,

    /// <summary>Take the ordinally smallest candidate.</summary>
    Lexicographic,
}

/// <summary>Settings of <see cref="TypoCorrector"/>.</summary>
public sealed record TypoCorrectorOptions
{
    /// <summary>The largest edit distance of a correction (1 or 2).</summary>
    public int MaxDistance { get; init; } = 2;

    /// <summary>SymSpell's prefix length: delete variants are built from the first this many characters.</summary>
    public int PrefixLength { get; init; } = 7;

    /// <summary>Shorter words are never corrected (a 2-letter typo has too many neighbours).</summary>
    public int MinWordLength { get; init; } = 3;

    /// <summary>Correct words written with a leading capital ("Teh" → "The").</summary>
    public bool CorrectCapitalizedWords { get; init; } = true;

    /// <summary>Correct words written in capitals ("TEH" → "THE"); off by default because they are mostly acronyms.</summary>
    public bool CorrectUppercaseWords { get; init; }

    public TypoTieBreak TieBreak { get; init; } = TypoTieBreak.KeepOriginal;
}

/// <summary>A correction candidate for a word.</summary>
public readonly record struct TypoSuggestion(string Word, int Distance, long Frequency);

/// <summary>One kind of change the corrector made, and how often.</summary>
public readonly record struct TypoChange(string Original, string Replacement, int Distance, int Count);

/// <summary>What <see cref="TypoCorrector.Correct(string, TypoReport?)"/> did, summed over every text corrected with the
/// same report. Not thread-safe.</summary>
public sealed class TypoReport
{
    private readonly Dictionary<(string, string), (int Distance, int Count)> _changes = [];
    private readonly Dictionary<string, int> _ambiguous = new(StringComparer.Ordinal);

    public int Texts { get; internal set; }
    public int TextsChanged { get; internal set; }

    /// <summary>Words looked at (after the protected tokens were set aside).</summary>
    public int Words { get; internal set; }

    /// <summary>Words found in the dictionary.</summary>
    public int Known { get; internal set; }

    /// <summary>Words replaced by a correction.</summary>
    public int Corrected { get; internal set; }

    /// <summary>Unknown words with several equally good candidates, kept (with <see cref="TypoTieBreak.KeepOriginal"/>).</summary>
    public int Ambiguous { get; internal set; }

    /// <summary>Unknown words with no candidate within the maximum distance, kept.</summary>
    public int Unknown { get; internal set; }

    /// <summary>Tokens not looked at: numbers, URLs, e-mails, placeholders, identifiers, mixed-case and short words.</summary>
    public int Skipped { get; internal set; }

    /// <summary>The changes made, most frequent first.</summary>
    public IReadOnlyList<TypoChange> Changes => _changes
        .Select(kv => new TypoChange(kv.Key.Item1, kv.Key.Item2, kv.Value.Distance, kv.Value.Count))
        .OrderByDescending(c => c.Count).ThenBy(c => c.Original, StringComparer.Ordinal).ThenBy(c => c.Replacement, StringComparer.Ordinal)
        .ToArray();

    /// <summary>The ambiguous words and how often each was seen.</summary>
    public IReadOnlyDictionary<string, int> AmbiguousWords => _ambiguous;

    internal void AddChange(string original, string replacement, int distance)
    {
        Corrected++;
        var key = (original, replacement);
        _changes[key] = _changes.TryGetValue(key, out var v) ? (distance, v.Count + 1) : (distance, 1);
    }

    internal void AddAmbiguous(string word)
    {
        Ambiguous++;
        _ambiguous[word] = _ambiguous.GetValueOrDefault(word) + 1;
    }

    public void Add(TypoReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Texts += other.Texts; TextsChanged += other.TextsChanged; Words += other.Words; Known += other.Known;
        Unknown += other.Unknown; Skipped += other.Skipped;
        foreach (var c in other.Changes)
        {
            var key = (c.Original, c.Replacement);
            _changes[key] = _changes.TryGetValue(key, out var v) ? (c.Distance, v.Count + c.Count) : (c.Distance, c.Count);
            Corrected += c.Count;
        }
        foreach (var (word, count) in other._ambiguous)
        {
            _ambiguous[word] = _ambiguous.GetValueOrDefault(word) + count;
            Ambiguous += count;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Texts} texts, {TextsChanged} changed: {Words} words, {Known} known, {Corrected} corrected, {Ambiguous} ambiguous, {Unknown} unknown, {Skipped} skipped");
}

/// <summary>Typo detection and correction against a word list by edit distance, with a SymSpell-style symmetric-delete
/// index (Wolf Garbe's algorithm: the dictionary's delete variants are precomputed, so a lookup only generates the
/// input's delete variants). Immutable and thread-safe once built.</summary>
/// <remarks>
/// <para><b>Dictionary.</b> Words are compared case-insensitively: "the" in the list accepts "The" and "THE", and a
/// proper noun ("Aaron") accepts "aaron". Apostrophes count as letters ("don't" is a word; the curly ’ is read as ');
/// a possessive "X's" is known when X is. Distance is the optimal-string-alignment (restricted Damerau–Levenshtein)
/// distance, so an adjacent transposition ("teh") costs 1.</para>
/// <para><b>Choosing a correction</b> among the candidates within <see cref="TypoCorrectorOptions.MaxDistance"/>:
/// (1) the smallest distance; (2) if frequencies were given, the most frequent; (3) a candidate made of exactly the
/// typo's letters (a transposition: "recieve" → "receive" rather than "relieve"); (4) a candidate with the same first
/// letter (first letters are rarely mistyped). If one candidate is left it is used; if several are, the word is kept
/// and counted as ambiguous (<see cref="TypoTieBreak.KeepOriginal"/>) or the ordinally smallest is taken
/// (<see cref="TypoTieBreak.Lexicographic"/>).</para>
/// <para><b>Never touched</b>: whitespace-separated chunks that contain a digit, a URL, an e-mail address, a
/// placeholder (<c>&lt;EMAIL&gt;</c>) or any of <c>@ / \ _ = # &lt; &gt; { } | ~ ^ ` $ %</c> (code, paths, handles);
/// words shorter than <see cref="TypoCorrectorOptions.MinWordLength"/>; words with a capital after the first letter
/// ("ModelGen", "iPhone"); all-capital words unless <see cref="TypoCorrectorOptions.CorrectUppercaseWords"/>.</para>
/// <para><b>Capitalisation</b> is kept: "Teh" → "The", "TEH" → "THE"; a proper noun keeps the dictionary's capitals.</para>
/// </remarks>
public sealed partial class TypoCorrector
{
    /// <summary>Debian's <c>wamerican</c> word list.</summary>
    public const string DefaultWordListPath = "/usr/share/dict/american-english";

    private readonly string[] _words;                 // lowercase keys, id → word
    private readonly string[] _display;               // id → the dictionary's spelling
    private readonly long[] _frequencies;
    private readonly Dictionary<string, int> _ids;    // lowercase → id
    private readonly ulong[] _deleteHashes;           // sorted
    private readonly int[] _deleteIds;                // parallel to _deleteHashes
    private readonly bool _hasFrequencies;

    /// <summary>Builds the corrector from <paramref name="words"/> (one word per entry; blank entries skipped) and
    /// optional word frequencies (keys compared case-insensitively).</summary>
    public TypoCorrector(IEnumerable<string> words, IReadOnlyDictionary<string, long>? frequencies = null, TypoCorrectorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        Options = options ?? new TypoCorrectorOptions();
        if (Options.MaxDistance is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(options), $"MaxDistance {Options.MaxDistance} must be 1 or 2.");
        if (Options.PrefixLength < Options.MaxDistance + 1) throw new ArgumentOutOfRangeException(nameof(options), $"PrefixLength {Options.PrefixLength} must exceed MaxDistance.");

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new List<string>();
        var display = new List<string>();
        foreach (var raw in words)
        {
            var w = raw?.Trim().Replace('\u2019', '\'');
            if (string.IsNullOrEmpty(w)) continue;
            string key = w.ToLowerInvariant();
            if (ids.TryGetValue(key, out int id))
            {
                if (w == key) display[id] = w; // prefer the lowercase spelling ("the" over "The")
                continue;
            }
            ids[key] = keys.Count;
            keys.Add(key);
            display.Add(w);
        }
        _ids = ids;
        _words = [.. keys];
        _display = [.. display];
        _frequencies = new long[_words.Length];
        if (frequencies is not null)
        {
            _hasFrequencies = true;
            foreach (var (word, count) in frequencies)
                if (_ids.TryGetValue(word.ToLowerInvariant(), out int id)) _frequencies[id] += count;
        }

        // The symmetric-delete index: for every word, the hashes of its prefix with up to MaxDistance characters deleted.
        var hashes = new List<ulong>(_words.Length * 24);
        var owners = new List<int>(_words.Length * 24);
        var buffer = new List<ulong>(64);
        for (int id = 0; id < _words.Length; id++)
        {
            buffer.Clear();
            DeleteHashes(Prefix(_words[id]), Options.MaxDistance, buffer);
            foreach (var h in buffer)
            {
                hashes.Add(h);
                owners.Add(id);
            }
        }
        _deleteHashes = [.. hashes];
        _deleteIds = [.. owners];
        Array.Sort(_deleteHashes, _deleteIds);
    }

    /// <summary>Loads a word list file (one word per line), by default Debian's <c>wamerican</c>
    /// (<see cref="DefaultWordListPath"/>).</summary>
    /// <exception cref="FileNotFoundException">The file is missing; the message names the Debian package.</exception>
    public static TypoCorrector FromWordList(string? path = null, IReadOnlyDictionary<string, long>? frequencies = null, TypoCorrectorOptions? options = null)
    {
        path ??= DefaultWordListPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"Word list '{path}' not found. It comes from the Debian package 'wamerican' (apt-get install -y wamerican).", path);
        return new TypoCorrector(File.ReadLines(path, System.Text.Encoding.UTF8), frequencies, options);
    }

    public TypoCorrectorOptions Options { get; }

    /// <summary>Distinct words in the dictionary (case-insensitive).</summary>
    public int WordCount => _words.Length;

    /// <summary>Whether <paramref name="word"/> is in the dictionary (case-insensitively; "X's" when X is).</summary>
    public bool IsKnown(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        string key = word.Replace('\u2019', '\'').ToLowerInvariant();
        if (_ids.ContainsKey(key)) return true;
        return key.Length > 2 && key.EndsWith("'s", StringComparison.Ordinal) && _ids.ContainsKey(key[..^2]);
    }

    /// <summary>Every dictionary word within the maximum distance of <paramref name="word"/>, best first by the rule in
    /// the class remarks (an unknown word's correction is the first, unless the first two tie).</summary>
    public IReadOnlyList<TypoSuggestion> Suggest(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var ranked = Rank(word.Replace('\u2019', '\'').ToLowerInvariant(), out _);
        return ranked.Select(c => new TypoSuggestion(_display[c.Id], c.Distance, _frequencies[c.Id])).ToArray();
    }

    /// <summary>The correction of one word (capitalisation kept), or the word itself when it is known, protected,
    /// ambiguous or has no candidate.</summary>
    public string CorrectWord(string word) => CorrectWord(word, null);

    private string CorrectWord(string word, TypoReport? report)
    {
        if (word.Length < Options.MinWordLength) { if (report is not null) report.Skipped++; return word; }
        var casing = Casing(word);
        if (casing == WordCase.Mixed
            || casing == WordCase.Upper && !Options.CorrectUppercaseWords
            || casing == WordCase.Capitalized && !Options.CorrectCapitalizedWords)
        {
            if (report is not null) report.Skipped++;
            return word;
        }
        if (report is not null) report.Words++;
        if (IsKnown(word)) { if (report is not null) report.Known++; return word; }
        string key = word.Replace('\u2019', '\'').ToLowerInvariant();
        var ranked = Rank(key, out int best);
        if (ranked.Count == 0) { if (report is not null) report.Unknown++; return word; }
        Candidate chosen;
        if (best == 1) chosen = ranked[0];
        else if (Options.TieBreak == TypoTieBreak.Lexicographic) chosen = ranked[0]; // ranked ties are ordinal-sorted
        else { report?.AddAmbiguous(word); return word; }
        string replacement = ApplyCase(_display[chosen.Id], casing);
        if (word.Contains('\u2019')) replacement = replacement.Replace('\'', '\u2019');
        report?.AddChange(word, replacement, chosen.Distance);
        return replacement;
    }

    /// <summary>Corrects the typos in <paramref name="text"/>.</summary>
    public string Correct(string text) => Correct(text, null);

    /// <summary>Corrects the typos in <paramref name="text"/> and records what changed in <paramref name="report"/>.</summary>
    public string Correct(string text, TypoReport? report)
    {
        ArgumentNullException.ThrowIfNull(text);
        StringBuilder? sb = null;
        int copied = 0;
        foreach (var chunk in Chunk().EnumerateMatches(text))
        {
            string token = text.Substring(chunk.Index, chunk.Length);
            if (IsProtectedChunk(token))
            {
                if (report is not null) report.Skipped++;
                continue;
            }
            foreach (var w in WordPattern().EnumerateMatches(token))
            {
                string word = token.Substring(w.Index, w.Length);
                string corrected = CorrectWord(word, report);
                if (ReferenceEquals(corrected, word) || corrected == word) continue;
                sb ??= new StringBuilder(text.Length);
                int at = chunk.Index + w.Index;
                sb.Append(text, copied, at - copied).Append(corrected);
                copied = at + w.Length;
            }
        }
        if (report is not null)
        {
            report.Texts++;
            if (sb is not null) report.TextsChanged++;
        }
        if (sb is null) return text;
        sb.Append(text, copied, text.Length - copied);
        return sb.ToString();
    }

    [GeneratedRegex(@"\S+", RegexOptions.CultureInvariant)]
    private static partial Regex Chunk();

    [GeneratedRegex(@"\p{L}[\p{L}\p{M}]*(?:['\u2019]\p{L}[\p{L}\p{M}]*)*", RegexOptions.CultureInvariant)]
    private static partial Regex WordPattern();

    private static bool IsProtectedChunk(string chunk)
    {
        foreach (char c in chunk)
            if (char.IsDigit(c) || c is '@' or '/' or '\\' or '_' or '=' or '#' or '<' or '>' or '{' or '}' or '|' or '~' or '^' or '`' or '$' or '%') return true;
        return chunk.Contains("www.", StringComparison.OrdinalIgnoreCase) || TextPatterns.ProtectedSpans(chunk).Count > 0;
    }

    // ---- ranking ----

    private readonly record struct Candidate(int Id, int Distance, long Frequency, bool SameLetters, bool SameFirst);

    /// <summary>Candidates sorted best first; <paramref name="bestCount"/> is how many share the best rank.</summary>
    private List<Candidate> Rank(string key, out int bestCount)
    {
        var candidates = new List<Candidate>();
        bestCount = 0;
        if (key.Length == 0) return candidates;
        int max = Options.MaxDistance;
        var seen = new HashSet<int>();
        var hashes = new List<ulong>(64);
        DeleteHashes(Prefix(key), max, hashes);
        foreach (var h in hashes)
        {
            int lo = LowerBound(_deleteHashes, h);
            for (int k = lo; k < _deleteHashes.Length && _deleteHashes[k] == h; k++)
            {
                int id = _deleteIds[k];
                if (!seen.Add(id)) continue;
                string w = _words[id];
                if (Math.Abs(w.Length - key.Length) > max) continue;
                int d = OsaDistance(key, w, max);
                if (d > max) continue;
                candidates.Add(new Candidate(id, d, _frequencies[id], SameLetters(key, w), w[0] == key[0]));
            }
        }
        candidates.Sort((a, b) =>
        {
            int c = a.Distance.CompareTo(b.Distance);
            if (c != 0) return c;
            if (_hasFrequencies && (c = b.Frequency.CompareTo(a.Frequency)) != 0) return c;
            if ((c = b.SameLetters.CompareTo(a.SameLetters)) != 0) return c;
            if ((c = b.SameFirst.CompareTo(a.SameFirst)) != 0) return c;
            return string.CompareOrdinal(_words[a.Id], _words[b.Id]);
        });
        if (candidates.Count > 0)
        {
            var top = candidates[0];
            bestCount = candidates.TakeWhile(c => c.Distance == top.Distance && (!_hasFrequencies || c.Frequency == top.Frequency)
                && c.SameLetters == top.SameLetters && c.SameFirst == top.SameFirst).Count();
        }
        return candidates;
    }

    private static bool SameLetters(string a, string b)
    {
        if (a.Length != b.Length) return false;
        var x = a.ToCharArray();
        var y = b.ToCharArray();
        Array.Sort(x);
        Array.Sort(y);
        return x.AsSpan().SequenceEqual(y);
    }

    private static int LowerBound(ulong[] array, ulong value)
    {
        int lo = 0, hi = array.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (array[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private ReadOnlySpan<char> Prefix(string word) => word.AsSpan(0, Math.Min(word.Length, Options.PrefixLength));

    /// <summary>FNV-1a hashes of <paramref name="s"/> with 0..<paramref name="max"/> characters deleted, deduplicated.</summary>
    private static void DeleteHashes(ReadOnlySpan<char> s, int max, List<ulong> output)
    {
        int start = output.Count;
        output.Add(Hash(s, -1, -1));
        for (int i = 0; i < s.Length; i++)
        {
            output.Add(Hash(s, i, -1));
            if (max >= 2)
                for (int j = i + 1; j < s.Length; j++) output.Add(Hash(s, i, j));
        }
        output.Sort(start, output.Count - start, null);
        int write = start + 1;
        for (int k = start + 1; k < output.Count; k++)
            if (output[k] != output[write - 1]) output[write++] = output[k];
        output.RemoveRange(write, output.Count - write);
    }

    private static ulong Hash(ReadOnlySpan<char> s, int skip1, int skip2)
    {
        ulong h = 14695981039346656037UL;
        for (int i = 0; i < s.Length; i++)
        {
            if (i == skip1 || i == skip2) continue;
            h = (h ^ s[i]) * 1099511628211UL;
        }
        return (h ^ (ulong)(s.Length - (skip1 >= 0 ? 1 : 0) - (skip2 >= 0 ? 1 : 0))) * 1099511628211UL;
    }

    /// <summary>Optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions), or
    /// <paramref name="max"/> + 1 once it must exceed <paramref name="max"/>.</summary>
    internal static int OsaDistance(string a, string b, int max)
    {
        int n = a.Length, m = b.Length;
        if (Math.Abs(n - m) > max) return max + 1;
        var prev2 = new int[m + 1];
        var prev = new int[m + 1];
        var cur = new int[m + 1];
        for (int j = 0; j <= m; j++) prev[j] = j;
        for (int i = 1; i <= n; i++)
        {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= m; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, prev2[j - 2] + 1);
                cur[j] = v;
                if (v < rowMin) rowMin = v;
            }
            if (rowMin > max) return max + 1;
            (prev2, prev, cur) = (prev, cur, prev2);
        }
        return Math.Min(prev[m], max + 1);
    }

    // ---- case ----

    private enum WordCase { Lower, Capitalized, Upper, Mixed }

    private static WordCase Casing(string word)
    {
        bool firstUpper = char.IsUpper(word[0]);
        int upperRest = 0, letters = 0;
        for (int i = 1; i < word.Length; i++)
        {
            if (!char.IsLetter(word[i])) continue;
            letters++;
            if (char.IsUpper(word[i])) upperRest++;
        }
        if (upperRest == 0) return firstUpper ? WordCase.Capitalized : WordCase.Lower;
        return firstUpper && upperRest == letters ? WordCase.Upper : WordCase.Mixed;
    }

    private static string ApplyCase(string dictionaryWord, WordCase casing)
    {
        bool properNoun = dictionaryWord.Any(char.IsUpper);
        return casing switch
        {
            WordCase.Upper => dictionaryWord.ToUpperInvariant(),
            WordCase.Capitalized when !properNoun => char.ToUpperInvariant(dictionaryWord[0]) + dictionaryWord[1..],
            _ => dictionaryWord,
        };
    }
}
