using System.Numerics;
using DiffMpc.Autodiff;
using DiffMpc.Nonlinear;
using DiffMpc.Systems;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Autodiff;

public sealed class CostDerivativesTests
{
    /// <summary>A non-quadratic, time-varying cost: sum_i w_i log(cosh(tau_i - r_i)) * (1 + t/10) + w_0 x_0^2 u_0^2.</summary>
    internal sealed class LogCoshCost(int n, int m) : ICost
    {
        public int ParameterCount => 2 * (n + m);

        public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
            where T : IFloatingPointIeee754<T>
        {
            int N = n + m;
            T sum = T.Zero;
            for (int i = 0; i < N; i++)
            {
                T tau = i < n ? x[i] : u[i - n];
                sum += costParams[i] * T.Log(T.Cosh(tau - costParams[N + i]));
            }
            return sum * (T.One + T.CreateChecked(t) / T.CreateChecked(10)) + costParams[0] * x[0] * x[0] * u[0] * u[0];
        }
    }

    /// <summary>A cost without parameters (q = 0): sum_i tau_i^4 / 4 + tau_0 tau_last + exp(tau_0 / 2).</summary>
    private sealed class QuarticCost : ICost
    {
        public int ParameterCount => 0;

        public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
            where T : IFloatingPointIeee754<T>
        {
            T sum = T.Zero, quarter = T.CreateChecked(0.25);
            for (int i = 0; i < x.Length + u.Length; i++)
            {
                T tau = i < x.Length ? x[i] : u[i - x.Length];
                sum += quarter * tau * tau * tau * tau;
            }
            return sum + x[0] * u[^1] + T.Exp(x[0] / T.CreateChecked(2));
        }
    }

    /// <summary>Hides the QuadraticCost type so that CostDerivatives takes the autodiff path.</summary>
    private sealed class Opaque(ICost inner) : ICost
    {
        public int ParameterCount => inner.ParameterCount;

        public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
            where T : IFloatingPointIeee754<T> => inner.Evaluate(t, x, u, costParams);
    }

    internal static double[] Rand(Random rng, int count, double lo = -1, double hi = 1) =>
        Enumerable.Range(0, count).Select(_ => lo + (hi - lo) * rng.NextDouble()).ToArray();

    /// <summary>
    /// Every entry is bitwise the one-direction (Dual&lt;double&gt;) or one-pair
    /// (Dual&lt;Dual&lt;double&gt;&gt;) evaluation's, at sizes on both sides of the 8-direction
    /// blocks: N = n + m from 3 to 11, q = 2N from 6 to 22.
    /// </summary>
    [Theory]
    [InlineData(2, 1, false)]
    [InlineData(5, 3, false)]
    [InlineData(6, 3, false)]
    [InlineData(8, 3, false)]
    [InlineData(3, 2, true)]
    [InlineData(7, 3, true)]
    public void GenericCost_IsBitwiseTheOneDirectionEvaluations(int n, int m, bool withoutParameters)
    {
        int N = n + m;
        ICost cost = withoutParameters ? new QuarticCost() : new LogCoshCost(n, m);
        int q = cost.ParameterCount;
        var d = new CostDerivatives(cost, n, m);
        var rng = new Random(n * 10 + m);
        double[] x = Rand(rng, n), u = Rand(rng, m), phi = Rand(rng, q, 0.5, 2);
        const int t = 2;
        double[] grad = new double[N], grad2 = new double[N], hess = new double[N * N], mixed = new double[N * q];
        double value = d.Gradient(t, x, u, phi, grad);
        double value2 = d.Hessian(t, x, u, phi, grad2, hess);
        d.MixedDerivative(t, x, u, phi, mixed);

        double[] z = [.. x, .. u, .. phi];
        Dual<Dual<double>> Pair(int j, int k)
        {
            var zd = z.Select((v, i) => new Dual<Dual<double>>(new(v, i == k ? 1.0 : 0.0), new(i == j ? 1.0 : 0.0, 0.0))).ToArray();
            return cost.Evaluate<Dual<Dual<double>>>(t, zd.AsSpan(0, n), zd.AsSpan(n, m), zd.AsSpan(N));
        }
        for (int j = 0; j < N; j++)
        {
            var zd = z.Select((v, i) => new Dual<double>(v, i == j ? 1.0 : 0.0)).ToArray();
            Dual<double> first = cost.Evaluate<Dual<double>>(t, zd.AsSpan(0, n), zd.AsSpan(n, m), zd.AsSpan(N));
            AssertBitwise(first.Value, value, "value");
            AssertBitwise(first.Value, value2, "value from Hessian");
            AssertBitwise(first.Derivative, grad[j], $"gradient[{j}]");
            AssertBitwise(first.Derivative, grad2[j], $"Hessian call's gradient[{j}]");
            for (int k = 0; k < N; k++)
            {
                AssertBitwise(Pair(Math.Min(j, k), Math.Max(j, k)).Derivative.Derivative, hess[j * N + k], $"H[{j},{k}]");
            }
            for (int k = 0; k < q; k++)
            {
                AssertBitwise(Pair(j, N + k).Derivative.Derivative, mixed[j * q + k], $"mixed[{j},{k}]");
            }
        }
    }

