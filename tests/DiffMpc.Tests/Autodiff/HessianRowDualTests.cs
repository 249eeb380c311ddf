using System.Runtime.Intrinsics;
using DiffMpc.Autodiff;
using Xunit;

namespace DiffMpc.Tests.Autodiff;

/// <summary>
/// The flat second-order dual number: every operator and function gives, in all four parts,
/// bitwise what the nested <c>Dual&lt;MultiDual&lt;Tangents8&gt;&gt;</c> it stands for gives
/// (that type is checked against <c>Dual&lt;Dual&lt;double&gt;&gt;</c> in
/// <see cref="MultiDualTests"/>); the derivative evaluator's Hessians, which now use it, are
/// checked there against the one-pair-per-evaluation algorithm.
/// </summary>
public sealed class HessianRowDualTests
{
    public static TheoryData<string, double> UnaryCases() => DualTests.UnaryCases();

    /// <summary>A number with every part non-trivial: value a, random inner, outer and second parts (some entries zero or negative zero).</summary>
    private static HessianRowDual RandomNumber(double a, int seed)
    {
        var rng = new Random(seed);
        double Part() => rng.Next(5) switch
        {
            0 => 0.0,
            1 => -0.0,
            _ => 2 * rng.NextDouble() - 1,
        };
        Vector512<double> Vector()
        {
            Vector512<double> v = default;
            for (int k = 0; k < 8; k++)
            {
                v = v.WithElement(k, Part());
            }
            return v;
        }
        return new HessianRowDual(a, Vector(), 2 * rng.NextDouble() - 1, Vector());
    }

    private static void AssertSame(Dual<MultiDual<Tangents8>> expected, HessianRowDual actual, string what)
    {
        AssertBitwise(expected.Value.Value, actual.Value, $"{what} value");
        AssertBitwise(expected.Derivative.Value, actual.Outer, $"{what} outer");
        for (int k = 0; k < 8; k++)
        {
            AssertBitwise(expected.Value.Tangents[k], actual.Inner.GetElement(k), $"{what} inner {k}");
            AssertBitwise(expected.Derivative.Tangents[k], actual.Second.GetElement(k), $"{what} second {k}");
        }
    }

