namespace ModelGen.Text.Augmentation;

/// <summary>A source of synonyms for augmentation.</summary>
public interface ISynonymSource
{
    /// <summary>Synonyms of <paramref name="word"/> (never the word itself), in a fixed order; empty when there are none.</summary>
    IReadOnlyList<string> GetSynonyms(string word);
}

/// <summary>A synonym table given in code (word → synonyms, compared case-insensitively), for tests and domain lists.</summary>
public sealed class SynonymTable : ISynonymSource
{
    private readonly Dictionary<string, string[]> _table;

    public SynonymTable(IEnumerable<KeyValuePair<string, string[]>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _table = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (word, synonyms) in entries) _table[word] = synonyms.Where(s => !string.Equals(s, word, StringComparison.OrdinalIgnoreCase)).ToArray();
    }

    public IReadOnlyList<string> GetSynonyms(string word) => _table.TryGetValue(word, out var s) ? s : [];
}

/// <summary>Parts of speech of WordNet.</summary>
public enum WordNetPos
{
    Noun,
    Verb,
    Adjective,
    Adverb,
}

/// <summary>The WordNet 3.0 database read from its own files (Debian <c>wordnet-base</c>, /usr/share/wordnet): the
/// index files give each lemma's synset offsets in sense order, the data files the words of each synset.
/// Immutable and thread-safe.</summary>
/// <remarks>
/// <para>Format (wndb(5)): license lines start with two spaces. An index line is <c>lemma pos synset_cnt p_cnt
/// [ptr_symbol × p_cnt] sense_cnt tagsense_cnt synset_offset × synset_cnt</c>; lemmas are lowercase with underscores for
/// spaces. A data line starts at byte <c>synset_offset</c> of the data file: <c>offset lex_filenum ss_type w_cnt
/// (word lex_id) × w_cnt …</c>, with <c>w_cnt</c> and <c>lex_id</c> in hexadecimal; adjective words may carry a syntactic
/// marker <c>(a)</c>, <c>(p)</c> or <c>(ip)</c>, which is dropped. Words keep WordNet's capitalisation; underscores become spaces.</para>
/// <para>Inflected forms are reduced to lemmas like WordNet's morphy: the exception lists (<c>noun.exc</c>, …) and the
/// detachment rules (nouns: -s, -ses, -xes, -zes, -ches, -shes, -men, -ies; verbs: -s, -ies, -es, -ed, -ing; adjectives:
/// -er, -est), keeping only forms that are in the index. So "movies" gives the synonyms of "movie" (as lemmas: "film").</para>
/// </remarks>
public sealed class WordNet : ISynonymSource
{
    /// <summary>Where Debian's <c>wordnet-base</c> installs the database.</summary>
    public const string DefaultDirectory = "/usr/share/wordnet";

    private static readonly string[] FileSuffixes = ["noun", "verb", "adj", "adv"];
    private static readonly WordNetPos[] AllPos = [WordNetPos.Noun, WordNetPos.Verb, WordNetPos.Adjective, WordNetPos.Adverb];

    private readonly Dictionary<string, int[]>[] _index = new Dictionary<string, int[]>[4];
    private readonly byte[][] _data = new byte[4][];
    private readonly Dictionary<string, string[]>[] _exceptions = new Dictionary<string, string[]>[4];

    private WordNet(string directory)
    {
        Directory = directory;
        for (int p = 0; p < 4; p++)
        {
            _index[p] = ReadIndex(Path.Combine(directory, "index." + FileSuffixes[p]));
            _data[p] = File.ReadAllBytes(Path.Combine(directory, "data." + FileSuffixes[p]));
            _exceptions[p] = ReadExceptions(Path.Combine(directory, FileSuffixes[p] + ".exc"));
        }
    }

    /// <summary>The folder the database was read from.</summary>
    public string Directory { get; }

    /// <summary>Reads the database from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>).</summary>
    /// <exception cref="FileNotFoundException">A database file is missing; the message names the Debian package.</exception>
    public static WordNet Load(string? directory = null)
    {
        directory ??= DefaultDirectory;
        foreach (var suffix in FileSuffixes)
            foreach (var kind in new[] { "index.", "data." })
            {
                string path = Path.Combine(directory, kind + suffix);
                if (!File.Exists(path))
                    throw new FileNotFoundException($"WordNet file '{path}' not found. The WordNet database comes from the Debian package 'wordnet-base' (apt-get install -y wordnet-base).", path);
            }
        return new WordNet(directory);
    }

    /// <summary>Lemmas in the index of <paramref name="pos"/>.</summary>
    public int LemmaCount(WordNetPos pos) => _index[(int)pos].Count;

    /// <summary>Whether <paramref name="lemma"/> (any case, spaces or underscores) is in the index of <paramref name="pos"/>.</summary>
    public bool Contains(string lemma, WordNetPos pos) => _index[(int)pos].ContainsKey(Key(lemma));

