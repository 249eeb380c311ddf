// Notation: a dual number a + a' eps with eps^2 = 0 carries a value a and one tangent a' (the
// directional derivative along a seed direction). f(a + a' eps) = f(a) + f'(a) a' eps.
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

/// <summary>
/// A forward-mode dual number over any IEEE 754 floating-point type T: a <see cref="Value"/> and
/// one tangent <see cref="Derivative"/> (the derivative of the value along a single seed
/// direction). Code written once against <see cref="IFloatingPointIeee754{TSelf}"/> computes exact
/// first derivatives when run with <c>Dual&lt;double&gt;</c> and exact second derivatives with the
/// nested <c>Dual&lt;Dual&lt;double&gt;&gt;</c>.
/// </summary>
/// <typeparam name="T">The scalar type of value and tangent: <see cref="double"/>, <see cref="float"/> or another Dual.</typeparam>
/// <remarks>
/// <para>Every function applies the chain rule to the tangent with T's own arithmetic, so nesting
/// differentiates the derivative rules themselves. The struct is immutable, allocation-free and
/// never boxes in generic code.</para>
/// <para>Comparisons, equality, hashing and every predicate (IsNaN, IsFinite, IsZero, IsInteger, ...)
/// look at <see cref="Value"/> only, so branches in user code take the same path as with T. The
/// piecewise-constant functions (Floor, Ceiling, Round, Truncate) have tangent 0; the
/// bit-level members (BitIncrement, ILogB, exponent and significand accessors) forward to
/// <see cref="Value"/>; conversions to other number types (e.g. <c>double.CreateChecked(dual)</c>)
/// keep the value and drop the tangent. Non-differentiable points follow documented one-sided
/// rules: see <see cref="Abs"/>, <see cref="Clamp"/>, <see cref="Max"/> and <see cref="Min"/>.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000:Do not declare static members on generic types",
    Justification = "A generic-math number type must expose its operations as static members (interface contract).")]