    private static void AssertBitwise(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual)
            || (double.IsNaN(expected) && double.IsNaN(actual)), $"{what}: expected {expected:R}, got {actual:R}");

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryFunction_IsBitwiseTheNestedOne(string name, double a)
    {
        for (int seed = 0; seed < 3; seed++)
        {
            HessianRowDual x = RandomNumber(a, seed);
            Assert.Equal(x.ToNested(), x.ToNested());
            AssertSame(DualTests.Apply(name, x.ToNested()), DualTests.Apply(name, x), $"{name}({a}) seed {seed}");
        }
    }

    public static TheoryData<string> BinaryNames() =>
    [
        "add", "sub", "mul", "div", "mod", "atan2", "atan2pi", "pow", "hypot", "log_base", "fma", "rem",
        "max", "min", "maxnumber", "minnumber", "maxmagnitude", "minmagnitude", "maxmagnitudenumber",
        "minmagnitudenumber", "clamp", "copysign",
    ];

    private static T Binary<T>(string name, T a, T b)
        where T : System.Numerics.IFloatingPointIeee754<T> => name switch
        {
            "add" => a + b,
            "sub" => a - b,
            "mul" => a * b,
            "div" => a / b,
            "mod" => a % b,
            "atan2" => T.Atan2(a, b),
            "atan2pi" => T.Atan2Pi(a, b),
            "pow" => T.Pow(a, b),
            "hypot" => T.Hypot(a, b),
            "log_base" => T.Log(a, b),
            "fma" => T.FusedMultiplyAdd(a, b, a * b),
            "rem" => T.Ieee754Remainder(a, b),
            "max" => T.Max(a, b),
            "min" => T.Min(a, b),
            "maxnumber" => T.MaxNumber(a, b),
            "minnumber" => T.MinNumber(a, b),
            "maxmagnitude" => T.MaxMagnitude(a, b),
            "minmagnitude" => T.MinMagnitude(a, b),
            "maxmagnitudenumber" => T.MaxMagnitudeNumber(a, b),
            "minmagnitudenumber" => T.MinMagnitudeNumber(a, b),
            "clamp" => T.Clamp(a, -T.Abs(b), T.Abs(b)),
            "copysign" => T.CopySign(a, -b),
            _ => throw new ArgumentException(name, nameof(name)),
        };

    [Theory]
    [MemberData(nameof(BinaryNames))]
    public void BinaryFunction_IsBitwiseTheNestedOne(string name)
    {
        // Ordered, reversed, equal values (ties), opposite signs and a NaN operand.
        (double A, double B)[] pairs = [(0.7, 1.3), (1.3, 0.7), (0.9, 0.9), (-0.6, 0.45), (2.5, -0.8), (double.NaN, 0.5), (0.5, double.NaN)];
        for (int i = 0; i < pairs.Length; i++)
        {
            HessianRowDual a = RandomNumber(pairs[i].A, 2 * i), b = RandomNumber(pairs[i].B, 2 * i + 1);
            AssertSame(Binary(name, a.ToNested(), b.ToNested()), Binary(name, a, b), $"{name}({pairs[i].A}, {pairs[i].B})");
        }
    }

    [Fact]
    public void IncrementDecrementAndConstants_AreTheNestedOnes()
    {
        HessianRowDual x = RandomNumber(0.4, 9);
        Dual<MultiDual<Tangents8>> nx = x.ToNested();
        HessianRowDual up = x, down = x;
        up++;
        down--;
        AssertSame(++nx, up, "++");
        nx = x.ToNested();
        AssertSame(--nx, down, "--");
        AssertSame(-x.ToNested(), -x, "negation");
        AssertSame(+x.ToNested(), +x, "unary plus");
        AssertSame(Dual<MultiDual<Tangents8>>.Pi, HessianRowDual.Pi, "pi");
        AssertSame(Dual<MultiDual<Tangents8>>.NegativeZero, HessianRowDual.NegativeZero, "-0");
        AssertSame(Dual<MultiDual<Tangents8>>.CreateTruncating(0.05), HessianRowDual.CreateTruncating(0.05), "from double");
        AssertSame(Dual<MultiDual<Tangents8>>.CreateChecked(3), HessianRowDual.CreateChecked(3), "from int");
        AssertSame(Dual<MultiDual<Tangents8>>.CreateSaturating(2.5f), HessianRowDual.CreateSaturating(2.5f), "from float");
        Assert.Equal(0.4, double.CreateTruncating(x));
        Assert.Equal(0, int.CreateTruncating(x));
        Assert.Throws<NotSupportedException>(() => HessianRowDual.CreateChecked(new Dual<double>(1.0, 2.0)));
        Assert.Throws<ArgumentException>(() => HessianRowDual.Clamp(x, HessianRowDual.One, HessianRowDual.Zero));
    }

    [Fact]
    public void ComparisonsAndPredicates_FollowTheValue()
    {
        HessianRowDual a = RandomNumber(0.25, 1), b = RandomNumber(0.25, 2), c = RandomNumber(-1.0, 3);
        Assert.True(a == b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(c < a && a > c && c <= a && a >= b && a != c);
        Assert.Equal(0, a.CompareTo(b));
        Assert.Equal(1, a.CompareTo(null));
        Assert.True(HessianRowDual.IsNegative(c) && HessianRowDual.IsFinite(c) && !HessianRowDual.IsNaN(c));
        Assert.True(HessianRowDual.IsNaN(HessianRowDual.NaN) && HessianRowDual.IsZero(HessianRowDual.Zero));
        Assert.Equal(-1, HessianRowDual.Sign(c));
        Assert.Equal(a.ToNested().ToString(), a.ToString());
        Assert.True(HessianRowDual.TryParse("1.5", System.Globalization.CultureInfo.InvariantCulture, out HessianRowDual parsed));
        AssertSame(Dual<MultiDual<Tangents8>>.Constant(MultiDual<Tangents8>.Constant(1.5)), parsed, "parsed");
    }
}
