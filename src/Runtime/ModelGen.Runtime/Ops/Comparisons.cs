using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

public sealed partial class Tensor
{
    // Comparisons inside a [Model]'s Forward (broadcast, Bool results): compiled by the generator, not run eagerly.
    // == stays reference equality: overloading it would force Equals/GetHashCode and break `t == null`; use Eq/Ne.
    public static Tensor operator >(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor > Tensor");
    public static Tensor operator <(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor < Tensor");
    public static Tensor operator >=(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor >= Tensor");
    public static Tensor operator <=(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor <= Tensor");
    public static Tensor operator >(Tensor a, double c) => throw Dsl.OutsideForward("Tensor > number");
    public static Tensor operator <(Tensor a, double c) => throw Dsl.OutsideForward("Tensor < number");
    public static Tensor operator >=(Tensor a, double c) => throw Dsl.OutsideForward("Tensor >= number");
    public static Tensor operator <=(Tensor a, double c) => throw Dsl.OutsideForward("Tensor <= number");
    public static Tensor operator >(double c, Tensor a) => throw Dsl.OutsideForward("number > Tensor");
    public static Tensor operator <(double c, Tensor a) => throw Dsl.OutsideForward("number < Tensor");
    public static Tensor operator >=(double c, Tensor a) => throw Dsl.OutsideForward("number >= Tensor");
    public static Tensor operator <=(double c, Tensor a) => throw Dsl.OutsideForward("number <= Tensor");

    /// <summary>Element-wise equality, a Bool tensor (<c>torch.eq</c>), inside Forward.</summary>
    public Tensor Eq(Tensor other) => throw Dsl.OutsideForward("Tensor.Eq");
    public Tensor Eq(double other) => throw Dsl.OutsideForward("Tensor.Eq");
    /// <summary>Element-wise inequality, a Bool tensor (<c>torch.ne</c>), inside Forward.</summary>
    public Tensor Ne(Tensor other) => throw Dsl.OutsideForward("Tensor.Ne");
    public Tensor Ne(double other) => throw Dsl.OutsideForward("Tensor.Ne");
}

public abstract partial class Module
{
    /// <summary>a == b element-wise, a Bool tensor (<c>torch.eq</c>; broadcast).</summary>
    protected static Tensor Eq(Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(Eq));
    protected static Tensor Eq(Tensor a, double b) => throw Dsl.OutsideForward(nameof(Eq));
    /// <summary>a != b element-wise, a Bool tensor (<c>torch.ne</c>; broadcast; NaN != NaN).</summary>
    protected static Tensor Ne(Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(Ne));
    protected static Tensor Ne(Tensor a, double b) => throw Dsl.OutsideForward(nameof(Ne));
}

/// <summary>The comparisons' math for the generator's fused element-wise kernels (rules: src/Generators/Ops/Comparisons.cs):
/// 1 where the comparison holds, else 0, in the kernel's element type (scalar, Vector256, Vector512; float for ILGPU).
/// Comparisons with NaN are false, except Ne.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Gt<T>(T a, T b) where T : IFloatingPointIeee754<T> => a > b ? T.One : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Lt<T>(T a, T b) where T : IFloatingPointIeee754<T> => a < b ? T.One : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Ge<T>(T a, T b) where T : IFloatingPointIeee754<T> => a >= b ? T.One : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Le<T>(T a, T b) where T : IFloatingPointIeee754<T> => a <= b ? T.One : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Eq<T>(T a, T b) where T : IFloatingPointIeee754<T> => a == b ? T.One : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Ne<T>(T a, T b) where T : IFloatingPointIeee754<T> => a != b ? T.One : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Gt<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.GreaterThan(a, b) & Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Lt<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.LessThan(a, b) & Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Ge<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.GreaterThanOrEqual(a, b) & Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Le<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.LessThanOrEqual(a, b) & Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Eq<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.Equals(a, b) & Vector256<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Ne<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.AndNot(Vector256<T>.One, Vector256.Equals(a, b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Gt<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.GreaterThan(a, b) & Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Lt<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.LessThan(a, b) & Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Ge<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.GreaterThanOrEqual(a, b) & Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Le<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.LessThanOrEqual(a, b) & Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Eq<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.Equals(a, b) & Vector512<T>.One;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Ne<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.AndNot(Vector512<T>.One, Vector512.Equals(a, b));

    // against a number (x > 0)
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Gt<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Gt(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Gt<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Gt(a, Vector512.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Lt<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Lt(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Lt<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Lt(a, Vector512.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Ge<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Ge(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Ge<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Ge(a, Vector512.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Le<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Le(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Le<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Le(a, Vector512.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Eq<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Eq(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Eq<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Eq(a, Vector512.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Ne<T>(Vector256<T> a, T b) where T : IFloatingPointIeee754<T> => Ne(a, Vector256.Create(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Ne<T>(Vector512<T> a, T b) where T : IFloatingPointIeee754<T> => Ne(a, Vector512.Create(b));

    /// <summary>ILGPU forms.</summary>
    public static float Gt(float a, float b) => a > b ? 1f : 0f;
    public static float Lt(float a, float b) => a < b ? 1f : 0f;
    public static float Ge(float a, float b) => a >= b ? 1f : 0f;
    public static float Le(float a, float b) => a <= b ? 1f : 0f;
    public static float Eq(float a, float b) => a == b ? 1f : 0f;
    public static float Ne(float a, float b) => a != b ? 1f : 0f;
}
