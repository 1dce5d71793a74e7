using ILGPU;
using ILGPU.Runtime;

namespace ModelGen.Gpu;

/// <summary>An epilogue of the ILGPU GEMM: what happens to each finished accumulator (bias, activation).</summary>
public interface IGpuEpilogue
{
    float Apply(float acc, int row, int col);
}

/// <summary>act(acc + bias[col]) (a Linear's bias, per output feature) or act(acc + bias[row]) (a convolution's, per
/// output channel), with the activation chosen by type: GpuActivation codes 0–3.</summary>
public readonly struct GpuBiasEpilogue<TAct> : IGpuEpilogue where TAct : struct, IGpuActivation
{
    public readonly ArrayView<float> Bias;
    public readonly int HasBias;
    public readonly int PerRow;

    public GpuBiasEpilogue(ArrayView<float> bias, bool hasBias, bool perRow = false)
    {
        Bias = bias;
        HasBias = hasBias ? 1 : 0;
        PerRow = perRow ? 1 : 0;
    }

    public float Apply(float acc, int row, int col) => default(TAct).Apply(HasBias != 0 ? acc + Bias[PerRow != 0 ? row : col] : acc);
}

public interface IGpuActivation
{
    float Apply(float x);
}

public readonly struct GpuIdentity : IGpuActivation { public float Apply(float x) => x; }
public readonly struct GpuRelu : IGpuActivation { public float Apply(float x) => GpuMath.Relu(x); }
public readonly struct GpuTanh : IGpuActivation { public float Apply(float x) => GpuMath.Tanh(x); }
public readonly struct GpuSigmoid : IGpuActivation { public float Apply(float x) => GpuMath.Sigmoid(x); }

/// <summary>GEMM shape and layout, passed to the kernel as one value.</summary>
public struct GemmArgs
{
    public int M, N, K, Lda, Ldb, Ldc, TransA, TransB, Accumulate, Tile;
}

/// <summary>The ILGPU engine's shared kernels (static methods on value types only, so ILGPU compiles them); an op's own
/// kernels live in its <c>Ops/&lt;Op&gt;.cs</c>.</summary>
internal static class GpuKernels
{
    public const int Tile = 16;

