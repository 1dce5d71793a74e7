using ModelGen.Data;

namespace ModelGen.Text.Augmentation;

/// <summary>A row of an augmented data set: the row, whether it is an augmented copy, and the index of the original row
/// (in the data set before splitting) it was made from. Originals have <c>IsAugmented == false</c> and their own index.</summary>
public sealed record Augmented<T>(T Row, bool IsAugmented, int SourceIndex);

/// <summary>Text augmentation of <see cref="Dataset{T}"/>s that keeps augmented copies out of evaluation data.</summary>
/// <remarks>
/// <para>Copies are the source row with only its text changed (<c>withText(row, newText)</c>), so labels and every
/// other field are kept. Copy c of the row with source index i is made with the seed derived from (seed, i, c)
/// (SplitMix64), so it does not depend on the other rows, on their order or on the split.</para>
/// <para>Leakage: augmenting before splitting puts near-copies of test rows into training. Use
/// <see cref="SplitThenAugment{T}"/>, which splits by source index first and augments only the training part, and
/// <see cref="EnsureNoAugmented{T}"/> on anything used for evaluation.</para>
/// </remarks>
public static class DatasetAugmentation
{
    /// <summary>The original rows (in order) followed by <paramref name="copiesPerExample"/> augmented copies of each
    /// (grouped by source row, in order).</summary>
    public static Dataset<T> Augment<T>(this Dataset<T> data, int copiesPerExample, Func<T, string> getText, Func<T, string, T> withText,
        TextAugmenter augmenter, int seed)
        => data.AugmentTagged(copiesPerExample, getText, withText, augmenter, seed).Rows();

    /// <summary>As <see cref="Augment{T}"/>, with each row marked original or augmented and its source index.
    /// With <paramref name="dropUnchanged"/>, copies whose text equals the original's are left out.</summary>
    public static Dataset<Augmented<T>> AugmentTagged<T>(this Dataset<T> data, int copiesPerExample, Func<T, string> getText,
        Func<T, string, T> withText, TextAugmenter augmenter, int seed, bool dropUnchanged = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new Dataset<Augmented<T>>(AugmentIndexed(data.Select((row, i) => (i, row)).ToArray(), copiesPerExample, getText, withText, augmenter, seed, dropUnchanged));
    }

    /// <summary>Splits <paramref name="data"/> into train and test by source row (as <see cref="Dataset{T}.TrainTestSplit"/>,
    /// stratified with <paramref name="stratifyBy"/>), then augments only the training part. The test part holds only
    /// originals; no source row is in both parts.</summary>
    public static (Dataset<Augmented<T>> Train, Dataset<Augmented<T>> Test) SplitThenAugment<T>(this Dataset<T> data, double testSize, int seed,
        int copiesPerExample, Func<T, string> getText, Func<T, string, T> withText, TextAugmenter augmenter, Func<T, object>? stratifyBy = null,
        bool dropUnchanged = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        var indexed = new Dataset<(int Index, T Row)>(data.Select((row, i) => (i, row)));
        var (train, test) = indexed.TrainTestSplit(testSize, seed, stratifyBy is null ? null : p => stratifyBy(p.Row));
        var trainRows = AugmentIndexed(train.ToArray(), copiesPerExample, getText, withText, augmenter, seed, dropUnchanged);
        var testRows = test.Select(p => new Augmented<T>(p.Row, false, p.Index));
        return (new Dataset<Augmented<T>>(trainRows), new Dataset<Augmented<T>>(testRows));
    }

    /// <summary>The rows without their marks.</summary>
    public static Dataset<T> Rows<T>(this Dataset<Augmented<T>> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Map(a => a.Row);
    }

    /// <summary>Only the original rows.</summary>
    public static Dataset<Augmented<T>> Originals<T>(this Dataset<Augmented<T>> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Filter(a => !a.IsAugmented);
    }

    /// <summary>Throws when <paramref name="data"/> (meant for evaluation) holds an augmented row; returns it otherwise.</summary>
    public static Dataset<Augmented<T>> EnsureNoAugmented<T>(this Dataset<Augmented<T>> data, string name = "evaluation data")
    {
        ArgumentNullException.ThrowIfNull(data);
        int count = data.Count(a => a.IsAugmented);
        if (count > 0)
        {
            var first = data.First(a => a.IsAugmented);
            throw new InvalidOperationException($"{name} holds {count} augmented rows (the first made from source row {first.SourceIndex}); augment only the training part (SplitThenAugment).");
        }
        return data;
    }

    /// <summary>Throws when a source row is in both <paramref name="train"/> and <paramref name="test"/>.</summary>
    public static void EnsureDisjointSources<T>(Dataset<Augmented<T>> train, Dataset<Augmented<T>> test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var trainSources = train.Select(a => a.SourceIndex).ToHashSet();
        var shared = test.Where(a => trainSources.Contains(a.SourceIndex)).Select(a => a.SourceIndex).Distinct().ToArray();
        if (shared.Length > 0)
            throw new InvalidOperationException($"{shared.Length} source rows are in both train and test (the first: {shared[0]}).");
    }

    /// <summary>The seed of copy <paramref name="copy"/> of source row <paramref name="index"/>: SplitMix64 of the three.</summary>
    public static int DeriveSeed(int seed, int index, int copy)
    {
        ulong z = Mix((ulong)(uint)seed);
        z = Mix(z ^ (uint)index);
        z = Mix(z ^ (uint)copy);
        return (int)(z & 0x7FFFFFFF);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static List<Augmented<T>> AugmentIndexed<T>((int Index, T Row)[] rows, int copiesPerExample, Func<T, string> getText,
        Func<T, string, T> withText, TextAugmenter augmenter, int seed, bool dropUnchanged)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(copiesPerExample);
        ArgumentNullException.ThrowIfNull(getText);
        ArgumentNullException.ThrowIfNull(withText);
        ArgumentNullException.ThrowIfNull(augmenter);
        var result = new List<Augmented<T>>(rows.Length * (1 + copiesPerExample));
        foreach (var (index, row) in rows) result.Add(new Augmented<T>(row, false, index));
        foreach (var (index, row) in rows)
        {
            string text = getText(row);
            for (int c = 0; c < copiesPerExample; c++)
            {
                string augmented = augmenter.Augment(text, DeriveSeed(seed, index, c));
                if (dropUnchanged && string.Equals(augmented, text, StringComparison.Ordinal)) continue;
                result.Add(new Augmented<T>(withText(row, augmented), true, index));
            }
        }
        return result;
    }
}
