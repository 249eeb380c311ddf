// Notation: a multi-tangent dual number (a, d) carries a value a and W tangents d_k, the
// directional derivatives along W seed directions: f(a, d) = (f(a), f'(a) d). Every rule is the one
// of Dual<double>, applied to each component with the same rounding, so component k is bitwise the
// tangent of a Dual<double> evaluation seeded along direction k: one evaluation replaces W.
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

/// <summary>
/// A forward-mode dual number with W tangents (see <see cref="ITangents{TSelf}"/>): one model
/// evaluation over this type gives the value and W directional derivatives, e.g. a block of W
/// Jacobian columns. Nested as <c>Dual&lt;MultiDual&lt;TTangents&gt;&gt;</c> it gives W second
/// derivatives per evaluation (one row block of a Hessian).
/// </summary>
/// <remarks>
/// Semantics (comparisons on the value, selection rules at ties, constants with zero tangents,
/// conversions) are exactly those of <see cref="Dual{T}"/> over double.
/// </remarks>
/// <typeparam name="TTangents">The tangent vector type, fixing W.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000:Do not declare static members on generic types",
    Justification = "A generic-math number type must expose its operations as static members (interface contract).")]
internal readonly struct MultiDual<TTangents> : IFloatingPointIeee754<MultiDual<TTangents>>, IDoubleValued<MultiDual<TTangents>>
    where TTangents : struct, ITangents<TTangents>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MultiDual(double value, TTangents tangents)
    {
        Value = value;
        Tangents = tangents;
    }

    /// <summary>The value a.</summary>
    public double Value { get; }

    /// <summary>The tangents d.</summary>
    public TTangents Tangents { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> Constant(double value) => new(value, TTangents.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MultiDual<TTangents> Chain(double value, double slope, MultiDual<TTangents> x) => new(value, slope * x.Tangents);

    private static double Two => 2.0;

    private static double Ln2 => Math.Log(2.0);

    private static double Ln10 => Math.Log(10.0);

    // ---- Constants ----

    public static MultiDual<TTangents> Zero => Constant(0.0);

    public static MultiDual<TTangents> One => Constant(1.0);

    public static MultiDual<TTangents> NegativeOne => Constant(-1.0);

    public static MultiDual<TTangents> AdditiveIdentity => Zero;

    public static MultiDual<TTangents> MultiplicativeIdentity => One;

    public static MultiDual<TTangents> E => Constant(Math.E);

    public static MultiDual<TTangents> Pi => Constant(Math.PI);

    public static MultiDual<TTangents> Tau => Constant(Math.Tau);

    public static MultiDual<TTangents> Epsilon => Constant(double.Epsilon);

    public static MultiDual<TTangents> NaN => Constant(double.NaN);

    public static MultiDual<TTangents> NegativeInfinity => Constant(double.NegativeInfinity);

    public static MultiDual<TTangents> NegativeZero => Constant(-0.0);

    public static MultiDual<TTangents> PositiveInfinity => Constant(double.PositiveInfinity);

    static int INumberBase<MultiDual<TTangents>>.Radix => 2;

    // ---- Arithmetic ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> operator +(MultiDual<TTangents> left, MultiDual<TTangents> right) =>
        new(left.Value + right.Value, left.Tangents + right.Tangents);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> operator -(MultiDual<TTangents> left, MultiDual<TTangents> right) =>
        new(left.Value - right.Value, left.Tangents - right.Tangents);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> operator *(MultiDual<TTangents> left, MultiDual<TTangents> right) =>
        new(left.Value * right.Value, right.Value * left.Tangents + left.Value * right.Tangents);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> operator /(MultiDual<TTangents> left, MultiDual<TTangents> right)
    {
        double q = left.Value / right.Value;
        return new(q, (left.Tangents - q * right.Tangents) / right.Value);
    }

    public static MultiDual<TTangents> operator %(MultiDual<TTangents> left, MultiDual<TTangents> right) =>
        new(left.Value % right.Value, left.Tangents - Math.Truncate(left.Value / right.Value) * right.Tangents);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> operator -(MultiDual<TTangents> value) => new(-value.Value, -value.Tangents);

    public static MultiDual<TTangents> operator +(MultiDual<TTangents> value) => value;

    public static MultiDual<TTangents> operator ++(MultiDual<TTangents> value) => new(value.Value + 1.0, value.Tangents);

    public static MultiDual<TTangents> operator --(MultiDual<TTangents> value) => new(value.Value - 1.0, value.Tangents);

    // ---- Equality and ordering (on Value only) ----

    public bool Equals(MultiDual<TTangents> other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is MultiDual<TTangents> other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    public int CompareTo(MultiDual<TTangents> other) => Value.CompareTo(other.Value);

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        MultiDual<TTangents> other => CompareTo(other),
        _ => throw new ArgumentException($"{nameof(obj)} must be a {nameof(MultiDual<TTangents>)}; got {obj.GetType().Name}.", nameof(obj)),
    };

    public static bool operator ==(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value == right.Value;

    public static bool operator !=(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value != right.Value;

    public static bool operator <(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value < right.Value;

    public static bool operator >(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value > right.Value;

    public static bool operator <=(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value <= right.Value;

    public static bool operator >=(MultiDual<TTangents> left, MultiDual<TTangents> right) => left.Value >= right.Value;

    // ---- Exponential and logarithmic ----

    public static MultiDual<TTangents> Exp(MultiDual<TTangents> x)
    {
        double e = Math.Exp(x.Value);
        return Chain(e, e, x);
    }

    public static MultiDual<TTangents> Exp2(MultiDual<TTangents> x)
    {
        double e = double.Exp2(x.Value);
        return Chain(e, Ln2 * e, x);
    }

    public static MultiDual<TTangents> Exp10(MultiDual<TTangents> x)
    {
        double e = double.Exp10(x.Value);
        return Chain(e, Ln10 * e, x);
    }

    public static MultiDual<TTangents> ExpM1(MultiDual<TTangents> x) => Chain(double.ExpM1(x.Value), Math.Exp(x.Value), x);

    public static MultiDual<TTangents> Log(MultiDual<TTangents> x) => new(Math.Log(x.Value), x.Tangents / x.Value);

    public static MultiDual<TTangents> Log(MultiDual<TTangents> x, MultiDual<TTangents> newBase) => Log(x) / Log(newBase);

    public static MultiDual<TTangents> Log2(MultiDual<TTangents> x) => new(Math.Log2(x.Value), x.Tangents / (x.Value * Ln2));

    public static MultiDual<TTangents> Log10(MultiDual<TTangents> x) => new(Math.Log10(x.Value), x.Tangents / (x.Value * Ln10));

    public static MultiDual<TTangents> LogP1(MultiDual<TTangents> x) => new(double.LogP1(x.Value), x.Tangents / (1.0 + x.Value));

    // ---- Powers and roots ----

    public static MultiDual<TTangents> Pow(MultiDual<TTangents> x, MultiDual<TTangents> y)
    {
        double p = Math.Pow(x.Value, y.Value);
        TTangents d = (y.Value * Math.Pow(x.Value, y.Value - 1.0)) * x.Tangents;
        if (x.Value > 0.0)
        {
            d += (p * Math.Log(x.Value)) * y.Tangents;
        }
        return new(p, d);
    }

    public static MultiDual<TTangents> Sqrt(MultiDual<TTangents> x)
    {
        double s = Math.Sqrt(x.Value);
        return new(s, x.Tangents / (Two * s));
    }

    public static MultiDual<TTangents> Cbrt(MultiDual<TTangents> x)
    {
        double c = Math.Cbrt(x.Value);
        return new(c, x.Tangents / (3.0 * c * c));
    }

    public static MultiDual<TTangents> RootN(MultiDual<TTangents> x, int n)
    {
        double r = double.RootN(x.Value, n);
        return new(r, x.Tangents / (n * Math.Pow(r, n - 1)));
    }

    public static MultiDual<TTangents> Hypot(MultiDual<TTangents> x, MultiDual<TTangents> y)
    {
        double h = double.Hypot(x.Value, y.Value);
        return new(h, (x.Value * x.Tangents + y.Value * y.Tangents) / h);
    }

    // ---- Trigonometric ----

    public static MultiDual<TTangents> Sin(MultiDual<TTangents> x)
    {
        (double s, double c) = Math.SinCos(x.Value);
        return Chain(s, c, x);
    }

    public static MultiDual<TTangents> Cos(MultiDual<TTangents> x)
    {
        (double s, double c) = Math.SinCos(x.Value);
        return Chain(c, -s, x);
    }

    public static (MultiDual<TTangents> Sin, MultiDual<TTangents> Cos) SinCos(MultiDual<TTangents> x)
    {
        (double s, double c) = Math.SinCos(x.Value);
        return (Chain(s, c, x), Chain(c, -s, x));
    }

    public static MultiDual<TTangents> Tan(MultiDual<TTangents> x)
    {
        double t = Math.Tan(x.Value);
        return Chain(t, 1.0 + t * t, x);
    }

    public static MultiDual<TTangents> SinPi(MultiDual<TTangents> x)
    {
        (double s, double c) = double.SinCosPi(x.Value);
        return Chain(s, Math.PI * c, x);
    }

    public static MultiDual<TTangents> CosPi(MultiDual<TTangents> x)
    {
        (double s, double c) = double.SinCosPi(x.Value);
        return Chain(c, -Math.PI * s, x);
    }

    public static (MultiDual<TTangents> SinPi, MultiDual<TTangents> CosPi) SinCosPi(MultiDual<TTangents> x)
    {
        (double s, double c) = double.SinCosPi(x.Value);
        return (Chain(s, Math.PI * c, x), Chain(c, -Math.PI * s, x));
    }

    public static MultiDual<TTangents> TanPi(MultiDual<TTangents> x)
    {
        double t = double.TanPi(x.Value);
        return Chain(t, Math.PI * (1.0 + t * t), x);
    }

    public static MultiDual<TTangents> Asin(MultiDual<TTangents> x) =>
        new(Math.Asin(x.Value), x.Tangents / Math.Sqrt(1.0 - x.Value * x.Value));

    public static MultiDual<TTangents> Acos(MultiDual<TTangents> x) =>
        new(Math.Acos(x.Value), -x.Tangents / Math.Sqrt(1.0 - x.Value * x.Value));

    public static MultiDual<TTangents> Atan(MultiDual<TTangents> x) =>
        new(Math.Atan(x.Value), x.Tangents / (1.0 + x.Value * x.Value));

    public static MultiDual<TTangents> AsinPi(MultiDual<TTangents> x) =>
        new(double.AsinPi(x.Value), x.Tangents / (Math.PI * Math.Sqrt(1.0 - x.Value * x.Value)));

    public static MultiDual<TTangents> AcosPi(MultiDual<TTangents> x) =>
        new(double.AcosPi(x.Value), -x.Tangents / (Math.PI * Math.Sqrt(1.0 - x.Value * x.Value)));

    public static MultiDual<TTangents> AtanPi(MultiDual<TTangents> x) =>
        new(double.AtanPi(x.Value), x.Tangents / (Math.PI * (1.0 + x.Value * x.Value)));

    public static MultiDual<TTangents> Atan2(MultiDual<TTangents> y, MultiDual<TTangents> x) =>
        new(Math.Atan2(y.Value, x.Value),
            (x.Value * y.Tangents - y.Value * x.Tangents) / (x.Value * x.Value + y.Value * y.Value));

    public static MultiDual<TTangents> Atan2Pi(MultiDual<TTangents> y, MultiDual<TTangents> x) =>
        new(double.Atan2Pi(y.Value, x.Value),
            (x.Value * y.Tangents - y.Value * x.Tangents) / (Math.PI * (x.Value * x.Value + y.Value * y.Value)));

    // ---- Hyperbolic ----

    public static MultiDual<TTangents> Sinh(MultiDual<TTangents> x) => Chain(Math.Sinh(x.Value), Math.Cosh(x.Value), x);

    public static MultiDual<TTangents> Cosh(MultiDual<TTangents> x) => Chain(Math.Cosh(x.Value), Math.Sinh(x.Value), x);

    public static MultiDual<TTangents> Tanh(MultiDual<TTangents> x)
    {
        double t = Math.Tanh(x.Value);
        return Chain(t, 1.0 - t * t, x);
    }

    public static MultiDual<TTangents> Asinh(MultiDual<TTangents> x) =>
        new(Math.Asinh(x.Value), x.Tangents / Math.Sqrt(x.Value * x.Value + 1.0));

    public static MultiDual<TTangents> Acosh(MultiDual<TTangents> x) =>
        new(Math.Acosh(x.Value), x.Tangents / Math.Sqrt(x.Value * x.Value - 1.0));

    public static MultiDual<TTangents> Atanh(MultiDual<TTangents> x) =>
        new(Math.Atanh(x.Value), x.Tangents / (1.0 - x.Value * x.Value));

    // ---- Fused and IEEE operations ----

    public static MultiDual<TTangents> FusedMultiplyAdd(MultiDual<TTangents> left, MultiDual<TTangents> right, MultiDual<TTangents> addend) =>
        new(Math.FusedMultiplyAdd(left.Value, right.Value, addend.Value),
            right.Value * left.Tangents + left.Value * right.Tangents + addend.Tangents);

    public static MultiDual<TTangents> Ieee754Remainder(MultiDual<TTangents> left, MultiDual<TTangents> right) =>
        new(Math.IEEERemainder(left.Value, right.Value),
            left.Tangents - Math.Round(left.Value / right.Value, MidpointRounding.ToEven) * right.Tangents);

    public static MultiDual<TTangents> ScaleB(MultiDual<TTangents> x, int n) => new(Math.ScaleB(x.Value, n), TTangents.ScaleB(x.Tangents, n));

    public static MultiDual<TTangents> BitIncrement(MultiDual<TTangents> x) => new(Math.BitIncrement(x.Value), x.Tangents);

    public static MultiDual<TTangents> BitDecrement(MultiDual<TTangents> x) => new(Math.BitDecrement(x.Value), x.Tangents);

    public static int ILogB(MultiDual<TTangents> x) => Math.ILogB(x.Value);

    public static MultiDual<TTangents> ReciprocalEstimate(MultiDual<TTangents> x) =>
        new(double.ReciprocalEstimate(x.Value), -x.Tangents / (x.Value * x.Value));

    public static MultiDual<TTangents> ReciprocalSqrtEstimate(MultiDual<TTangents> x) =>
        new(double.ReciprocalSqrtEstimate(x.Value), -x.Tangents / (Two * x.Value * Math.Sqrt(x.Value)));

    // ---- Rounding (tangent 0) ----

    public static MultiDual<TTangents> Ceiling(MultiDual<TTangents> x) => Constant(Math.Ceiling(x.Value));

    public static MultiDual<TTangents> Floor(MultiDual<TTangents> x) => Constant(Math.Floor(x.Value));

    public static MultiDual<TTangents> Truncate(MultiDual<TTangents> x) => Constant(Math.Truncate(x.Value));

    public static MultiDual<TTangents> Round(MultiDual<TTangents> x) => Constant(Math.Round(x.Value));

    public static MultiDual<TTangents> Round(MultiDual<TTangents> x, int digits) => Constant(Math.Round(x.Value, digits));

    public static MultiDual<TTangents> Round(MultiDual<TTangents> x, MidpointRounding mode) => Constant(Math.Round(x.Value, mode));

    public static MultiDual<TTangents> Round(MultiDual<TTangents> x, int digits, MidpointRounding mode) =>
        Constant(Math.Round(x.Value, digits, mode));

    // ---- Selection (same rules as Dual<T>) ----

    public static MultiDual<TTangents> Abs(MultiDual<TTangents> value) =>
        value.Value > 0.0 ? value : value.Value < 0.0 ? -value : Constant(Math.Abs(value.Value));

    public static int Sign(MultiDual<TTangents> value) => Math.Sign(value.Value);

    public static MultiDual<TTangents> CopySign(MultiDual<TTangents> value, MultiDual<TTangents> sign) =>
        double.IsNegative(value.Value) == double.IsNegative(sign.Value) ? value : -value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MultiDual<TTangents> Clamp(MultiDual<TTangents> value, MultiDual<TTangents> min, MultiDual<TTangents> max)
    {
        if (min.Value > max.Value)
        {
            ThrowMinAboveMax(min, max);
        }
        return value.Value < min.Value ? min : value.Value > max.Value ? max : value;
    }

    private static void ThrowMinAboveMax(MultiDual<TTangents> min, MultiDual<TTangents> max) =>
        throw new ArgumentException($"{nameof(min)} ({min.Value}) must not be above {nameof(max)} ({max.Value}).", nameof(min));

    public static MultiDual<TTangents> Max(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.Max(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> Min(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.Min(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MaxNumber(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MaxNumber(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MinNumber(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MinNumber(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MaxMagnitude(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MaxMagnitude(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MinMagnitude(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MinMagnitude(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MaxMagnitudeNumber(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MaxMagnitudeNumber(x.Value, y.Value) ? y : x;

    public static MultiDual<TTangents> MinMagnitudeNumber(MultiDual<TTangents> x, MultiDual<TTangents> y) => ValueSelection.MinMagnitudeNumber(x.Value, y.Value) ? y : x;

    // ---- Predicates (on Value only) ----

    public static bool IsFinite(MultiDual<TTangents> value) => double.IsFinite(value.Value);

    public static bool IsNaN(MultiDual<TTangents> value) => double.IsNaN(value.Value);

    public static bool IsInfinity(MultiDual<TTangents> value) => double.IsInfinity(value.Value);

    public static bool IsPositiveInfinity(MultiDual<TTangents> value) => double.IsPositiveInfinity(value.Value);

    public static bool IsNegativeInfinity(MultiDual<TTangents> value) => double.IsNegativeInfinity(value.Value);

    public static bool IsZero(MultiDual<TTangents> value) => value.Value == 0.0;

    public static bool IsNegative(MultiDual<TTangents> value) => double.IsNegative(value.Value);

    public static bool IsPositive(MultiDual<TTangents> value) => double.IsPositive(value.Value);

    public static bool IsNormal(MultiDual<TTangents> value) => double.IsNormal(value.Value);

    public static bool IsSubnormal(MultiDual<TTangents> value) => double.IsSubnormal(value.Value);

    public static bool IsInteger(MultiDual<TTangents> value) => double.IsInteger(value.Value);

    public static bool IsEvenInteger(MultiDual<TTangents> value) => double.IsEvenInteger(value.Value);

    public static bool IsOddInteger(MultiDual<TTangents> value) => double.IsOddInteger(value.Value);

    public static bool IsRealNumber(MultiDual<TTangents> value) => double.IsRealNumber(value.Value);

    static bool INumberBase<MultiDual<TTangents>>.IsCanonical(MultiDual<TTangents> value) => true;

    static bool INumberBase<MultiDual<TTangents>>.IsComplexNumber(MultiDual<TTangents> value) => false;

    static bool INumberBase<MultiDual<TTangents>>.IsImaginaryNumber(MultiDual<TTangents> value) => false;

    // ---- IFloatingPoint bit-level members (forward to Value) ----

    int IFloatingPoint<MultiDual<TTangents>>.GetExponentByteCount() => ((IFloatingPoint<double>)Value).GetExponentByteCount();

    int IFloatingPoint<MultiDual<TTangents>>.GetExponentShortestBitLength() => ((IFloatingPoint<double>)Value).GetExponentShortestBitLength();

    int IFloatingPoint<MultiDual<TTangents>>.GetSignificandBitLength() => ((IFloatingPoint<double>)Value).GetSignificandBitLength();

    int IFloatingPoint<MultiDual<TTangents>>.GetSignificandByteCount() => ((IFloatingPoint<double>)Value).GetSignificandByteCount();

    bool IFloatingPoint<MultiDual<TTangents>>.TryWriteExponentBigEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteExponentBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<MultiDual<TTangents>>.TryWriteExponentLittleEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteExponentLittleEndian(destination, out bytesWritten);

    bool IFloatingPoint<MultiDual<TTangents>>.TryWriteSignificandBigEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteSignificandBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<MultiDual<TTangents>>.TryWriteSignificandLittleEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteSignificandLittleEndian(destination, out bytesWritten);

    // ---- Conversions: as Dual<double> (constants from numbers, the value to numbers) ----

    public static MultiDual<TTangents> CreateChecked<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Checked, out MultiDual<TTangents> result) ? result : ThrowNotSupported<TOther>();

    public static MultiDual<TTangents> CreateSaturating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Saturating, out MultiDual<TTangents> result) ? result : ThrowNotSupported<TOther>();

    public static MultiDual<TTangents> CreateTruncating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Truncating, out MultiDual<TTangents> result) ? result : ThrowNotSupported<TOther>();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static MultiDual<TTangents> ThrowNotSupported<TOther>() =>
        throw new NotSupportedException($"Cannot convert {typeof(TOther).Name} to {nameof(MultiDual<TTangents>)}.");

    static bool INumberBase<MultiDual<TTangents>>.TryConvertFromChecked<TOther>(TOther value, out MultiDual<TTangents> result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Checked, out result);

    static bool INumberBase<MultiDual<TTangents>>.TryConvertFromSaturating<TOther>(TOther value, out MultiDual<TTangents> result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Saturating, out result);

    static bool INumberBase<MultiDual<TTangents>>.TryConvertFromTruncating<TOther>(TOther value, out MultiDual<TTangents> result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Truncating, out result);

    static bool INumberBase<MultiDual<TTangents>>.TryConvertToChecked<TOther>(MultiDual<TTangents> value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Checked, out result);

    static bool INumberBase<MultiDual<TTangents>>.TryConvertToSaturating<TOther>(MultiDual<TTangents> value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Saturating, out result);

    static bool INumberBase<MultiDual<TTangents>>.TryConvertToTruncating<TOther>(MultiDual<TTangents> value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Truncating, out result);

    // ---- Formatting and parsing (parsing gives constants) ----

    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        var text = new System.Text.StringBuilder(Value.ToString(format, formatProvider));
        for (int i = 0; i < TTangents.Width; i++)
        {
            text.Append(" + ").Append(Tangents[i].ToString(format, formatProvider)).Append('ε').Append(i.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        string text = ToString(format.IsEmpty ? null : format.ToString(), provider);
        if (text.TryCopyTo(destination))
        {
            charsWritten = text.Length;
            return true;
        }
        charsWritten = 0;
        return false;
    }

    public static MultiDual<TTangents> Parse(string s, IFormatProvider? provider) => Constant(double.Parse(s, provider));

    public static MultiDual<TTangents> Parse(string s, NumberStyles style, IFormatProvider? provider) => Constant(double.Parse(s, style, provider));

    public static MultiDual<TTangents> Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Constant(double.Parse(s, provider));

    public static MultiDual<TTangents> Parse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider) =>
        Constant(double.Parse(s, style, provider));

    public static bool TryParse(string? s, IFormatProvider? provider, out MultiDual<TTangents> result)
    {
        bool ok = double.TryParse(s, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(string? s, NumberStyles style, IFormatProvider? provider, out MultiDual<TTangents> result)
    {
        bool ok = double.TryParse(s, style, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out MultiDual<TTangents> result)
    {
        bool ok = double.TryParse(s, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider, out MultiDual<TTangents> result)
    {
        bool ok = double.TryParse(s, style, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }
}
