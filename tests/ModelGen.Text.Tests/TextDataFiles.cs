using ModelGen.Text.Augmentation;
using ModelGen.Text.Cleaning;

namespace ModelGen.Text.Tests;

/// <summary>The Debian word lists, loaded once per test run. A missing package makes the tests that need it fail with
/// the loader's message, which names the package (wordnet-base, wamerican); they are not skipped.</summary>
internal static class TextDataFiles
{
    private static readonly Lazy<WordNet> LazyWordNet = new(() => WordNet.Load(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<TypoCorrector> LazyTypos = new(() => TypoCorrector.FromWordList(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static WordNet WordNet => LazyWordNet.Value;
    public static TypoCorrector Typos => LazyTypos.Value;

    /// <summary>Real-looking review sentences (short, like the UCI sentiment sentences), some with numbers and placeholders.</summary>
    public static readonly string[] Sentences =
    [
        "The movie was absolutely wonderful and the acting was superb.",
        "I would not recommend this phone to anyone.",
        "Great food, friendly staff, and the prices are reasonable.",
        "The battery died after 2 hours, which is terrible.",
        "This is the best pizza I have ever eaten in my life!",
        "The plot was boring and the characters felt flat.",
        "Customer service never answered my emails.",
        "I loved every minute of this film.",
        "The headset is comfortable and the sound quality is excellent.",
        "Our waiter was rude and the soup was cold.",
        "Highly recommended for anyone who enjoys a good mystery.",
        "The screen cracked within a week of normal use.",
        "What a beautiful story about friendship and courage.",
        "I gave it 5 stars because it works exactly as described.",
        "The restaurant was noisy, crowded and far too expensive.",
        "Contact me at <EMAIL> if you want the receipt.",
        "Worst purchase ever, it broke on day 1.",
        "The director did a brilliant job with a small budget.",
        "The chicken was dry but the dessert was delicious.",
        "I can't believe how quickly the package arrived.",
        "The sequel is even funnier than the original.",
        "This charger doesn't fit my laptop at all.",
        "A touching performance by the lead actress.",
        "Call <PHONE> and ask for the manager, she was very helpful.",
        "The hotel room was clean, quiet and spacious.",
        "Nothing about this product works as advertised.",
        "The music in this movie is simply amazing.",
        "It took 45 minutes to get our drinks.",
        "The keyboard feels cheap and the keys stick.",
        "I will definitely come back here with my family.",
    ];
}
