using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// Outcomes and determinism: per-element failure statuses isolated from the rest of the batch,
/// control regularisation, reuse of an <see cref="LqrSolver"/>, and bitwise reproducibility
/// across degrees of parallelism.
/// </summary>
public sealed class LqrStatusTests
{
    /// <summary>
    /// The final status rule of the box-constrained paths: a stall whose KKT residual is at the
    /// round-off level of its terms is Converged (else whether such a point is reported as a
    /// stall would depend on the last bits of the arithmetic: on an AVX2-only machine the lane
    /// and the per-element kernels disagreed on one element of
    /// LaneBoxLqrTests.StalledLanes_HandOverToActiveSetMethod_AndMatchPerElementPath); a larger
    /// residual stays a stall, and an inaccurate Converged is still reported as Inaccurate.
    /// </summary>
    [Theory]
    [InlineData(SolveStatus.LineSearchFailed, 1e-11, SolveStatus.Converged)]
    [InlineData(SolveStatus.LineSearchFailed, 1e-10, SolveStatus.Converged)]
    [InlineData(SolveStatus.LineSearchFailed, 1e-9, SolveStatus.LineSearchFailed)]
    [InlineData(SolveStatus.LineSearchFailed, double.NaN, SolveStatus.LineSearchFailed)]
    [InlineData(SolveStatus.MaxIterations, 1e-12, SolveStatus.MaxIterations)]
    [InlineData(SolveStatus.Converged, 1e-7, SolveStatus.Converged)]
    [InlineData(SolveStatus.Converged, 1e-3, SolveStatus.Inaccurate)]
    public void BoxStatus_RoundOffStall_IsConverged(SolveStatus status, double relativeResidual, SolveStatus expected)
    {
        const double scale = 250.0;
        Assert.Equal(expected, SolutionWriter.BoxStatus(status, relativeResidual * scale, scale, tolerance: 1e-9));
    }

    [Fact]
    public void NotPositiveDefinite_Element_IsNaN_WithZeroGradient_OthersAsIfAlone()
    {
        var dims = new MpcDimensions(5, 4, 3, 2);
        LqrCase lqr = RandomLqr.Create(1, dims);
        lqr.SetControlCost(t: dims.Horizon - 1, b: 2, diagonal: -2.0);   // Q_uu,T = C_uu,T < 0
        (double[] wx, double[] wu) = RandomLqr.LossWeights(1, dims);

        MpcSolution sol = Mpc.Solve(lqr.Problem);
        Assert.Equal([SolveStatus.Converged, SolveStatus.Converged, SolveStatus.NotPositiveDefinite, SolveStatus.Converged], sol.Status);
        Assert.Equal(3, sol.ConvergedCount);
        Assert.False(sol.AllConverged);
        MpcGradients g = Mpc.Backward(sol, wx, wu);

        AssertElementFailed(lqr, sol, g, 2);
        foreach (int b in new[] { 0, 1, 3 })
        {
            AssertElementEqualsAlone(lqr, sol, g, wx, wu, b);
        }
    }

