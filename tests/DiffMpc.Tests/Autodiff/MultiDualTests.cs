using System.Numerics;
using DiffMpc.Autodiff;
using DiffMpc.Nonlinear;
using DiffMpc.Systems;
using Xunit;

namespace DiffMpc.Tests.Autodiff;

/// <summary>
/// The multi-tangent dual number: every function, first order and nested, carries in tangent k
/// exactly (bitwise) what a <see cref="Dual{T}"/> seeded along direction k carries; and the
/// derivative evaluator built on it gives bitwise the Jacobians and Lagrangian Hessians of the
/// one-direction-per-evaluation algorithm.
/// </summary>
public sealed class MultiDualTests
{
    public static TheoryData<string, double> UnaryCases() => DualTests.UnaryCases();

    private static TT Tangents<TT>(ReadOnlySpan<double> d)
        where TT : struct, ITangents<TT>
    {
        TT t = TT.Zero;
        for (int k = 0; k < d.Length; k++)
        {
            t += d[k] * TT.Unit(k);
        }
        return t;
    }

    private static double[] RandomTangents(Random rng, int width)
    {
        double[] d = new double[width];
        for (int k = 0; k < width; k++)
        {
            d[k] = rng.Next(4) == 0 ? 0.0 : 2 * rng.NextDouble() - 1;
        }
        return d;
    }

