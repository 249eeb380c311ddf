// Notation: a tangent vector d = (d_0, ..., d_{W-1}) holds the directional derivatives of one
// number along W seed directions at once; every operation acts on each component alone.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffMpc.Autodiff;

/// <summary>
/// A fixed-width vector of W tangents, the derivative part of a <see cref="MultiDual{TTangents}"/>.
/// Every operation is component-wise with the rounding of the scalar operation it stands for, so
/// component k equals, bit for bit, the tangent a <see cref="Dual{T}"/> seeded along direction k
/// would carry.
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal interface ITangents<TSelf>
    where TSelf : struct, ITangents<TSelf>
{
    /// <summary>W, the number of tangents.</summary>
    static abstract int Width { get; }

    /// <summary>All tangents zero.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>The unit vector e_i (0 &lt;= i &lt; W).</summary>
    static abstract TSelf Unit(int i);

    /// <summary>Component i.</summary>
    double this[int i] { get; }

    /// <summary>Writes the W components to destination[0 .. W-1] (destination holds at least W).</summary>
    void CopyTo(Span<double> destination);

    /// <summary>Component-wise sum.</summary>
    static abstract TSelf operator +(TSelf left, TSelf right);

    /// <summary>Component-wise difference.</summary>
    static abstract TSelf operator -(TSelf left, TSelf right);

    /// <summary>Component-wise negation (a sign flip, as for a double).</summary>
    static abstract TSelf operator -(TSelf value);

    /// <summary>Every component times a scalar: s d_k.</summary>
    static abstract TSelf operator *(double scale, TSelf value);

    /// <summary>Every component divided by a scalar: d_k / s (a true division, not a reciprocal product).</summary>
    static abstract TSelf operator /(TSelf value, double divisor);

    /// <summary>Every component times 2^n.</summary>
    static abstract TSelf ScaleB(TSelf value, int n);
}