    /// <summary>
    /// A loss built from the whole solution (here dL/dx = x, dL/du = u) holds NaN in the slots of
    /// an element that failed. Backward accepts it, since those slots are never read: the
    /// gradients are bitwise those of the same loss with the failed element's slots zeroed, on
    /// the per-element (B = 4) and the lane paths (B = 16), with and without control bounds. A
    /// NaN in an element that is differentiated is still rejected, naming the element.
    /// </summary>
    [Theory]
    [InlineData(4, false)]
    [InlineData(16, false)]
    [InlineData(4, true)]
    [InlineData(16, true)]
    public void FailedElement_LossFromItsNaNSolution_IsAccepted(int batch, bool bounded)
    {
        var dims = new MpcDimensions(5, batch, 3, 2);
        LqrCase lqr = RandomLqr.Create(11, dims);
        lqr.SetControlCost(t: 2, b: 1, diagonal: -2.0);
        LqrProblem problem = bounded
            ? new LqrProblem(dims, lqr.XInit, lqr.C, lqr.c, lqr.F, lqr.f, StageArray.Scalar(-0.5), StageArray.Scalar(0.5))
            : lqr.Problem;
        var solver = new LqrSolver(dims);
        MpcSolution sol = solver.Solve(problem);
        Assert.Equal(SolveStatus.NotPositiveDefinite, sol.Status[1]);
        Assert.Equal(batch - 1, sol.ConvergedCount);
        double[] dx = (double[])sol.X.Clone(), du = (double[])sol.U.Clone();
        Assert.Contains(dx, double.IsNaN);

        double[][] g = Copy(solver.Backward(dx, du));
        int T = dims.Horizon, n = dims.StateDim, m = dims.ControlDim;
        for (int t = 0; t < T; t++)
        {
            Array.Clear(dx, (t * batch + 1) * n, n);
            Array.Clear(du, (t * batch + 1) * m, m);
        }
        AssertBitwise(g, Copy(solver.Backward(dx, du)), "gradients with the failed element's loss slots zeroed");
        Assert.All(g[4].AsSpan(n, n).ToArray(), v => Assert.Equal(0.0, v));   // dL/dx_init of the failed element

        dx[(3 * batch + 2) * n + 1] = double.NaN;   // t = 3, b = 2, i = 1: a converged element
        var ex = Assert.Throws<ArgumentException>(() => solver.Backward(dx, du));
        Assert.Equal("dLdx", ex.ParamName);
        Assert.Contains("t=3, b=2, i=1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotPositiveDefinite_Element_ContributesNothingToSharedGradients()
    {
        // C time-invariant (so element 1's C_uu is negative at every stage), the rest shared.
        var dims = new MpcDimensions(4, 3, 3, 2);
        LqrCase lqr = RandomLqr.Create(2, dims, C: Layout.TimeInvariant, c: Layout.Shared, F: Layout.Shared,
            f: Layout.BatchShared);
        lqr.SetControlCost(t: 0, b: 1, diagonal: -1.0);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(2, dims);

        MpcSolution sol = Mpc.Solve(lqr.Problem);
        Assert.Equal([SolveStatus.Converged, SolveStatus.NotPositiveDefinite, SolveStatus.Converged], sol.Status);
        MpcGradients g = Mpc.Backward(sol, wx, wu);

        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, N = dims.TauDim;
        var dC = new double[lqr.C.Data.Length];
        var dc = new double[lqr.c.Data.Length];
        var dF = new double[lqr.F.Data.Length];
        var df = new double[lqr.f!.Data.Length];
        var dx = new double[B * n];
        foreach (int b in new[] { 0, 2 })
        {
            (MpcSolution alone, MpcGradients ga) = SolveAlone(lqr, wx, wu, b);
            Bitwise.Equal(alone.X, Slice(sol.X, T, B, n, b), $"x of element {b}");
            Accumulate(lqr.C, dC, ga.CostQuadratic, T, B, N * N, b);
            Accumulate(lqr.c, dc, ga.CostLinear, T, B, N, b);
            Accumulate(lqr.F, dF, ga.Dynamics, T - 1, B, n * N, b);
            Accumulate(lqr.f, df, ga.DynamicsOffset!, T - 1, B, n, b);
            ga.XInit.CopyTo(dx, b * n);
        }
        Compare.Relative(dC, g.CostQuadratic, 1e-12, "dL/dC");
        Assert.All(g.CostQuadratic.AsSpan(N * N, N * N).ToArray(), v => Assert.Equal(0.0, v));
        Compare.Relative(dc, g.CostLinear, 1e-12, "dL/dc");
        Compare.Relative(dF, g.Dynamics, 1e-12, "dL/dF");
        Compare.Relative(df, g.DynamicsOffset, 1e-12, "dL/df");
        Bitwise.Equal(dx, g.XInit, "dL/dx_init");
    }

    [Fact]
    public void NonFinite_Element_IsNaN_WithZeroGradient_OthersAsIfAlone()
    {
        // Finite inputs whose cost overflows: x_init = 1e200 makes 1/2 x' C x infinite.
        var dims = new MpcDimensions(3, 3, 2, 2);
        LqrCase lqr = RandomLqr.Create(3, dims);
        lqr.XInit[1 * 2] = 1e200;
        lqr.XInit[1 * 2 + 1] = -1e200;
        (double[] wx, double[] wu) = RandomLqr.LossWeights(3, dims);

        MpcSolution sol = Mpc.Solve(lqr.Problem);
        Assert.Equal([SolveStatus.Converged, SolveStatus.NonFinite, SolveStatus.Converged], sol.Status);
        MpcGradients g = Mpc.Backward(sol, wx, wu);
        AssertElementFailed(lqr, sol, g, 1);
        AssertElementEqualsAlone(lqr, sol, g, wx, wu, 0);
        AssertElementEqualsAlone(lqr, sol, g, wx, wu, 2);
    }

    [Fact]
    public void AllElementsFailing_GivesAllNaN_AndAllZeroGradients()
    {
        var dims = new MpcDimensions(2, 2, 2, 1);
        LqrCase lqr = RandomLqr.Create(4, dims, C: Layout.Shared);
        lqr.SetControlCost(t: 0, b: 0, diagonal: -1.0);
        MpcSolution sol = Mpc.Solve(lqr.Problem);
        Assert.All(sol.Status, s => Assert.Equal(SolveStatus.NotPositiveDefinite, s));
        Assert.Equal(0, sol.ConvergedCount);
        Assert.All(sol.X, v => Assert.True(double.IsNaN(v)));
        Assert.All(sol.Cost, v => Assert.True(double.IsNaN(v)));
        (double[] wx, double[] wu) = RandomLqr.LossWeights(4, dims);
        MpcGradients g = Mpc.Backward(sol, wx, wu);
        foreach (double[] grad in new[] { g.CostQuadratic, g.CostLinear, g.Dynamics, g.DynamicsOffset!, g.XInit })
        {
            Assert.All(grad, v => Assert.Equal(0.0, v));
        }
    }

    [Theory]
    [InlineData(Layout.PerStage, 0.7)]
    [InlineData(Layout.TimeInvariant, 1e-3)]
    [InlineData(Layout.Shared, 2.5)]
    public void ControlRegularization_EqualsAddingMuToControlBlock(Layout layout, double mu)
    {
        var dims = new MpcDimensions(6, 3, 3, 2);
        LqrCase lqr = RandomLqr.Create(5, dims, C: layout, f: Layout.Shared);
        LqrCase explicitReg = WithControlBlockShift(lqr, mu);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(5, dims);

        MpcSolution sr = Mpc.Solve(lqr.Problem, new MpcOptions { ControlRegularization = mu });
        MpcSolution se = Mpc.Solve(explicitReg.Problem);
        Assert.True(sr.AllConverged && se.AllConverged);
        Compare.Relative(se.X, sr.X, 1e-12, "x");
        Compare.Relative(se.U, sr.U, 1e-12, "u");
        Compare.Relative(se.Costates, sr.Costates, 1e-12, "costates");

        // Regularisation really changes the solution (so the comparison above means something).
        MpcSolution plain = Mpc.Solve(lqr.Problem);
        Assert.True(Compare.Worst(plain.U, sr.U, relative: true).Error > 1e-8);

        MpcGradients gr = Mpc.Backward(sr, wx, wu);
        MpcGradients ge = Mpc.Backward(se, wx, wu);
        Compare.Relative(ge.CostQuadratic, gr.CostQuadratic, 1e-12, "dL/dC");
        Compare.Relative(ge.CostLinear, gr.CostLinear, 1e-12, "dL/dc");
        Compare.Relative(ge.Dynamics, gr.Dynamics, 1e-12, "dL/dF");
        Compare.Relative(ge.DynamicsOffset, gr.DynamicsOffset, 1e-12, "dL/df");
        Compare.Relative(ge.XInit, gr.XInit, 1e-12, "dL/dx_init");

        // The reported cost is that of the regularised problem (MpcOptions.ControlRegularization):
        // the cost of the explicitly shifted problem, i.e. the given C plus 1/2 mu |u|^2.
        Compare.Relative(se.Cost, sr.Cost, 1e-12, "cost of the regularised problem");
        double[] penalty = new double[dims.BatchSize];
        for (int i = 0; i < sr.U.Length; i++)
        {
            penalty[i / dims.ControlDim % dims.BatchSize] += 0.5 * mu * sr.U[i] * sr.U[i];
        }
        Compare.Relative(Objective(lqr, sr).Zip(penalty, (a, b) => a + b).ToArray(), sr.Cost, 1e-12, "given cost + 1/2 mu |u|^2");
    }

    [Theory]
    [InlineData(0.7)]
    [InlineData(1e-3)]
    public void ControlRegularization_WithBounds_EqualsAddingMuToControlBlock(double mu)
    {
        var dims = new MpcDimensions(6, 3, 3, 2);
        LqrCase lqr = RandomLqr.Create(6, dims, C: Layout.PerStage, f: Layout.Shared);
        LqrCase explicitReg = WithControlBlockShift(lqr, mu);
        static LqrProblem Bounded(LqrCase k) => new(k.Problem.Dimensions, k.Problem.XInit, k.Problem.CostQuadratic,
            k.Problem.CostLinear, k.Problem.Dynamics, k.Problem.DynamicsOffset, StageArray.Scalar(-0.3), StageArray.Scalar(0.3));
        MpcSolution sr = Mpc.Solve(Bounded(lqr), new MpcOptions { ControlRegularization = mu });
        MpcSolution se = Mpc.Solve(Bounded(explicitReg));
        Assert.True(sr.AllConverged && se.AllConverged);
        Assert.True(sr.ActiveBounds.Sum() > 0);
        Compare.Absolute(se.U, sr.U, 1e-10, "u");
        Compare.Relative(se.Cost, sr.Cost, 1e-10, "cost");
        Compare.Absolute(se.KktResidual, sr.KktResidual, 1e-9, "KKT residual");
    }

    [Fact]
    public void ControlRegularization_MakesSemidefiniteControlCostSolvable()
    {
        var dims = new MpcDimensions(3, 2, 2, 2);
        LqrCase lqr = RandomLqr.Create(6, dims);
        for (int t = 0; t < dims.Horizon; t++)
        {
            for (int b = 0; b < dims.BatchSize; b++)
            {
                lqr.SetControlCost(t, b, diagonal: 0.0);
            }
        }
        // With C_uu = 0 and the cross terms of a random PSD C, C is no longer PSD; zero them too.
        ZeroCrossTerms(lqr);

        Assert.All(Mpc.Solve(lqr.Problem).Status, s => Assert.Equal(SolveStatus.NotPositiveDefinite, s));
        MpcSolution sr = Mpc.Solve(lqr.Problem, new MpcOptions { ControlRegularization = 1e-2 });
        Assert.True(sr.AllConverged);
        MpcSolution se = Mpc.Solve(WithControlBlockShift(lqr, 1e-2).Problem);
        Compare.Relative(se.X, sr.X, 1e-10, "x");
        Compare.Relative(se.U, sr.U, 1e-10, "u");
    }

    [Fact]
    public void ReusableSolver_RepeatedSolves_AreBitwiseIdentical()
    {
        var dims = new MpcDimensions(8, 4, 5, 3);
        LqrCase lqr = RandomLqr.Create(7, dims, F: Layout.TimeInvariant);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(7, dims);
        var solver = new LqrSolver(dims);

        MpcSolution first = solver.Solve(lqr.Problem);
        double[][] sol0 = Copy(first);
        MpcGradients firstGrad = solver.Backward(wx, wu);
        double[][] grad0 = Copy(firstGrad);
        for (int i = 0; i < 3; i++)
        {
            MpcSolution again = solver.Solve(lqr.Problem);
            Assert.Same(first, again);   // documented: the solver's solution object is reused
            AssertBitwise(sol0, Copy(again), $"solution, repeat {i + 1}");
            MpcGradients gAgain = solver.Backward(wx, wu);
            Assert.Same(firstGrad, gAgain);
            AssertBitwise(grad0, Copy(gAgain), $"gradients, repeat {i + 1}");
        }
        // Backward twice on one solve also repeats exactly.
        AssertBitwise(grad0, Copy(solver.Backward(wx, wu)), "second backward of one solve");
    }

    [Fact]
    public void ReusableSolver_DifferentProblemsOfOneShape_MatchFreshSolves()
    {
        var dims = new MpcDimensions(6, 3, 4, 2);
        LqrCase[] problems =
        [
            RandomLqr.Create(11, dims),
            RandomLqr.Create(12, dims, C: Layout.Shared, f: null),
            RandomLqr.Create(13, dims, C: Layout.TimeInvariant, c: Layout.BatchShared, F: Layout.Shared, f: Layout.TimeInvariant),
            RandomLqr.Create(14, dims, asymmetricC: true),
        ];
        problems[3].SetControlCost(t: 5, b: 1, diagonal: -1.0);   // one failing element in between
        (double[] wx, double[] wu) = RandomLqr.LossWeights(11, dims);
        var solver = new LqrSolver(dims);

        foreach (int i in new[] { 0, 1, 2, 3, 0, 2, 1, 3, 0 })
        {
            MpcSolution fresh = Mpc.Solve(problems[i].Problem);
            MpcGradients freshGrad = Mpc.Backward(fresh, wx, wu);
            MpcSolution reused = solver.Solve(problems[i].Problem);
            AssertBitwise(Copy(fresh), Copy(reused), $"solution of problem {i}");
            Assert.Equal(fresh.Status, reused.Status);
            MpcGradients reusedGrad = solver.Backward(wx, wu);
            Assert.Equal(freshGrad.DynamicsOffset is null, reusedGrad.DynamicsOffset is null);
            AssertBitwise(Copy(freshGrad), Copy(reusedGrad), $"gradients of problem {i}");
        }
    }

    [Fact]
    public void StaticSolutions_StayValidAfterLaterSolves()
    {
        var dims = new MpcDimensions(4, 2, 3, 2);
        LqrCase p1 = RandomLqr.Create(21, dims), p2 = RandomLqr.Create(22, dims);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(21, dims);
        MpcSolution s1 = Mpc.Solve(p1.Problem);
        double[][] before = Copy(s1);
        double[][] g1 = Copy(Mpc.Backward(s1, wx, wu));

        MpcSolution s2 = Mpc.Solve(p2.Problem);
        Mpc.Backward(s2, wx, wu);
        AssertBitwise(before, Copy(s1), "first solution after a second solve");
        AssertBitwise(g1, Copy(Mpc.Backward(s1, wx, wu)), "first gradients after a second solve");
    }

    [Fact]
    public void StaticEntryPoints_CalledConcurrently_MatchSequentialCalls()
    {
        // Mpc is documented as safe to call concurrently.
        var dims = new MpcDimensions(6, 3, 4, 2);
        LqrCase[] problems = Enumerable.Range(0, 8).Select(i => RandomLqr.Create(40 + i, dims, F: Layout.Shared)).ToArray();
        (double[] wx, double[] wu) = RandomLqr.LossWeights(40, dims);
        var expected = problems.Select(p =>
        {
            MpcSolution s = Mpc.Solve(p.Problem);
            return (Copy(s), Copy(Mpc.Backward(s, wx, wu)));
        }).ToArray();

        var actual = new (double[][] Sol, double[][] Grad)[problems.Length * 4];
        Parallel.For(0, actual.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            MpcSolution s = Mpc.Solve(problems[i % problems.Length].Problem);
            actual[i] = (Copy(s), Copy(Mpc.Backward(s, wx, wu)));
        });
        for (int i = 0; i < actual.Length; i++)
        {
            AssertBitwise(expected[i % problems.Length].Item1, actual[i].Sol, $"concurrent solve {i}");
            AssertBitwise(expected[i % problems.Length].Item2, actual[i].Grad, $"concurrent backward {i}");
        }
    }

    [Fact]
    public void NullLossGradients_MeanZero()
    {
        var dims = new MpcDimensions(4, 2, 3, 2);
        LqrCase lqr = RandomLqr.Create(23, dims);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(23, dims);
        MpcSolution sol = Mpc.Solve(lqr.Problem);

        MpcGradients none = Mpc.Backward(sol, null, null);
        foreach (double[] grad in Copy(none))
        {
            Assert.All(grad, v => Assert.Equal(0.0, v));
        }
        double[][] onlyX = Copy(Mpc.Backward(sol, wx, null));
        double[][] zeroU = Copy(Mpc.Backward(sol, wx, new double[wu.Length]));
        AssertClose(zeroU, onlyX, "dLdu = null vs zeros");
        double[][] onlyU = Copy(Mpc.Backward(sol, null, wu));
        double[][] zeroX = Copy(Mpc.Backward(sol, new double[wx.Length], wu));
        AssertClose(zeroX, onlyU, "dLdx = null vs zeros");
        // Linearity in the loss gradient: both = only x + only u.
        double[][] both = Copy(Mpc.Backward(sol, wx, wu));
        for (int k = 0; k < both.Length; k++)
        {
            Compare.Relative(both[k], onlyX[k].Zip(onlyU[k], (a, b) => a + b).ToArray(), 1e-12, $"gradient {k} linearity");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Results_AreBitwiseIdentical_ForEveryDegreeOfParallelism(bool reusableSolver)
    {
        // 16 x 20 x 14^3 flops is far above the solver's threshold for running the batch in parallel.
        var dims = new MpcDimensions(20, 16, 10, 4);
        LqrCase lqr = RandomLqr.Create(31, dims, F: Layout.TimeInvariant, f: Layout.Shared);
        lqr.SetControlCost(t: 19, b: 5, diagonal: -1.0);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(31, dims);

        double[][]? refSol = null, refGrad = null;
        SolveStatus[]? refStatus = null;
        foreach (int dop in new[] { 1, 2, -1, 3 })
        {
            var options = new MpcOptions { MaxDegreeOfParallelism = dop };
            MpcSolution sol;
            MpcGradients g;
            if (reusableSolver)
            {
                var solver = new LqrSolver(dims, options);
                Assert.Equal(dop == -1 ? Math.Min(Environment.ProcessorCount, 16) : dop, solver.Workspace.Scratch.Length);
                solver.Solve(lqr.Problem);   // solve twice: the second must not depend on the first
                sol = solver.Solve(lqr.Problem);
                g = solver.Backward(wx, wu);
            }
            else
            {
                sol = Mpc.Solve(lqr.Problem, options);
                g = Mpc.Backward(sol, wx, wu);
            }
            Assert.Equal(15, sol.ConvergedCount);
            Assert.Equal(SolveStatus.NotPositiveDefinite, sol.Status[5]);
            if (refSol is null)
            {
                (refSol, refGrad, refStatus) = (Copy(sol), Copy(g), (SolveStatus[])sol.Status.Clone());
                continue;
            }
            Assert.Equal(refStatus, sol.Status);
            AssertBitwise(refSol, Copy(sol), $"solution with MaxDegreeOfParallelism = {dop}");
            AssertBitwise(refGrad!, Copy(g), $"gradients with MaxDegreeOfParallelism = {dop}");
        }
    }

    // ---- helpers ----

    private static (MpcSolution, MpcGradients) SolveAlone(LqrCase lqr, double[] wx, double[] wu, int b)
    {
        LqrCase single = lqr.Single(b);
        LqrSolver solver = AloneSolver.For(lqr.Dims);
        MpcSolution s = solver.Solve(single.Problem);
        Assert.True(s.AllConverged);
        int T = lqr.T, B = lqr.B;
        MpcGradients g = solver.Backward(Slice(wx, T, B, lqr.N, b), Slice(wu, T, B, lqr.M, b));
        return (s, g);
    }

    private static void AssertElementEqualsAlone(LqrCase lqr, MpcSolution sol, MpcGradients g, double[] wx, double[] wu, int b)
    {
        Assert.Equal(SolveStatus.Converged, sol.Status[b]);
        (MpcSolution alone, MpcGradients ga) = SolveAlone(lqr, wx, wu, b);
        int T = lqr.T, B = lqr.B, n = lqr.N, m = lqr.M, N = lqr.Dims.TauDim;
        Bitwise.Equal(alone.X, Slice(sol.X, T, B, n, b), $"x of element {b}");
        Bitwise.Equal(alone.U, Slice(sol.U, T, B, m, b), $"u of element {b}");
        Bitwise.Equal(alone.Costates, Slice(sol.Costates, T, B, n, b), $"costates of element {b}");
        Bitwise.Equal(alone.Cost, [sol.Cost[b]], $"cost of element {b}");
        // Per-stage layouts only: the element's own gradient slots.
        Bitwise.Equal(ga.CostQuadratic, Slice(g.CostQuadratic, T, B, N * N, b), $"dL/dC of element {b}");
        Bitwise.Equal(ga.CostLinear, Slice(g.CostLinear, T, B, N, b), $"dL/dc of element {b}");
        Bitwise.Equal(ga.Dynamics, Slice(g.Dynamics, T - 1, B, n * N, b), $"dL/dF of element {b}");
        Bitwise.Equal(ga.DynamicsOffset!, Slice(g.DynamicsOffset!, T - 1, B, n, b), $"dL/df of element {b}");
        Bitwise.Equal(ga.XInit, g.XInit.AsSpan(b * n, n), $"dL/dx_init of element {b}");
    }

    private static void AssertElementFailed(LqrCase lqr, MpcSolution sol, MpcGradients g, int b)
    {
        int T = lqr.T, B = lqr.B, n = lqr.N, m = lqr.M, N = lqr.Dims.TauDim;
        Assert.All(Slice(sol.X, T, B, n, b), v => Assert.True(double.IsNaN(v)));
        Assert.All(Slice(sol.U, T, B, m, b), v => Assert.True(double.IsNaN(v)));
        Assert.All(Slice(sol.Costates, T, B, n, b), v => Assert.True(double.IsNaN(v)));
        Assert.True(double.IsNaN(sol.Cost[b]));
        Assert.All(Slice(g.CostQuadratic, T, B, N * N, b), v => Assert.Equal(0.0, v));
        Assert.All(Slice(g.CostLinear, T, B, N, b), v => Assert.Equal(0.0, v));
        Assert.All(Slice(g.Dynamics, T - 1, B, n * N, b), v => Assert.Equal(0.0, v));
        Assert.All(Slice(g.DynamicsOffset!, T - 1, B, n, b), v => Assert.Equal(0.0, v));
        Assert.All(g.XInit.AsSpan(b * n, n).ToArray(), v => Assert.Equal(0.0, v));
    }

    /// <summary>Element b's entries of a [S][B][size] array, as [S][size].</summary>
    private static double[] Slice(double[] a, int stages, int batch, int size, int b)
    {
        var r = new double[stages * size];
        for (int t = 0; t < stages; t++)
        {
            Array.Copy(a, (t * batch + b) * size, r, t * size, size);
        }
        return r;
    }

    /// <summary>Adds a single element's per-stage gradient [S][1][size] into a broadcast layout.</summary>
    private static void Accumulate(StageArray layout, double[] dst, double[] single, int stages, int batch, int size, int b)
    {
        for (int t = 0; t < stages; t++)
        {
            int o = Layouts.Offset(layout, t, b, batch, size);
            for (int i = 0; i < size; i++)
            {
                dst[o + i] += single[t * size + i];
            }
        }
    }

    private static LqrCase WithControlBlockShift(LqrCase lqr, double mu)
    {
        int n = lqr.N, N = lqr.Dims.TauDim;
        double[] C = (double[])lqr.C.Data.Clone();
        for (int e = 0; e < C.Length / (N * N); e++)
        {
            for (int i = n; i < N; i++)
            {
                C[e * N * N + i * N + i] += mu;
            }
        }
        StageArray Cs = lqr.C.SharedOverTime
            ? (lqr.C.SharedOverBatch ? StageArray.Shared(C) : StageArray.TimeInvariant(C))
            : (lqr.C.SharedOverBatch ? StageArray.BatchShared(C) : StageArray.PerStage(C));
        return new LqrCase(lqr.Dims, lqr.XInit, Cs, lqr.c, lqr.F, lqr.f);
    }

    private static void ZeroCrossTerms(LqrCase lqr)
    {
        int n = lqr.N, N = lqr.Dims.TauDim;
        double[] C = lqr.C.Data;
        for (int e = 0; e < C.Length / (N * N); e++)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = n; j < N; j++)
                {
                    C[e * N * N + i * N + j] = 0;
                    C[e * N * N + j * N + i] = 0;
                }
            }
        }
    }

