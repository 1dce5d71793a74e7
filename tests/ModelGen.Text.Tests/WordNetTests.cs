using ModelGen.Text.Augmentation;

namespace ModelGen.Text.Tests;

[TestFixture]
public sealed class WordNetTests
{
    private static WordNet WordNet => TextDataFiles.WordNet;

    [Test]
    public void Happy_HasGlad()
    {
        var synonyms = WordNet.GetSynonyms("happy");
        Assert.That(synonyms, Does.Contain("glad"));
        Assert.That(synonyms, Does.Contain("felicitous"));
        Assert.That(synonyms, Does.Not.Contain("happy"));
    }

    [Test]
    public void Movie_HasFilm_AndMultiwordSynonymsUseSpaces()
    {
        var synonyms = WordNet.GetSynonyms("movie");
        Assert.That(synonyms, Does.Contain("film"));
        Assert.That(synonyms, Does.Contain("motion picture"));
        Assert.That(synonyms, Does.Contain("flick"));
        Assert.That(synonyms.Any(s => s.Contains('_')), Is.False);
        Assert.That(WordNet.GetSynsets("movie", WordNetPos.Noun)[0],
            Is.EqualTo(new[] { "movie", "film", "picture", "moving picture", "moving-picture show", "motion picture", "motion-picture show", "picture show", "pic", "flick" }));
    }

    [Test]
    public void InflectedForms_FindTheirLemmas()
    {
        Assert.That(WordNet.GetSynonyms("movies"), Does.Contain("film"));
        Assert.That(WordNet.Lemmas("ran", WordNetPos.Verb), Does.Contain("run"));          // verb.exc
        Assert.That(WordNet.Lemmas("children", WordNetPos.Noun), Does.Contain("child"));   // noun.exc
        Assert.That(WordNet.Lemmas("boxes", WordNetPos.Noun), Does.Contain("box"));        // -xes rule
        Assert.That(WordNet.Lemmas("happier", WordNetPos.Adjective), Does.Contain("happy")); // adj.exc
        Assert.That(WordNet.Lemmas("xyzzy", WordNetPos.Noun), Is.Empty);
    }

    [Test]
    public void AdjectiveMarkersAreDropped_CaseAndPosAreHandled()
    {
        var synonyms = WordNet.GetSynonyms("abounding");
        Assert.That(synonyms, Does.Contain("galore"));
        Assert.That(synonyms.Any(s => s.Contains('(')), Is.False);
        Assert.That(WordNet.GetSynonyms("Happy"), Is.EqualTo(WordNet.GetSynonyms("happy")));
        Assert.That(WordNet.GetSynonyms("quickly", WordNetPos.Adverb), Does.Contain("rapidly"));
        Assert.That(WordNet.GetSynonyms("quickly", WordNetPos.Noun), Is.Empty);
        Assert.That(WordNet.Contains("motion picture", WordNetPos.Noun), Is.True);
        Assert.That(WordNet.GetSynonyms("the"), Is.Empty);
    }

    [Test]
    public void Database_HasWordNet30Sizes()
    {
        Assert.That(WordNet.LemmaCount(WordNetPos.Noun), Is.EqualTo(117798));
        Assert.That(WordNet.LemmaCount(WordNetPos.Verb), Is.EqualTo(11529));
        Assert.That(WordNet.LemmaCount(WordNetPos.Adjective), Is.EqualTo(21479));
        Assert.That(WordNet.LemmaCount(WordNetPos.Adverb), Is.EqualTo(4481));
    }

    [Test]
    public void MissingDatabase_FailsNamingTheDebianPackage()
    {
        var e = Assert.Throws<FileNotFoundException>(() => WordNet.Load("/nonexistent/wordnet"));
        Assert.That(e!.Message, Does.Contain("wordnet-base"));
    }
}