/// <summary>Four tangents in one <see cref="Vector256{T}"/>.</summary>
internal readonly struct Tangents4 : ITangents<Tangents4>
{
    private readonly Vector256<double> _v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Tangents4(Vector256<double> v) => _v = v;

    public static int Width => 4;

    public static Tangents4 Zero => default;

    public static Tangents4 Unit(int i) => new(Vector256<double>.Zero.WithElement(i, 1.0));

    public double this[int i] => _v.GetElement(i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<double> destination) => _v.StoreUnsafe(ref MemoryMarshal.GetReference(destination[..4]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents4 operator +(Tangents4 left, Tangents4 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents4 operator -(Tangents4 left, Tangents4 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents4 operator -(Tangents4 value) => new(Vector256.Xor(value._v, Vector256.Create(-0.0)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents4 operator *(double scale, Tangents4 value) => new(Vector256.Create(scale) * value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents4 operator /(Tangents4 value, double divisor) => new(value._v / Vector256.Create(divisor));

    public static Tangents4 ScaleB(Tangents4 value, int n)
    {
        Vector256<double> v = value._v;
        for (int i = 0; i < 4; i++)
        {
            v = v.WithElement(i, double.ScaleB(v.GetElement(i), n));
        }
        return new(v);
    }
}

/// <summary>
/// Eight tangents in two <see cref="Vector256{T}"/> halves (components 0-3 and 4-7): AVX2
/// accelerates them, and on AVX-512 hardware that executes 512-bit operations as two 256-bit
/// halves (Zen 4) they cost the same.
/// </summary>
internal readonly struct Tangents8 : ITangents<Tangents8>
{
    private readonly Vector256<double> _lo, _hi;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Tangents8(Vector256<double> lo, Vector256<double> hi)
    {
        _lo = lo;
        _hi = hi;
    }

    /// <summary>The eight tangents as one vector (component k in element k).</summary>
    public Vector512<double> Vector
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(_lo, _hi);
    }

    /// <summary>The tangents held in <paramref name="vector"/> (component k in element k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 FromVector(Vector512<double> vector) => new(vector.GetLower(), vector.GetUpper());

    public static int Width => 8;

    public static Tangents8 Zero => default;

    public static Tangents8 Unit(int i) => FromVector(Vector512<double>.Zero.WithElement(i, 1.0));

    public double this[int i] => i < 4 ? _lo.GetElement(i) : _hi.GetElement(i - 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<double> destination)
    {
        ref double d = ref MemoryMarshal.GetReference(destination[..8]);
        _lo.StoreUnsafe(ref d);
        _hi.StoreUnsafe(ref d, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 operator +(Tangents8 left, Tangents8 right) => new(left._lo + right._lo, left._hi + right._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 operator -(Tangents8 left, Tangents8 right) => new(left._lo - right._lo, left._hi - right._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 operator -(Tangents8 value) =>
        new(Vector256.Xor(value._lo, Vector256.Create(-0.0)), Vector256.Xor(value._hi, Vector256.Create(-0.0)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 operator *(double scale, Tangents8 value)
    {
        var s = Vector256.Create(scale);
        return new(s * value._lo, s * value._hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents8 operator /(Tangents8 value, double divisor)
    {
        var d = Vector256.Create(divisor);
        return new(value._lo / d, value._hi / d);
    }

    public static Tangents8 ScaleB(Tangents8 value, int n)
    {
        Span<double> v = stackalloc double[8];
        value.CopyTo(v);
        for (int i = 0; i < 8; i++)
        {
            v[i] = double.ScaleB(v[i], n);
        }
        return new(Vector256.LoadUnsafe(ref v[0]), Vector256.LoadUnsafe(ref v[4]));
    }
}

/// <summary>Sixteen tangents in two <see cref="Vector512{T}"/>.</summary>
internal readonly struct Tangents16 : ITangents<Tangents16>
{
    private readonly Vector512<double> _lo, _hi;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Tangents16(Vector512<double> lo, Vector512<double> hi)
    {
        _lo = lo;
        _hi = hi;
    }

    public static int Width => 16;

    public static Tangents16 Zero => default;

    public static Tangents16 Unit(int i) => i < 8
        ? new(Vector512<double>.Zero.WithElement(i, 1.0), Vector512<double>.Zero)
        : new(Vector512<double>.Zero, Vector512<double>.Zero.WithElement(i - 8, 1.0));

    public double this[int i] => i < 8 ? _lo.GetElement(i) : _hi.GetElement(i - 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<double> destination)
    {
        ref double d = ref MemoryMarshal.GetReference(destination[..16]);
        _lo.StoreUnsafe(ref d);
        _hi.StoreUnsafe(ref d, 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents16 operator +(Tangents16 left, Tangents16 right) => new(left._lo + right._lo, left._hi + right._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents16 operator -(Tangents16 left, Tangents16 right) => new(left._lo - right._lo, left._hi - right._hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents16 operator -(Tangents16 value)
    {
        Vector512<double> sign = Vector512.Create(-0.0);
        return new(Vector512.Xor(value._lo, sign), Vector512.Xor(value._hi, sign));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents16 operator *(double scale, Tangents16 value)
    {
        Vector512<double> s = Vector512.Create(scale);
        return new(s * value._lo, s * value._hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tangents16 operator /(Tangents16 value, double divisor)
    {
        Vector512<double> s = Vector512.Create(divisor);
        return new(value._lo / s, value._hi / s);
    }

    public static Tangents16 ScaleB(Tangents16 value, int n)
    {
        Vector512<double> lo = value._lo, hi = value._hi;
        for (int i = 0; i < 8; i++)
        {
            lo = lo.WithElement(i, double.ScaleB(lo.GetElement(i), n));
            hi = hi.WithElement(i, double.ScaleB(hi.GetElement(i), n));
        }
        return new(lo, hi);
    }
}
