// Notation: x = (a, a'). Selection functions (Abs, Clamp, Min, Max, CopySign) return the tangent of
// the operand they select; the rules at ties are documented on each member.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

public readonly partial struct Dual<T>
{
    // ---- Selection: absolute value, sign, clamp, min and max ----

    /// <summary>|a|, tangent sign(a) a' (0 at a = 0, the subgradient PyTorch also uses).</summary>
    /// <param name="value">The number.</param>
    /// <returns>|value|.</returns>
    public static Dual<T> Abs(Dual<T> value) =>
        value.Value > T.Zero ? value : value.Value < T.Zero ? -value : new(T.Abs(value.Value), T.Zero);

    /// <summary>The sign of the value: -1, 0 or 1.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.Sign(value.Value).</returns>
    /// <exception cref="ArithmeticException">The value is NaN.</exception>
    public static int Sign(Dual<T> value) => T.Sign(value.Value);

    /// <summary>
    /// |a| with the sign of <paramref name="sign"/>: returns x or -x (with its tangent) as the
    /// signs agree or not. The sign argument's tangent does not contribute.
    /// </summary>
    /// <param name="value">The magnitude.</param>
    /// <param name="sign">Whose sign to take.</param>
    /// <returns>value or -value.</returns>
    public static Dual<T> CopySign(Dual<T> value, Dual<T> sign) =>
        T.IsNegative(value.Value) == T.IsNegative(sign.Value) ? value : -value;

    /// <summary>
    /// Clamps to [min, max] with the derivative convention of the closed interval: when
    /// min &lt;= a &lt;= max (including a exactly at a limit) the result is x with its own tangent;
    /// below min it is <paramref name="min"/> (with min's tangent), above max it is
    /// <paramref name="max"/>. A NaN value passes through.
    /// </summary>
    /// <param name="value">The number to clamp.</param>
    /// <param name="min">The lower limit.</param>
    /// <param name="max">The upper limit.</param>
    /// <returns>The clamped number.</returns>
    /// <exception cref="ArgumentException"><paramref name="min"/> is above <paramref name="max"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> Clamp(Dual<T> value, Dual<T> min, Dual<T> max)
    {
        if (min.Value > max.Value)
        {
            ThrowMinAboveMax(min, max);
        }
        return value.Value < min.Value ? min : value.Value > max.Value ? max : value;
    }

    private static void ThrowMinAboveMax(Dual<T> min, Dual<T> max) =>
        throw new ArgumentException($"{nameof(min)} ({min.Value}) must not be above {nameof(max)} ({max.Value}).", nameof(min));

    /// <summary>
    /// The larger of x and y with its tangent. Tie rule: equal values return x (the first
    /// argument, its tangent included), so <c>Min(Max(u, lo), hi)</c> behaves like
    /// <see cref="Clamp"/> on the closed interval. NaN in either argument returns that argument.
    /// </summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The maximum.</returns>
    public static Dual<T> Max(Dual<T> x, Dual<T> y) => ValueSelection.Max(x.Value, y.Value) ? y : x;

    /// <summary>
    /// The smaller of x and y with its tangent. Tie rule: equal values return x (the first
    /// argument). NaN in either argument returns that argument.
    /// </summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The minimum.</returns>
    public static Dual<T> Min(Dual<T> x, Dual<T> y) => ValueSelection.Min(x.Value, y.Value) ? y : x;

    /// <summary>As <see cref="Max"/> (tie: x), but a NaN argument loses to a number.</summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The maximum number.</returns>
    public static Dual<T> MaxNumber(Dual<T> x, Dual<T> y) => ValueSelection.MaxNumber(x.Value, y.Value) ? y : x;

    /// <summary>As <see cref="Min"/> (tie: x), but a NaN argument loses to a number.</summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The minimum number.</returns>
    public static Dual<T> MinNumber(Dual<T> x, Dual<T> y) => ValueSelection.MinNumber(x.Value, y.Value) ? y : x;

    /// <summary>
    /// The argument of larger magnitude with its tangent; equal magnitudes return the
    /// non-negative one (x when both have the same sign). NaN in either argument returns it.
    /// </summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The argument of larger magnitude.</returns>
    public static Dual<T> MaxMagnitude(Dual<T> x, Dual<T> y) => ValueSelection.MaxMagnitude(x.Value, y.Value) ? y : x;

    /// <summary>
    /// The argument of smaller magnitude with its tangent; equal magnitudes return the negative
    /// one (x when both have the same sign). NaN in either argument returns it.
    /// </summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The argument of smaller magnitude.</returns>
    public static Dual<T> MinMagnitude(Dual<T> x, Dual<T> y) => ValueSelection.MinMagnitude(x.Value, y.Value) ? y : x;

    /// <summary>As <see cref="MaxMagnitude"/>, but a NaN argument loses to a number.</summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The argument of larger magnitude.</returns>
    public static Dual<T> MaxMagnitudeNumber(Dual<T> x, Dual<T> y) => ValueSelection.MaxMagnitudeNumber(x.Value, y.Value) ? y : x;

    /// <summary>As <see cref="MinMagnitude"/>, but a NaN argument loses to a number.</summary>
    /// <param name="x">First number.</param>
    /// <param name="y">Second number.</param>
    /// <returns>The argument of smaller magnitude.</returns>
    public static Dual<T> MinMagnitudeNumber(Dual<T> x, Dual<T> y) => ValueSelection.MinMagnitudeNumber(x.Value, y.Value) ? y : x;

    // ---- Predicates (on Value only) ----

    /// <summary>True when the value is finite (the tangent is not inspected).</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsFinite(value.Value).</returns>
    public static bool IsFinite(Dual<T> value) => T.IsFinite(value.Value);

    /// <summary>True when the value is NaN.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsNaN(value.Value).</returns>
    public static bool IsNaN(Dual<T> value) => T.IsNaN(value.Value);

    /// <summary>True when the value is infinite.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsInfinity(value.Value).</returns>
    public static bool IsInfinity(Dual<T> value) => T.IsInfinity(value.Value);

    /// <summary>True when the value is +infinity.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsPositiveInfinity(value.Value).</returns>
    public static bool IsPositiveInfinity(Dual<T> value) => T.IsPositiveInfinity(value.Value);

    /// <summary>True when the value is -infinity.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsNegativeInfinity(value.Value).</returns>
    public static bool IsNegativeInfinity(Dual<T> value) => T.IsNegativeInfinity(value.Value);

    /// <summary>True when the value is zero (the tangent may be anything).</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsZero(value.Value).</returns>
    public static bool IsZero(Dual<T> value) => T.IsZero(value.Value);

    /// <summary>True when the value is negative (including -0).</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsNegative(value.Value).</returns>
    public static bool IsNegative(Dual<T> value) => T.IsNegative(value.Value);

    /// <summary>True when the value is positive (including +0).</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsPositive(value.Value).</returns>
    public static bool IsPositive(Dual<T> value) => T.IsPositive(value.Value);

    /// <summary>True when the value is normal.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsNormal(value.Value).</returns>
    public static bool IsNormal(Dual<T> value) => T.IsNormal(value.Value);

    /// <summary>True when the value is subnormal.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsSubnormal(value.Value).</returns>
    public static bool IsSubnormal(Dual<T> value) => T.IsSubnormal(value.Value);

    /// <summary>True when the value is an integer.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsInteger(value.Value).</returns>
    public static bool IsInteger(Dual<T> value) => T.IsInteger(value.Value);

    /// <summary>True when the value is an even integer.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsEvenInteger(value.Value).</returns>
    public static bool IsEvenInteger(Dual<T> value) => T.IsEvenInteger(value.Value);

    /// <summary>True when the value is an odd integer.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsOddInteger(value.Value).</returns>
    public static bool IsOddInteger(Dual<T> value) => T.IsOddInteger(value.Value);

    /// <summary>Always true: a dual number over a real type is real.</summary>
    /// <param name="value">The number.</param>
    /// <returns>T.IsRealNumber(value.Value).</returns>
    public static bool IsRealNumber(Dual<T> value) => T.IsRealNumber(value.Value);

    static bool INumberBase<Dual<T>>.IsCanonical(Dual<T> value) => T.IsCanonical(value.Value);

    static bool INumberBase<Dual<T>>.IsComplexNumber(Dual<T> value) => T.IsComplexNumber(value.Value);

    static bool INumberBase<Dual<T>>.IsImaginaryNumber(Dual<T> value) => T.IsImaginaryNumber(value.Value);

    // ---- IFloatingPoint bit-level members (forward to Value) ----

    int IFloatingPoint<Dual<T>>.GetExponentByteCount() => Value.GetExponentByteCount();

    int IFloatingPoint<Dual<T>>.GetExponentShortestBitLength() => Value.GetExponentShortestBitLength();

    int IFloatingPoint<Dual<T>>.GetSignificandBitLength() => Value.GetSignificandBitLength();

    int IFloatingPoint<Dual<T>>.GetSignificandByteCount() => Value.GetSignificandByteCount();

    bool IFloatingPoint<Dual<T>>.TryWriteExponentBigEndian(Span<byte> destination, out int bytesWritten) =>
        Value.TryWriteExponentBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<Dual<T>>.TryWriteExponentLittleEndian(Span<byte> destination, out int bytesWritten) =>
        Value.TryWriteExponentLittleEndian(destination, out bytesWritten);

    bool IFloatingPoint<Dual<T>>.TryWriteSignificandBigEndian(Span<byte> destination, out int bytesWritten) =>
        Value.TryWriteSignificandBigEndian(destination, out bytesWritten);

    bool IFloatingPoint<Dual<T>>.TryWriteSignificandLittleEndian(Span<byte> destination, out int bytesWritten) =>
        Value.TryWriteSignificandLittleEndian(destination, out bytesWritten);

    // ---- Conversions ----
    // From: another Dual<T> (identity), T (a constant) or a built-in number (converted by T, tangent 0).
    // To: Dual<T> (identity), T or a built-in number: the value, tangent dropped.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryConvertFrom<TOther>(TOther value, ConversionMode mode, out Dual<T> result)
        where TOther : INumberBase<TOther>
    {
        if (typeof(TOther) == typeof(Dual<T>))
        {
            result = Unsafe.As<TOther, Dual<T>>(ref value);
            return true;
        }
        if (typeof(TOther) == typeof(T))
        {
            result = Constant(Unsafe.As<TOther, T>(ref value));
            return true;
        }
        if (NumberConversion.IsBuiltInNumber<TOther>())
        {
            result = Constant(NumberConversion.Create<T, TOther>(value, mode));
            return true;
        }
        result = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryConvertTo<TOther>(Dual<T> value, ConversionMode mode, out TOther result)
        where TOther : INumberBase<TOther>
    {
        if (typeof(TOther) == typeof(Dual<T>))
        {
            result = Unsafe.As<Dual<T>, TOther>(ref value);
            return true;
        }
        T v = value.Value;
        if (typeof(TOther) == typeof(T))
        {
            result = Unsafe.As<T, TOther>(ref v);
            return true;
        }
        if (NumberConversion.IsBuiltInNumber<TOther>())
        {
            result = NumberConversion.Create<TOther, T>(v, mode);
            return true;
        }
        result = default!;
        return false;
    }

    /// <summary>
    /// A constant (tangent 0) from a built-in number (double, float, Half, decimal, the integer
    /// types) or from T; from a <see cref="Dual{T}"/> the number itself. Overflow throws.
    /// </summary>
    /// <typeparam name="TOther">The source type.</typeparam>
    /// <param name="value">The number.</param>
    /// <returns>The converted number.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="TOther"/> is not one of the types above.</exception>
    /// <exception cref="OverflowException">The value is out of T's range.</exception>
    public static Dual<T> CreateChecked<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, ConversionMode.Checked, out Dual<T> result) ? result : ThrowNotSupported<TOther>();

    /// <summary>As <see cref="CreateChecked"/>, saturating at T's range instead of throwing.</summary>
    /// <typeparam name="TOther">The source type.</typeparam>
    /// <param name="value">The number.</param>
    /// <returns>The converted number.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="TOther"/> is not supported.</exception>
    public static Dual<T> CreateSaturating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, ConversionMode.Saturating, out Dual<T> result) ? result : ThrowNotSupported<TOther>();

    /// <summary>As <see cref="CreateChecked"/>, truncating instead of throwing.</summary>
    /// <typeparam name="TOther">The source type.</typeparam>
    /// <param name="value">The number.</param>
    /// <returns>The converted number.</returns>
    /// <exception cref="NotSupportedException"><typeparamref name="TOther"/> is not supported.</exception>
    public static Dual<T> CreateTruncating<TOther>(TOther value)
        where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, ConversionMode.Truncating, out Dual<T> result) ? result : ThrowNotSupported<TOther>();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Dual<T> ThrowNotSupported<TOther>() =>
        throw new NotSupportedException($"Cannot convert {typeof(TOther).Name} to Dual<{typeof(T).Name}>.");

    static bool INumberBase<Dual<T>>.TryConvertFromChecked<TOther>(TOther value, out Dual<T> result) =>
        TryConvertFrom(value, ConversionMode.Checked, out result);

    static bool INumberBase<Dual<T>>.TryConvertFromSaturating<TOther>(TOther value, out Dual<T> result) =>
        TryConvertFrom(value, ConversionMode.Saturating, out result);

    static bool INumberBase<Dual<T>>.TryConvertFromTruncating<TOther>(TOther value, out Dual<T> result) =>
        TryConvertFrom(value, ConversionMode.Truncating, out result);

    static bool INumberBase<Dual<T>>.TryConvertToChecked<TOther>(Dual<T> value, out TOther result) =>
        TryConvertTo(value, ConversionMode.Checked, out result);

    static bool INumberBase<Dual<T>>.TryConvertToSaturating<TOther>(Dual<T> value, out TOther result) =>
        TryConvertTo(value, ConversionMode.Saturating, out result);

    static bool INumberBase<Dual<T>>.TryConvertToTruncating<TOther>(Dual<T> value, out TOther result) =>
        TryConvertTo(value, ConversionMode.Truncating, out result);
}
