using System.Globalization;
using System.Numerics;
using DiffMpc.Autodiff;
using Xunit;

namespace DiffMpc.Tests.Autodiff;

public sealed class DualTests
{
    private static Dual<double> V(double a) => Dual<double>.Variable(a);

    private static Dual<double> C(double a) => Dual<double>.Constant(a);

    /// <summary>x seeded for a second derivative: value a, both tangents along x.</summary>
    private static Dual<Dual<double>> V2(double a) => new(new(a, 1.0), new(1.0, 0.0));

    private static Dual<Dual<double>> C2(double a) => new(new(a, 0.0), new(0.0, 0.0));

    /// <summary>The unary functions under test, written once for every T.</summary>
    public static readonly string[] Unary =
    [
        "neg", "sqr", "recip", "sin", "cos", "tan", "asin", "acos", "atan", "sinpi", "cospi", "tanpi",
        "asinpi", "acospi", "atanpi", "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "logp1",
        "sqrt", "cbrt", "root3", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "abs", "powc", "powneg",
        "scaleb", "lerp", "deg2rad", "clampin", "mod", "rem", "sincos", "sincospi", "copysign",
        "ln_newbase", "exp10m1", "log2p1", "poly",
    ];

    internal static T Apply<T>(string name, T x) where T : IFloatingPointIeee754<T>
    {
        T two = T.CreateChecked(2);
        return name switch
        {
            "neg" => -x,
            "sqr" => x * x,
            "recip" => T.One / x,
            "sin" => T.Sin(x),
            "cos" => T.Cos(x),
            "tan" => T.Tan(x),
            "asin" => T.Asin(x),
            "acos" => T.Acos(x),
            "atan" => T.Atan(x),
            "sinpi" => T.SinPi(x),
            "cospi" => T.CosPi(x),
            "tanpi" => T.TanPi(x),
            "asinpi" => T.AsinPi(x),
            "acospi" => T.AcosPi(x),
            "atanpi" => T.AtanPi(x),
            "exp" => T.Exp(x),
            "exp2" => T.Exp2(x),
            "exp10" => T.Exp10(x),
            "expm1" => T.ExpM1(x),
            "log" => T.Log(x),
            "log2" => T.Log2(x),
            "log10" => T.Log10(x),
            "logp1" => T.LogP1(x),
            "sqrt" => T.Sqrt(x),
            "cbrt" => T.Cbrt(x),
            "root3" => T.RootN(x, 3),
            "sinh" => T.Sinh(x),
            "cosh" => T.Cosh(x),
            "tanh" => T.Tanh(x),
            "asinh" => T.Asinh(x),
            "acosh" => T.Acosh(x + two),
            "atanh" => T.Atanh(x),
            "abs" => T.Abs(x - T.One),
            "powc" => T.Pow(x, T.CreateChecked(2.5)),
            "powneg" => T.Pow(x - two, T.CreateChecked(3)),
            "scaleb" => T.ScaleB(x, 3),
            "lerp" => T.Lerp(x, x * x, T.CreateChecked(0.3)),
            "deg2rad" => T.DegreesToRadians(x),
            "clampin" => T.Clamp(x, T.CreateChecked(-5), T.CreateChecked(5)),
            "mod" => x * T.CreateChecked(7) % T.CreateChecked(1.5),
            "rem" => T.Ieee754Remainder(x * T.CreateChecked(7), T.CreateChecked(1.5)),
            "sincos" => T.SinCos(x).Sin * T.SinCos(x).Cos,
            "sincospi" => T.SinCosPi(x).SinPi + T.SinCosPi(x).CosPi * x,
            "copysign" => T.CopySign(x, T.NegativeOne),
            "ln_newbase" => T.Log(x, T.CreateChecked(3)),
            "exp10m1" => T.Exp10M1(x),
            "log2p1" => T.Log2P1(x),
            "poly" => T.FusedMultiplyAdd(x, x, T.CreateChecked(3) * x) - T.CreateChecked(1) / (x + T.CreateChecked(2)),
            _ => throw new ArgumentException(name, nameof(name)),
        };
    }

