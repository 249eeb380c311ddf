// Notation: a number (a, a_k | a_j, a_jk) carries its value a, its derivatives a_k along eight
// inner directions e_k, its derivative a_j along one outer direction e_j and the eight second
// derivatives a_jk: the data of a Dual<MultiDual<Tangents8>> whose Value is (a, a_k) and whose
// Derivative is (a_j, a_jk), held flat.
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nested = DiffMpc.Autodiff.Dual<DiffMpc.Autodiff.MultiDual<DiffMpc.Autodiff.Tangents8>>;

namespace DiffMpc.Autodiff;

/// <summary>
/// The nested dual number <c>Dual&lt;MultiDual&lt;Tangents8&gt;&gt;</c> (outer tangent along one
/// direction e_j, eight inner tangents along e_k), held as two doubles and two vectors with the
/// arithmetic operators written out on them: one model evaluation gives a row block
/// H[j, k .. k+7] of a Hessian.
/// </summary>
/// <remarks>
/// <para>Why it exists: over the nested type, every operation of a model's Step inlines three
/// layers (Dual, MultiDual, Tangents8), and the JIT's inlining budget runs out part of the way
/// through a model of a few dozen operations; the rest become calls that pass 144-byte structs
/// through memory. Here each operator is one layer of vector arithmetic, so the whole Step
/// inlines: the cartpole's 6 x 10 Lagrangian Hessian (8 evaluations) takes ~2.1 us instead of
/// 5.9 us. Its Vector512 fields need AVX-512 to be fast; elsewhere the evaluators use the nested
/// type (<see cref="DynamicsDerivatives.FlatSecondOrder"/>).</para>
/// <para>Every result is bitwise the nested type's. The operators repeat its operations in its
/// order (spelled out at each one). Every other function (Sin, Atan2, Pow, ...) converts to the
/// nested type, applies its rule there and converts back; the conversions are plain copies.
/// Comparisons, selections and predicates act on the value alone, as there.</para>
/// </remarks>
internal readonly struct HessianRowDual : IFloatingPointIeee754<HessianRowDual>, IDoubleValued<HessianRowDual>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public HessianRowDual(double value, Vector512<double> inner, double outer, Vector512<double> second)
    {
        Value = value;
        Inner = inner;
        Outer = outer;
        Second = second;
    }

    /// <summary>The number of inner directions: the Hessian columns one evaluation gives.</summary>
    public const int Width = 8;

    /// <summary>The value a.</summary>
    public double Value { get; }

    /// <summary>The derivatives a_k along the eight inner directions.</summary>
    public Vector512<double> Inner { get; }

    /// <summary>The derivative a_j along the outer direction.</summary>
    public double Outer { get; }

    /// <summary>The second derivatives a_jk.</summary>
    public Vector512<double> Second { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual Constant(double value) => new(value, default, 0.0, default);

    /// <summary>The same number as a <c>Dual&lt;MultiDual&lt;Tangents8&gt;&gt;</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Nested ToNested() =>
        new(new MultiDual<Tangents8>(Value, Tangents8.FromVector(Inner)), new MultiDual<Tangents8>(Outer, Tangents8.FromVector(Second)));

    /// <summary>The same number as <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual FromNested(Nested x) =>
        new(x.Value.Value, x.Value.Tangents.Vector, x.Derivative.Value, x.Derivative.Tangents.Vector);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> FlipSign(Vector512<double> v) => Vector512.Xor(v, Vector512.Create(-0.0));

    // ---- Constants ----

    public static HessianRowDual Zero => Constant(0.0);

    public static HessianRowDual One => Constant(1.0);

    public static HessianRowDual NegativeOne => Constant(-1.0);

    public static HessianRowDual AdditiveIdentity => Zero;

    public static HessianRowDual MultiplicativeIdentity => One;

    public static HessianRowDual E => Constant(Math.E);

    public static HessianRowDual Pi => Constant(Math.PI);

    public static HessianRowDual Tau => Constant(Math.Tau);

    public static HessianRowDual Epsilon => Constant(double.Epsilon);

    public static HessianRowDual NaN => Constant(double.NaN);

    public static HessianRowDual NegativeInfinity => Constant(double.NegativeInfinity);

    public static HessianRowDual NegativeZero => Constant(-0.0);

    public static HessianRowDual PositiveInfinity => Constant(double.PositiveInfinity);

    static int INumberBase<HessianRowDual>.Radix => 2;

    // ---- Arithmetic, written out ----
    // MultiDual's rules, which the nested type applies to its Value and Derivative:
    //   (l, L) * (r, R) = (l r, r L + l R);   (l, L) / (r, R) = (q, (L - q R) / r) with q = l / r.

    /// <summary>Value: a + b; Derivative: a' + b' (both MultiDual sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual operator +(HessianRowDual left, HessianRowDual right) =>
        new(left.Value + right.Value, left.Inner + right.Inner, left.Outer + right.Outer, left.Second + right.Second);

    /// <summary>Value: a - b; Derivative: a' - b'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual operator -(HessianRowDual left, HessianRowDual right) =>
        new(left.Value - right.Value, left.Inner - right.Inner, left.Outer - right.Outer, left.Second - right.Second);

    /// <summary>Value: a b; Derivative: a' b + a b' (MultiDual products, then their sum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual operator *(HessianRowDual left, HessianRowDual right)
    {
        double a = left.Value, b = right.Value, aj = left.Outer, bj = right.Outer;
        return new(a * b, b * left.Inner + a * right.Inner,
            aj * b + a * bj,
            (b * left.Second + aj * right.Inner) + (bj * left.Inner + a * right.Second));
    }

    /// <summary>Value: q = a / b; Derivative: (a' - q b') / b (MultiDual quotient, product, difference, quotient).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual operator /(HessianRowDual left, HessianRowDual right)
    {
        double b = right.Value, bj = right.Outer;
        double q = left.Value / b;
        Vector512<double> qk = (left.Inner - q * right.Inner) / b;
        double t = left.Outer - q * bj;
        Vector512<double> tk = left.Second - (bj * qk + q * right.Second);
        double r = t / b;
        return new(q, qk, r, (tk - r * right.Inner) / b);
    }

    /// <summary>Negation of every part (the tangents by a sign flip, as Tangents8 does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual operator -(HessianRowDual value) =>
        new(-value.Value, FlipSign(value.Inner), -value.Outer, FlipSign(value.Second));

    public static HessianRowDual operator +(HessianRowDual value) => value;

    public static HessianRowDual operator %(HessianRowDual left, HessianRowDual right) => FromNested(left.ToNested() % right.ToNested());

    public static HessianRowDual operator ++(HessianRowDual value)
    {
        Nested x = value.ToNested();
        return FromNested(++x);
    }

    public static HessianRowDual operator --(HessianRowDual value)
    {
        Nested x = value.ToNested();
        return FromNested(--x);
    }

    // ---- Equality and ordering (on Value only) ----

    public bool Equals(HessianRowDual other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is HessianRowDual other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    public int CompareTo(HessianRowDual other) => Value.CompareTo(other.Value);

    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        HessianRowDual other => CompareTo(other),
        _ => throw new ArgumentException($"{nameof(obj)} must be a {nameof(HessianRowDual)}; got {obj.GetType().Name}.", nameof(obj)),
    };

    public static bool operator ==(HessianRowDual left, HessianRowDual right) => left.Value == right.Value;

    public static bool operator !=(HessianRowDual left, HessianRowDual right) => left.Value != right.Value;

    public static bool operator <(HessianRowDual left, HessianRowDual right) => left.Value < right.Value;

    public static bool operator >(HessianRowDual left, HessianRowDual right) => left.Value > right.Value;

    public static bool operator <=(HessianRowDual left, HessianRowDual right) => left.Value <= right.Value;

    public static bool operator >=(HessianRowDual left, HessianRowDual right) => left.Value >= right.Value;

    // ---- Functions: the nested type's rules ----

    public static HessianRowDual Exp(HessianRowDual x) => FromNested(Nested.Exp(x.ToNested()));

    public static HessianRowDual Exp2(HessianRowDual x) => FromNested(Nested.Exp2(x.ToNested()));

    public static HessianRowDual Exp10(HessianRowDual x) => FromNested(Nested.Exp10(x.ToNested()));

    public static HessianRowDual ExpM1(HessianRowDual x) => FromNested(Nested.ExpM1(x.ToNested()));

    public static HessianRowDual Log(HessianRowDual x) => FromNested(Nested.Log(x.ToNested()));

    public static HessianRowDual Log(HessianRowDual x, HessianRowDual newBase) => FromNested(Nested.Log(x.ToNested(), newBase.ToNested()));

    public static HessianRowDual Log2(HessianRowDual x) => FromNested(Nested.Log2(x.ToNested()));

    public static HessianRowDual Log10(HessianRowDual x) => FromNested(Nested.Log10(x.ToNested()));

    public static HessianRowDual LogP1(HessianRowDual x) => FromNested(Nested.LogP1(x.ToNested()));

    public static HessianRowDual Pow(HessianRowDual x, HessianRowDual y) => FromNested(Nested.Pow(x.ToNested(), y.ToNested()));

    public static HessianRowDual Sqrt(HessianRowDual x) => FromNested(Nested.Sqrt(x.ToNested()));

    public static HessianRowDual Cbrt(HessianRowDual x) => FromNested(Nested.Cbrt(x.ToNested()));

    public static HessianRowDual RootN(HessianRowDual x, int n) => FromNested(Nested.RootN(x.ToNested(), n));

    public static HessianRowDual Hypot(HessianRowDual x, HessianRowDual y) => FromNested(Nested.Hypot(x.ToNested(), y.ToNested()));

    public static HessianRowDual Sin(HessianRowDual x) => FromNested(Nested.Sin(x.ToNested()));

    public static HessianRowDual Cos(HessianRowDual x) => FromNested(Nested.Cos(x.ToNested()));

    public static (HessianRowDual Sin, HessianRowDual Cos) SinCos(HessianRowDual x)
    {
        (Nested s, Nested c) = Nested.SinCos(x.ToNested());
        return (FromNested(s), FromNested(c));
    }

    public static HessianRowDual Tan(HessianRowDual x) => FromNested(Nested.Tan(x.ToNested()));

    public static HessianRowDual SinPi(HessianRowDual x) => FromNested(Nested.SinPi(x.ToNested()));

    public static HessianRowDual CosPi(HessianRowDual x) => FromNested(Nested.CosPi(x.ToNested()));

    public static (HessianRowDual SinPi, HessianRowDual CosPi) SinCosPi(HessianRowDual x)
    {
        (Nested s, Nested c) = Nested.SinCosPi(x.ToNested());
        return (FromNested(s), FromNested(c));
    }

    public static HessianRowDual TanPi(HessianRowDual x) => FromNested(Nested.TanPi(x.ToNested()));

    public static HessianRowDual Asin(HessianRowDual x) => FromNested(Nested.Asin(x.ToNested()));

    public static HessianRowDual Acos(HessianRowDual x) => FromNested(Nested.Acos(x.ToNested()));

    public static HessianRowDual Atan(HessianRowDual x) => FromNested(Nested.Atan(x.ToNested()));

    public static HessianRowDual AsinPi(HessianRowDual x) => FromNested(Nested.AsinPi(x.ToNested()));

    public static HessianRowDual AcosPi(HessianRowDual x) => FromNested(Nested.AcosPi(x.ToNested()));

    public static HessianRowDual AtanPi(HessianRowDual x) => FromNested(Nested.AtanPi(x.ToNested()));

    public static HessianRowDual Atan2(HessianRowDual y, HessianRowDual x) => FromNested(Nested.Atan2(y.ToNested(), x.ToNested()));

    public static HessianRowDual Atan2Pi(HessianRowDual y, HessianRowDual x) => FromNested(Nested.Atan2Pi(y.ToNested(), x.ToNested()));

    public static HessianRowDual Sinh(HessianRowDual x) => FromNested(Nested.Sinh(x.ToNested()));

    public static HessianRowDual Cosh(HessianRowDual x) => FromNested(Nested.Cosh(x.ToNested()));

    public static HessianRowDual Tanh(HessianRowDual x) => FromNested(Nested.Tanh(x.ToNested()));

    public static HessianRowDual Asinh(HessianRowDual x) => FromNested(Nested.Asinh(x.ToNested()));

    public static HessianRowDual Acosh(HessianRowDual x) => FromNested(Nested.Acosh(x.ToNested()));

    public static HessianRowDual Atanh(HessianRowDual x) => FromNested(Nested.Atanh(x.ToNested()));

    public static HessianRowDual FusedMultiplyAdd(HessianRowDual left, HessianRowDual right, HessianRowDual addend) =>
        FromNested(Nested.FusedMultiplyAdd(left.ToNested(), right.ToNested(), addend.ToNested()));

    public static HessianRowDual Ieee754Remainder(HessianRowDual left, HessianRowDual right) =>
        FromNested(Nested.Ieee754Remainder(left.ToNested(), right.ToNested()));

    public static HessianRowDual ScaleB(HessianRowDual x, int n) => FromNested(Nested.ScaleB(x.ToNested(), n));

    public static HessianRowDual BitIncrement(HessianRowDual x) => FromNested(Nested.BitIncrement(x.ToNested()));

    public static HessianRowDual BitDecrement(HessianRowDual x) => FromNested(Nested.BitDecrement(x.ToNested()));

    public static int ILogB(HessianRowDual x) => Math.ILogB(x.Value);

    public static HessianRowDual ReciprocalEstimate(HessianRowDual x) => FromNested(Nested.ReciprocalEstimate(x.ToNested()));

    public static HessianRowDual ReciprocalSqrtEstimate(HessianRowDual x) => FromNested(Nested.ReciprocalSqrtEstimate(x.ToNested()));

    public static HessianRowDual Ceiling(HessianRowDual x) => FromNested(Nested.Ceiling(x.ToNested()));

    public static HessianRowDual Floor(HessianRowDual x) => FromNested(Nested.Floor(x.ToNested()));

    public static HessianRowDual Truncate(HessianRowDual x) => FromNested(Nested.Truncate(x.ToNested()));

    public static HessianRowDual Round(HessianRowDual x) => FromNested(Nested.Round(x.ToNested()));

    public static HessianRowDual Round(HessianRowDual x, int digits) => FromNested(Nested.Round(x.ToNested(), digits));

    public static HessianRowDual Round(HessianRowDual x, MidpointRounding mode) => FromNested(Nested.Round(x.ToNested(), mode));

    public static HessianRowDual Round(HessianRowDual x, int digits, MidpointRounding mode) => FromNested(Nested.Round(x.ToNested(), digits, mode));

    public static HessianRowDual Abs(HessianRowDual value) => FromNested(Nested.Abs(value.ToNested()));

    public static int Sign(HessianRowDual value) => Math.Sign(value.Value);

    public static HessianRowDual CopySign(HessianRowDual value, HessianRowDual sign) => FromNested(Nested.CopySign(value.ToNested(), sign.ToNested()));

    // ---- Selection, written out: the operand the nested type's rule selects (decided on the values) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HessianRowDual Clamp(HessianRowDual value, HessianRowDual min, HessianRowDual max)
    {
        if (min.Value > max.Value)
        {
            ThrowMinAboveMax(min, max);
        }
        return value.Value < min.Value ? min : value.Value > max.Value ? max : value;
    }

    private static void ThrowMinAboveMax(HessianRowDual min, HessianRowDual max) =>
        throw new ArgumentException($"{nameof(min)} ({min.Value}) must not be above {nameof(max)} ({max.Value}).", nameof(min));

    public static HessianRowDual Max(HessianRowDual x, HessianRowDual y) => ValueSelection.Max(x.Value, y.Value) ? y : x;

    public static HessianRowDual Min(HessianRowDual x, HessianRowDual y) => ValueSelection.Min(x.Value, y.Value) ? y : x;

    public static HessianRowDual MaxNumber(HessianRowDual x, HessianRowDual y) => ValueSelection.MaxNumber(x.Value, y.Value) ? y : x;

    public static HessianRowDual MinNumber(HessianRowDual x, HessianRowDual y) => ValueSelection.MinNumber(x.Value, y.Value) ? y : x;

    public static HessianRowDual MaxMagnitude(HessianRowDual x, HessianRowDual y) => ValueSelection.MaxMagnitude(x.Value, y.Value) ? y : x;

    public static HessianRowDual MinMagnitude(HessianRowDual x, HessianRowDual y) => ValueSelection.MinMagnitude(x.Value, y.Value) ? y : x;

    public static HessianRowDual MaxMagnitudeNumber(HessianRowDual x, HessianRowDual y) => ValueSelection.MaxMagnitudeNumber(x.Value, y.Value) ? y : x;

    public static HessianRowDual MinMagnitudeNumber(HessianRowDual x, HessianRowDual y) => ValueSelection.MinMagnitudeNumber(x.Value, y.Value) ? y : x;

    // ---- Predicates (on Value only) ----

    public static bool IsFinite(HessianRowDual value) => double.IsFinite(value.Value);

    public static bool IsNaN(HessianRowDual value) => double.IsNaN(value.Value);

    public static bool IsInfinity(HessianRowDual value) => double.IsInfinity(value.Value);

    public static bool IsPositiveInfinity(HessianRowDual value) => double.IsPositiveInfinity(value.Value);

    public static bool IsNegativeInfinity(HessianRowDual value) => double.IsNegativeInfinity(value.Value);

    public static bool IsZero(HessianRowDual value) => value.Value == 0.0;

    public static bool IsNegative(HessianRowDual value) => double.IsNegative(value.Value);

    public static bool IsPositive(HessianRowDual value) => double.IsPositive(value.Value);

    public static bool IsNormal(HessianRowDual value) => double.IsNormal(value.Value);

    public static bool IsSubnormal(HessianRowDual value) => double.IsSubnormal(value.Value);

    public static bool IsInteger(HessianRowDual value) => double.IsInteger(value.Value);

    public static bool IsEvenInteger(HessianRowDual value) => double.IsEvenInteger(value.Value);

    public static bool IsOddInteger(HessianRowDual value) => double.IsOddInteger(value.Value);

    public static bool IsRealNumber(HessianRowDual value) => double.IsRealNumber(value.Value);

    static bool INumberBase<HessianRowDual>.IsCanonical(HessianRowDual value) => true;

    static bool INumberBase<HessianRowDual>.IsComplexNumber(HessianRowDual value) => false;

    static bool INumberBase<HessianRowDual>.IsImaginaryNumber(HessianRowDual value) => false;

    // ---- IFloatingPoint bit-level members (forward to Value) ----

    int IFloatingPoint<HessianRowDual>.GetExponentByteCount() => ((IFloatingPoint<double>)Value).GetExponentByteCount();

    int IFloatingPoint<HessianRowDual>.GetExponentShortestBitLength() => ((IFloatingPoint<double>)Value).GetExponentShortestBitLength();

    int IFloatingPoint<HessianRowDual>.GetSignificandBitLength() => ((IFloatingPoint<double>)Value).GetSignificandBitLength();

    int IFloatingPoint<HessianRowDual>.GetSignificandByteCount() => ((IFloatingPoint<double>)Value).GetSignificandByteCount();

    bool IFloatingPoint<HessianRowDual>.TryWriteExponentBigEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteExponentBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<HessianRowDual>.TryWriteExponentLittleEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteExponentLittleEndian(destination, out bytesWritten);

    bool IFloatingPoint<HessianRowDual>.TryWriteSignificandBigEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteSignificandBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<HessianRowDual>.TryWriteSignificandLittleEndian(Span<byte> destination, out int bytesWritten) =>
        ((IFloatingPoint<double>)Value).TryWriteSignificandLittleEndian(destination, out bytesWritten);

    // ---- Conversions: constants from built-in numbers, the value to them (as the nested type) ----

    public static HessianRowDual CreateChecked<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Checked, out HessianRowDual result) ? result : ThrowNotSupported<TOther>();

    public static HessianRowDual CreateSaturating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Saturating, out HessianRowDual result) ? result : ThrowNotSupported<TOther>();

    public static HessianRowDual CreateTruncating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Truncating, out HessianRowDual result) ? result : ThrowNotSupported<TOther>();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static HessianRowDual ThrowNotSupported<TOther>() =>
        throw new NotSupportedException($"Cannot convert {typeof(TOther).Name} to {nameof(HessianRowDual)}.");

    static bool INumberBase<HessianRowDual>.TryConvertFromChecked<TOther>(TOther value, out HessianRowDual result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Checked, out result);

    static bool INumberBase<HessianRowDual>.TryConvertFromSaturating<TOther>(TOther value, out HessianRowDual result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Saturating, out result);

    static bool INumberBase<HessianRowDual>.TryConvertFromTruncating<TOther>(TOther value, out HessianRowDual result) =>
        NumberConversion.TryConvertFrom(value, ConversionMode.Truncating, out result);

    static bool INumberBase<HessianRowDual>.TryConvertToChecked<TOther>(HessianRowDual value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Checked, out result);

    static bool INumberBase<HessianRowDual>.TryConvertToSaturating<TOther>(HessianRowDual value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Saturating, out result);

    static bool INumberBase<HessianRowDual>.TryConvertToTruncating<TOther>(HessianRowDual value, out TOther result) =>
        NumberConversion.TryConvertTo(value, ConversionMode.Truncating, out result);

    // ---- Formatting and parsing (as the nested type; parsing gives constants) ----

    public override string ToString() => ToNested().ToString();

    public string ToString(string? format, IFormatProvider? formatProvider) => ToNested().ToString(format, formatProvider);

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        ToNested().TryFormat(destination, out charsWritten, format, provider);

    public static HessianRowDual Parse(string s, IFormatProvider? provider) => Constant(double.Parse(s, provider));

    public static HessianRowDual Parse(string s, NumberStyles style, IFormatProvider? provider) => Constant(double.Parse(s, style, provider));

    public static HessianRowDual Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Constant(double.Parse(s, provider));

    public static HessianRowDual Parse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider) =>
        Constant(double.Parse(s, style, provider));

    public static bool TryParse(string? s, IFormatProvider? provider, out HessianRowDual result)
    {
        bool ok = double.TryParse(s, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(string? s, NumberStyles style, IFormatProvider? provider, out HessianRowDual result)
    {
        bool ok = double.TryParse(s, style, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out HessianRowDual result)
    {
        bool ok = double.TryParse(s, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }

    public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider, out HessianRowDual result)
    {
        bool ok = double.TryParse(s, style, provider, out double v);
        result = Constant(ok ? v : 0.0);
        return ok;
    }
}