    /// <summary>sum_t 1/2 tau' C tau + c' tau at the returned trajectory, per element.</summary>
    private static double[] Objective(LqrCase lqr, MpcSolution sol)
    {
        int T = lqr.T, B = lqr.B, N = lqr.Dims.TauDim;
        var cost = new double[B];
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                double[] tau = [.. sol.StateAt(t, b), .. sol.ControlAt(t, b)];
                ReadOnlySpan<double> C = lqr.CAt(t, b), c = lqr.cAt(t, b);
                for (int i = 0; i < N; i++)
                {
                    cost[b] += c[i] * tau[i];
                    for (int j = 0; j < N; j++)
                    {
                        cost[b] += 0.5 * tau[i] * C[i * N + j] * tau[j];
                    }
                }
            }
        }
        return cost;
    }

    private static double[][] Copy(MpcSolution s) =>
        [(double[])s.X.Clone(), (double[])s.U.Clone(), (double[])s.Costates.Clone(), (double[])s.Cost.Clone()];

    private static double[][] Copy(MpcGradients g) =>
        [(double[])g.CostQuadratic.Clone(), (double[])g.CostLinear.Clone(), (double[])g.Dynamics.Clone(),
            (double[]?)g.DynamicsOffset?.Clone() ?? [], (double[])g.XInit.Clone()];

    private static void AssertBitwise(double[][] expected, double[][] actual, string what)
    {
        string[] names = expected.Length == 4 ? ["x", "u", "costates", "cost"] : ["dL/dC", "dL/dc", "dL/dF", "dL/df", "dL/dx_init"];
        for (int k = 0; k < expected.Length; k++)
        {
            Bitwise.Equal(expected[k], actual[k], $"{what}: {names[k]}");
        }
    }

    private static void AssertClose(double[][] expected, double[][] actual, string what)
    {
        for (int k = 0; k < expected.Length; k++)
        {
            Compare.Absolute(expected[k], actual[k], 0, $"{what}: gradient {k}");
        }
    }
}
