// Problems shared by the performance tests: a random LQR batch (optionally box-constrained) and a
// batch of pendulum swing-up problems for the nonlinear solver.
using DiffMpc.Problems;

namespace DiffMpc.Tests.Performance;

internal static class PerfProblems
{
    /// <summary>A seeded random LQR batch; with <paramref name="box"/>, |u| &lt;= box.</summary>
    public static LqrProblem Lqr(MpcDimensions dims, int seed, double? box = null)
    {
        var data = Box.BoxTestProblems.Generate(dims, seed, costScale: 1.0);
        return box is double u
            ? data.Build(StageArray.Scalar(-u), StageArray.Scalar(u))
            : data.Build(null, null);
    }

    /// <summary>B pendulum problems with the textbook parameters and task cost, |u| &lt;= 2.</summary>
    public static NonlinearProblem Pendulum(MpcDimensions dims, DiffMpc.Systems.Pendulum model, int seed)
    {
        int B = dims.BatchSize, n = dims.StateDim, N = dims.TauDim;
        var rng = new Random(seed);
        var x = new double[B * n];
        for (int b = 0; b < B; b++)
        {
            DiffMpc.Systems.Pendulum.SampleInitialState(rng, x.AsSpan(b * n, n));
        }
        double[] q = DiffMpc.Systems.Pendulum.CostDiagQ;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        return new NonlinearProblem(dims, model, DiffMpc.Systems.Pendulum.TextbookParameters, x, StageArray.Shared(C),
            StageArray.Shared(DiffMpc.Systems.Pendulum.CostP),
            StageArray.Scalar(DiffMpc.Systems.Pendulum.ControlLower), StageArray.Scalar(DiffMpc.Systems.Pendulum.ControlUpper));
    }

    /// <summary>dL/dx and dL/du of L = sum(x) + sum(u) (all ones).</summary>
    public static (double[] Dx, double[] Du) Ones(MpcDimensions d)
    {
        var dx = new double[d.Horizon * d.BatchSize * d.StateDim];
        var du = new double[d.Horizon * d.BatchSize * d.ControlDim];
        Array.Fill(dx, 1.0);
        Array.Fill(du, 1.0);
        return (dx, du);
    }
}
