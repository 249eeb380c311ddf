// Bitwise determinism across degrees of parallelism for all three solvers: a batch large enough
// to run in parallel must give exactly the same solution and gradients with 1 and 2 workers.
// The 2-worker solver is run several times (its pool threads start at different moments, and
// the caller claims back chunks not yet started), and every run must match.
using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Performance;

public sealed class ParallelDeterminismTests
{
    [Theory]
    [InlineData(false, false, 37)]
    [InlineData(true, false, 37)]   // box-constrained, SIMD-lane path
    [InlineData(true, true, 37)]    // box-constrained, per-element path (forced)
    [InlineData(false, false, 157)] // gradients above BlockWritesAbove: each worker writes its run at once
    [InlineData(true, false, 157)]
    [InlineData(true, true, 157)]
    public void Lqr_IsBitwiseIdentical_ForOneAndTwoWorkers(bool box, bool perElement, int batch)
    {
        var dims = new MpcDimensions(20, batch, 8, 4);   // B not a multiple of the SIMD width
        LqrProblem problem = PerfProblems.Lqr(dims, 11, box ? 1.0 : null);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        double[][]? reference = null;
        foreach (int dop in new[] { 1, 2 })
        {
            var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = dop }) { ForceScalarBox = perElement };
            Assert.Equal(batch > 100, solver.WritesGradientsPerWorker);
            for (int run = 0; run < Runs(dop); run++)
            {
                MpcSolution s = solver.Solve(problem);
                Assert.Equal(dims.BatchSize, s.ConvergedCount);
                Assert.Equal(dop > 1, solver.RunsInParallel);
                Assert.Equal(box && !perElement && DiffMpc.Lqr.Lanes.LaneLqr.SupportsBox(dims, DiffMpc.Lqr.Lanes.LaneLqr.ChosenWidth(dims)), solver.SolvedInBoxLanes);
                MpcGradients g = solver.Backward(dx, du);
                double[][] all = [s.X, s.U, s.Costates, s.Cost, g.CostQuadratic, g.CostLinear, g.Dynamics, g.DynamicsOffset!, g.XInit];
                Compare(ref reference, all, dop);
            }
        }
    }

    [Fact]
    public void Ilqr_Pendulum_IsBitwiseIdentical_ForOneAndTwoWorkers()
    {
        var model = new DiffMpc.Systems.Pendulum();
        var dims = new MpcDimensions(15, 24, model.StateDim, model.ControlDim);
        NonlinearProblem problem = PerfProblems.Pendulum(dims, model, 12);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        double[][]? reference = null;
        foreach (int dop in new[] { 1, 2 })
        {
            var solver = new IlqrSolver(dims, model, new MpcOptions { MaxDegreeOfParallelism = dop, Tolerance = 1e-6 });
            for (int run = 0; run < Runs(dop); run++)
            {
                MpcSolution s = solver.Solve(problem);
                Assert.Equal(dop > 1, solver.RunsInParallel);
                NonlinearGradients g = solver.Backward(dx, du);
                double[][] all = [s.X, s.U, s.Costates, s.Cost, g.Parameters, g.CostQuadratic!, g.CostLinear!, g.XInit];
                Compare(ref reference, all, dop);
            }
        }
    }

    /// <summary>One run alone; several with two workers.</summary>
    private static int Runs(int dop) => dop == 1 ? 1 : 6;

    private static void Compare(ref double[][]? reference, double[][] all, int dop)
    {
        double[][] copy = [.. all.Select(a => (double[])a.Clone())];
        if (reference is null)
        {
            reference = copy;
            return;
        }
        for (int i = 0; i < copy.Length; i++)
        {
            Bitwise.Equal(reference[i], copy[i], $"array {i} with MaxDegreeOfParallelism = {dop}");
        }
    }
}
