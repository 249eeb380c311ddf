using System.Numerics;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Systems;

namespace DiffMpc.Tests.Nonlinear;

/// <summary>Seeded nonlinear MPC problems and a finite-difference loss for the iLQR tests.</summary>
internal static class IlqrTestProblems
{
    /// <summary>Pendulum problems from random starts, parameters perturbed by up to 10%.</summary>
    public static NonlinearProblem Pendulum(int T, int B, int seed, double bound = 2.0)
    {
        var rng = new Random(seed);
        var model = new Pendulum();
        double[] theta = Perturb(DiffMpc.Systems.Pendulum.TextbookParameters, rng);
        var xInit = new double[B * 3];
        for (int b = 0; b < B; b++)
        {
            DiffMpc.Systems.Pendulum.SampleInitialState(rng, xInit.AsSpan(b * 3, 3));
        }
        return new NonlinearProblem(new MpcDimensions(T, B, 3, 1), model, theta, xInit,
            StageArray.Shared(Diagonal(DiffMpc.Systems.Pendulum.CostDiagQ)), StageArray.Shared(DiffMpc.Systems.Pendulum.CostP),
            StageArray.Scalar(-bound), StageArray.Scalar(bound));
    }

    /// <summary>Cartpole problems from random starts near upright, parameters perturbed by up to 10%.</summary>
    public static NonlinearProblem Cartpole(int T, int B, int seed)
    {
        var rng = new Random(seed);
        var model = new Cartpole();
        double[] theta = Perturb(DiffMpc.Systems.Cartpole.TextbookParameters, rng);
        var xInit = new double[B * 5];
        for (int b = 0; b < B; b++)
        {
            double th = rng.NextDouble() - 0.5;
            xInit[b * 5 + 0] = rng.NextDouble() - 0.5;
            xInit[b * 5 + 1] = rng.NextDouble() - 0.5;
            xInit[b * 5 + 2] = Math.Cos(th);
            xInit[b * 5 + 3] = Math.Sin(th);
            xInit[b * 5 + 4] = rng.NextDouble() - 0.5;
        }
        return new NonlinearProblem(new MpcDimensions(T, B, 5, 1), model, theta, xInit,
            StageArray.Shared(Diagonal(DiffMpc.Systems.Cartpole.CostDiagQ)), StageArray.Shared(DiffMpc.Systems.Cartpole.CostP),
            StageArray.Scalar(DiffMpc.Systems.Cartpole.ControlLower), StageArray.Scalar(DiffMpc.Systems.Cartpole.ControlUpper));
    }

    /// <summary>
    /// The cartpole swing-up from the third start of the benchmark's seed (B = 1, T = 20, textbook
    /// parameters and task cost): its Gauss-Newton tail is linear (~0.96 per full step), so the
    /// iteration switches to Newton steps.
    /// </summary>
    public static NonlinearProblem SlowTailCartpole()
    {
        var rng = new Random(2018);
        var starts = new double[3 * 5];
        for (int b = 0; b < 3; b++)
        {
            DiffMpc.Systems.Cartpole.SampleInitialState(rng, starts.AsSpan(b * 5, 5));
        }
        return new NonlinearProblem(new MpcDimensions(20, 1, 5, 1), new Cartpole(), DiffMpc.Systems.Cartpole.TextbookParameters,
            starts.AsSpan(10, 5).ToArray(), StageArray.Shared(Diagonal(DiffMpc.Systems.Cartpole.CostDiagQ)),
            StageArray.Shared(DiffMpc.Systems.Cartpole.CostP), StageArray.Scalar(DiffMpc.Systems.Cartpole.ControlLower),
            StageArray.Scalar(DiffMpc.Systems.Cartpole.ControlUpper));
    }

    public static double[] Diagonal(double[] q)
    {
        int N = q.Length;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        return C;
    }

    public static double[] Perturb(double[] values, Random rng) =>
        values.Select(v => v * (1 + 0.2 * (rng.NextDouble() - 0.5))).ToArray();

    /// <summary>Random loss weights [T][B][n] and [T][B][m].</summary>
    public static (double[] Wx, double[] Wu) Weights(MpcDimensions d, int seed)
    {
        var rng = new Random(seed);
        double[] wx = Enumerable.Range(0, d.Horizon * d.BatchSize * d.StateDim).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] wu = Enumerable.Range(0, d.Horizon * d.BatchSize * d.ControlDim).Select(_ => rng.NextDouble() - 0.5).ToArray();
        return (wx, wu);
    }

    /// <summary>L = sum(wx * x) + sum(wu * u) of a fresh solve (asserting convergence).</summary>
    public static double Loss(NonlinearProblem p, double[] wx, double[] wu, DiffMpc.Options.MpcOptions? options = null)
    {
        MpcSolution s = Mpc.Solve(p, options);
        if (!s.AllConverged)
        {
            throw new InvalidOperationException($"finite-difference solve did not converge: {string.Join(",", s.Status)}");
        }
        return s.X.Zip(wx, (a, w) => a * w).Sum() + s.U.Zip(wu, (a, w) => a * w).Sum();
    }

    /// <summary>Central difference of f(v) with v[k] perturbed by +-h (v restored).</summary>
    public static double Central(double[] v, int k, double h, Func<double> f)
    {
        double keep = v[k];
        v[k] = keep + h;
        double up = f();
        v[k] = keep - h;
        double down = f();
        v[k] = keep;
        return (up - down) / (2 * h);
    }
}

/// <summary>
/// A non-quadratic stage cost written once with generic math: for the pendulum,
/// l = phi0 (1 - cos th) + phi1 thdot^2 + phi2 log(cosh(u)) + phi3 u^2 + 0.01 (cos^2 + sin^2 - 1)^2,
/// with cos th, sin th the first two state entries and a smaller terminal weight on the last stage.
/// </summary>
internal sealed class SoftPendulumCost : ICost
{
    public int ParameterCount => 4;

    public T Evaluate<T>(int t, ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> costParams)
        where T : IFloatingPointIeee754<T>
    {
        T one = T.One;
        T circle = x[0] * x[0] + x[1] * x[1] - one;
        T stage = costParams[0] * (one - x[0]) + costParams[1] * x[2] * x[2]
            + costParams[2] * T.Log(T.Cosh(u[0])) + costParams[3] * u[0] * u[0]
            + T.CreateChecked(0.01) * circle * circle;
        return t == 9 ? T.CreateChecked(2.0) * stage : stage;
    }
}
