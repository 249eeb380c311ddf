using DiffMpc.Autodiff;
using DiffMpc.Nonlinear;
using DiffMpc.Systems;
using DiffMpc.Tests.Golden;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Systems;

public sealed class SystemsTests
{
    [Fact]
    public void Pendulum_ControlClamp_DerivativeIsOneAtTheLimitAndZeroBeyond()
    {
        var d = new DynamicsDerivatives(new Pendulum());
        double[] x = [1, 0, 0], theta = Pendulum.TextbookParameters, xn = new double[3], jac = new double[3 * 7];
        // Column 3 is u; thdot' = ... + dt * 3 u_c / (m l^2): d thdot'/du = 0.15 inside and at the limit.
        foreach (double u in new[] { 0.5, 2.0, -2.0 })
        {
            d.Jacobian(x, [u], theta, xn, jac);
            Assert.Equal(0.15, jac[2 * 7 + 3], 14);
        }
        foreach (double u in new[] { 2.0000001, -3.0 })
        {
            d.Jacobian(x, [u], theta, xn, jac);
            Assert.Equal(0, jac[2 * 7 + 3]);
        }
        d.Evaluate(x, [5.0], theta, xn);
        Assert.Equal(0.05 * 3 * 2, xn[2], 14);
    }

    [Fact]
    public void Cartpole_ControlClamp_DerivativeIsNonZeroAtTheLimitAndZeroBeyond()
    {
        var d = new DynamicsDerivatives(new Cartpole());
        double[] x = [0, 0, 1, 0, 0], theta = Cartpole.TextbookParameters, xn = new double[5], jac = new double[5 * 10];
        d.Jacobian(x, [100.0], theta, xn, jac);
        Assert.NotEqual(0, jac[1 * 10 + 5]);
        d.Jacobian(x, [100.5], theta, xn, jac);
        Assert.Equal(0, jac[1 * 10 + 5]);
    }

    [Fact]
    public void SampleInitialState_FollowsTheDocumentedDistributions()
    {
        var rng = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            double[] p = Pendulum.SampleInitialState(rng);
            double th = Math.Atan2(p[1], p[0]);
            Assert.InRange(th, -Math.PI / 2, Math.PI / 2);
            Assert.InRange(p[2], -1, 1);
            Assert.Equal(1, p[0] * p[0] + p[1] * p[1], 14);

            double[] c = Cartpole.SampleInitialState(rng);
            Assert.Equal(1, c[2] * c[2] + c[3] * c[3], 14);
            Assert.InRange(c[0], -0.5, 0.5);
            Assert.InRange(c[1], -0.5, 0.5);
            Assert.InRange(c[4], -0.5, 0.5);
        }
        double[] rest = Cartpole.SampleInitialState(rng, spread: 0);
        Assert.Equal([0.0, 0.0, 0.0], new[] { rest[0], rest[1], rest[4] });
        // th covers most of [-pi, pi] for the cart-pole.
        double maxTh = Enumerable.Range(0, 200).Select(_ => Cartpole.SampleInitialState(rng)).Max(s => Math.Abs(Math.Atan2(s[3], s[2])));
        Assert.True(maxTh > 2.5);
    }

    [Fact]
    public void TaskData_MatchesDynamicsMd()
    {
        Assert.Equal([10.0, 1.0, 1.0], Pendulum.TextbookParameters);
        Assert.Equal([9.8, 1.0, 0.1, 0.5], Cartpole.TextbookParameters);
        Assert.Equal(4, Pendulum.CostDiagQ.Length);
        Assert.Equal(6, Cartpole.CostP.Length);
        Assert.Equal((-2.0, 2.0), (Pendulum.ControlLower, Pendulum.ControlUpper));
        Assert.Equal((-100.0, 100.0), (Cartpole.ControlLower, Cartpole.ControlUpper));
        // Arrays are copies: mutating one does not change the model's data.
        Pendulum.TextbookParameters[0] = 0;
        Assert.Equal(10.0, Pendulum.TextbookParameters[0]);
    }
}
