using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Box;

/// <summary>
/// Degenerate (weakly active) bounds: the unconstrained optimum puts one control exactly on its
/// bound, so the bound's multiplier is zero and strict complementarity fails.
/// </summary>
/// <remarks>
/// Convention (documented on <see cref="LqrSolver"/>): a control exactly at a bound is treated
/// as active, held at the bound, even with a zero multiplier. Its gradients are the one-sided
/// derivatives for perturbations that keep it at the bound: for the bound itself that is the
/// backward difference (tightening the bound drags the control along), whereas loosening it
/// frees the control and leaves the solution unchanged (a zero forward difference). The other
/// inputs' gradients equal the limits of those of problems in which the bound is strictly
/// active (bound moved inwards by a vanishing amount), not those of the unconstrained problem.
/// </remarks>
public sealed class BoxDegenerateTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double Step = 1e-4;

    /// <summary>
    /// A case whose arithmetic is exact in binary (Cholesky factor [[2, 0], [1, 2]]), so the
    /// unconstrained optimum u = (0.5, -0.25) lies exactly on the bound u_1 = 0.5 with zero
    /// multiplier. With L = u_1 + u_2, keeping u_1 at the bound gives du_2/dbound = -2/5, so
    /// dL/dbound = 0.6; freeing it gives 0. The library must report the bound active and 0.6.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExactDegenerateBound_IsActive_AndGradientIsKeepActiveDerivative(bool upper)
    {
        var dims = new MpcDimensions(Horizon: 1, BatchSize: 1, StateDim: 1, ControlDim: 2);
        double[] C = [1, 1, 0, 1, 4, 2, 0, 2, 5];
        double[] c = [0, -2.5, 0.25];
        double[] bound = [0.5, upper ? double.PositiveInfinity : double.NegativeInfinity];
        var problem = new LqrProblem(dims, [1.0], C, c, null, null, upper ? null : StageArray.PerStage(bound), upper ? StageArray.PerStage(bound) : null);
        var solver = new LqrSolver(dims);
        MpcSolution sol = solver.Solve(problem);
        Assert.True(sol.AllConverged);
        Assert.Equal([0.5, -0.25], sol.U);
        Assert.Equal(1, sol.ActiveBounds[0]);
        Assert.Equal(0, sol.KktResidual[0]);

        double[] wu = [1, 1];
        MpcGradients g = solver.Backward(null, wu);
        double[] boundGrad = (upper ? g.ControlUpper : g.ControlLower)!;
        Assert.Null(upper ? g.ControlLower : g.ControlUpper);
        Assert.Equal(0.6, boundGrad[0], 12);
        Assert.Equal(0, boundGrad[1]);
        // dL/dc: u_1 held, u_2 = -(c_2 + 2 u_1) / 5, so dL/dc = (0, 0, -1/5).
        Compare.Absolute([0, 0, -0.2], g.CostLinear, 1e-12, "dL/dc (keep-active)");

        double inward = upper ? -Step : Step;
        bound[0] = 0.5 + inward;
        MpcSolution tight = solver.Solve(problem);
        double keepActive = (tight.U[0] + tight.U[1] - 0.25) / inward;
        bound[0] = 0.5 - inward;
        MpcSolution loose = solver.Solve(problem);
        double freeing = (loose.U[0] + loose.U[1] - 0.25) / -inward;
        Assert.Equal(0.6, keepActive, 9);
        Assert.Equal(0, freeing, 12);
        Assert.Equal(0, loose.ActiveBounds[0]);
    }

    /// <summary>
    /// Random problems: the bound is set to the unconstrained optimum's value. Whether the
    /// box-constrained solve lands exactly on it is decided by rounding (the solvers' arithmetic
    /// differs): when it does, the control must be reported active with the keep-active
    /// derivative; when it stays free by a few ulps, it must be reported free with the freeing
    /// (zero) derivative and the unconstrained problem's gradients.
    /// </summary>
    [Theory]
    [InlineData(true, 11)]
    [InlineData(false, 11)]
    [InlineData(true, 12)]
    [InlineData(false, 12)]
    [InlineData(true, 13)]
    [InlineData(false, 13)]
    public void RandomDegenerateBound_FollowsConvention(bool upper, int seed)
    {
        var dims = new MpcDimensions(Horizon: 5, BatchSize: 2, StateDim: 3, ControlDim: 2);
        int T = dims.Horizon, B = dims.BatchSize, m = dims.ControlDim;
        RandomLqr d = BoxTestProblems.Generate(dims, seed, costScale: 1.0);
        double[] free = [.. Mpc.Solve(d.Build(null, null)).U];
        int bAt = 1, k = (2 * B + bAt) * m + 1; // t = 2, b = 1, i = 1
        double uStar = free[k];

        double[] bound = [.. Enumerable.Repeat(upper ? double.PositiveInfinity : double.NegativeInfinity, T * B * m)];
        bound[k] = uStar;
        LqrProblem problem = upper ? d.Build(null, bound) : d.Build(bound, null);
        var solver = new LqrSolver(dims);
        MpcSolution sol = solver.Solve(problem);

        Assert.True(sol.AllConverged);
        Assert.True(sol.KktResidual[bAt] < 1e-9, $"KKT residual {sol.KktResidual[bAt]}");
        Assert.Equal(0, sol.ActiveBounds[1 - bAt]);
        Compare.Absolute(free, sol.U, 1e-9, "degenerate solution vs unconstrained");
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, seed);
        MpcGradients g = solver.Backward(wx, wu);
        output.WriteLine(sol.U[k] == uStar ? "landed exactly on the bound: active"
            : $"landed {sol.U[k] - uStar:E2} from the bound: free");
        if (sol.U[k] != uStar)
        {
            // Rounding left the control strictly inside, by at most a few ulps: it is free.
            Assert.True(Math.Abs(sol.U[k] - uStar) <= 1e-14 * Math.Max(1, Math.Abs(uStar)), $"u = {sol.U[k]:R}, bound {uStar:R}");
            Assert.Equal(0, sol.ActiveBounds[bAt]);
            Assert.All((upper ? g.ControlUpper : g.ControlLower)!, v => Assert.Equal(0, v));
            double[] cFree = [.. g.CostLinear];
            solver.Solve(d.Build(null, null));
            Compare.Relative(solver.Backward(wx, wu).CostLinear, cFree, 1e-9, "dL/dc (free) vs unconstrained");
            return;
        }
        Assert.Equal(1, sol.ActiveBounds[bAt]);

        double[] boundGrad = [.. (upper ? g.ControlUpper : g.ControlLower)!];
        double[] cGrad = [.. g.CostLinear], xGrad = [.. g.XInit];
        Assert.All(boundGrad.Select((v, j) => (v, j)).Where(p => p.j != k), p => Assert.Equal(0, p.v));
        double l0 = BoxTestProblems.Loss(sol, wx, wu);

        // Keep-active side: move the bound inwards; the control follows it exactly.
        double inward = upper ? -Step : Step;
        bound[k] = uStar + inward;
        MpcSolution tight = solver.Solve(problem);
        Assert.True(tight.AllConverged);
        Assert.Equal(uStar + inward, tight.U[k]);
        double keepActive = (BoxTestProblems.Loss(tight, wx, wu) - l0) / inward;

        // Freeing side: move the bound outwards; the control leaves it and nothing changes.
        bound[k] = uStar - inward;
        MpcSolution loose = solver.Solve(problem);
        Assert.True(loose.AllConverged);
        Assert.Equal(0, loose.ActiveBounds[bAt]);
        double freeing = (BoxTestProblems.Loss(loose, wx, wu) - l0) / -inward;

        Assert.True(Math.Abs(keepActive) > 1e-3, $"keep-active derivative {keepActive} too small to test the convention");
        Assert.True(Math.Abs(freeing) < 1e-7, $"freeing derivative {freeing} should vanish");
        Assert.True(Math.Abs(boundGrad[k] - keepActive) <= 1e-6 * Math.Max(1, Math.Abs(keepActive)),
            $"dL/du_{(upper ? "upper" : "lower")} = {boundGrad[k]}, keep-active difference {keepActive}, freeing difference {freeing}");

        // Other gradients: the limit of the strictly active problem (bound moved in by 1e-7),
        // which differs from the unconstrained problem's gradient.
        bound[k] = uStar + 1e-7 * Math.Sign(inward);
        solver.Solve(problem);
        MpcGradients strict = solver.Backward(wx, wu);
        Compare.Relative(strict.CostLinear, cGrad, 1e-5, "dL/dc vs strictly active limit");
        Compare.Relative(strict.XInit, xGrad, 1e-5, "dL/dx_init vs strictly active limit");
        MpcSolution unconstrained = solver.Solve(d.Build(null, null));
        Assert.True(unconstrained.AllConverged);
        MpcGradients gFree = solver.Backward(wx, wu);
        (double diff, _) = Compare.Worst(gFree.CostLinear, cGrad, relative: true);
        Assert.True(diff > 1e-4, $"dL/dc at the degenerate point should differ from the unconstrained one; max diff {diff}");
    }
}
