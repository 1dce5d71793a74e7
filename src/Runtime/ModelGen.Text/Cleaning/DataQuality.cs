using System.Globalization;
using System.Text;

namespace ModelGen.Text.Cleaning;

/// <summary>A group of rows of one set whose texts are duplicates (exactly, or only after normalisation).</summary>
public sealed record DuplicateExample(string Text, IReadOnlyList<int> Indices, bool Exact);

/// <summary>A test row whose text also occurs in the training set (exactly, or only after normalisation).</summary>
public sealed record OverlapExample(int TestIndex, string TestText, int TrainIndex, string TrainText, bool Exact);

/// <summary>Duplicates within one set.</summary>
/// <param name="Count">Rows.</param>
/// <param name="EmptyTexts">Rows whose text is empty once normalised (left out of the duplicate counts).</param>
/// <param name="ExactDuplicates">Rows whose exact text occurred in an earlier row (rows minus distinct texts).</param>
/// <param name="NormalizedDuplicates">Rows whose normalised text occurred in an earlier row (includes the exact ones).</param>
/// <param name="DuplicateGroups">Groups of two or more rows sharing a normalised text.</param>
/// <param name="Examples">Up to the requested number of groups, largest first.</param>
public sealed record SetQuality(int Count, int EmptyTexts, int ExactDuplicates, int NormalizedDuplicates, int DuplicateGroups,
    IReadOnlyList<DuplicateExample> Examples);

/// <summary>Duplicates within a training and a test set, and the test rows that also occur in the training set.</summary>
/// <param name="ExactOverlap">Test rows whose exact text occurs in the training set.</param>
/// <param name="NormalizedOverlap">Test rows whose normalised text occurs in the training set (includes the exact ones).</param>
public sealed record DataQualityReport(SetQuality Train, SetQuality Test, int ExactOverlap, int NormalizedOverlap,
    IReadOnlyList<OverlapExample> OverlapExamples)
{
    /// <summary>Share of the test set that also occurs (normalised) in the training set.</summary>
    public double OverlapFraction => Test.Count == 0 ? 0 : (double)NormalizedOverlap / Test.Count;

    public override string ToString()
    {
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"train: {Train.Count} rows, {Train.ExactDuplicates} exact and {Train.NormalizedDuplicates} normalised duplicates, {Train.EmptyTexts} empty\n");
        sb.Append(c, $"test: {Test.Count} rows, {Test.ExactDuplicates} exact and {Test.NormalizedDuplicates} normalised duplicates, {Test.EmptyTexts} empty\n");
        sb.Append(c, $"train/test overlap: {ExactOverlap} exact, {NormalizedOverlap} normalised ({OverlapFraction:P1} of test)");
        foreach (var e in OverlapExamples) sb.Append(c, $"\n  test[{e.TestIndex}] = train[{e.TrainIndex}]{(e.Exact ? "" : " (normalised)")}: {e.TestText}");
        return sb.ToString();
    }
}

/// <summary>Duplicate and leakage checks for text data sets.</summary>
/// <remarks>Normalised comparison (<see cref="NormalizeForComparison"/>): NFKC, accents removed, lowercase, every run of
/// characters other than letters and digits becomes one space, trimmed. So "Great movie!!" and "great  movie" are
/// normalised duplicates; "Great movie!" and "Great movie!" exact ones.</remarks>
public static class DataQuality
{
    /// <summary>Duplicates within <paramref name="train"/> and <paramref name="test"/>, and their overlap.</summary>
    public static DataQualityReport Report<T>(IEnumerable<T> train, IEnumerable<T> test, Func<T, string> getText, int maxExamples = 10)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(getText);
        var trainTexts = train.Select(getText).ToArray();
        var testTexts = test.Select(getText).ToArray();
        var trainQuality = Analyze(trainTexts, maxExamples);
        var testQuality = Analyze(testTexts, maxExamples);

        var exact = new Dictionary<string, int>(StringComparer.Ordinal);
        var normalized = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < trainTexts.Length; i++)
        {
            string key = NormalizeForComparison(trainTexts[i] ?? "");
            if (key.Length == 0) continue;
            exact.TryAdd(trainTexts[i], i);
            normalized.TryAdd(key, i);
        }
        int exactOverlap = 0, normalizedOverlap = 0;
        var examples = new List<OverlapExample>();
        for (int i = 0; i < testTexts.Length; i++)
        {
            string text = testTexts[i] ?? "";
            string key = NormalizeForComparison(text);
            if (key.Length == 0) continue;
            if (exact.TryGetValue(text, out int j))
            {
                exactOverlap++;
                normalizedOverlap++;
                if (examples.Count < maxExamples) examples.Add(new OverlapExample(i, text, j, trainTexts[j], true));
            }
            else if (normalized.TryGetValue(key, out j))
            {
                normalizedOverlap++;
                if (examples.Count < maxExamples) examples.Add(new OverlapExample(i, text, j, trainTexts[j], false));
            }
        }
        return new DataQualityReport(trainQuality, testQuality, exactOverlap, normalizedOverlap, examples);
    }

    /// <summary>Duplicates within one set.</summary>
    public static SetQuality Analyze<T>(IEnumerable<T> rows, Func<T, string> getText, int maxExamples = 10)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(getText);
        return Analyze(rows.Select(getText).ToArray(), maxExamples);
    }

    private static SetQuality Analyze(string[] texts, int maxExamples)
    {
        if (maxExamples < 0) throw new ArgumentOutOfRangeException(nameof(maxExamples));
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        int empty = 0, exactDuplicates = 0, normalizedDuplicates = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            string text = texts[i] ?? "";
            string key = NormalizeForComparison(text);
            if (key.Length == 0) { empty++; continue; }
            if (!exact.Add(text)) exactDuplicates++;
            if (groups.TryGetValue(key, out var list))
            {
                normalizedDuplicates++;
                list.Add(i);
            }
            else
            {
                groups[key] = [i];
                order.Add(key);
            }
        }
        var duplicateGroups = order.Where(k => groups[k].Count > 1).ToArray();
        var examples = duplicateGroups
            .OrderByDescending(k => groups[k].Count).ThenBy(k => groups[k][0])
            .Take(maxExamples)
            .Select(k =>
            {
                var indices = groups[k];
                bool allExact = indices.All(i => string.Equals(texts[i], texts[indices[0]], StringComparison.Ordinal));
                return new DuplicateExample(texts[indices[0]], indices.ToArray(), allExact);
            })
            .ToArray();
        return new SetQuality(texts.Length, empty, exactDuplicates, normalizedDuplicates, duplicateGroups.Length, examples);
    }

    /// <summary>The form texts are compared in for normalised duplicates (see the class remarks).</summary>
    public static string NormalizeForComparison(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string decomposed = text.Normalize(NormalizationForm.FormKD);
        var sb = new StringBuilder(decomposed.Length);
        bool space = false;
        foreach (var rune in decomposed.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
            if (Rune.IsLetterOrDigit(rune))
            {
                if (space && sb.Length > 0) sb.Append(' ');
                space = false;
                sb.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else space = true;
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }
}
