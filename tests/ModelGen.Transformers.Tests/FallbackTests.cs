using ModelGen.Testing;

namespace ModelGen.Transformers.Tests;

/// <summary>The tiny BERTs' CPU-engine tests (attention, LayerNorm, embeddings, every dropout, dynamic padding) rerun
/// with AVX-512 off and with all intrinsics off (tests/Shared/FallbackRerun.cs).</summary>
public class FallbackTests : FallbackRerun
{
    protected override string[] MustRun => ["BertInTrainingMode_WithEveryDropout_GradientsMatchFiniteDifferences", "DynamicPadding_BuildsPlansInTheFirstEpochOnly"];
}
