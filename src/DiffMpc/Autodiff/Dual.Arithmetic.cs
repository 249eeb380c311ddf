// Notation: (a, a') and (b, b') the operands' values and tangents.
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

public readonly partial struct Dual<T>
{
    /// <summary>Sum: (a + b, a' + b').</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>The sum.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> operator +(Dual<T> left, Dual<T> right) =>
        new(left.Value + right.Value, left.Derivative + right.Derivative);

    /// <summary>Difference: (a - b, a' - b').</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>The difference.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> operator -(Dual<T> left, Dual<T> right) =>
        new(left.Value - right.Value, left.Derivative - right.Derivative);

    /// <summary>Product: (a b, a' b + a b').</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>The product.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> operator *(Dual<T> left, Dual<T> right) =>
        new(left.Value * right.Value, left.Derivative * right.Value + left.Value * right.Derivative);

    /// <summary>Quotient: (a / b, (a' - (a / b) b') / b).</summary>
    /// <param name="left">Dividend.</param>
    /// <param name="right">Divisor.</param>
    /// <returns>The quotient.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> operator /(Dual<T> left, Dual<T> right)
    {
        T q = left.Value / right.Value;
        return new(q, (left.Derivative - q * right.Derivative) / right.Value);
    }

    /// <summary>
    /// Remainder of truncated division, a % b = a - trunc(a / b) b: tangent a' - trunc(a / b) b'
    /// (the jumps where a / b crosses an integer are ignored).
    /// </summary>
    /// <param name="left">Dividend.</param>
    /// <param name="right">Divisor.</param>
    /// <returns>The remainder.</returns>
    public static Dual<T> operator %(Dual<T> left, Dual<T> right) =>
        new(left.Value % right.Value, left.Derivative - T.Truncate(left.Value / right.Value) * right.Derivative);

    /// <summary>Negation: (-a, -a').</summary>
    /// <param name="value">The operand.</param>
    /// <returns>The negation.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Dual<T> operator -(Dual<T> value) => new(-value.Value, -value.Derivative);

    /// <summary>Unary plus: the operand unchanged.</summary>
    /// <param name="value">The operand.</param>
    /// <returns>The operand.</returns>
    public static Dual<T> operator +(Dual<T> value) => value;

    /// <summary>Increment: (a + 1, a').</summary>
    /// <param name="value">The operand.</param>
    /// <returns>The incremented number.</returns>
    public static Dual<T> operator ++(Dual<T> value) => new(value.Value + T.One, value.Derivative);

    /// <summary>Decrement: (a - 1, a').</summary>
    /// <param name="value">The operand.</param>
    /// <returns>The decremented number.</returns>
    public static Dual<T> operator --(Dual<T> value) => new(value.Value - T.One, value.Derivative);

    // ---- Named alternates of the operators (CA2225) ----

    /// <summary>Named alternate of <c>+</c>.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left + right.</returns>
    public static Dual<T> Add(Dual<T> left, Dual<T> right) => left + right;

    /// <summary>Named alternate of binary <c>-</c>.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left - right.</returns>
    public static Dual<T> Subtract(Dual<T> left, Dual<T> right) => left - right;

    /// <summary>Named alternate of <c>*</c>.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>left * right.</returns>
    public static Dual<T> Multiply(Dual<T> left, Dual<T> right) => left * right;

    /// <summary>Named alternate of <c>/</c>.</summary>
    /// <param name="left">Dividend.</param>
    /// <param name="right">Divisor.</param>
    /// <returns>left / right.</returns>
    public static Dual<T> Divide(Dual<T> left, Dual<T> right) => left / right;

    /// <summary>Named alternate of <c>%</c>.</summary>
    /// <param name="left">Dividend.</param>
    /// <param name="right">Divisor.</param>
    /// <returns>left % right.</returns>
    public static Dual<T> Mod(Dual<T> left, Dual<T> right) => left % right;

    /// <summary>Named alternate of unary <c>-</c>.</summary>
    /// <param name="value">The operand.</param>
    /// <returns>-value.</returns>
    public static Dual<T> Negate(Dual<T> value) => -value;

    /// <summary>Named alternate of unary <c>+</c>.</summary>
    /// <param name="value">The operand.</param>
    /// <returns>The operand.</returns>
    public static Dual<T> Plus(Dual<T> value) => value;

    /// <summary>Named alternate of <c>++</c>.</summary>
    /// <param name="value">The operand.</param>
    /// <returns>value + 1.</returns>
    public static Dual<T> Increment(Dual<T> value) => ++value;

    /// <summary>Named alternate of <c>--</c>.</summary>
    /// <param name="value">The operand.</param>
    /// <returns>value - 1.</returns>
    public static Dual<T> Decrement(Dual<T> value) => --value;
}
