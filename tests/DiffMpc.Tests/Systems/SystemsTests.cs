using DiffMpc.Autodiff;
using DiffMpc.Nonlinear;
using DiffMpc.Systems;
using DiffMpc.Tests.Golden;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Systems;

public sealed class SystemsTests
{
    public static TheoryData<string> IlqrCases()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(RepoPaths.GoldenDir))
        {
            foreach (string file in Directory.GetFiles(RepoPaths.GoldenDir, "*.json").Order(StringComparer.Ordinal))
            {
                if (GoldenCase.Load(file).Kind == "ilqr")
                {
                    data.Add(Path.GetFileName(file));
                }
            }
        }
        return data;
    }

    [Fact]
    public void GoldenFolder_HoldsIlqrCases() => Assert.NotEmpty(IlqrCases());

    /// <summary>Stepping the model from expected.x[t] with expected.u[t] reproduces expected.x[t+1].</summary>
    [Theory]
    [MemberData(nameof(IlqrCases))]
    public void GoldenTrajectory_IsReproducedByTheModel(string file)
    {
        GoldenCase g = GoldenCase.Load(Path.Combine(RepoPaths.GoldenDir, file));
        IDynamics model = g.String("inputs.dynamics") switch
        {
            "pendulum" => new Pendulum(),
            "cartpole" => new Cartpole(),
            string other => throw new InvalidDataException($"{g.Name}: unknown dynamics '{other}'."),
            null => throw new InvalidDataException($"{g.Name}: inputs.dynamics missing."),
        };
        int T = g.T, B = g.B, n = g.N, m = g.M;
        Assert.Equal(model.StateDim, n);
        Assert.Equal(model.ControlDim, m);
        double[] theta = g.Required("inputs.params");
        double[] xs = g.Required("expected.x"), us = g.Required("expected.u");
        Compare.Absolute(g.Required("inputs.x_init"), xs.AsSpan(0, B * n), 1e-12, $"{g.Name} x_1 = x_init");
        double[] next = new double[n];
        var d = new DynamicsDerivatives(model);
        for (int t = 0; t + 1 < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                d.Evaluate(xs.AsSpan((t * B + b) * n, n), us.AsSpan((t * B + b) * m, m), theta, next);
                Compare.Absolute(xs.AsSpan(((t + 1) * B + b) * n, n), next, 1e-9, $"{g.Name} x[{t + 1}][{b}]");
            }
        }
        // The task cost of the case is the system's own (up to the parameter perturbation of the dynamics).
        Assert.Equal(model is Pendulum ? Pendulum.CostDiagQ : Cartpole.CostDiagQ, g.Required("inputs.cost_diag_q"));
        Assert.Equal(model is Pendulum ? Pendulum.CostP : Cartpole.CostP, g.Required("inputs.cost_p"));
    }

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