    /// <summary>Tiled GEMM: each Tile×Tile group (16×16 on GPUs; smaller where the accelerator allows fewer threads per
    /// group, as ILGPU's CPU simulator does) stages tiles of op(A) and op(B) in shared memory.</summary>
    [GpuKernel(typeof(GpuBiasEpilogue<GpuIdentity>), typeof(GpuBiasEpilogue<GpuRelu>), typeof(GpuBiasEpilogue<GpuTanh>), typeof(GpuBiasEpilogue<GpuSigmoid>))]
    public static void Gemm<TEpi>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g, TEpi epi)
        where TEpi : struct, IGpuEpilogue
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Tile);
        var tileB = SharedMemory.Allocate<float>(Tile * Tile);
        int tile = g.Tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int col = Grid.IdxX * tile + tx;
        int row = Grid.IdxY * tile + ty;
        float acc = 0f;
        for (int t = 0; t < g.K; t += tile)
        {
            int ak = t + tx;
            tileA[ty * tile + tx] = row < g.M && ak < g.K ? (g.TransA != 0 ? a[ak * g.Lda + row] : a[row * g.Lda + ak]) : 0f;
            int bk = t + ty;
            tileB[ty * tile + tx] = bk < g.K && col < g.N ? (g.TransB != 0 ? b[col * g.Ldb + bk] : b[bk * g.Ldb + col]) : 0f;
            Group.Barrier();
            for (int k = 0; k < tile; k++) acc += tileA[ty * tile + k] * tileB[k * tile + tx];
            Group.Barrier();
        }
        if (row < g.M && col < g.N)
        {
            int index = row * g.Ldc + col;
            float v = g.Accumulate != 0 ? acc + c[index] : acc;
            c[index] = epi.Apply(v, row, col);
        }
    }

    /// <summary>The same product and epilogue with one thread per element of C and no shared memory: what the engine runs
    /// on ILGPU's CPU accelerator, where the tiled kernel's group barriers cost seconds per call (the tests' simulator).</summary>
    [GpuKernel(typeof(GpuBiasEpilogue<GpuIdentity>), typeof(GpuBiasEpilogue<GpuRelu>), typeof(GpuBiasEpilogue<GpuTanh>), typeof(GpuBiasEpilogue<GpuSigmoid>))]
    public static void GemmPerElement<TEpi>(Index2D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g, TEpi epi)
        where TEpi : struct, IGpuEpilogue
    {
        int col = index.X, row = index.Y;
        float acc = 0f;
        for (int k = 0; k < g.K; k++)
            acc += (g.TransA != 0 ? a[k * g.Lda + row] : a[row * g.Lda + k]) * (g.TransB != 0 ? b[col * g.Ldb + k] : b[k * g.Ldb + col]);
        int i = row * g.Ldc + col;
        c[i] = epi.Apply(g.Accumulate != 0 ? acc + c[i] : acc, row, col);
    }

    [GpuKernel]
    public static void Fill(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    [GpuKernel]
    public static void AddInto(Index1D i, ArrayView<float> dst, ArrayView<float> src, int accumulate)
        => dst[i] = accumulate != 0 ? dst[i] + src[i] : src[i];

    /// <summary>partial[chunk] = Σ x² over one chunk of the tensor, summed in double.</summary>
    [GpuKernel]
    public static void SumOfSquares(Index1D chunk, ArrayView<float> x, ArrayView<float> partial, int n, int chunkSize)
    {
        int start = chunk * chunkSize, end = Math.Min(n, start + chunkSize);
        double sum = 0;
        for (int i = start; i < end; i++) sum += (double)x[i] * x[i];
        partial[chunk] = (float)sum;
    }

    [GpuKernel]
    public static void Scale(Index1D i, ArrayView<float> x, float factor) => x[i] *= factor;

    /// <summary>One thread per column: dz = act'(y)·dy, db += Σ_rows dz.</summary>
    [GpuKernel]
    public static void ActivationBackward(Index1D c, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> dz, ArrayView<float> db,
        int rows, int cols, int activation, int hasBias)
    {
        float sum = 0f;
        for (int r = 0; r < rows; r++)
        {
            int index = r * cols + c;
            float g = GpuMath.ActivationGrad(activation, y[index], dy[index]);
            if (activation != 0) dz[index] = g;
            sum += g;
        }
        if (hasBias != 0) db[c] += sum;
    }

    [GpuKernel]
    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> buf, float lr, float wd, float mu, float damp, int first, int nesterov, int momentum)
    {
        float g = grad[i] + wd * p[i];
        if (momentum != 0)
        {
            float b = first != 0 ? g : mu * buf[i] + damp * g;
            buf[i] = MathF.Abs(b) < 1.17549435e-38f ? 0f : b;
            g = nesterov != 0 ? g + mu * b : b;
        }
        p[i] -= lr * g;
    }

    [GpuKernel]
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, ArrayView<float> vMax,
        AdamArgs a)
    {
        float pv = p[i] * a.Decay;
        float g = grad[i] + a.L2 * pv;
        float mv = a.B1 * m[i] + (1f - a.B1) * g;
        float vv = a.B2 * v[i] + (1f - a.B2) * g * g;
        mv = MathF.Abs(mv) < 1.17549435e-38f ? 0f : mv;
        vv = MathF.Abs(vv) < 1.17549435e-38f ? 0f : vv;
        m[i] = mv;
        v[i] = vv;
        if (a.AmsGrad != 0)
        {
            vv = MathF.Max(vMax[i], vv);
            vMax[i] = vv;
        }
        p[i] = pv - a.StepSize * mv / (MathF.Sqrt(vv) * a.InvSqrtBc2 + a.Eps);
    }
}

public struct AdamArgs
{
    public float B1, B2, StepSize, InvSqrtBc2, Eps, L2, Decay;
    public int AmsGrad;
}
