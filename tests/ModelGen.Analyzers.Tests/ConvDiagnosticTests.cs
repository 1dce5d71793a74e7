namespace ModelGen.Analyzers.Tests;

/// <summary>Convolutional networks: the classic Flatten → Linear mismatch (MG0001 naming the computed C·H·W), channel
/// mismatches (MG0019), windows larger than the padded input (MG0020) and non-NCHW inputs (MG0018), with the input's
/// example shape declared by [Shape(...)]; and a CNN with no diagnostics.</summary>
public sealed class ConvDiagnosticTests
{
    private const string Cnn = """
        [Model]
        public partial class FashionCnn
        {
            [Layer] readonly Conv2d conv1 = new(1, 32, 3, padding: 1, bias: false);
            [Layer] readonly BatchNorm2d bn1 = new(32);
            [Layer] readonly MaxPool2d pool1 = new(2);
            [Layer] readonly Conv2d conv2 = new(CONV2IN, 64, 3, padding: 1, bias: false);
            [Layer] readonly BatchNorm2d bn2 = new(BN2);
            [Layer] readonly MaxPool2d pool2 = new(2);
            [Layer] readonly Dropout drop = new(0.25);
            [Layer] readonly Linear fc1 = new(FC1IN, 128);
            [Layer] readonly Linear fc2 = new(128, 10);

            Tensor Forward(SHAPE Tensor x)
            {
                var h = pool1.Apply(Relu(bn1.Apply(conv1.Apply(x))));
                h = POOL2;
                return fc2.Apply(drop.Apply(Relu(FC1)));
            }
        }
        """;

    private static string Source(string conv2In = "32", string bn2 = "64", string fc1In = "64 * 7 * 7", string shape = "[Shape(1, 28, 28)]",
        string pool2 = "pool2.Apply(Relu(bn2.Apply(conv2.Apply(h))))", string fc1 = "fc1.Apply(Flatten(h))")
        => Cnn.Replace("CONV2IN", conv2In).Replace("BN2", bn2).Replace("FC1IN", fc1In).Replace("SHAPE", shape).Replace("POOL2", pool2).Replace("FC1", fc1);

    [Test]
    public Task FashionCnn_NoDiagnostics() => Verify.Analyze(Source());

    [Test]
    public Task FlattenIntoALinearSizedForAnotherImage_NamesTheComputedSize() => Verify.Analyze(
        Source(fc1In: "64 * 8 * 8", fc1: "{|#0:fc1.Apply|}(Flatten(h))"),
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithSpan("/0/Test1.cs", 11, 29, 11, 55)
            .WithArguments("Linear layer 'fc1' expects input […, 4096] but 'Flatten(h)' has shape [?, 3136]: Flatten makes C·H·W = 64·7·7 = 3136 features of [?, 64, 7, 7]; 'fc1' is declared at line 11"));

    [Test]
    public Task WithoutADeclaredShape_TheSpatialSizeIsLeftToTheRuntimeGuard() => Verify.Analyze(Source(fc1In: "64 * 8 * 8", shape: ""));

    [Test]
    public Task ConvInputChannels() => Verify.Analyze(
        Source(conv2In: "16", pool2: "pool2.Apply(Relu(bn2.Apply({|#0:conv2.Apply|}(h))))"),
        Verify.Diagnostic(Descriptors.ChannelMismatch).WithLocation(0).WithSpan("/0/Test1.cs", 7, 29, 7, 76)
            .WithArguments("Conv2d layer 'conv2' expects 16 input channels but 'h' has shape [?, 32, 14, 14] (32 channels); 'conv2' is declared at line 7"));

    [Test]
    public Task BatchNormChannels() => Verify.Analyze(
        Source(bn2: "32", pool2: "pool2.Apply(Relu({|#0:bn2.Apply|}(conv2.Apply(h))))"),
        Verify.Diagnostic(Descriptors.ChannelMismatch).WithLocation(0).WithSpan("/0/Test1.cs", 8, 34, 8, 47)
            .WithArguments("BatchNorm2d layer 'bn2' normalises 32 channels but 'conv2.Apply(h)' has shape [?, 64, 14, 14] (64 channels); 'bn2' is declared at line 8"));

    [Test]
    public Task PoolingWindowLargerThanTheInput() => Verify.Analyze(
        Source(shape: "[Shape(1, 6, 6)]", fc1In: "64", pool2: "{|#0:pool2.Apply|}(pool2.Apply(Relu(bn2.Apply(conv2.Apply(h)))))"),
        Verify.Diagnostic(Descriptors.WindowSize).WithLocation(0).WithSpan("/0/Test1.cs", 9, 32, 9, 46)
            .WithArguments("MaxPool2d layer 'pool2' has a 2×2 window that spans 2 but 'pool2.Apply(Relu(bn2.Apply(…)))' has height 1 (shape [?, 64, 1, 1]): the output would be empty; 'pool2' is declared at line 9"));

