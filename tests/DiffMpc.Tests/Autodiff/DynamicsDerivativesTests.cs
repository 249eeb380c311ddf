using DiffMpc.Autodiff;
using DiffMpc.Nonlinear;
using DiffMpc.Systems;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Autodiff;

public sealed class DynamicsDerivativesTests
{
    private const double JacobianTol = 1e-6;
    private const double HessianTol = 1e-5;

    public static TheoryData<string> Models() => ["pendulum", "cartpole", "bicycle", "oscillator"];

    internal static IDynamics Create(string name) => name switch
    {
        "pendulum" => new Pendulum(),
        "cartpole" => new Cartpole(),
        "bicycle" => new BicycleModel(),
        "oscillator" => new AnalyticOscillator(),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    /// <summary>A random point away from the control limits (finite differences must not cross a clamp kink).</summary>
    internal static (double[] X, double[] U, double[] Theta) RandomPoint(string name, Random rng)
    {
        double R(double lo, double hi) => lo + (hi - lo) * rng.NextDouble();
        switch (name)
        {
            case "pendulum":
                {
                    double[] x = Pendulum.SampleInitialState(rng);
                    double[] theta = Pendulum.TextbookParameters.Select(v => v * R(0.9, 1.1)).ToArray();
                    return (x, [R(-1.9, 1.9)], theta);
                }
            case "cartpole":
                {
                    double[] x = Cartpole.SampleInitialState(rng);
                    double[] theta = Cartpole.TextbookParameters.Select(v => v * R(0.9, 1.1)).ToArray();
                    return (x, [R(-50, 50)], theta);
                }
            case "bicycle":
                return ([R(-1, 1), R(-1, 1), R(-3, 3), R(-2, 2)], [R(-1, 1), R(-1, 1)], [R(2, 3), R(0.05, 0.2), R(0.3, 0.6)]);
            default:
                return ([R(-2, 2), R(-1, 1)], [R(-1, 1)], [R(0.5, 2)]);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Jacobian_MatchesCentralFiniteDifferences_AtRandomPoints(string name)
    {
        IDynamics model = Create(name);
        var rng = new Random(11);
        for (int trial = 0; trial < 10; trial++)
        {
            (double[] x, double[] u, double[] theta) = RandomPoint(name, rng);
            double err = DynamicsDerivatives.CheckJacobian(model, x, u, theta);
            Assert.True(err <= JacobianTol, $"{name} trial {trial}: Jacobian rel error {err:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LagrangianHessian_MatchesFiniteDifferencesOfJacobian_AndIsSymmetric(string name)
    {
        IDynamics model = Create(name);
        var d = new DynamicsDerivatives(model);
        var rng = new Random(12);
        int nz = d.InputDim;
        for (int trial = 0; trial < 5; trial++)
        {
            (double[] x, double[] u, double[] theta) = RandomPoint(name, rng);
            double[] lambda = Enumerable.Range(0, d.StateDim).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
            double err = DynamicsDerivatives.CheckLagrangianHessian(model, x, u, theta, lambda);
            Assert.True(err <= HessianTol, $"{name} trial {trial}: Hessian rel error {err:E2}");

            double[] h = new double[nz * nz];
            d.LagrangianHessian(x, u, theta, lambda, h);
            for (int j = 0; j < nz; j++)
            {
                for (int k = 0; k < nz; k++)
                {
                    Assert.Equal(h[j * nz + k], h[k * nz + j]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LagrangianHessianOverload_ReturnsValueAndJacobian(string name)
    {
        IDynamics model = Create(name);
        var d = new DynamicsDerivatives(model);
        (double[] x, double[] u, double[] theta) = RandomPoint(name, new Random(13));
        int n = d.StateDim, nz = d.InputDim;
        double[] lambda = Enumerable.Repeat(0.5, n).ToArray();
        double[] xNext = new double[n], jac = new double[n * nz], h1 = new double[nz * nz];
        double[] xNext2 = new double[n], jac2 = new double[n * nz], h2 = new double[nz * nz];
        d.Jacobian(x, u, theta, xNext, jac);
        d.LagrangianHessian(x, u, theta, lambda, h1);
        d.LagrangianHessian(x, u, theta, lambda, h2, xNext2, jac2);
        Compare.Absolute(xNext, xNext2, 1e-14, "xNext");
        Compare.Relative(jac, jac2, 1e-12, "jacobian");
        Compare.Absolute(h1, h2, 0, "hessian");
        double[] direct = new double[n];
        d.Evaluate(x, u, theta, direct);
        Compare.Absolute(direct, xNext, 1e-14, "Evaluate vs Jacobian value");
    }

    [Fact]
    public void AnalyticJacobian_IsUsed_AndCheckJacobianCatchesAWrongOne()
    {
        var good = new AnalyticOscillator();
        var d = new DynamicsDerivatives(good);
        Assert.True(d.UsesAnalyticJacobian);
        Assert.False(new DynamicsDerivatives(new Pendulum()).UsesAnalyticJacobian);
        double[] x = [0.3, -0.4], u = [0.7], theta = [1.5];
        Assert.True(DynamicsDerivatives.CheckJacobian(good, x, u, theta) < 1e-8);
        double err = DynamicsDerivatives.CheckJacobian(new AnalyticOscillator(wrong: true), x, u, theta);
        Assert.True(err > 1e-4, $"a 1% error in one entry should be detected; got {err:E2}");
    }

    [Fact]
    public void ShapeErrors_NameTheArgument()
    {
        var d = new DynamicsDerivatives(new Pendulum());
        double[] jac = new double[3 * 7];
        double[] xn = new double[3];
        var ex = Assert.Throws<ArgumentException>(() => d.Jacobian(new double[2], [0.0], Pendulum.TextbookParameters, xn, jac));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => d.Jacobian(new double[3], [0.0], Pendulum.TextbookParameters, xn, new double[20]));
        Assert.Equal("jacobian", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => d.LagrangianHessian(new double[3], [0.0], Pendulum.TextbookParameters, new double[2], new double[49]));
        Assert.Equal("lambda", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => new DynamicsDerivatives(null!));
    }
}

/// <summary>
/// Steady-state allocation of the derivative evaluator, run apart from other tests (like the
/// solver allocation tests): the evaluator calls the model's generic Step for several dual
/// types, and the warm-up must let the tiered JIT and the runtime's generic-dispatch caches
/// settle before the per-thread counter is read.
/// </summary>
[Collection(DiffMpc.Tests.Performance.SerialAllocationTests.Name)]
public sealed class DynamicsDerivativesAllocationTests
{
    [Theory]
    [InlineData("pendulum")]
    [InlineData("cartpole")]
    [InlineData("bicycle")]
    public void JacobianAndLagrangianHessian_AllocateNothingAfterWarmUp(string name)
    {
        IDynamics model = DynamicsDerivativesTests.Create(name);
        var d = new DynamicsDerivatives(model);
        (double[] x, double[] u, double[] theta) = DynamicsDerivativesTests.RandomPoint(name, new Random(14));
        int n = d.StateDim, nz = d.InputDim;
        double[] lambda = Enumerable.Repeat(1.0, n).ToArray();
        double[] xNext = new double[n], jac = new double[n * nz], h = new double[nz * nz];
        for (int i = 0; i < 60; i++)
        {
            d.Evaluate(x, u, theta, xNext);
            d.Jacobian(x, u, theta, xNext, jac);
            d.LagrangianHessian(x, u, theta, lambda, h);
            d.LagrangianHessian(x, u, theta, lambda, h, xNext, jac);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            d.Evaluate(x, u, theta, xNext);
            d.Jacobian(x, u, theta, xNext, jac);
            d.LagrangianHessian(x, u, theta, lambda, h);
            d.LagrangianHessian(x, u, theta, lambda, h, xNext, jac);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
