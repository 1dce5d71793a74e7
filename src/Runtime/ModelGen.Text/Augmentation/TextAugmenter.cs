using System.Text;
using System.Text.RegularExpressions;
using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Augmentation;

/// <summary>The four EDA operations (Wei &amp; Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting Performance
/// on Text Classification Tasks").</summary>
public enum AugmentationOperation
{
    /// <summary>SR: n distinct non-stop words replaced by a random synonym (every occurrence of the word).</summary>
    SynonymReplacement,

    /// <summary>RI: n times, a random synonym of a random non-stop word inserted at a random position.</summary>
    RandomInsertion,

    /// <summary>RS: n times, two random words swapped.</summary>
    RandomSwap,

    /// <summary>RD: each word deleted with probability p.</summary>
    RandomDeletion,
}

/// <summary>How the operations are combined into one augmented copy.</summary>
public enum AugmentationMode
{
    /// <summary>Each copy applies one operation, as in EDA; copies of one text cycle through the enabled operations.</summary>
    OneOperationPerCopy,

    /// <summary>Each copy applies every enabled operation in the order SR, RI, RS, RD.</summary>
    AllOperations,
}

/// <summary>Settings of <see cref="TextAugmenter"/>. Rates are EDA's α: with l words, SR, RI and RS make
/// n = max(1, ⌊α·l⌋) changes; RD deletes each word with probability α. A rate of 0 switches the operation off.</summary>
public sealed record TextAugmenterOptions
{
    public double SynonymReplacementRate { get; init; } = 0.1;
    public double RandomInsertionRate { get; init; } = 0.1;
    public double RandomSwapRate { get; init; } = 0.1;
    public double RandomDeletionRate { get; init; } = 0.1;

    public AugmentationMode Mode { get; init; } = AugmentationMode.OneOperationPerCopy;

    /// <summary>Words never replaced, inserted from, swapped or deleted (compared case-insensitively).</summary>
    public IEnumerable<string>? ProtectedWords { get; init; }

    /// <summary>A caller test for tokens to leave alone (called with the token's text).</summary>
    public Func<string, bool>? IsProtected { get; init; }

    /// <summary>Protect negations (not, no, never, nor, none, nothing, nobody, nowhere, neither, cannot, without and
    /// every word ending in n't), whose loss or move would flip a sentiment label.</summary>
    public bool ProtectNegations { get; init; } = true;

    /// <summary>Stop words are not replaced by synonyms nor used as insertion sources (EDA's list by default); they can
    /// still be swapped and deleted.</summary>
    public IEnumerable<string>? StopWords { get; init; }
}

/// <summary>EDA text augmentation: synonym replacement, random insertion, random swap and random deletion, with a
/// synonym source such as <see cref="WordNet"/>. Immutable and thread-safe; every result is a function of the text,
/// the options and the seed (System.Random(seed)), the same in every process.</summary>
/// <remarks>
/// <para>The text is split at whitespace; a chunk containing a URL, an e-mail address or a placeholder
/// (<c>&lt;EMAIL&gt;</c>) stays one untouchable token, other chunks split into words (letters, digits, inner
/// apostrophes and hyphens: "don't", "well-made") and punctuation. Only words are changed; punctuation, emoji and the
/// original whitespace stay where they are ("I loved it!" may become "I it loved!").</para>
/// <para>Protected, never changed, swapped, deleted or used as an insertion source: words with a digit, placeholders,
/// URLs and e-mails, <see cref="TextAugmenterOptions.ProtectedWords"/>, tokens for which
/// <see cref="TextAugmenterOptions.IsProtected"/> is true and (by default) negations.</para>
/// <para>A synonym replaces a word with its case pattern (Capitalized, UPPER); synonyms with characters other than
/// letters, spaces, hyphens and apostrophes are not used. RD never deletes the last word (EDA keeps one at random),
/// and a text that would come out empty or blank is returned unchanged, so a non-blank text never becomes blank.</para>
/// </remarks>
public sealed partial class TextAugmenter
{
    /// <summary>The stop-word list of the EDA reference implementation.</summary>
    public static IReadOnlyList<string> EdaStopWords { get; } =
    [
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves",
        "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their",
        "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are", "was",
        "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the",
        "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against",
        "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in",
        "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
        "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only",
        "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
    ];