    [Test]
    public Task KernelLargerThanThePaddedInput() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Conv2d conv = new(3, 8, 5, padding: 1, dilation: 2);
            Tensor Forward([Shape(3, 6, 32)] Tensor x) => {|#0:conv.Apply|}(x);
        }
        """,
        Verify.Diagnostic(Descriptors.WindowSize).WithLocation(0).WithSpan("/0/Test1.cs", 4, 29, 4, 73)
            .WithArguments("Conv2d layer 'conv' has a 5×5 kernel dilated by 2 that spans 9 but 'x' has height 6 (+ 1 padding on each side = 8) (shape [?, 3, 6, 32]): the output would be empty; 'conv' is declared at line 4"));

    [Test]
    public Task GroupsThatDoNotDivideTheChannels() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Conv2d conv = new(6, 8, 3, groups: 4);
            Tensor Forward([Shape(6, 10, 10)] Tensor x) => {|#0:conv.Apply|}(x);
        }
        """,
        Verify.Diagnostic(Descriptors.ChannelMismatch).WithLocation(0).WithSpan("/0/Test1.cs", 4, 29, 4, 59)
            .WithArguments("Conv2d layer 'conv' splits its 6 input channels into groups = 4, which does not divide them; 'conv' is declared at line 4"));

    [Test]
    public Task ConvOfAMatrix() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Conv2d conv = new(3, 8, 3);
            Tensor Forward(Tensor x) => {|#0:conv.Apply|}(x.Reshape(4, 6));
        }
        """,
        Verify.Diagnostic(Descriptors.Rank).WithLocation(0)
            .WithArguments("Conv2d layer 'conv' needs NCHW input [batch, channels, height, width] but 'x.Reshape(4, 6)' has shape [4, 6]"));

    [Test]
    public Task ChannelsAreLearnedFromTheFirstLayer() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly BatchNorm2d norm = new(4);
            [Layer] readonly Conv2d conv = new(3, 8, 3);
            Tensor Forward(Tensor x) => {|#0:conv.Apply|}(norm.Apply(x));
        }
        """,
        Verify.Diagnostic(Descriptors.ChannelMismatch).WithLocation(0).WithSpan("/0/Test1.cs", 5, 29, 5, 48)
            .WithArguments("Conv2d layer 'conv' expects 3 input channels but 'norm.Apply(x)' has shape [?, 4, ?, ?] (4 channels); 'conv' is declared at line 5"));

    [Test]
    public Task AdaptivePoolingFixesTheHeadSize() => Verify.Analyze("""
        [Model]
        public partial class M
        {
            [Layer] readonly Conv2d conv = new(3, 8, 3, stride: 2);
            [Layer] readonly AdaptiveAvgPool2d gap = new(2, 3);
            [Layer] readonly Linear head = new(8 * 2 * 2, 10);
            Tensor Forward(Tensor x) => {|#0:head.Apply|}(Flatten(gap.Apply(conv.Apply(x))));
        }
        """,
        Verify.Diagnostic(Descriptors.LinearInput).WithLocation(0).WithSpan("/0/Test1.cs", 6, 29, 6, 54)
            .WithArguments("Linear layer 'head' expects input […, 32] but 'Flatten(gap.Apply(conv.Apply(x)))' has shape [?, 48]: Flatten makes C·H·W = 8·2·3 = 48 features of [?, 8, 2, 3]; 'head' is declared at line 6"));

    [Test]
    public Task DocsExample_MG0019() => Verify.Analyze("""
        [Model]
        public partial class FashionCnn
        {
            [Layer] readonly Conv2d conv1 = new(1, 32, 3, padding: 1);
            [Layer] readonly BatchNorm2d bn1 = new(32);
            [Layer] readonly Conv2d conv2 = new(16, 64, 3, padding: 1);

            Tensor Forward([Shape(1, 28, 28)] Tensor x) => conv2.Apply(Relu(bn1.Apply(conv1.Apply(x))));
        }
        """,
        Verify.Diagnostic(Descriptors.ChannelMismatch).WithSpan("/0/Test1.cs", 8, 52, 8, 63).WithSpan("/0/Test1.cs", 6, 29, 6, 63)
            .WithArguments("Conv2d layer 'conv2' expects 16 input channels but 'Relu(bn1.Apply(conv1.Apply(x)))' has shape [?, 32, 28, 28] (32 channels); 'conv2' is declared at line 6"));

    [Test]
    public Task DocsExample_MG0020() => Verify.Analyze("""
        [Model]
        public partial class SmallImages
        {
            [Layer] readonly Conv2d conv = new(1, 16, 3);
            [Layer] readonly MaxPool2d pool = new(2);
            [Layer] readonly Linear head = new(16, 10);

            // 6×6 → conv 4×4 → pool 2×2 → pool 1×1 → pool: a 2×2 window on a 1×1 input
            Tensor Forward([Shape(1, 6, 6)] Tensor x) => head.Apply(Flatten(pool.Apply(pool.Apply(pool.Apply(conv.Apply(x))))));
        }
        """,
        Verify.Diagnostic(Descriptors.WindowSize).WithSpan("/0/Test1.cs", 9, 69, 9, 79).WithSpan("/0/Test1.cs", 5, 32, 5, 45)
            .WithArguments("MaxPool2d layer 'pool' has a 2×2 window that spans 2 but 'pool.Apply(pool.Apply(conv.Apply(x)))' has height 1 (shape [?, 16, 1, 1]): the output would be empty; 'pool' is declared at line 5"));
}