    /// <summary>The lemmas <paramref name="word"/> may be a form of, for <paramref name="pos"/>: the word itself if it is
    /// in the index, then exception-list bases, then rule-based bases found in the index.</summary>
    public IReadOnlyList<string> Lemmas(string word, WordNetPos pos)
    {
        ArgumentNullException.ThrowIfNull(word);
        string key = Key(word);
        var index = _index[(int)pos];
        var result = new List<string>();
        void Add(string lemma)
        {
            if (index.ContainsKey(lemma) && !result.Contains(lemma)) result.Add(lemma);
        }
        Add(key);
        if (_exceptions[(int)pos].TryGetValue(key, out var bases)) foreach (var b in bases) Add(b);
        foreach (var (suffix, ending) in Rules(pos))
            if (key.Length > suffix.Length && key.EndsWith(suffix, StringComparison.Ordinal)) Add(key[..^suffix.Length] + ending);
        return result;
    }

    /// <summary>The synsets of <paramref name="word"/> as <paramref name="pos"/>, in sense order, each as its words
    /// (WordNet's capitalisation, spaces for underscores).</summary>
    public IReadOnlyList<IReadOnlyList<string>> GetSynsets(string word, WordNetPos pos)
    {
        var result = new List<IReadOnlyList<string>>();
        var seen = new HashSet<int>();
        foreach (var lemma in Lemmas(word, pos))
            foreach (int offset in _index[(int)pos][lemma])
                if (seen.Add(offset)) result.Add(ReadSynsetWords(pos, offset));
        return result;
    }

    /// <summary>Synonyms of <paramref name="word"/> for all parts of speech (nouns, verbs, adjectives, adverbs, each in
    /// sense order), without the word and its lemmas, without duplicates (case-insensitive).</summary>
    public IReadOnlyList<string> GetSynonyms(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { word.Trim(), Key(word).Replace('_', ' ') };
        foreach (var pos in AllPos) seen.UnionWith(Lemmas(word, pos).Select(l => l.Replace('_', ' ')));
        foreach (var pos in AllPos) Collect(word, pos, result, seen);
        return result;
    }

    /// <summary>Synonyms of <paramref name="word"/> as <paramref name="pos"/> only.</summary>
    public IReadOnlyList<string> GetSynonyms(string word, WordNetPos pos)
    {
        ArgumentNullException.ThrowIfNull(word);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { word.Trim(), Key(word).Replace('_', ' ') };
        seen.UnionWith(Lemmas(word, pos).Select(l => l.Replace('_', ' ')));
        Collect(word, pos, result, seen);
        return result;
    }

    private void Collect(string word, WordNetPos pos, List<string> result, HashSet<string> seen)
    {
        foreach (var synset in GetSynsets(word, pos))
            foreach (var w in synset)
                if (seen.Add(w)) result.Add(w);
    }

    private static string Key(string word) => word.Trim().ToLowerInvariant().Replace(' ', '_');

    private static (string Suffix, string Ending)[] Rules(WordNetPos pos) => pos switch
    {
        WordNetPos.Noun => [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")],
        WordNetPos.Verb => [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
        WordNetPos.Adjective => [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
        _ => [],
    };

    /// <summary>The words of the synset at byte <paramref name="offset"/> of the data file of <paramref name="pos"/>.</summary>
    private string[] ReadSynsetWords(WordNetPos pos, int offset)
    {
        var data = _data[(int)pos];
        if (offset < 0 || offset >= data.Length) throw new InvalidDataException($"{Directory}/data.{FileSuffixes[(int)pos]}: synset offset {offset} is outside the file.");
        int end = Array.IndexOf(data, (byte)'\n', offset);
        if (end < 0) end = data.Length;
        string line = System.Text.Encoding.UTF8.GetString(data, offset, end - offset);
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4 || !int.TryParse(fields[0], out int lineOffset) || lineOffset != offset)
            throw new InvalidDataException($"{Directory}/data.{FileSuffixes[(int)pos]}: no synset line at byte {offset}.");
        int count = Convert.ToInt32(fields[3], 16);
        if (fields.Length < 4 + 2 * count) throw new InvalidDataException($"{Directory}/data.{FileSuffixes[(int)pos]}: synset {offset} lists {count} words but the line is shorter.");
        var words = new string[count];
        for (int i = 0; i < count; i++)
        {
            string w = fields[4 + 2 * i];
            int marker = w.IndexOf('(');
            if (marker > 0 && w.EndsWith(')')) w = w[..marker];
            words[i] = w.Replace('_', ' ');
        }
        return words;
    }

    private static Dictionary<string, int[]> ReadIndex(string path)
    {
        var index = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, System.Text.Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == ' ') continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6
                || !int.TryParse(f[2], out int synsets)
                || !int.TryParse(f[3], out int pointers)
                || f.Length < 4 + pointers + 2 + synsets)
                throw new InvalidDataException($"{path}:{lineNumber}: not a WordNet index line.");
            var offsets = new int[synsets];
            int first = 4 + pointers + 2;
            for (int i = 0; i < synsets; i++)
                if (!int.TryParse(f[first + i], out offsets[i])) throw new InvalidDataException($"{path}:{lineNumber}: bad synset offset '{f[first + i]}'.");
            index[f[0]] = offsets;
        }
        return index;
    }

    private static Dictionary<string, string[]> ReadExceptions(string path)
    {
        var exceptions = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!File.Exists(path)) return exceptions;
        foreach (var line in File.ReadLines(path, System.Text.Encoding.UTF8))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2) exceptions[f[0]] = f[1..];
        }
        return exceptions;
    }
}