    private static readonly HashSet<string> Negations = new(StringComparer.OrdinalIgnoreCase)
    {
        "not", "no", "never", "nor", "none", "nothing", "nobody", "nowhere", "neither", "cannot", "without", "nope", "nah",
    };

    private readonly ISynonymSource _synonyms;
    private readonly HashSet<string> _protectedWords;
    private readonly HashSet<string> _stopWords;
    private readonly AugmentationOperation[] _enabled;

    public TextAugmenter(ISynonymSource synonyms, TextAugmenterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(synonyms);
        _synonyms = synonyms;
        Options = options ?? new TextAugmenterOptions();
        var o = Options;
        foreach (var (name, rate) in new[] { ("SynonymReplacementRate", o.SynonymReplacementRate), ("RandomInsertionRate", o.RandomInsertionRate),
                     ("RandomSwapRate", o.RandomSwapRate), ("RandomDeletionRate", o.RandomDeletionRate) })
            if (!(rate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"{name} {rate} must be in [0, 1].");
        _enabled = new[]
        {
            (AugmentationOperation.SynonymReplacement, o.SynonymReplacementRate), (AugmentationOperation.RandomInsertion, o.RandomInsertionRate),
            (AugmentationOperation.RandomSwap, o.RandomSwapRate), (AugmentationOperation.RandomDeletion, o.RandomDeletionRate),
        }.Where(p => p.Item2 > 0).Select(p => p.Item1).ToArray();
        if (_enabled.Length == 0) throw new ArgumentException("At least one augmentation rate must be positive.", nameof(options));
        _protectedWords = new HashSet<string>(o.ProtectedWords ?? [], StringComparer.OrdinalIgnoreCase);
        _stopWords = new HashSet<string>(o.StopWords ?? EdaStopWords, StringComparer.OrdinalIgnoreCase);
    }

    public TextAugmenterOptions Options { get; }

    /// <summary>The operations with a positive rate, in the order SR, RI, RS, RD.</summary>
    public IReadOnlyList<AugmentationOperation> EnabledOperations => _enabled;

    /// <summary>One augmented copy of <paramref name="text"/>: a random enabled operation (or all of them, by
    /// <see cref="TextAugmenterOptions.Mode"/>).</summary>
    public string Augment(string text, int seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rng = new Random(seed);
        return Options.Mode == AugmentationMode.AllOperations ? ApplyAll(text, rng) : Apply(_enabled[rng.Next(_enabled.Length)], text, rng);
    }

    /// <summary><paramref name="count"/> augmented copies of <paramref name="text"/>. With one operation per copy the
    /// copies cycle through the enabled operations from a seeded starting point, so each is used about equally.</summary>
    public IReadOnlyList<string> Augment(string text, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new Random(seed);
        var result = new string[count];
        int start = rng.Next(_enabled.Length);
        for (int i = 0; i < count; i++)
            result[i] = Options.Mode == AugmentationMode.AllOperations ? ApplyAll(text, rng) : Apply(_enabled[(start + i) % _enabled.Length], text, rng);
        return result;
    }

    /// <summary>Applies one operation, with its configured rate (or EDA's 0.1 when it is switched off), to <paramref name="text"/>.</summary>
    public string Apply(AugmentationOperation operation, string text, int seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Apply(operation, text, new Random(seed));
    }

    private string ApplyAll(string text, Random rng)
    {
        var tokens = Tokenize(text);
        foreach (var op in _enabled) Run(op, tokens, rng);
        return Finish(text, tokens);
    }

    private string Apply(AugmentationOperation operation, string text, Random rng)
    {
        var tokens = Tokenize(text);
        Run(operation, tokens, rng);
        return Finish(text, tokens);
    }

    private static string Finish(string original, List<Token> tokens)
    {
        string result = Render(tokens);
        return string.IsNullOrWhiteSpace(result) ? original : result;
    }

    private void Run(AugmentationOperation operation, List<Token> tokens, Random rng)
    {
        int words = tokens.Count(t => t.Kind == TokenKind.Word);
        if (words == 0) return;
        double rate = operation switch
        {
            AugmentationOperation.SynonymReplacement => Options.SynonymReplacementRate,
            AugmentationOperation.RandomInsertion => Options.RandomInsertionRate,
            AugmentationOperation.RandomSwap => Options.RandomSwapRate,
            _ => Options.RandomDeletionRate,
        };
        if (rate <= 0) rate = 0.1;
        int n = Math.Max(1, (int)(rate * words));
        switch (operation)
        {
            case AugmentationOperation.SynonymReplacement: SynonymReplacement(tokens, n, rng); break;
            case AugmentationOperation.RandomInsertion: RandomInsertion(tokens, n, rng); break;
            case AugmentationOperation.RandomSwap: RandomSwap(tokens, n, rng); break;
            default: RandomDeletion(tokens, rate, rng); break;
        }
    }

    // ---- the operations ----

    private void SynonymReplacement(List<Token> tokens, int n, Random rng)
    {
        var candidates = tokens.Where(t => IsEditable(t) && !_stopWords.Contains(t.Text))
            .Select(t => t.Text.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToArray();
        rng.Shuffle(candidates);
        int replaced = 0;
        foreach (var word in candidates)
        {
            var synonyms = UsableSynonyms(word);
            if (synonyms.Count == 0) continue;
            string synonym = synonyms[rng.Next(synonyms.Count)];
            for (int i = 0; i < tokens.Count; i++)
                if (IsEditable(tokens[i]) && string.Equals(tokens[i].Text, word, StringComparison.OrdinalIgnoreCase))
                    tokens[i] = tokens[i] with { Text = MatchCase(synonym, tokens[i].Text) };
            if (++replaced >= n) break;
        }
    }

    private void RandomInsertion(List<Token> tokens, int n, Random rng)
    {
        for (int k = 0; k < n; k++)
        {
            var sources = tokens.Where(t => IsEditable(t) && !_stopWords.Contains(t.Text)).ToArray();
            if (sources.Length == 0) return;
            string? synonym = null;
            for (int attempt = 0; attempt < 10 && synonym is null; attempt++)
            {
                var synonyms = UsableSynonyms(sources[rng.Next(sources.Length)].Text.ToLowerInvariant());
                if (synonyms.Count > 0) synonym = synonyms[rng.Next(synonyms.Count)];
            }
            if (synonym is null) return;
            var wordPositions = Enumerable.Range(0, tokens.Count).Where(i => tokens[i].Kind == TokenKind.Word).ToArray();
            int slot = rng.Next(wordPositions.Length + 1);
            if (slot < wordPositions.Length)
            {
                int at = wordPositions[slot];
                var before = tokens[at];
                tokens.Insert(at, new Token(synonym, before.Space, TokenKind.Word, Inserted: true));
                tokens[at + 1] = before with { Space = " " };
            }
            else tokens.Insert(wordPositions[^1] + 1, new Token(synonym, " ", TokenKind.Word, Inserted: true));
        }
    }

    private void RandomSwap(List<Token> tokens, int n, Random rng)
    {
        var editable = Enumerable.Range(0, tokens.Count).Where(i => IsEditable(tokens[i])).ToArray();
        if (editable.Length < 2) return;
        for (int k = 0; k < n; k++)
        {
            int a = rng.Next(editable.Length);
            int b = rng.Next(editable.Length - 1);
            if (b >= a) b++;
            int i = editable[a], j = editable[b];
            (tokens[i], tokens[j]) = (tokens[i] with { Text = tokens[j].Text }, tokens[j] with { Text = tokens[i].Text });
        }
    }

    private void RandomDeletion(List<Token> tokens, double p, Random rng)
    {
        int words = tokens.Count(t => t.Kind == TokenKind.Word);
        if (words <= 1) return;
        var deleted = new List<int>();
        for (int i = 0; i < tokens.Count; i++)
            if (IsEditable(tokens[i]) && rng.NextDouble() < p) deleted.Add(i);
        if (deleted.Count == words) deleted.RemoveAt(rng.Next(deleted.Count)); // keep one word, as EDA does
        for (int k = deleted.Count - 1; k >= 0; k--)
        {
            int i = deleted[k];
            if (i + 1 < tokens.Count)
            {
                if (i == 0) tokens[1] = tokens[1] with { Space = tokens[0].Space }; // the text's leading whitespace stays
                else if (tokens[i].Space.Length == 0 && IsOpening(tokens[i - 1].Text)) tokens[i + 1] = tokens[i + 1] with { Space = "" }; // "(word 6)" → "(6)"
            }
            tokens.RemoveAt(i);
        }
    }

    private static bool IsOpening(string token) => token.Length > 0
        && (token[^1] is '"' or '\'' || char.GetUnicodeCategory(token[^1]) is System.Globalization.UnicodeCategory.OpenPunctuation or System.Globalization.UnicodeCategory.InitialQuotePunctuation);

    // ---- helpers ----

    private IReadOnlyList<string> UsableSynonyms(string word)
        => _synonyms.GetSynonyms(word).Where(s => s.Length > 0 && s.All(c => char.IsLetter(c) || c is ' ' or '-' or '\'')
            && !string.Equals(s, word, StringComparison.OrdinalIgnoreCase)).ToArray();

    private bool IsEditable(Token t)
    {
        if (t.Kind != TokenKind.Word) return false;
        string s = t.Text;
        if (s.Any(char.IsDigit)) return false;
        if (_protectedWords.Contains(s)) return false;
        if (Options.ProtectNegations && (Negations.Contains(s) || s.EndsWith("n't", StringComparison.OrdinalIgnoreCase) || s.EndsWith("n\u2019t", StringComparison.OrdinalIgnoreCase))) return false;
        return Options.IsProtected is null || !Options.IsProtected(s);
    }

    private static string MatchCase(string synonym, string original)
    {
        if (synonym.Any(char.IsUpper)) return synonym; // a proper noun keeps its capitals
        bool firstUpper = char.IsUpper(original[0]);
        bool allUpper = original.Length > 1 && original.Where(char.IsLetter).All(char.IsUpper);
        if (allUpper) return synonym.ToUpperInvariant();
        if (firstUpper) return char.ToUpperInvariant(synonym[0]) + synonym[1..];
        return synonym;
    }

    // ---- tokens ----

    internal enum TokenKind { Word, Other, Protected }

    /// <summary>A token and the whitespace before it.</summary>
    internal readonly record struct Token(string Text, string Space, TokenKind Kind, bool Inserted = false);

    [GeneratedRegex(@"(\s*)(\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex Chunk();

    [GeneratedRegex(@"[\p{L}\p{M}\p{N}]+(?:['\u2019\-][\p{L}\p{M}\p{N}]+)*|[^\p{L}\p{M}\p{N}]+", RegexOptions.CultureInvariant)]
    private static partial Regex Piece();

    internal static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        foreach (Match chunk in Chunk().Matches(text))
        {
            string space = chunk.Groups[1].Value, body = chunk.Groups[2].Value;
            if (TextPatterns.ProtectedSpans(body).Count > 0) { tokens.Add(new Token(body, space, TokenKind.Protected)); continue; }
            bool first = true;
            foreach (Match piece in Piece().Matches(body))
            {
                var kind = char.IsLetterOrDigit(piece.Value[0]) || char.GetUnicodeCategory(piece.Value[0]) is System.Globalization.UnicodeCategory.NonSpacingMark
                    ? TokenKind.Word : TokenKind.Other;
                tokens.Add(new Token(piece.Value, first ? space : "", kind));
                first = false;
            }
        }
        // Trailing whitespace rides on an empty token so that rendering gives it back.
        int end = text.Length;
        while (end > 0 && char.IsWhiteSpace(text[end - 1])) end--;
        if (end < text.Length) tokens.Add(new Token("", text[end..], TokenKind.Other));
        return tokens;
    }

    internal static string Render(List<Token> tokens)
    {
        var sb = new StringBuilder();
        foreach (var t in tokens) sb.Append(t.Space).Append(t.Text);
        return sb.ToString();
    }
}
