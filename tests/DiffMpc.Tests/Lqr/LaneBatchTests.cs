using DiffMpc.Lqr;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// Batches large enough for full SIMD lane groups (8 elements with Vector512, 4 with Vector256)
/// take paths that small batches do not: gradients written straight from the lanes, and the input
/// check done while packing each group. Each element's result must still be exactly that of the
/// element solved alone, with either lane width; both widths agree with the per-problem kernels.
/// </summary>
public sealed class LaneBatchTests
{
    /// <summary>
    /// The lane widths, 8 (Vector512) and 4 (Vector256); a test skips a width this machine does
    /// not accelerate (<see cref="SkipUnlessAccelerated"/>), so that no theory is left without data
    /// (an error in xunit) on a machine with neither, such as ARM64.
    /// </summary>
    public static TheoryData<int> Widths() => [8, 4];

    private static void SkipUnlessAccelerated(int width) =>
        Skip.IfNot(LaneLqr.Supports(new MpcDimensions(2, 1, 1, 1), width), $"{width}-lane vectors are not hardware-accelerated here");

    public static TheoryData<int, int, int, int, bool, int> Batches()
    {
        var data = new TheoryData<int, int, int, int, bool, int>();
        foreach (int w in Widths())
        {
            data.Add(17, 5, 3, 6, true, w);
            data.Add(16, 2, 1, 4, false, w);
            data.Add(24, 9, 4, 3, true, w);
            data.Add(10, 16, 16, 2, true, w);
            data.Add(9, 24, 8, 3, true, w);      // n > 16: lanes serve n, m <= 64
            data.Add(8, 40, 20, 2, false, w);
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Batches))]
    public void EveryElementOfALargeBatch_EqualsTheElementSolvedAlone_Bitwise(int B, int n, int m, int T, bool withOffset, int width)
    {
        SkipUnlessAccelerated(width);
        var dims = new MpcDimensions(T, B, n, m);
        LqrCase k = RandomLqr.Create(7, dims, f: withOffset ? Layout.PerStage : null);
        var rng = new Random(3);
        double[] wx = Fill(rng, T * B * n), wu = Fill(rng, T * B * m);
        var solver = new LqrSolver(dims, null, width);
        MpcSolution sol = solver.Solve(k.Problem);
        MpcGradients g = solver.Backward(wx, wu);
        int N = n + m;

        for (int b = 0; b < B; b++)
        {
            LqrProblem single = Alone(k, dims, b);
            var s1 = new LqrSolver(single.Dimensions, null, width);
            MpcSolution o = s1.Solve(single);
            MpcGradients og = s1.Backward(Slice(wx, b, B, n, T), Slice(wu, b, B, m, T));
            Bitwise.Equal(o.X, Slice(sol.X, b, B, n, T), $"x of element {b}");
            Bitwise.Equal(o.U, Slice(sol.U, b, B, m, T), $"u of element {b}");
            Bitwise.Equal(o.Costates, Slice(sol.Costates, b, B, n, T), $"costates of element {b}");
            Bitwise.Equal([o.Cost[0]], [sol.Cost[b]], $"cost of element {b}");
            Bitwise.Equal(og.CostQuadratic, Slice(g.CostQuadratic, b, B, N * N, T), $"dL/dC of element {b}");
            Bitwise.Equal(og.CostLinear, Slice(g.CostLinear, b, B, N, T), $"dL/dc of element {b}");
            Bitwise.Equal(og.Dynamics, Slice(g.Dynamics, b, B, n * N, T - 1), $"dL/dF of element {b}");
            if (withOffset)
            {
                Bitwise.Equal(og.DynamicsOffset!, Slice(g.DynamicsOffset!, b, B, n, T - 1), $"dL/df of element {b}");
            }
            Bitwise.Equal(og.XInit, Slice(g.XInit, b, B, n, 1), $"dL/dx_init of element {b}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Widths))]
    public void ElementWithoutSolution_GetsZeroGradients_InAFullLaneGroup(int width)
    {
        SkipUnlessAccelerated(width);
        var dims = new MpcDimensions(5, 16, 4, 2);
        LqrCase k = RandomLqr.Create(11, dims);
        int N = 6, bad = 10;
        // An indefinite Q_uu for element 10 at the last stage: NotPositiveDefinite, no gradient.
        double[] C = k.C.Data;
        for (int i = 4; i < N; i++)
        {
            C[((4 * 16) + bad) * N * N + i * N + i] = -50;
        }
        var solver = new LqrSolver(dims, null, width);
        MpcSolution sol = solver.Solve(k.Problem);
        Assert.Equal(SolveStatus.NotPositiveDefinite, sol.Status[bad]);
        Assert.Equal(15, sol.Status.Count(s => s == SolveStatus.Converged));
        MpcGradients g = solver.Backward(Enumerable.Repeat(1.0, 5 * 16 * 4).ToArray(), null);
        Assert.False(g.Differentiated[bad]);
        Assert.All(Slice(g.CostQuadratic, bad, 16, N * N, 5), v => Assert.Equal(0.0, v));
        Assert.All(Slice(g.Dynamics, bad, 16, 4 * N, 4), v => Assert.Equal(0.0, v));
        Assert.Contains(Slice(g.CostQuadratic, bad + 1, 16, N * N, 5), v => v != 0);
    }

    public static TheoryData<int, bool> WidthsAndBox()
    {
        var data = new TheoryData<int, bool>();
        foreach (int w in Widths())
        {
            data.Add(w, false);
            data.Add(w, true);
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(WidthsAndBox))]
    public void AdjointThatOverflows_LeavesOnlyItsElementOut_InAFullLaneGroup(int width, bool box)
    {
        SkipUnlessAccelerated(width);
        // Finite loss gradients so large that the adjoint's outer products with the solution
        // overflow (element 3) or the adjoint itself does (element 6): those two are not
        // differentiated and get zero gradients; the others are exactly as with a small loss.
        // With bounds the box-constrained lanes run the same test.
        var dims = new MpcDimensions(5, 16, 4, 2);
        LqrCase k = RandomLqr.Create(12, dims);
        int T = 5, B = 16, n = 4, N = 6;
        var rng = new Random(8);
        double[] wx = Fill(rng, T * B * n), wu = Fill(rng, T * B * 2);
        LqrProblem problem = box
            ? new LqrProblem(dims, k.XInit, k.Problem.CostQuadratic, k.Problem.CostLinear, k.Problem.Dynamics, k.Problem.DynamicsOffset,
                StageArray.Scalar(-0.3), StageArray.Scalar(0.3))
            : k.Problem;
        var solver = new LqrSolver(dims, null, width);
        Assert.True(solver.Solve(problem).AllConverged);
        Assert.Equal(box, solver.SolvedInBoxLanes);
        Assert.True(!box || solver.Solve(problem).ActiveBounds.Sum() > 0, "some bounds must be active");
        MpcGradients reference = solver.Backward(wx, wu);
        double[] dC = (double[])reference.CostQuadratic.Clone(), dF = (double[])reference.Dynamics.Clone();
        double[] big = (double[])wx.Clone();
        for (int t = 0; t < T; t++)
        {
            big[((t * B) + 3) * n] = 1e306;
            for (int i = 0; i < n; i++)
            {
                big[((t * B) + 6) * n + i] = 1.7e308;
            }
        }

        MpcGradients g = solver.Backward(big, wu);
        for (int b = 0; b < B; b++)
        {
            bool left = b is 3 or 6;
            Assert.Equal(!left, g.Differentiated[b]);
            double[] cq = Slice(g.CostQuadratic, b, B, N * N, T), dyn = Slice(g.Dynamics, b, B, n * N, T - 1);
            if (left)
            {
                Assert.All(cq, v => Assert.Equal(0.0, v));
                Assert.All(dyn, v => Assert.Equal(0.0, v));
                Assert.All(Slice(g.XInit, b, B, n, 1), v => Assert.Equal(0.0, v));
            }
            else
            {
                Bitwise.Equal(Slice(dC, b, B, N * N, T), cq, $"dL/dC of element {b}");
                Bitwise.Equal(Slice(dF, b, B, n * N, T - 1), dyn, $"dL/dF of element {b}");
            }
        }
        if (box)
        {
            Assert.True(double.IsFinite(g.ControlLower![0]) && double.IsFinite(g.ControlUpper![0]), "the bound gradients leave the two out");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Widths))]
    public void NonFiniteValue_InALaterLaneGroup_IsRejected_AndLeavesNoSolution(int width)
    {
        SkipUnlessAccelerated(width);
        var dims = new MpcDimensions(6, 24, 3, 2);
        LqrCase k = RandomLqr.Create(5, dims);
        var solver = new LqrSolver(dims, null, width);
        Assert.True(solver.Solve(k.Problem).AllConverged);
        int at = ((3 * 24) + 21) * 25 + 7;   // stage 3, element 21 (third group)
        k.C.Data[at] = double.PositiveInfinity;

        var ex = Assert.ThrowsAny<ArgumentException>(() => solver.Solve(k.Problem));
        Assert.Equal("C", ex.ParamName);
        Assert.Contains(at.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));

        k.C.Data[at] = 0.25;
        Assert.True(solver.Solve(k.Problem).AllConverged);
        Assert.NotNull(solver.Backward(null, null));
    }

    [Fact]
    public void NonFiniteValue_InALaterGroup_OfABoxConstrainedBatch_IsRejected_BeforeBadBounds()
    {
        var dims = new MpcDimensions(6, 24, 3, 2);
        LqrCase k = RandomLqr.Create(5, dims);
        double[] lower = Enumerable.Repeat(-1.0, 6 * 24 * 2).ToArray(), upper = Enumerable.Repeat(1.0, 6 * 24 * 2).ToArray();
        var boxed = new LqrProblem(dims, k.XInit, k.C, k.c, k.F, k.f, StageArray.PerStage(lower), StageArray.PerStage(upper));
        var solver = new LqrSolver(dims);
        Assert.True(solver.Solve(boxed).AllConverged);
        int at = ((2 * 24) + 19) * 10 + 4;   // F, stage 2, element 19
        k.F.Data[at] = double.NaN;
        var ex = Assert.ThrowsAny<ArgumentException>(() => solver.Solve(boxed));
        Assert.Equal("F", ex.ParamName);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));

        // With bad bounds too, the data's bad value is reported first (the order of ValidateValues).
        lower[5] = 2.0;
        Assert.Equal("F", Assert.ThrowsAny<ArgumentException>(() => solver.Solve(boxed)).ParamName);
        k.F.Data[at] = 0.1;
        Assert.Equal("uLower", Assert.ThrowsAny<ArgumentException>(() => solver.Solve(boxed)).ParamName);
        lower[5] = -1.0;
        Assert.True(solver.Solve(boxed).AllConverged);
        Assert.NotNull(solver.Backward(null, null));
    }

    [SkippableTheory]
    [MemberData(nameof(Widths))]
    public void LanePath_AgreesWithThePerProblemKernels(int width)
    {
        SkipUnlessAccelerated(width);
        foreach ((int T, int B, int n, int m, int seed) in new[]
        {
            (7, 13, 6, 2, 1), (3, 9, 12, 5, 2), (12, 8, 1, 1, 3), (5, 21, 16, 16, 4), (4, 10, 33, 17, 5), (3, 8, 64, 64, 6),
        })
        {
            var dims = new MpcDimensions(T, B, n, m);
            LqrCase k = RandomLqr.Create(seed, dims, C: Layout.TimeInvariant, f: Layout.Shared, asymmetricC: true);
            var rng = new Random(seed);
            double[] wx = Fill(rng, T * B * n), wu = Fill(rng, T * B * m);
            var lanes = new LqrSolver(dims, null, width);
            var perProblem = new LqrSolver(dims, null, 0);
            MpcSolution a = lanes.Solve(k.Problem), b = perProblem.Solve(k.Problem);
            Assert.True(a.AllConverged && b.AllConverged);
            Compare.Relative(b.X, a.X, 1e-11, "x");
            Compare.Relative(b.U, a.U, 1e-11, "u");
            Compare.Relative(b.Costates, a.Costates, 1e-11, "costates");
            Compare.Relative(b.Cost, a.Cost, 1e-11, "cost");
            MpcGradients ga = lanes.Backward(wx, wu), gb = perProblem.Backward(wx, wu);
            Compare.Relative(gb.CostQuadratic, ga.CostQuadratic, 1e-10, "dL/dC");
            Compare.Relative(gb.CostLinear, ga.CostLinear, 1e-10, "dL/dc");
            Compare.Relative(gb.Dynamics, ga.Dynamics, 1e-10, "dL/dF");
            Compare.Relative(gb.DynamicsOffset!, ga.DynamicsOffset!, 1e-10, "dL/df");
            Compare.Relative(gb.XInit, ga.XInit, 1e-10, "dL/dx_init");
        }
    }

    [SkippableFact]
    public void PublicConstructor_UsesLanes_OnlyForBatchesThatFillAGroup()
    {
        int w = LaneLqr.PreferredWidth;
        Skip.If(w == 0, "no accelerated SIMD width here");
        Assert.Equal(w, LaneLqr.ChosenWidth(new MpcDimensions(20, w, 10, 4)));
        Assert.Equal(w, LaneLqr.ChosenWidth(new MpcDimensions(20, 3 * w + 1, 64, 64)));
        Assert.Equal(0, LaneLqr.ChosenWidth(new MpcDimensions(20, w - 1, 10, 4)));     // a group would be mostly padding
        Assert.Equal(0, LaneLqr.ChosenWidth(new MpcDimensions(20, 64, 65, 4)));        // beyond the lane kernels' range
        Assert.Equal(0, LaneLqr.ChosenWidth(new MpcDimensions(2000, 64, 64, 16)));     // a group's packed data would exceed 128 MB
        Assert.False(LaneLqr.SupportsBox(new MpcDimensions(20, 64, 17, 4), w));        // box lanes: n, m <= 16
        Assert.False(LaneLqr.SupportsBox(new MpcDimensions(1, 64, 4, 4), w));          // and T > 1
    }

    [SkippableFact]
    public void ElementAlone_AgreesWithItsResultInALaneBatch_ToRounding()
    {
        // B = 9 runs in lanes, B = 1 on the per-problem kernels: the same problem, other rounding.
        Skip.If(LaneLqr.ChosenWidth(new MpcDimensions(4, 9, 24, 8)) == 0, "no lane path here");
        int T = 4, B = 9, n = 24, m = 8, N = n + m;
        var dims = new MpcDimensions(T, B, n, m);
        LqrCase k = RandomLqr.Create(21, dims, f: Layout.PerStage);
        var rng = new Random(4);
        double[] wx = Fill(rng, T * B * n), wu = Fill(rng, T * B * m);
        MpcSolution sol = Mpc.Solve(k.Problem);
        MpcGradients g = Mpc.Backward(sol, wx, wu);
        foreach (int b in new[] { 0, 5, 8 })
        {
            MpcSolution o = Mpc.Solve(Alone(k, dims, b));
            MpcGradients og = Mpc.Backward(o, Slice(wx, b, B, n, T), Slice(wu, b, B, m, T));
            Compare.Relative(o.X, Slice(sol.X, b, B, n, T), 1e-11, $"x of element {b}");
            Compare.Relative(o.U, Slice(sol.U, b, B, m, T), 1e-11, $"u of element {b}");
            Compare.Relative(og.CostQuadratic, Slice(g.CostQuadratic, b, B, N * N, T), 1e-10, $"dL/dC of element {b}");
            Compare.Relative(og.Dynamics, Slice(g.Dynamics, b, B, n * N, T - 1), 1e-10, $"dL/dF of element {b}");
            Compare.Relative(og.XInit, Slice(g.XInit, b, B, n, 1), 1e-10, $"dL/dx_init of element {b}");
        }
    }

    private static double[] Fill(Random rng, int length)
    {
        var a = new double[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = rng.NextDouble() * 2 - 1;
        }
        return a;
    }

    /// <summary>Element b's entries of a [stages][B][size] array, as a [stages][1][size] array.</summary>
    private static double[] Slice(double[] a, int b, int B, int size, int stages)
    {
        var r = new double[stages * size];
        for (int t = 0; t < stages; t++)
        {
            Array.Copy(a, (t * B + b) * size, r, t * size, size);
        }
        return r;
    }

    /// <summary>Element b of a batch of unshared inputs as a problem of its own (B = 1).</summary>
    private static LqrProblem Alone(LqrCase k, MpcDimensions dims, int b)
    {
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, N = dims.TauDim;
        return new LqrProblem(new MpcDimensions(T, 1, n, dims.ControlDim), Slice(k.XInit, b, B, n, 1),
            Elem(k.C.Data, T, b, B, N * N), Elem(k.c.Data, T, b, B, N), Elem(k.F.Data, T - 1, b, B, n * N),
            k.f is null ? null : Elem(k.f.Data, T - 1, b, B, n));
    }

    private static StageArray Elem(double[] a, int stages, int b, int B, int size) => StageArray.PerStage(Slice(a, b, B, size, stages));
}