    public static TheoryData<string, double> UnaryCases()
    {
        var data = new TheoryData<string, double>();
        foreach (string name in Unary)
        {
            foreach (double a in new[] { 0.3, 0.71 })
            {
                data.Add(name, a);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryFunction_FirstAndSecondDerivatives_MatchFiniteDifferences(string name, double a)
    {
        double h = 1e-5;
        double value = Apply(name, a);
        Dual<double> d1 = Apply(name, V(a));
        Assert.Equal(value, d1.Value, 14);
        double fd1 = (Apply(name, a + h) - Apply(name, a - h)) / (2 * h);
        AssertClose(fd1, d1.Derivative, 1e-7, $"{name}'({a})");

        Dual<Dual<double>> d2 = Apply(name, V2(a));
        Assert.Equal(value, d2.Value.Value, 14);
        Assert.Equal(d1.Derivative, d2.Value.Derivative, 12);
        Assert.Equal(d1.Derivative, d2.Derivative.Value, 12);
        double fd2 = (Apply(name, V(a + h)).Derivative - Apply(name, V(a - h)).Derivative) / (2 * h);
        AssertClose(fd2, d2.Derivative.Derivative, 1e-6, $"{name}''({a})");
    }

    [Fact]
    public void ClosedForms_FirstAndSecondDerivatives()
    {
        const double a = 0.4;
        Assert.Equal(Math.Cos(a), Dual<double>.Sin(V(a)).Derivative, 15);
        Assert.Equal(-Math.Sin(a), Dual<Dual<double>>.Sin(V2(a)).Derivative.Derivative, 15);
        Assert.Equal(Math.Exp(a), Dual<Dual<double>>.Exp(V2(a)).Derivative.Derivative, 14);
        Assert.Equal(-1 / (a * a), Dual<Dual<double>>.Log(V2(a)).Derivative.Derivative, 13);
        double sec2 = 1 / (Math.Cos(a) * Math.Cos(a));
        Assert.Equal(2 * Math.Tan(a) * sec2, Dual<Dual<double>>.Tan(V2(a)).Derivative.Derivative, 13);
        Assert.Equal(-2 * a / ((1 + a * a) * (1 + a * a)), Dual<Dual<double>>.Atan(V2(a)).Derivative.Derivative, 14);
        Assert.Equal(-0.25 * Math.Pow(a, -1.5), Dual<Dual<double>>.Sqrt(V2(a)).Derivative.Derivative, 12);
        double t = Math.Tanh(a);
        Assert.Equal(-2 * t * (1 - t * t), Dual<Dual<double>>.Tanh(V2(a)).Derivative.Derivative, 14);
        Assert.Equal(-1 / (a * a), Dual<double>.ReciprocalEstimate(V(a)).Derivative, 13);
        Assert.Equal(-0.5 * Math.Pow(a, -1.5), Dual<double>.ReciprocalSqrtEstimate(V(a)).Derivative, 13);
        // d/dx x^3 at a = 3 a^2, second 6 a.
        Dual<Dual<double>> cube = V2(a) * V2(a) * V2(a);
        Assert.Equal(3 * a * a, cube.Derivative.Value, 15);
        Assert.Equal(6 * a, cube.Derivative.Derivative, 15);
    }

    [Fact]
    public void Arithmetic_Rules()
    {
        var x = new Dual<double>(3, 2);
        var y = new Dual<double>(4, -1);
        Assert.Equal((7.0, 1.0), Pair(x + y));
        Assert.Equal((-1.0, 3.0), Pair(x - y));
        Assert.Equal((12.0, 2 * 4 + 3 * -1.0), Pair(x * y));
        Assert.Equal((0.75, (2 * 4 - 3 * -1.0) / 16), Pair(x / y));
        Assert.Equal((-3.0, -2.0), Pair(-x));
        Assert.Equal((3.0, 2.0), Pair(+x));
        Dual<double> z = x;
        z++;
        Assert.Equal((4.0, 2.0), Pair(z));
        z--;
        Assert.Equal((3.0, 2.0), Pair(z));
        Assert.Equal(Pair(x + y), Pair(Dual<double>.Add(x, y)));
        Assert.Equal(Pair(x - y), Pair(Dual<double>.Subtract(x, y)));
        Assert.Equal(Pair(x * y), Pair(Dual<double>.Multiply(x, y)));
        Assert.Equal(Pair(x / y), Pair(Dual<double>.Divide(x, y)));
        Assert.Equal(Pair(x % y), Pair(Dual<double>.Mod(x, y)));
        Assert.Equal(Pair(-x), Pair(Dual<double>.Negate(x)));
    }

    [Theory]
    [InlineData("atan2")]
    [InlineData("atan2pi")]
    [InlineData("pow")]
    [InlineData("hypot")]
    [InlineData("log_base")]
    [InlineData("fma")]
    [InlineData("div")]
    [InlineData("mul")]
    public void BinaryFunction_PartialsAndMixedSecondDerivative_MatchFiniteDifferences(string name)
    {
        const double a = 0.7, b = 1.3, h = 1e-5;
        double fa = (Binary(name, a + h, b) - Binary(name, a - h, b)) / (2 * h);
        double fb = (Binary(name, a, b + h) - Binary(name, a, b - h)) / (2 * h);
        AssertClose(fa, Binary(name, V(a), C(b)).Derivative, 1e-7, $"d{name}/da");
        AssertClose(fb, Binary(name, C(a), V(b)).Derivative, 1e-7, $"d{name}/db");

        // Outer seed along a, inner along b: d^2 f / da db.
        var xa = new Dual<Dual<double>>(new(a, 0.0), new(1.0, 0.0));
        var xb = new Dual<Dual<double>>(new(b, 1.0), new(0.0, 0.0));
        double fab = (Binary(name, V(a), C(b + h)).Derivative - Binary(name, V(a), C(b - h)).Derivative) / (2 * h);
        AssertClose(fab, Binary(name, xa, xb).Derivative.Derivative, 1e-6, $"d2{name}/dadb");
    }

    internal static T Binary<T>(string name, T a, T b) where T : IFloatingPointIeee754<T> => name switch
    {
        "atan2" => T.Atan2(a, b),
        "atan2pi" => T.Atan2Pi(a, b),
        "pow" => T.Pow(a, b),
        "hypot" => T.Hypot(a, b),
        "log_base" => T.Log(a, b + T.One),
        "fma" => T.FusedMultiplyAdd(a, b, a * a * b),
        "div" => a / (b * a + T.One),
        "mul" => a * b * b,
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [Fact]
    public void Pow_NegativeBaseWithConstantExponent_DifferentiatesLikeAPolynomial()
    {
        Dual<double> p = Dual<double>.Pow(V(-2), C(3));
        Assert.Equal(-8, p.Value);
        Assert.Equal(12, p.Derivative, 12);
    }

    [Fact]
    public void Clamp_PassesTangentOnClosedInterval_AndLimitTangentOutside()
    {
        var lo = new Dual<double>(-2, 0.25);
        var hi = new Dual<double>(2, 0.5);
        Assert.Equal((0.3, 1.0), Pair(Dual<double>.Clamp(V(0.3), lo, hi)));
        Assert.Equal((-2.0, 1.0), Pair(Dual<double>.Clamp(V(-2), lo, hi)));
        Assert.Equal((2.0, 1.0), Pair(Dual<double>.Clamp(V(2), lo, hi)));
        Assert.Equal((-2.0, 0.25), Pair(Dual<double>.Clamp(V(-2.0000001), lo, hi)));
        Assert.Equal((2.0, 0.5), Pair(Dual<double>.Clamp(V(3), lo, hi)));
        Assert.True(double.IsNaN(Dual<double>.Clamp(V(double.NaN), lo, hi).Value));
        Assert.Throws<ArgumentException>(() => Dual<double>.Clamp(V(0), hi, lo));

        // Through generic math (T.Clamp) and nested: the second derivative of a clamped square at the limit.
        Dual<Dual<double>> sq = Dual<Dual<double>>.Clamp(V2(2), C2(-2), C2(2));
        Dual<Dual<double>> y = sq * sq;
        Assert.Equal(4, y.Derivative.Value);
        Assert.Equal(2, y.Derivative.Derivative);
        Assert.Equal(0, GenericClamp(V(5)).Derivative);
        Assert.Equal(1, GenericClamp(V(1)).Derivative);
    }

    private static T GenericClamp<T>(T x) where T : IFloatingPointIeee754<T> =>
        T.Clamp(x, T.CreateChecked(-1), T.CreateChecked(1));

    [Fact]
    public void MinMax_SelectTangent_TieReturnsFirstArgument()
    {
        var x = new Dual<double>(1, 2);
        var y = new Dual<double>(1, 3);
        var big = new Dual<double>(5, 7);
        Assert.Equal(2, Dual<double>.Max(x, y).Derivative);
        Assert.Equal(3, Dual<double>.Max(y, x).Derivative);
        Assert.Equal(2, Dual<double>.Min(x, y).Derivative);
        Assert.Equal(7, Dual<double>.Max(x, big).Derivative);
        Assert.Equal(2, Dual<double>.Min(big, x).Derivative);
        Assert.True(double.IsNaN(Dual<double>.Max(x, C(double.NaN)).Value));
        Assert.Equal(1, Dual<double>.MaxNumber(x, C(double.NaN)).Value);
        Assert.Equal(1, Dual<double>.MinNumber(C(double.NaN), x).Value);
        Assert.Equal(-5, Dual<double>.MaxMagnitude(x, -big).Value);
        Assert.Equal(-7, Dual<double>.MaxMagnitude(x, -big).Derivative);
        Assert.Equal(1, Dual<double>.MinMagnitude(x, -big).Value);
        Assert.Equal(-1, Dual<double>.Abs(new Dual<double>(-3, 1)).Derivative);
        Assert.Equal(0, Dual<double>.Abs(V(0)).Derivative);
        Assert.Equal(-1, Dual<double>.CopySign(V(2), C(-1)).Derivative);
    }

    [Fact]
    public void ComparisonsAndPredicates_UseValueOnly()
    {
        var x = new Dual<double>(1, 2);
        var y = new Dual<double>(1, 5);
        Assert.True(x == y);
        Assert.False(x != y);
        Assert.True(x.Equals(y));
        Assert.Equal(x.GetHashCode(), y.GetHashCode());
        Assert.Equal(0, x.CompareTo(y));
        Assert.True(x < new Dual<double>(2, -10));
        Assert.True(x <= y && x >= y && !(x > y));
        Assert.True(Dual<double>.IsZero(new Dual<double>(0, 1)));
        Assert.True(Dual<double>.IsFinite(new Dual<double>(1, double.NaN)));
        Assert.True(Dual<double>.IsNaN(Dual<double>.NaN));
        Assert.True(Dual<double>.IsInteger(new Dual<double>(3, 0.5)));
        Assert.Equal(1, Dual<double>.Sign(x));
        Assert.Equal(1, x.CompareTo((object?)null));
        Assert.Throws<ArgumentException>(() => x.CompareTo("x"));
        Assert.Equal((3.0, 0.0), Pair(Dual<double>.Floor(new Dual<double>(3.7, 1))));
        Assert.Equal((4.0, 0.0), Pair(Dual<double>.Round(new Dual<double>(3.7, 1))));
    }

    [Fact]
    public void Conversions_FromNumbersAreConstants_ToNumbersKeepTheValue()
    {
        Assert.Equal((2.0, 0.0), Pair(Dual<double>.CreateChecked(2)));
        Assert.Equal((2.5, 0.0), Pair(Dual<double>.CreateSaturating(2.5f)));
        Assert.Equal((7.0, 0.0), Pair(Dual<double>.CreateTruncating(7L)));
        Dual<Dual<double>> nested = Dual<Dual<double>>.CreateChecked(0.05);
        Assert.Equal(0.05, nested.Value.Value);
        Assert.Equal(0, nested.Derivative.Derivative);
        Dual<Dual<double>> fromInner = Dual<Dual<double>>.CreateChecked(new Dual<double>(1, 2));
        Assert.Equal((1.0, 2.0), Pair(fromInner.Value));
        Assert.Equal((0.0, 0.0), Pair(fromInner.Derivative));
        Assert.Equal(2, int.CreateTruncating(new Dual<double>(2.7, 1)));
        Assert.Equal(2.7, double.CreateChecked(new Dual<double>(2.7, 1)));
        Assert.Equal(2.7, double.CreateChecked(new Dual<Dual<double>>(new(2.7, 1), new(1, 1))));
        Assert.Equal(int.MaxValue, int.CreateSaturating(new Dual<double>(1e300, 1)));
        Assert.Throws<OverflowException>(() => int.CreateChecked(new Dual<double>(1e300, 1)));
        Assert.Equal(1.5f, Dual<float>.CreateChecked(1.5).Value);
        Assert.Throws<NotSupportedException>(() => Dual<double>.CreateChecked(new Dual<float>(1, 1)));
    }

    [Fact]
    public void Constants_HaveZeroTangent()
    {
        Assert.Equal((Math.PI, 0.0), Pair(Dual<double>.Pi));
        Assert.Equal((Math.E, 0.0), Pair(Dual<double>.E));
        Assert.Equal((Math.Tau, 0.0), Pair(Dual<double>.Tau));
        Assert.Equal((1.0, 0.0), Pair(Dual<double>.One));
        Assert.Equal((0.0, 0.0), Pair(Dual<double>.Zero));
        Assert.Equal((-1.0, 0.0), Pair(Dual<double>.NegativeOne));
        Assert.True(double.IsPositiveInfinity(Dual<double>.PositiveInfinity.Value));
        Assert.True(double.IsNegative(Dual<double>.NegativeZero.Value));
    }

    [Fact]
    public void FormattingAndParsing()
    {
        var x = new Dual<double>(1.5, -2);
        Assert.Equal("1.5 + -2ε", x.ToString());
        Span<char> buffer = stackalloc char[32];
        Assert.True(x.TryFormat(buffer, out int written, "F1", CultureInfo.InvariantCulture));
        Assert.Equal("1.5 + -2.0ε", buffer[..written].ToString());
        Assert.False(x.TryFormat(buffer[..5], out _, default, CultureInfo.InvariantCulture));
        Assert.Equal("1.5 + -2ε", $"{x}");
        Assert.Equal((2.25, 0.0), Pair(Dual<double>.Parse("2.25", CultureInfo.InvariantCulture)));
        Assert.True(Dual<double>.TryParse("3", CultureInfo.InvariantCulture, out Dual<double> p));
        Assert.Equal(3, p.Value);
        Assert.False(Dual<double>.TryParse("abc", CultureInfo.InvariantCulture, out _));
    }

    [Fact]
    public void GenericCode_LoopsAndBranches_Differentiate()
    {
        // f(x) = sum_{k=1..5} x^k / k, f'(x) = sum x^(k-1), f''(x) = sum (k-1) x^(k-2).
        const double a = 0.6;
        Dual<Dual<double>> f = Series(V2(a));
        double d1 = 0, d2 = 0;
        for (int k = 1; k <= 5; k++)
        {
            d1 += Math.Pow(a, k - 1);
            d2 += k >= 2 ? (k - 1) * Math.Pow(a, k - 2) : 0;
        }
        Assert.Equal(d1, f.Derivative.Value, 14);
        Assert.Equal(d2, f.Derivative.Derivative, 13);
    }

    private static T Series<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T sum = T.Zero, power = T.One;
        for (int k = 1; k <= 5; k++)
        {
            power *= x;
            sum += power / T.CreateChecked(k);
        }
        return sum > T.CreateChecked(1e6) ? T.Zero : sum;
    }

    private static (double, double) Pair(Dual<double> d) => (d.Value, d.Derivative);

    private static void AssertClose(double expected, double actual, double tol, string what)
    {
        double err = Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected));
        Assert.True(err <= tol, $"{what}: expected {expected:R}, got {actual:R} (rel err {err:E2} > {tol:E0})");
    }
}
