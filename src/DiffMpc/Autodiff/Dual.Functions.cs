// Notation: x = (a, a'); every unary f returns (f(a), f'(a) a'), computed with T's arithmetic so
// that nested duals differentiate the rule itself.
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

public readonly partial struct Dual<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Dual<T> Chain(T value, T slope, Dual<T> x) => new(value, slope * x.Derivative);

    private static T Two => T.One + T.One;

    private static T Ln2 => T.Log(Two);

    private static T Ln10 => T.Log(T.CreateTruncating(10));

    // ---- Exponential and logarithmic ----

    /// <summary>e^a, tangent e^a a'.</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>e^x.</returns>
    public static Dual<T> Exp(Dual<T> x)
    {
        T e = T.Exp(x.Value);
        return Chain(e, e, x);
    }

    /// <summary>2^a, tangent ln 2 2^a a'.</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>2^x.</returns>
    public static Dual<T> Exp2(Dual<T> x)
    {
        T e = T.Exp2(x.Value);
        return Chain(e, Ln2 * e, x);
    }

    /// <summary>10^a, tangent ln 10 10^a a'.</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>10^x.</returns>
    public static Dual<T> Exp10(Dual<T> x)
    {
        T e = T.Exp10(x.Value);
        return Chain(e, Ln10 * e, x);
    }

    /// <summary>e^a - 1 (accurate near 0), tangent e^a a'.</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>e^x - 1.</returns>
    public static Dual<T> ExpM1(Dual<T> x) => Chain(T.ExpM1(x.Value), T.Exp(x.Value), x);

    /// <summary>Natural logarithm, tangent a' / a.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>ln x.</returns>
    public static Dual<T> Log(Dual<T> x) => new(T.Log(x.Value), x.Derivative / x.Value);

    /// <summary>Logarithm to a (differentiable) base: ln x / ln newBase.</summary>
    /// <param name="x">The argument.</param>
    /// <param name="newBase">The base.</param>
    /// <returns>log_newBase x.</returns>
    public static Dual<T> Log(Dual<T> x, Dual<T> newBase) => Log(x) / Log(newBase);

    /// <summary>Base-2 logarithm, tangent a' / (a ln 2).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log2 x.</returns>
    public static Dual<T> Log2(Dual<T> x) => new(T.Log2(x.Value), x.Derivative / (x.Value * Ln2));

    /// <summary>Base-10 logarithm, tangent a' / (a ln 10).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log10 x.</returns>
    public static Dual<T> Log10(Dual<T> x) => new(T.Log10(x.Value), x.Derivative / (x.Value * Ln10));

    /// <summary>ln(1 + a) (accurate near 0), tangent a' / (1 + a).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>ln(1 + x).</returns>
    public static Dual<T> LogP1(Dual<T> x) => new(T.LogP1(x.Value), x.Derivative / (T.One + x.Value));

    // ---- Powers and roots ----

    /// <summary>
    /// a^b, tangent b a^(b-1) a' + a^b ln(a) b'. The second term is used only where a &gt; 0 (for
    /// a &lt;= 0 the power is not differentiable in the exponent and its tangent is ignored), so a
    /// negative base with a constant exponent differentiates like a polynomial.
    /// </summary>
    /// <param name="x">The base.</param>
    /// <param name="y">The exponent.</param>
    /// <returns>x^y.</returns>
    public static Dual<T> Pow(Dual<T> x, Dual<T> y)
    {
        T p = T.Pow(x.Value, y.Value);
        T d = y.Value * T.Pow(x.Value, y.Value - T.One) * x.Derivative;
        if (x.Value > T.Zero)
        {
            d += p * T.Log(x.Value) * y.Derivative;
        }
        return new(p, d);
    }

    /// <summary>Square root, tangent a' / (2 sqrt a) (infinite or NaN at a = 0).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>sqrt x.</returns>
    public static Dual<T> Sqrt(Dual<T> x)
    {
        T s = T.Sqrt(x.Value);
        return new(s, x.Derivative / (Two * s));
    }

    /// <summary>Cube root, tangent a' / (3 cbrt(a)^2).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>cbrt x.</returns>
    public static Dual<T> Cbrt(Dual<T> x)
    {
        T c = T.Cbrt(x.Value);
        return new(c, x.Derivative / (T.CreateTruncating(3) * c * c));
    }

    /// <summary>n-th root, tangent a' / (n root(a)^(n-1)).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="n">The degree.</param>
    /// <returns>x^(1/n).</returns>
    public static Dual<T> RootN(Dual<T> x, int n)
    {
        T r = T.RootN(x.Value, n);
        return new(r, x.Derivative / (T.CreateTruncating(n) * T.Pow(r, T.CreateTruncating(n - 1))));
    }

    /// <summary>sqrt(a^2 + b^2) without overflow, tangent (a a' + b b') / hypot (NaN at the origin).</summary>
    /// <param name="x">First leg.</param>
    /// <param name="y">Second leg.</param>
    /// <returns>hypot(x, y).</returns>
    public static Dual<T> Hypot(Dual<T> x, Dual<T> y)
    {
        T h = T.Hypot(x.Value, y.Value);
        return new(h, (x.Value * x.Derivative + y.Value * y.Derivative) / h);
    }

    // ---- Trigonometric ----

    /// <summary>Sine, tangent cos(a) a'.</summary>
    /// <param name="x">The angle in radians.</param>
    /// <returns>sin x.</returns>
    public static Dual<T> Sin(Dual<T> x)
    {
        (T s, T c) = T.SinCos(x.Value);
        return Chain(s, c, x);
    }

    /// <summary>Cosine, tangent -sin(a) a'.</summary>
    /// <param name="x">The angle in radians.</param>
    /// <returns>cos x.</returns>
    public static Dual<T> Cos(Dual<T> x)
    {
        (T s, T c) = T.SinCos(x.Value);
        return Chain(c, -s, x);
    }

    /// <summary>Sine and cosine together (one SinCos of the value).</summary>
    /// <param name="x">The angle in radians.</param>
    /// <returns>(sin x, cos x).</returns>
    public static (Dual<T> Sin, Dual<T> Cos) SinCos(Dual<T> x)
    {
        (T s, T c) = T.SinCos(x.Value);
        return (Chain(s, c, x), Chain(c, -s, x));
    }

    /// <summary>Tangent, derivative (1 + tan^2 a) a'.</summary>
    /// <param name="x">The angle in radians.</param>
    /// <returns>tan x.</returns>
    public static Dual<T> Tan(Dual<T> x)
    {
        T t = T.Tan(x.Value);
        return Chain(t, T.One + t * t, x);
    }

    /// <summary>sin(pi a), tangent pi cos(pi a) a'.</summary>
    /// <param name="x">The argument in half-turns.</param>
    /// <returns>sin(pi x).</returns>
    public static Dual<T> SinPi(Dual<T> x)
    {
        (T s, T c) = T.SinCosPi(x.Value);
        return Chain(s, T.Pi * c, x);
    }

    /// <summary>cos(pi a), tangent -pi sin(pi a) a'.</summary>
    /// <param name="x">The argument in half-turns.</param>
    /// <returns>cos(pi x).</returns>
    public static Dual<T> CosPi(Dual<T> x)
    {
        (T s, T c) = T.SinCosPi(x.Value);
        return Chain(c, -T.Pi * s, x);
    }

    /// <summary>sin(pi a) and cos(pi a) together.</summary>
    /// <param name="x">The argument in half-turns.</param>
    /// <returns>(sin(pi x), cos(pi x)).</returns>
    public static (Dual<T> SinPi, Dual<T> CosPi) SinCosPi(Dual<T> x)
    {
        (T s, T c) = T.SinCosPi(x.Value);
        return (Chain(s, T.Pi * c, x), Chain(c, -T.Pi * s, x));
    }

    /// <summary>tan(pi a), tangent pi (1 + tan^2(pi a)) a'.</summary>
    /// <param name="x">The argument in half-turns.</param>
    /// <returns>tan(pi x).</returns>
    public static Dual<T> TanPi(Dual<T> x)
    {
        T t = T.TanPi(x.Value);
        return Chain(t, T.Pi * (T.One + t * t), x);
    }

    /// <summary>Arcsine, tangent a' / sqrt(1 - a^2).</summary>
    /// <param name="x">The argument in [-1, 1].</param>
    /// <returns>asin x.</returns>
    public static Dual<T> Asin(Dual<T> x) => new(T.Asin(x.Value), x.Derivative / T.Sqrt(T.One - x.Value * x.Value));

    /// <summary>Arccosine, tangent -a' / sqrt(1 - a^2).</summary>
    /// <param name="x">The argument in [-1, 1].</param>
    /// <returns>acos x.</returns>
    public static Dual<T> Acos(Dual<T> x) => new(T.Acos(x.Value), -x.Derivative / T.Sqrt(T.One - x.Value * x.Value));

    /// <summary>Arctangent, tangent a' / (1 + a^2).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>atan x.</returns>
    public static Dual<T> Atan(Dual<T> x) => new(T.Atan(x.Value), x.Derivative / (T.One + x.Value * x.Value));

    /// <summary>asin(a) / pi.</summary>
    /// <param name="x">The argument in [-1, 1].</param>
    /// <returns>asin(x) / pi.</returns>
    public static Dual<T> AsinPi(Dual<T> x) => new(T.AsinPi(x.Value), x.Derivative / (T.Pi * T.Sqrt(T.One - x.Value * x.Value)));

    /// <summary>acos(a) / pi.</summary>
    /// <param name="x">The argument in [-1, 1].</param>
    /// <returns>acos(x) / pi.</returns>
    public static Dual<T> AcosPi(Dual<T> x) => new(T.AcosPi(x.Value), -x.Derivative / (T.Pi * T.Sqrt(T.One - x.Value * x.Value)));

    /// <summary>atan(a) / pi.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>atan(x) / pi.</returns>
    public static Dual<T> AtanPi(Dual<T> x) => new(T.AtanPi(x.Value), x.Derivative / (T.Pi * (T.One + x.Value * x.Value)));

    /// <summary>
    /// The angle of the point (x, y), tangent (x y' - y x') / (x^2 + y^2) (NaN at the origin). With
    /// y = sin th and x = cos th this recovers th with tangent th' whatever the radius.
    /// </summary>
    /// <param name="y">The ordinate.</param>
    /// <param name="x">The abscissa.</param>
    /// <returns>atan2(y, x) in [-pi, pi].</returns>
    public static Dual<T> Atan2(Dual<T> y, Dual<T> x) =>
        new(T.Atan2(y.Value, x.Value),
            (x.Value * y.Derivative - y.Value * x.Derivative) / (x.Value * x.Value + y.Value * y.Value));

    /// <summary>atan2(y, x) / pi.</summary>
    /// <param name="y">The ordinate.</param>
    /// <param name="x">The abscissa.</param>
    /// <returns>atan2(y, x) / pi.</returns>
    public static Dual<T> Atan2Pi(Dual<T> y, Dual<T> x) =>
        new(T.Atan2Pi(y.Value, x.Value),
            (x.Value * y.Derivative - y.Value * x.Derivative) / (T.Pi * (x.Value * x.Value + y.Value * y.Value)));

    // ---- Hyperbolic ----

    /// <summary>Hyperbolic sine, tangent cosh(a) a'.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>sinh x.</returns>
    public static Dual<T> Sinh(Dual<T> x) => Chain(T.Sinh(x.Value), T.Cosh(x.Value), x);

    /// <summary>Hyperbolic cosine, tangent sinh(a) a'.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>cosh x.</returns>
    public static Dual<T> Cosh(Dual<T> x) => Chain(T.Cosh(x.Value), T.Sinh(x.Value), x);

    /// <summary>Hyperbolic tangent, derivative (1 - tanh^2 a) a'.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>tanh x.</returns>
    public static Dual<T> Tanh(Dual<T> x)
    {
        T t = T.Tanh(x.Value);
        return Chain(t, T.One - t * t, x);
    }

    /// <summary>Inverse hyperbolic sine, tangent a' / sqrt(a^2 + 1).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>asinh x.</returns>
    public static Dual<T> Asinh(Dual<T> x) => new(T.Asinh(x.Value), x.Derivative / T.Sqrt(x.Value * x.Value + T.One));

    /// <summary>Inverse hyperbolic cosine, tangent a' / sqrt(a^2 - 1).</summary>
    /// <param name="x">The argument (at least 1).</param>
    /// <returns>acosh x.</returns>
    public static Dual<T> Acosh(Dual<T> x) => new(T.Acosh(x.Value), x.Derivative / T.Sqrt(x.Value * x.Value - T.One));

    /// <summary>Inverse hyperbolic tangent, tangent a' / (1 - a^2).</summary>
    /// <param name="x">The argument in (-1, 1).</param>
    /// <returns>atanh x.</returns>
    public static Dual<T> Atanh(Dual<T> x) => new(T.Atanh(x.Value), x.Derivative / (T.One - x.Value * x.Value));

    // ---- Fused and IEEE operations ----

    /// <summary>a b + c with one rounding of the value; tangent a' b + a b' + c'.</summary>
    /// <param name="left">a.</param>
    /// <param name="right">b.</param>
    /// <param name="addend">c.</param>
    /// <returns>left * right + addend.</returns>
    public static Dual<T> FusedMultiplyAdd(Dual<T> left, Dual<T> right, Dual<T> addend) =>
        new(T.FusedMultiplyAdd(left.Value, right.Value, addend.Value),
            left.Derivative * right.Value + left.Value * right.Derivative + addend.Derivative);

    /// <summary>IEEE remainder a - b round(a / b); tangent a' - round(a / b) b' (jumps ignored).</summary>
    /// <param name="left">Dividend.</param>
    /// <param name="right">Divisor.</param>
    /// <returns>The IEEE remainder.</returns>
    public static Dual<T> Ieee754Remainder(Dual<T> left, Dual<T> right) =>
        new(T.Ieee754Remainder(left.Value, right.Value),
            left.Derivative - T.Round(left.Value / right.Value, MidpointRounding.ToEven) * right.Derivative);

    /// <summary>a 2^n, tangent a' 2^n.</summary>
    /// <param name="x">The number.</param>
    /// <param name="n">The power of two.</param>
    /// <returns>x * 2^n.</returns>
    public static Dual<T> ScaleB(Dual<T> x, int n) => new(T.ScaleB(x.Value, n), T.ScaleB(x.Derivative, n));

    /// <summary>The next representable value above a; the tangent is kept (bit-level operation).</summary>
    /// <param name="x">The number.</param>
    /// <returns>The incremented value with x's tangent.</returns>
    public static Dual<T> BitIncrement(Dual<T> x) => new(T.BitIncrement(x.Value), x.Derivative);

    /// <summary>The next representable value below a; the tangent is kept (bit-level operation).</summary>
    /// <param name="x">The number.</param>
    /// <returns>The decremented value with x's tangent.</returns>
    public static Dual<T> BitDecrement(Dual<T> x) => new(T.BitDecrement(x.Value), x.Derivative);

    /// <summary>The unbiased base-2 exponent of the value (tangent irrelevant).</summary>
    /// <param name="x">The number.</param>
    /// <returns>ILogB of <see cref="Value"/>.</returns>
    public static int ILogB(Dual<T> x) => T.ILogB(x.Value);

    /// <summary>T's (possibly hardware) estimate of 1 / a, with the exact tangent -a' / a^2.</summary>
    /// <param name="x">The number.</param>
    /// <returns>An estimate of 1 / x.</returns>
    public static Dual<T> ReciprocalEstimate(Dual<T> x) =>
        new(T.ReciprocalEstimate(x.Value), -x.Derivative / (x.Value * x.Value));

    /// <summary>T's (possibly hardware) estimate of 1 / sqrt(a), with the exact tangent -a' / (2 a sqrt a).</summary>
    /// <param name="x">The number.</param>
    /// <returns>An estimate of 1 / sqrt(x).</returns>
    public static Dual<T> ReciprocalSqrtEstimate(Dual<T> x) =>
        new(T.ReciprocalSqrtEstimate(x.Value), -x.Derivative / (Two * x.Value * T.Sqrt(x.Value)));

    // ---- Rounding (piecewise constant: tangent 0) ----

    /// <summary>Ceiling of the value; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <returns>ceil(x) as a constant.</returns>
    public static Dual<T> Ceiling(Dual<T> x) => Constant(T.Ceiling(x.Value));

    /// <summary>Floor of the value; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <returns>floor(x) as a constant.</returns>
    public static Dual<T> Floor(Dual<T> x) => Constant(T.Floor(x.Value));

    /// <summary>Truncation of the value toward 0; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <returns>trunc(x) as a constant.</returns>
    public static Dual<T> Truncate(Dual<T> x) => Constant(T.Truncate(x.Value));

    /// <summary>Round to nearest, ties to even; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <returns>round(x) as a constant.</returns>
    public static Dual<T> Round(Dual<T> x) => Constant(T.Round(x.Value));

    /// <summary>Round to a number of fractional digits, ties to even; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <param name="digits">Fractional digits.</param>
    /// <returns>The rounded value as a constant.</returns>
    public static Dual<T> Round(Dual<T> x, int digits) => Constant(T.Round(x.Value, digits));

    /// <summary>Round with a midpoint mode; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <param name="mode">Midpoint rounding.</param>
    /// <returns>The rounded value as a constant.</returns>
    public static Dual<T> Round(Dual<T> x, MidpointRounding mode) => Constant(T.Round(x.Value, mode));

    /// <summary>Round to digits with a midpoint mode; tangent 0.</summary>
    /// <param name="x">The number.</param>
    /// <param name="digits">Fractional digits.</param>
    /// <param name="mode">Midpoint rounding.</param>
    /// <returns>The rounded value as a constant.</returns>
    public static Dual<T> Round(Dual<T> x, int digits, MidpointRounding mode) => Constant(T.Round(x.Value, digits, mode));
}
