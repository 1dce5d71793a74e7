using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// The vector math the op rules need, once per form: scalar T, <see cref="Vector256{T}"/> and
/// <see cref="Vector512{T}"/> overloads with the same names, so that one expression emitted by the generator compiles
/// in all three loops of a fused kernel. T is float or double.
/// </summary>
/// <remarks>erf in float uses Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7, about one float ulp), fast in every
/// vector width; erf in double is <see cref="ErfDouble"/>, accurate to a few double ulp, so that float64 models are
/// float64-accurate (they are the references the float32 paths are checked against). tanh is computed from
/// exp(−2|x|), which never overflows.</remarks>
public static class VMath
{
    private const double Sqrt1Over2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;
    private const double GeluTanhK = 0.79788456080286535588; // √(2/π)
    private const double GeluTanhC = 0.044715;
    private const double ErfP = 0.3275911, ErfA1 = 0.254829592, ErfA2 = -0.284496736, ErfA3 = 1.421413741, ErfA4 = -1.453152027, ErfA5 = 1.061405429;

    // ---------------- scalar ----------------
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T C<T>(double value) where T : IFloatingPointIeee754<T> => T.CreateTruncating(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Relu<T>(T x) where T : IFloatingPointIeee754<T> => x > T.Zero ? x : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ReluGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => x > T.Zero ? g : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x) where T : IFloatingPointIeee754<T> => T.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SigmoidGrad<T>(T y, T g) where T : IFloatingPointIeee754<T> => g * y * (T.One - y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Tanh<T>(T x) where T : IFloatingPointIeee754<T>
    {
        var e = T.Exp(C<T>(-2) * T.Abs(x));
        var t = (T.One - e) / (T.One + e);
        return x < T.Zero ? -t : t;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T TanhGrad<T>(T y, T g) where T : IFloatingPointIeee754<T> => g * (T.One - y * y);
    /// <summary>erf(x) in double to within about 6 ulp (checked against Python's math.erf over [−7, 7]): for |x| &lt; 2 the
    /// series erf(x) = 2/√π · x·e^(−x²) · Σₙ (2x²)ⁿ / (1·3·…·(2n+1)), whose terms are all positive (no cancellation);
    /// beyond, erf = 1 − erfc with erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))), 80 levels evaluated
    /// from the tail; 1 from |x| ≥ 6, where erfc(x) &lt; 2.2e-17.</summary>
    public static double ErfDouble(double x)
    {
        double ax = Math.Abs(x), r;
        if (double.IsNaN(x)) return x;
        if (ax < 2)
        {
            double x2 = ax * ax, term = 1, sum = 1;
            for (int n = 1; n < 100; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
                if (term < 1e-17 * sum) break;
            }
            r = 1.1283791670955125739 * ax * Math.Exp(-x2) * sum; // 2/√π
        }
        else if (ax < 6)
        {
            double f = ax;
            for (int k = 80; k >= 1; k--) f = ax + 0.5 * k / f;
            r = 1 - Math.Exp(-ax * ax) * 0.56418958354775628695 / f; // 1/√π
        }
        else r = 1;
        return x < 0 ? -r : r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Erf<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return T.CreateTruncating(ErfDouble(double.CreateTruncating(x)));
        var ax = T.Abs(x);
        var t = T.One / (T.One + C<T>(ErfP) * ax);
        var poly = ((((C<T>(ErfA5) * t + C<T>(ErfA4)) * t + C<T>(ErfA3)) * t + C<T>(ErfA2)) * t + C<T>(ErfA1)) * t;
        var y = T.One - poly * T.Exp(-ax * ax);
        return x < T.Zero ? -y : y;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Gelu<T>(T x) where T : IFloatingPointIeee754<T> => C<T>(0.5) * x * (T.One + Erf(x * C<T>(Sqrt1Over2)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T GeluGrad<T>(T x, T g) where T : IFloatingPointIeee754<T>
        => g * (C<T>(0.5) * (T.One + Erf(x * C<T>(Sqrt1Over2))) + x * C<T>(InvSqrt2Pi) * T.Exp(C<T>(-0.5) * x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T GeluTanh<T>(T x) where T : IFloatingPointIeee754<T>
        => C<T>(0.5) * x * (T.One + Tanh(C<T>(GeluTanhK) * (x + C<T>(GeluTanhC) * x * x * x)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T GeluTanhGrad<T>(T x, T g) where T : IFloatingPointIeee754<T>
    {
        var t = Tanh(C<T>(GeluTanhK) * (x + C<T>(GeluTanhC) * x * x * x));
        var du = C<T>(GeluTanhK) * (T.One + C<T>(3 * GeluTanhC) * x * x);
        return g * (C<T>(0.5) * (T.One + t) + C<T>(0.5) * x * (T.One - t * t) * du);
    }

    // ---------------- Vector512 ----------------
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> C512<T>(double value) where T : IFloatingPointIeee754<T> => Vector512.Create(T.CreateTruncating(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return ExpFloat(x.As<T, float>()).As<float, T>();
        return Vector512.Exp(x.As<T, double>()).As<double, T>();
    }

    /// <summary>
    /// e^x in float (Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2 by Cody–Waite, a degree-6 polynomial for e^r, then
    /// 2^n through the exponent bits; within 2 ulp). .NET's Vector512.Exp(float) widens to double and back, which made
    /// it 6% of a MiniLM forward. Below −87.34 the result is 0, above 88.72 +∞, and NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpFloat(Vector512<float> x)
    {
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.33654f)), Vector512.Create(88.72283f));
        var magic = Vector512.Create(12582912f); // 1.5·2²³: adding and subtracting it rounds to the nearest integer
        var n = Vector512.FusedMultiplyAdd(xc, Vector512.Create(1.44269504088896341f), magic) - magic;
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500E-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894E-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459E-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201E-1f));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        // 2^n as 2^⌊n/2⌋·2^(n−⌊n/2⌋): both halves stay normal for n from −126 to 128
        var ni = Vector512.ConvertToInt32(n);
        var half = Vector512.ShiftRightArithmetic(ni, 1);
        var bias = Vector512.Create(127);
        y = y * Vector512.ShiftLeft(half + bias, 23).As<int, float>() * Vector512.ShiftLeft(ni - half + bias, 23).As<int, float>();
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-87.33654f)), Vector512<float>.Zero, y);
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(88.72283f)), Vector512.Create(float.PositiveInfinity), y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Relu<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => Vector512.Max(x, Vector512<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ReluGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), g, Vector512<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sigmoid<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
        => Vector512<T>.One / (Vector512<T>.One + Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SigmoidGrad<T>(Vector512<T> y, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g * y * (Vector512<T>.One - y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Tanh<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        var e = Exp(C512<T>(-2) * Vector512.Abs(x));
        var t = (Vector512<T>.One - e) / (Vector512<T>.One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -t, t);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> TanhGrad<T>(Vector512<T> y, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g * (Vector512<T>.One - y * y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Erf<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var r = x;
            for (int i = 0; i < Vector512<T>.Count; i++) r = r.WithElement(i, Erf(x.GetElement(i)));
            return r;
        }
        var ax = Vector512.Abs(x);
        var t = Vector512<T>.One / (Vector512<T>.One + C512<T>(ErfP) * ax);
        var poly = ((((C512<T>(ErfA5) * t + C512<T>(ErfA4)) * t + C512<T>(ErfA3)) * t + C512<T>(ErfA2)) * t + C512<T>(ErfA1)) * t;
        var y = Vector512<T>.One - poly * Exp(-(ax * ax));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -y, y);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Gelu<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
        => C512<T>(0.5) * x * (Vector512<T>.One + Erf(x * C512<T>(Sqrt1Over2)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GeluGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g * (C512<T>(0.5) * (Vector512<T>.One + Erf(x * C512<T>(Sqrt1Over2))) + x * C512<T>(InvSqrt2Pi) * Exp(C512<T>(-0.5) * x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GeluTanh<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
        => C512<T>(0.5) * x * (Vector512<T>.One + Tanh(C512<T>(GeluTanhK) * (x + C512<T>(GeluTanhC) * x * x * x)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GeluTanhGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
    {
        var t = Tanh(C512<T>(GeluTanhK) * (x + C512<T>(GeluTanhC) * x * x * x));
        var du = C512<T>(GeluTanhK) * (Vector512<T>.One + C512<T>(3 * GeluTanhC) * x * x);
        return g * (C512<T>(0.5) * (Vector512<T>.One + t) + C512<T>(0.5) * x * (Vector512<T>.One - t * t) * du);
    }

    // ---------------- Vector256 (same formulas; used when AVX-512 is off) ----------------
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> C256<T>(double value) where T : IFloatingPointIeee754<T> => Vector256.Create(T.CreateTruncating(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return ExpFloat(x.As<T, float>()).As<float, T>();
        return Vector256.Exp(x.As<T, double>()).As<double, T>();
    }

    /// <summary>The Vector256 form of <see cref="ExpFloat(Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpFloat(Vector256<float> x)
    {
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.33654f)), Vector256.Create(88.72283f));
        var magic = Vector256.Create(12582912f);
        var n = Vector256.FusedMultiplyAdd(xc, Vector256.Create(1.44269504088896341f), magic) - magic;
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500E-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        var y = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var ni = Vector256.ConvertToInt32(n);
        var half = Vector256.ShiftRightArithmetic(ni, 1);
        var bias = Vector256.Create(127);
        y = y * Vector256.ShiftLeft(half + bias, 23).As<int, float>() * Vector256.ShiftLeft(ni - half + bias, 23).As<int, float>();
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-87.33654f)), Vector256<float>.Zero, y);
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(88.72283f)), Vector256.Create(float.PositiveInfinity), y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Relu<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => Vector256.Max(x, Vector256<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ReluGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), g, Vector256<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sigmoid<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
        => Vector256<T>.One / (Vector256<T>.One + Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SigmoidGrad<T>(Vector256<T> y, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g * y * (Vector256<T>.One - y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Tanh<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        var e = Exp(C256<T>(-2) * Vector256.Abs(x));
        var t = (Vector256<T>.One - e) / (Vector256<T>.One + e);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -t, t);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> TanhGrad<T>(Vector256<T> y, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g * (Vector256<T>.One - y * y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Erf<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            var r = x;
            for (int i = 0; i < Vector256<T>.Count; i++) r = r.WithElement(i, Erf(x.GetElement(i)));
            return r;
        }
        var ax = Vector256.Abs(x);
        var t = Vector256<T>.One / (Vector256<T>.One + C256<T>(ErfP) * ax);
        var poly = ((((C256<T>(ErfA5) * t + C256<T>(ErfA4)) * t + C256<T>(ErfA3)) * t + C256<T>(ErfA2)) * t + C256<T>(ErfA1)) * t;
        var y = Vector256<T>.One - poly * Exp(-(ax * ax));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -y, y);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Gelu<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
        => C256<T>(0.5) * x * (Vector256<T>.One + Erf(x * C256<T>(Sqrt1Over2)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GeluGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g * (C256<T>(0.5) * (Vector256<T>.One + Erf(x * C256<T>(Sqrt1Over2))) + x * C256<T>(InvSqrt2Pi) * Exp(C256<T>(-0.5) * x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GeluTanh<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
        => C256<T>(0.5) * x * (Vector256<T>.One + Tanh(C256<T>(GeluTanhK) * (x + C256<T>(GeluTanhC) * x * x * x)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GeluTanhGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
    {
        var t = Tanh(C256<T>(GeluTanhK) * (x + C256<T>(GeluTanhC) * x * x * x));
        var du = C256<T>(GeluTanhK) * (Vector256<T>.One + C256<T>(3 * GeluTanhC) * x * x);
        return g * (C256<T>(0.5) * (Vector256<T>.One + t) + C256<T>(0.5) * x * (Vector256<T>.One - t * t) * du);
    }
}