public readonly partial struct Dual<T> : IFloatingPointIeee754<Dual<T>>
    where T : IFloatingPointIeee754<T>
{
    /// <summary>Creates a dual number from a value and a tangent.</summary>
    /// <param name="value">The value a.</param>
    /// <param name="derivative">The tangent a' (derivative along the seed direction).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Dual(T value, T derivative)
    {
        Value = value;
        Derivative = derivative;
    }

    /// <summary>The value a.</summary>
    public T Value { get; }

    /// <summary>The tangent a': the derivative of <see cref="Value"/> along the seed direction.</summary>
    public T Derivative { get; }

    /// <summary>A constant: the value with tangent 0.</summary>
    /// <param name="value">The value.</param>
    /// <returns>(value, 0).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> Constant(T value) => new(value, T.Zero);

    /// <summary>An independent variable seeded along its own axis: the value with tangent 1.</summary>
    /// <param name="value">The value.</param>
    /// <returns>(value, 1).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> Variable(T value) => new(value, T.One);

    // ---- Constants (tangent 0) ----

    /// <summary>0 with tangent 0.</summary>
    public static Dual<T> Zero => new(T.Zero, T.Zero);

    /// <summary>1 with tangent 0.</summary>
    public static Dual<T> One => new(T.One, T.Zero);

    /// <summary>-1 with tangent 0.</summary>
    public static Dual<T> NegativeOne => new(T.NegativeOne, T.Zero);

    /// <summary>0 with tangent 0.</summary>
    public static Dual<T> AdditiveIdentity => Zero;

    /// <summary>1 with tangent 0.</summary>
    public static Dual<T> MultiplicativeIdentity => One;

    /// <summary>e with tangent 0.</summary>
    public static Dual<T> E => new(T.E, T.Zero);

    /// <summary>pi with tangent 0.</summary>
    public static Dual<T> Pi => new(T.Pi, T.Zero);

    /// <summary>2 pi with tangent 0.</summary>
    public static Dual<T> Tau => new(T.Tau, T.Zero);

    /// <summary>T's epsilon with tangent 0.</summary>
    public static Dual<T> Epsilon => new(T.Epsilon, T.Zero);

    /// <summary>NaN with tangent 0.</summary>
    public static Dual<T> NaN => new(T.NaN, T.Zero);

    /// <summary>-infinity with tangent 0.</summary>
    public static Dual<T> NegativeInfinity => new(T.NegativeInfinity, T.Zero);

    /// <summary>-0 with tangent 0.</summary>
    public static Dual<T> NegativeZero => new(T.NegativeZero, T.Zero);

    /// <summary>+infinity with tangent 0.</summary>
    public static Dual<T> PositiveInfinity => new(T.PositiveInfinity, T.Zero);

    static int INumberBase<Dual<T>>.Radix => T.Radix;

    // ---- Equality and ordering (on Value only) ----

    /// <summary>Compares values only; the tangents are ignored (like every comparison of this type).</summary>
    /// <param name="other">The other number.</param>
    /// <returns>True when the values are equal (false when either is NaN).</returns>
    public bool Equals(Dual<T> other) => Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Dual<T> other && Equals(other);

    /// <summary>The hash of <see cref="Value"/>, consistent with <see cref="Equals(Dual{T})"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => Value.GetHashCode();

    /// <summary>Orders by value (T's total order: NaN first); tangents are ignored.</summary>
    /// <param name="other">The other number.</param>
    /// <returns>Negative, zero or positive as this value is below, equal to or above the other's.</returns>
    public int CompareTo(Dual<T> other) => Value.CompareTo(other.Value);

    /// <summary>Orders by value; null sorts first.</summary>
    /// <param name="obj">Null or a <see cref="Dual{T}"/>.</param>
    /// <returns>Negative, zero or positive.</returns>
    /// <exception cref="ArgumentException"><paramref name="obj"/> is not a <see cref="Dual{T}"/>.</exception>
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        Dual<T> other => CompareTo(other),
        _ => throw new ArgumentException($"{nameof(obj)} must be a {nameof(Dual<T>)}<{typeof(T).Name}>; got {obj.GetType().Name}.", nameof(obj)),
    };

    /// <summary>Equal values (tangents ignored).</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value == right.Value.</returns>
    public static bool operator ==(Dual<T> left, Dual<T> right) => left.Value == right.Value;

    /// <summary>Different values (tangents ignored).</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value != right.Value.</returns>
    public static bool operator !=(Dual<T> left, Dual<T> right) => left.Value != right.Value;

    /// <summary>Value comparison.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value &lt; right.Value.</returns>
    public static bool operator <(Dual<T> left, Dual<T> right) => left.Value < right.Value;

    /// <summary>Value comparison.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value &gt; right.Value.</returns>
    public static bool operator >(Dual<T> left, Dual<T> right) => left.Value > right.Value;

    /// <summary>Value comparison.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value &lt;= right.Value.</returns>
    public static bool operator <=(Dual<T> left, Dual<T> right) => left.Value <= right.Value;

    /// <summary>Value comparison.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left.Value &gt;= right.Value.</returns>
    public static bool operator >=(Dual<T> left, Dual<T> right) => left.Value >= right.Value;

    // ---- Formatting and parsing ----

    /// <summary>"value + tangent ε", each part formatted by T.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    /// <summary>"value + tangent ε", each part formatted by T with the given format.</summary>
    /// <param name="format">T's format string.</param>
    /// <param name="formatProvider">Culture; null means the current culture.</param>
    /// <returns>The text.</returns>
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        $"{Value.ToString(format, formatProvider)} + {Derivative.ToString(format, formatProvider)}ε";

    /// <summary>Formats as <see cref="ToString(string?, IFormatProvider?)"/> into a span.</summary>
    /// <param name="destination">Where to write.</param>
    /// <param name="charsWritten">Characters written.</param>
    /// <param name="format">T's format string.</param>
    /// <param name="provider">Culture.</param>
    /// <returns>False when <paramref name="destination"/> is too short.</returns>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (!Value.TryFormat(destination, out int a, format, provider) || !" + ".AsSpan().TryCopyTo(destination[a..]))
        {
            return false;
        }
        a += 3;
        if (!Derivative.TryFormat(destination[a..], out int b, format, provider) || a + b >= destination.Length)
        {
            return false;
        }
        destination[a + b] = 'ε';
        charsWritten = a + b + 1;
        return true;
    }

    /// <summary>Parses a plain T (not the "value + tangent ε" form) as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="provider">Culture.</param>
    /// <returns>The constant.</returns>
    public static Dual<T> Parse(string s, IFormatProvider? provider) => Constant(T.Parse(s, provider));

    /// <summary>Parses a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="style">Number styles.</param>
    /// <param name="provider">Culture.</param>
    /// <returns>The constant.</returns>
    public static Dual<T> Parse(string s, NumberStyles style, IFormatProvider? provider) => Constant(T.Parse(s, style, provider));

    /// <summary>Parses a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="provider">Culture.</param>
    /// <returns>The constant.</returns>
    public static Dual<T> Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Constant(T.Parse(s, provider));

    /// <summary>Parses a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="style">Number styles.</param>
    /// <param name="provider">Culture.</param>
    /// <returns>The constant.</returns>
    public static Dual<T> Parse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider) => Constant(T.Parse(s, style, provider));

    /// <summary>Tries to parse a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="provider">Culture.</param>
    /// <param name="result">The constant, or 0.</param>
    /// <returns>True on success.</returns>
    public static bool TryParse(string? s, IFormatProvider? provider, out Dual<T> result)
    {
        bool ok = T.TryParse(s, provider, out T? v);
        result = ok ? Constant(v!) : Zero;
        return ok;
    }

    /// <summary>Tries to parse a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="style">Number styles.</param>
    /// <param name="provider">Culture.</param>
    /// <param name="result">The constant, or 0.</param>
    /// <returns>True on success.</returns>
    public static bool TryParse(string? s, NumberStyles style, IFormatProvider? provider, out Dual<T> result)
    {
        bool ok = T.TryParse(s, style, provider, out T? v);
        result = ok ? Constant(v!) : Zero;
        return ok;
    }

    /// <summary>Tries to parse a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="provider">Culture.</param>
    /// <param name="result">The constant, or 0.</param>
    /// <returns>True on success.</returns>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Dual<T> result)
    {
        bool ok = T.TryParse(s, provider, out T? v);
        result = ok ? Constant(v!) : Zero;
        return ok;
    }

    /// <summary>Tries to parse a plain T as a constant (tangent 0).</summary>
    /// <param name="s">The text.</param>
    /// <param name="style">Number styles.</param>
    /// <param name="provider">Culture.</param>
    /// <param name="result">The constant, or 0.</param>
    /// <returns>True on success.</returns>
    public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider, out Dual<T> result)
    {
        bool ok = T.TryParse(s, style, provider, out T? v);
        result = ok ? Constant(v!) : Zero;
        return ok;
    }
}