    private static void AssertBitwise(double expected, double actual, string what)
    {
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual)
            || (double.IsNaN(expected) && double.IsNaN(actual)), $"{what}: expected {expected:R}, got {actual:R}");
    }

    private static void CheckUnary<TT>(string name, double a)
        where TT : struct, ITangents<TT>
    {
        var rng = new Random(5);
        double[] d = RandomTangents(rng, TT.Width);
        MultiDual<TT> r = DualTests.Apply(name, new MultiDual<TT>(a, Tangents<TT>(d)));
        for (int k = 0; k < TT.Width; k++)
        {
            Dual<double> e = DualTests.Apply(name, new Dual<double>(a, d[k]));
            AssertBitwise(e.Value, r.Value, $"{name}({a}) value");
            AssertBitwise(e.Derivative, r.Tangents[k], $"{name}({a}) tangent {k}");
        }
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryFunction_EachTangent_IsBitwiseTheDualOne(string name, double a)
    {
        CheckUnary<Tangents4>(name, a);
        CheckUnary<Tangents8>(name, a);
        CheckUnary<Tangents16>(name, a);
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryFunction_Nested_IsBitwiseTheNestedDualOne(string name, double a)
    {
        // Outer tangent 1 (second derivative along x), inner tangents d_k.
        var rng = new Random(6);
        double[] d = RandomTangents(rng, 8);
        var x = new Dual<MultiDual<Tangents8>>(new(a, Tangents<Tangents8>(d)), MultiDual<Tangents8>.One);
        Dual<MultiDual<Tangents8>> r = DualTests.Apply(name, x);
        for (int k = 0; k < 8; k++)
        {
            Dual<Dual<double>> e = DualTests.Apply(name, new Dual<Dual<double>>(new(a, d[k]), new(1.0, 0.0)));
            AssertBitwise(e.Value.Value, r.Value.Value, $"{name} value");
            AssertBitwise(e.Value.Derivative, r.Value.Tangents[k], $"{name} inner tangent {k}");
            AssertBitwise(e.Derivative.Value, r.Derivative.Value, $"{name} outer tangent");
            AssertBitwise(e.Derivative.Derivative, r.Derivative.Tangents[k], $"{name} second derivative {k}");
        }
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
    public void BinaryFunction_EachTangent_IsBitwiseTheDualOne(string name)
    {
        const double a = 0.7, b = 1.3;
        var rng = new Random(7);
        double[] da = RandomTangents(rng, 16), db = RandomTangents(rng, 16);
        MultiDual<Tangents16> r = DualTests.Binary(name, new MultiDual<Tangents16>(a, Tangents<Tangents16>(da)),
            new MultiDual<Tangents16>(b, Tangents<Tangents16>(db)));
        for (int k = 0; k < 16; k++)
        {
            Dual<double> e = DualTests.Binary(name, new Dual<double>(a, da[k]), new Dual<double>(b, db[k]));
            AssertBitwise(e.Value, r.Value, $"{name} value");
            AssertBitwise(e.Derivative, r.Tangents[k], $"{name} tangent {k}");
        }
    }

    [Fact]
    public void Tangents_AreComponentWise()
    {
        double[] a = [1, -2, 3, 0.5, -0.25, 8, 9, -10, 11, 12, -13, 14, 15, 16, -17, 18];
        double[] b = [0.5, 4, -1, 2, 3, -6, 7, 1, 2, -3, 4, 5, -6, 7, 8, 9];
        var ta = Tangents<Tangents16>(a);
        var tb = Tangents<Tangents16>(b);
        for (int k = 0; k < 16; k++)
        {
            Assert.Equal(a[k] + b[k], (ta + tb)[k]);
            Assert.Equal(a[k] - b[k], (ta - tb)[k]);
            Assert.Equal(-a[k], (-ta)[k]);
            Assert.Equal(3 * a[k], (3.0 * ta)[k]);
            Assert.Equal(a[k] / 3, (ta / 3.0)[k]);
            Assert.Equal(a[k] * 8, Tangents16.ScaleB(ta, 3)[k]);
        }
        Assert.True(double.IsNegative((-Tangents8.Zero)[5]));   // a sign flip, as for a double
        Assert.Equal(4, Tangents4.Width);
        Assert.Equal(1.0, Tangents4.Unit(2)[2]);
        Assert.Equal(0.0, Tangents4.Unit(2)[1]);
        Assert.Equal(1.0, Tangents16.Unit(12)[12]);
    }

    [Fact]
    public void Semantics_FollowTheValue_AsDual()
    {
        var x = new MultiDual<Tangents4>(2.0, Tangents4.Unit(0));
        var y = new MultiDual<Tangents4>(3.0, Tangents4.Unit(1));
        Assert.True(x < y && y > x && x <= y && y >= x && x != y && x == new MultiDual<Tangents4>(2.0, Tangents4.Zero));
        Assert.Equal(1.0, MultiDual<Tangents4>.Clamp(x, MultiDual<Tangents4>.Zero, y).Tangents[0]);
        Assert.Equal(1.0, MultiDual<Tangents4>.Max(x, y).Tangents[1]);
        Assert.Equal(1.0, MultiDual<Tangents4>.Min(x, y).Tangents[0]);
        Assert.Equal(0.0, MultiDual<Tangents4>.Floor(x).Tangents[0]);
        Assert.Equal(2.0, double.CreateChecked(x));
        Assert.Equal(0.0, MultiDual<Tangents4>.CreateTruncating(5).Tangents[0]);
        Assert.Equal(5.0, MultiDual<Tangents4>.Parse("5", null).Value);
        Assert.StartsWith("2 + 1ε0 + 0ε1", x.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MultiDual<Tangents4>.Clamp(x, y, x));
    }

    // ---- The derivative evaluator against the one-direction-per-evaluation algorithm ----

    public static TheoryData<string> Models() => ["pendulum", "cartpole", "bicycle", "oscillator", "wide"];

    private static IDynamics Create(string name) => name switch
    {
        "pendulum" => new Pendulum(),
        "cartpole" => new Cartpole(),
        "bicycle" => new BicycleModel(),
        "oscillator" => new AnalyticOscillator(),
        _ => new WideModel(),
    };

    private static (double[] X, double[] U, double[] Theta) Point(string name, Random rng)
    {
        if (name != "wide")
        {
            return DynamicsDerivativesTests.RandomPoint(name, rng);
        }
        double[] R(int k) => Enumerable.Range(0, k).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        return (R(6), R(4), R(11));
    }

    /// <summary>Column j of the Jacobian from a Dual&lt;double&gt; evaluation seeded along e_j.</summary>
    private static double[] ReferenceJacobian(IDynamics model, double[] z, int n, int m, out double[] xNext)
    {
        int nz = z.Length;
        double[] jac = new double[n * nz];
        var zd = new Dual<double>[nz];
        var g = new Dual<double>[n];
        xNext = new double[n];
        for (int j = 0; j < nz; j++)
        {
            for (int i = 0; i < nz; i++)
            {
                zd[i] = new(z[i], i == j ? 1.0 : 0.0);
            }
            model.Step<Dual<double>>(zd.AsSpan(0, n), zd.AsSpan(n, m), zd.AsSpan(n + m), g);
            for (int i = 0; i < n; i++)
            {
                jac[i * nz + j] = g[i].Derivative;
                xNext[i] = g[i].Value;
            }
        }
        return jac;
    }

    /// <summary>H[j, k] from a Dual&lt;Dual&lt;double&gt;&gt; evaluation seeded along (e_j, e_k).</summary>
    private static double[] ReferenceHessian(IDynamics model, double[] z, int n, int m, double[] lambda)
    {
        int nz = z.Length;
        double[] h = new double[nz * nz];
        var zd = new Dual<Dual<double>>[nz];
        var g = new Dual<Dual<double>>[n];
        for (int j = 0; j < nz; j++)
        {
            for (int k = j; k < nz; k++)
            {
                for (int i = 0; i < nz; i++)
                {
                    zd[i] = new(new(z[i], i == k ? 1.0 : 0.0), new(i == j ? 1.0 : 0.0, 0.0));
                }
                model.Step<Dual<Dual<double>>>(zd.AsSpan(0, n), zd.AsSpan(n, m), zd.AsSpan(n + m), g);
                double s = 0;
                for (int i = 0; i < n; i++)
                {
                    s += lambda[i] * g[i].Derivative.Derivative;
                }
                h[j * nz + k] = s;
                h[k * nz + j] = s;
            }
        }
        return h;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Evaluator_JacobianAndHessian_AreBitwiseTheOneDirectionResults(string name)
    {
        IDynamics model = Create(name);
        var d = new DynamicsDerivatives(model);
        int n = d.StateDim, m = d.ControlDim, nz = d.InputDim;
        var rng = new Random(21);
        for (int trial = 0; trial < 3; trial++)
        {
            (double[] x, double[] u, double[] theta) = Point(name, rng);
            double[] z = [.. x, .. u, .. theta];
            double[] lambda = Enumerable.Range(0, n).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
            double[] refJac = ReferenceJacobian(model, z, n, m, out double[] refNext);
            double[] refHess = ReferenceHessian(model, z, n, m, lambda);

            if (!d.UsesAnalyticJacobian)
            {
                double[] jac = new double[n * nz], xNext = new double[n];
                d.Jacobian(x, u, theta, xNext, jac);
                AssertAll(refJac, jac, $"{name} Jacobian");
                AssertAll(refNext, xNext, $"{name} value");
                for (int cols = 1; cols <= nz; cols++)
                {
                    double[] part = Enumerable.Repeat(double.NaN, n * nz).ToArray();
                    d.JacobianColumns(x, u, theta, xNext, part, cols);
                    for (int i = 0; i < n; i++)
                    {
                        for (int j = 0; j < nz; j++)
                        {
                            double expected = j < cols ? refJac[i * nz + j] : double.NaN;
                            AssertBitwise(expected, part[i * nz + j], $"{name} columns {cols} J[{i},{j}]");
                        }
                    }
                }
            }

            double[] h = new double[nz * nz], next2 = new double[n], jac2 = new double[n * nz];
            d.LagrangianHessian(x, u, theta, lambda, h, next2, jac2);
            AssertAll(refHess, h, $"{name} Hessian");
            AssertAll(refJac, jac2, $"{name} Hessian's Jacobian");
            AssertAll(refNext, next2, $"{name} Hessian's value");

            for (int columns = 0; columns <= nz; columns++)
            {
                for (int rows = 0; rows <= columns; rows++)
                {
                    double[] part = Enumerable.Repeat(double.NaN, nz * nz).ToArray();
                    d.LagrangianHessianRows(x, u, theta, lambda, part, rows, columns);
                    for (int j = 0; j < nz; j++)
                    {
                        for (int k = 0; k < nz; k++)
                        {
                            int lo = Math.Min(j, k), hi = Math.Max(j, k);
                            bool computed = lo < rows && hi < columns;
                            AssertBitwise(computed ? refHess[j * nz + k] : double.NaN, part[j * nz + k],
                                $"{name} rows {rows} columns {columns} H[{j},{k}]");
                        }
                    }
                }
            }
        }
    }

    private static void AssertAll(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            AssertBitwise(expected[i], actual[i], $"{what}[{i}]");
        }
    }

    [Fact]
    public void Evaluator_WideModel_MatchesFiniteDifferences()
    {
        var model = new WideModel();
        var rng = new Random(3);
        (double[] x, double[] u, double[] theta) = Point("wide", rng);
        Assert.True(DynamicsDerivatives.CheckJacobian(model, x, u, theta) < 1e-7);
        double[] lambda = [0.3, -0.2, 0.5, 1.0, -0.7, 0.1];
        Assert.True(DynamicsDerivatives.CheckLagrangianHessian(model, x, u, theta, lambda) < 1e-5);
    }

    /// <summary>
    /// n = 6, m = 4, p = 11 (N = 21 inputs: blocks of 16 and 4 or 8 tangents), coupling every input
    /// through products, quotients and transcendental functions.
    /// </summary>
    private sealed class WideModel : IDynamics
    {
        public int StateDim => 6;

        public int ControlDim => 4;

        public int ParameterCount => 11;

        public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
            where T : IFloatingPointIeee754<T>
        {
            T s = T.Zero;
            for (int i = 0; i < theta.Length; i++)
            {
                s += theta[i] * T.Sin(x[i % 6] + u[i % 4]);
            }
            T two = T.CreateTruncating(2);
            for (int i = 0; i < 6; i++)
            {
                T a = x[i] * u[i % 4] + T.Exp(theta[i] * T.CreateTruncating(0.1)) * x[(i + 1) % 6];
                xNext[i] = a / (two + x[(i + 2) % 6] * x[(i + 2) % 6]) + T.Tanh(s) * theta[10] + T.Atan2(u[(i + 1) % 4], two + x[i]);
            }
        }
    }
}