    private static void AssertBitwise(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual),
            $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void GenericCost_GradientHessianMixed_MatchFiniteDifferences()
    {
        const int n = 3, m = 2, N = n + m;
        var cost = new LogCoshCost(n, m);
        var d = new CostDerivatives(cost, n, m);
        var rng = new Random(21);
        double[] x = Rand(rng, n), u = Rand(rng, m), phi = Rand(rng, 2 * N, 0.5, 2);
        const int t = 3;
        double[] grad = new double[N], hess = new double[N * N], grad2 = new double[N], mixed = new double[N * 2 * N];
        double value = d.Gradient(t, x, u, phi, grad);
        double value2 = d.Hessian(t, x, u, phi, grad2, hess);
        d.MixedDerivative(t, x, u, phi, mixed);
        Assert.Equal(d.Evaluate(t, x, u, phi), value, 14);
        Assert.Equal(value, value2, 14);
        Compare.Relative(grad, grad2, 1e-13, "gradient from Hessian call");

        double[] tau = [.. x, .. u];
        const double h = 1e-5;
        double F(double[] tt, double[] p) => cost.Evaluate<double>(t, tt.AsSpan(0, n), tt.AsSpan(n), p);
        double[] G(double[] tt, double[] p)
        {
            double[] g = new double[N];
            d.Gradient(t, tt.AsSpan(0, n), tt.AsSpan(n), p, g);
            return g;
        }
        double[] fdGrad = new double[N], fdHess = new double[N * N], fdMixed = new double[N * 2 * N];
        for (int j = 0; j < N; j++)
        {
            double[] tp = (double[])tau.Clone(), tm = (double[])tau.Clone();
            tp[j] += h;
            tm[j] -= h;
            fdGrad[j] = (F(tp, phi) - F(tm, phi)) / (2 * h);
            double[] gp = G(tp, phi), gm = G(tm, phi);
            for (int i = 0; i < N; i++)
            {
                fdHess[i * N + j] = (gp[i] - gm[i]) / (2 * h);
            }
        }
        for (int k = 0; k < 2 * N; k++)
        {
            double[] pp = (double[])phi.Clone(), pm = (double[])phi.Clone();
            pp[k] += h;
            pm[k] -= h;
            double[] gp = G(tau, pp), gm = G(tau, pm);
            for (int i = 0; i < N; i++)
            {
                fdMixed[i * 2 * N + k] = (gp[i] - gm[i]) / (2 * h);
            }
        }
        Compare.Relative(fdGrad, grad, 1e-8, "gradient");
        Compare.Relative(fdHess, hess, 1e-6, "Hessian");
        Compare.Relative(fdMixed, mixed, 1e-6, "mixed");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void QuadraticCost_ClosedForm_MatchesAutodiff(bool diagonal)
    {
        const int n = 5, m = 1, N = n + m;
        QuadraticCost cost = diagonal ? QuadraticCost.Diagonal(n, m) : QuadraticCost.Full(n, m);
        var rng = new Random(22);
        double[] phi = diagonal
            ? cost.PackParameters(Cartpole.CostDiagQ, Cartpole.CostP)
            : cost.PackParameters(Rand(rng, N * N), Rand(rng, N));
        double[] x = Rand(rng, n), u = Rand(rng, m);
        var fast = new CostDerivatives(cost, n, m);
        var slow = new CostDerivatives(new Opaque(cost), n, m);
        int q = cost.ParameterCount;
        Assert.Equal(diagonal ? 2 * N : N * N + N, q);
        double[] g1 = new double[N], g2 = new double[N], h1 = new double[N * N], h2 = new double[N * N];
        double[] m1 = new double[N * q], m2 = new double[N * q];
        double v1 = fast.Hessian(0, x, u, phi, g1, h1), v2 = slow.Hessian(0, x, u, phi, g2, h2);
        fast.MixedDerivative(0, x, u, phi, m1);
        slow.MixedDerivative(0, x, u, phi, m2);
        Assert.Equal(v2, v1, 13);
        Assert.Equal(v1, fast.Gradient(0, x, u, phi, new double[N]), 13);
        Compare.Absolute(g2, g1, 1e-13, "gradient");
        Compare.Absolute(h2, h1, 1e-13, "Hessian");
        Compare.Absolute(m2, m1, 1e-13, "mixed");

        if (diagonal)
        {
            // 1/2 tau' diag(q) tau + p' tau by hand.
            double[] tau = [.. x, .. u];
            double expected = 0;
            for (int i = 0; i < N; i++)
            {
                expected += 0.5 * Cartpole.CostDiagQ[i] * tau[i] * tau[i] + Cartpole.CostP[i] * tau[i];
            }
            Assert.Equal(expected, v1, 13);
        }
    }

    [Fact]
    public void ShapeErrors_NameTheArgument()
    {
        var d = new CostDerivatives(QuadraticCost.Diagonal(3, 1), 3, 1);
        var ex = Assert.Throws<ArgumentException>(() => d.Gradient(0, new double[3], new double[1], new double[7], new double[4]));
        Assert.Equal("costParams", ex.ParamName);
        Assert.Throws<ArgumentException>(() => new CostDerivatives(QuadraticCost.Diagonal(3, 1), 4, 1));
        // m = 0 is no problem any solver takes (MpcDimensions needs m >= 1), so the cost refuses it too.
        Assert.Equal("controlDim", Assert.Throws<ArgumentOutOfRangeException>(() => QuadraticCost.Diagonal(3, 0)).ParamName);
        Assert.Equal("controlDim", Assert.Throws<ArgumentOutOfRangeException>(() => QuadraticCost.Full(3, 0)).ParamName);
    }
}

/// <summary>
/// Steady-state allocation of the cost derivatives, run apart from other tests (like the solver
/// allocation tests) and after a warm-up long enough for the tiered JIT to settle: with 3 warm-up
/// calls in the parallel collection it failed now and then (tier-up work counted on the thread).
/// </summary>
[Collection(DiffMpc.Tests.Performance.SerialAllocationTests.Name)]
public sealed class CostDerivativesAllocationTests
{
    [Fact]
    public void CostDerivatives_AllocateNothingAfterWarmUp()
    {
        const int n = 3, m = 2, N = n + m;
        var d = new CostDerivatives(new CostDerivativesTests.LogCoshCost(n, m), n, m);
        var rng = new Random(23);
        double[] x = CostDerivativesTests.Rand(rng, n), u = CostDerivativesTests.Rand(rng, m), phi = CostDerivativesTests.Rand(rng, 2 * N, 0.5, 2);
        double[] g = new double[N], h = new double[N * N], mixed = new double[N * 2 * N];
        for (int i = 0; i < 60; i++)
        {
            d.Hessian(1, x, u, phi, g, h);
            d.MixedDerivative(1, x, u, phi, mixed);
            d.Gradient(1, x, u, phi, g);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            d.Hessian(1, x, u, phi, g, h);
            d.MixedDerivative(1, x, u, phi, mixed);
            d.Gradient(1, x, u, phi, g);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
