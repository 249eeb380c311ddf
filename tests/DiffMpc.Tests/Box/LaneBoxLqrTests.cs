// The box-constrained LQR on the SIMD-lane path, for each lane width (8 batch elements per
// Vector512, 4 per Vector256; a width the machine lacks runs the per-element path, or is
// skipped where only the lanes are of interest), against the per-element path forced on the
// same solver type: random problems of many shapes, bound kinds
// (two-sided, one-sided, absent, equal) and layouts (per stage, broadcast over time, batch or
// both, scalar), warm starts and options; the scalar active-set fallback of unverified lanes;
// failing lanes isolated from their neighbours; an element's result independent of its batch.
using System.Globalization;
using DiffMpc.Lqr;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace DiffMpc.Tests.Box;

public sealed class LaneBoxLqrTests(ITestOutputHelper output)
{
    /// <summary>Agreement asked of the lane path with the per-element path (relative to each array's scale).</summary>
    private const double Tolerance = 1e-9;

    /// <summary>The lane widths: 8 (Vector512) and 4 (Vector256).</summary>
    private static readonly int[] Widths = [8, 4];

    /// <summary>(T, B, n, m, layout variant, options variant, warm start, seed, lane width).</summary>
    public static TheoryData<int, int, int, int, int, int, bool, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, bool, int, int>();
        foreach (int width in Widths)
        {
            foreach ((int T, int B, int n, int m, int layout, int options, bool warm, int seed) in BaseShapes)
            {
                data.Add(T, B, n, m, layout, options, warm, seed, width);
            }
        }
        return data;
    }

    /// <summary>(T, B, n, m, layout variant, options variant, warm start, seed).</summary>
    private static readonly (int, int, int, int, int, int, bool, int)[] BaseShapes =
    [
        (20, 13, 8, 4, 0, 0, false, 1),
        (5, 9, 1, 1, 0, 0, false, 2),
        (25, 11, 16, 16, 0, 0, true, 3),
        (12, 17, 3, 7, 1, 0, false, 4),
        (2, 3, 16, 1, 2, 0, false, 5),
        (1, 10, 4, 3, 0, 0, true, 6),    // T = 1: per-element path either way
        (7, 21, 10, 2, 3, 1, false, 7),  // trust region
        (9, 8, 5, 5, 1, 2, true, 8),     // control regularisation
        (15, 19, 6, 3, 2, 3, false, 9),  // iteration limit, unconverged elements differentiated
        (18, 31, 8, 4, 3, 0, true, 10),
        (4, 5, 2, 12, 0, 1, true, 11),
        (11, 26, 13, 9, 1, 0, false, 12),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LanePath_MatchesPerElementPath(int T, int B, int n, int m, int layout, int optionsVariant, bool warmStart, int seed,
        int width)
    {
        var dims = new MpcDimensions(T, B, n, m);
        var rng = new Random(seed);
        LqrProblem problem = BuildProblem(dims, layout, seed, rng);
        MpcOptions options = OptionsVariant(optionsVariant);
        double[]? uInit = warmStart ? BoxTestProblems.Normals(rng, T * B * m, 0.7) : null;
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, seed + 100);

        var lane = new LqrSolver(dims, options, width);
        var scalar = new LqrSolver(dims, options) { ForceScalarBox = true };
        Result a = Run(lane, problem, uInit, wx, wu);
        Assert.Equal(LaneLqr.SupportsBox(dims, width), lane.SolvedInBoxLanes);
        Result b = Run(scalar, problem, uInit, wx, wu);
        Assert.False(scalar.SolvedInBoxLanes);

        double worst = AssertAgree(b, a, $"seed {seed} ({dims}, layout {layout}, options {optionsVariant})");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dims} width {width} layout {layout} options {optionsVariant}: {a.Solution.ConvergedCount}/{B} converged, "
            + $"{a.Solution.ActiveBounds.Sum()} active bounds, fallbacks {lane.BoxLaneFallbacks}, worst relative difference {worst:E2}"));
    }

    /// <summary>
    /// Unstable dynamics (spectral radius 1.5) make control-limited DDP stall on some elements:
    /// their lanes go to the per-element active-set method, and every element ends as on the
    /// per-element path.
    /// </summary>
    [SkippableTheory]
    [InlineData(8)]
    [InlineData(4)]
    public void StalledLanes_HandOverToActiveSetMethod_AndMatchPerElementPath(int width)
    {
        RandomLqr data = BoxTestProblems.Generate(new MpcDimensions(Horizon: 15, BatchSize: 32, StateDim: 8, ControlDim: 4),
            seed: 1505, costScale: 5.0, spectralRadius: 1.5);
        MpcDimensions dims = data.Dims;
        SkipUnlessSupported(dims, width);
        LqrProblem problem = data.Build(StageArray.Scalar(-1), StageArray.Scalar(1));
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 3);
        var lane = new LqrSolver(dims, null, width);
        Result a = Run(lane, problem, null, wx, wu);
        Assert.True(lane.SolvedInBoxLanes);
        Assert.True(lane.BoxLaneFallbacks > 0, "the unstable case should need the active-set handover");
        Result b = Run(new LqrSolver(dims) { ForceScalarBox = true }, problem, null, wx, wu);
        double worst = AssertAgree(b, a, "spectral radius 1.5", iterationSlack: 2);
        Assert.True(a.Solution.ConvergedCount >= dims.BatchSize - 2, $"{a.Solution.ConvergedCount} of {dims.BatchSize} converged");
        Assert.True(a.Solution.U.All(u => u >= -1 && u <= 1));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"width {width}: fallbacks {lane.BoxLaneFallbacks}/{dims.BatchSize}, converged {a.Solution.ConvergedCount}, worst relative difference {worst:E2}"));
    }

    /// <summary>
    /// A lane whose Q_uu is not positive definite and one whose cost overflows report their
    /// status like the per-element path, and the other lanes of their groups are bitwise what
    /// they are when those two elements are benign.
    /// </summary>
    [SkippableTheory]
    [InlineData(8)]
    [InlineData(4)]
    public void FailingLanes_AreIsolatedFromTheirNeighbours(int width)
    {
        var dims = new MpcDimensions(Horizon: 6, BatchSize: 11, StateDim: 3, ControlDim: 2);
        SkipUnlessSupported(dims, width);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        RandomLqr good = BoxTestProblems.Generate(dims, seed: 42, costScale: 2.0);
        RandomLqr bad = BoxTestProblems.Generate(dims, seed: 42, costScale: 2.0);
        for (int i = 0; i < m; i++)
        {
            bad.C[((2 * B + 2) * N + n + i) * N + n + i] = -3;   // element 2: Q_uu of stage 2 indefinite
        }
        for (int i = 0; i < n; i++)
        {
            bad.XInit[9 * n + i] = 1e300;                        // element 9: the cost overflows
        }
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 9);
        StageArray lo = StageArray.Scalar(-0.5), hi = StageArray.Scalar(0.5);

        var solver = new LqrSolver(dims, null, width);
        Result withBad = Run(solver, bad.Build(lo, hi), null, wx, wu);
        Assert.True(solver.SolvedInBoxLanes);
        Result withGood = Run(solver, good.Build(lo, hi), null, wx, wu);
        Result scalar = Run(new LqrSolver(dims) { ForceScalarBox = true }, bad.Build(lo, hi), null, wx, wu);

        Assert.Equal(SolveStatus.NotPositiveDefinite, withBad.Solution.Status[2]);
        Assert.Equal(SolveStatus.NonFinite, withBad.Solution.Status[9]);
        Assert.Equal(scalar.Solution.Status, withBad.Solution.Status);
        Assert.False(withBad.Gradients.Differentiated[2] || withBad.Gradients.Differentiated[9]);
        for (int b = 0; b < B; b++)
        {
            if (b is 2 or 9)
            {
                Assert.True(double.IsNaN(withBad.Solution.Cost[b]));
                continue;
            }
            Assert.Equal(SolveStatus.Converged, withBad.Solution.Status[b]);
            Bitwise.Equal(Slice(withGood.Solution.U, T, B, m, b), Slice(withBad.Solution.U, T, B, m, b), $"u of element {b}");
            Bitwise.Equal(Slice(withGood.Solution.X, T, B, n, b), Slice(withBad.Solution.X, T, B, n, b), $"x of element {b}");
            Bitwise.Equal(Slice(withGood.Solution.Costates, T, B, n, b), Slice(withBad.Solution.Costates, T, B, n, b), $"costates of element {b}");
            Bitwise.Equal(Slice(withGood.Gradients.CostQuadratic, T, B, N * N, b), Slice(withBad.Gradients.CostQuadratic, T, B, N * N, b),
                $"dL/dC of element {b}");
            Bitwise.Equal(Slice(withGood.Gradients.XInit, 1, B, n, b), Slice(withBad.Gradients.XInit, 1, B, n, b), $"dL/dx_init of element {b}");
            Assert.Equal(withGood.Solution.Cost[b], withBad.Solution.Cost[b]);
        }
    }

    /// <summary>
    /// An element solved alone (its lane group padded with copies of it) gets the bits it gets in
    /// a batch. Group-wide decisions (how long a group iterates, whether a sweep reuses the
    /// previous iteration's stages) differ between the two, so this also checks they are exact.
    /// </summary>
    [SkippableTheory]
    [InlineData(8)]
    [InlineData(4)]
    public void ElementAlone_IsBitwiseTheElementInTheBatch(int width)
    {
        var dims = new MpcDimensions(Horizon: 10, BatchSize: 13, StateDim: 5, ControlDim: 3);
        SkipUnlessSupported(dims, width);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        RandomLqr data = BoxTestProblems.Generate(dims, seed: 77, costScale: 3.0);
        LqrProblem problem = data.Build(StageArray.Scalar(-0.4), StageArray.Scalar(0.6));
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 77);
        Result batch = Run(new LqrSolver(dims, null, width), problem, null, wx, wu);
        var one = new MpcDimensions(T, 1, n, m);
        foreach (int b in new[] { 0, 6, 12 })
        {
            var alone = new LqrProblem(one, Slice(data.XInit, 1, B, n, b), Slice(data.C, T, B, N * N, b), Slice(data.c, T, B, N, b),
                StageArray.PerStage(Slice(data.F!, T - 1, B, n * N, b)), StageArray.PerStage(Slice(data.f!, T - 1, B, n, b)),
                StageArray.Scalar(-0.4), StageArray.Scalar(0.6));
            var solver = new LqrSolver(one, null, width);
            Result r = Run(solver, alone, null, Slice(wx, T, B, n, b), Slice(wu, T, B, m, b));
            Assert.True(solver.SolvedInBoxLanes);
            Bitwise.Equal(Slice(batch.Solution.U, T, B, m, b), r.Solution.U, $"u of element {b}");
            Bitwise.Equal(Slice(batch.Solution.Costates, T, B, n, b), r.Solution.Costates, $"costates of element {b}");
            Bitwise.Equal(Slice(batch.Gradients.CostQuadratic, T, B, N * N, b), r.Gradients.CostQuadratic, $"dL/dC of element {b}");
            Bitwise.Equal(Slice(batch.Gradients.Dynamics, T - 1, B, n * N, b), r.Gradients.Dynamics, $"dL/dF of element {b}");
            Assert.Equal(batch.Solution.Iterations[b], r.Solution.Iterations[0]);
        }
    }

    private static void SkipUnlessSupported(MpcDimensions dims, int width) =>
        Skip.IfNot(LaneLqr.Supports(dims, width), $"{width}-lane vectors are not hardware-accelerated here");

    /// <summary>Copies of a solve's outputs (the solver's own objects are overwritten by its next call).</summary>
    private sealed record Solution(double[] X, double[] U, double[] Costates, double[] Cost, SolveStatus[] Status, int[] Iterations,
        int[] ActiveBounds)
    {
        public int ConvergedCount => Status.Count(st => st == SolveStatus.Converged);
    }

    private sealed record Gradients(double[] CostQuadratic, double[] CostLinear, double[] Dynamics, double[]? DynamicsOffset,
        double[] XInit, double[]? ControlLower, double[]? ControlUpper, bool[] Differentiated);

    private sealed record Result(Solution Solution, Gradients Gradients);

    /// <summary>Solves and differentiates, returning copies.</summary>
    private static Result Run(LqrSolver solver, LqrProblem problem, double[]? uInit, double[] wx, double[] wu)
    {
        MpcSolution s = solver.Solve(problem, uInit);
        var sol = new Solution((double[])s.X.Clone(), (double[])s.U.Clone(), (double[])s.Costates.Clone(), (double[])s.Cost.Clone(),
            (SolveStatus[])s.Status.Clone(), (int[])s.Iterations.Clone(), (int[])s.ActiveBounds.Clone());
        MpcGradients g = solver.Backward(wx, wu);
        var grad = new Gradients((double[])g.CostQuadratic.Clone(), (double[])g.CostLinear.Clone(), (double[])g.Dynamics.Clone(),
            (double[]?)g.DynamicsOffset?.Clone(), (double[])g.XInit.Clone(), (double[]?)g.ControlLower?.Clone(),
            (double[]?)g.ControlUpper?.Clone(), (bool[])g.Differentiated.Clone());
        return new Result(sol, grad);
    }

    /// <summary>
    /// Asserts agreement of every output; returns the worst relative difference seen. Iteration
    /// counts must match exactly unless <paramref name="iterationSlack"/> allows round-off to move
    /// an ill-conditioned element's stopping point by a few iterations.
    /// </summary>
    private static double AssertAgree(Result expected, Result actual, string what, int iterationSlack = 0)
    {
        Solution e = expected.Solution, a = actual.Solution;
        Assert.Equal(e.Status, a.Status);
        Assert.Equal(e.ActiveBounds, a.ActiveBounds);
        for (int b = 0; b < e.Iterations.Length; b++)
        {
            Assert.True(Math.Abs(e.Iterations[b] - a.Iterations[b]) <= iterationSlack,
                $"{what}: element {b} took {a.Iterations[b]} iterations, {e.Iterations[b]} on the per-element path");
        }
        Assert.Equal(expected.Gradients.Differentiated, actual.Gradients.Differentiated);
        double worst = 0;
        worst = Math.Max(worst, Close(e.X, a.X, $"{what}: X"));
        worst = Math.Max(worst, Close(e.U, a.U, $"{what}: U"));
        worst = Math.Max(worst, Close(e.Costates, a.Costates, $"{what}: costates"));
        worst = Math.Max(worst, Close(e.Cost, a.Cost, $"{what}: cost"));
        Gradients ge = expected.Gradients, ga = actual.Gradients;
        worst = Math.Max(worst, Close(ge.CostQuadratic, ga.CostQuadratic, $"{what}: dL/dC"));
        worst = Math.Max(worst, Close(ge.CostLinear, ga.CostLinear, $"{what}: dL/dc"));
        worst = Math.Max(worst, Close(ge.Dynamics, ga.Dynamics, $"{what}: dL/dF"));
        worst = Math.Max(worst, Close(ge.DynamicsOffset, ga.DynamicsOffset, $"{what}: dL/df"));
        worst = Math.Max(worst, Close(ge.XInit, ga.XInit, $"{what}: dL/dx_init"));
        worst = Math.Max(worst, Close(ge.ControlLower, ga.ControlLower, $"{what}: dL/du_lower"));
        worst = Math.Max(worst, Close(ge.ControlUpper, ga.ControlUpper, $"{what}: dL/du_upper"));
        return worst;
    }

    /// <summary>
    /// |actual - expected| &lt;= Tolerance * max(1, max |expected|) entry by entry (NaN where
    /// expected is NaN); returns the worst difference relative to that scale.
    /// </summary>
    private static double Close(double[]? expected, double[]? actual, string what)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is null || actual is null)
        {
            return 0;
        }
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1;
        foreach (double v in expected)
        {
            if (double.IsFinite(v))
            {
                scale = Math.Max(scale, Math.Abs(v));
            }
        }
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]))
            {
                Assert.True(double.IsNaN(actual[i]), $"{what}: entry {i} is {actual[i]}, expected NaN");
                continue;
            }
            double d = Math.Abs(actual[i] - expected[i]) / scale;
            Assert.True(d <= Tolerance, string.Create(CultureInfo.InvariantCulture,
                $"{what}: entry {i} is {actual[i]:R}, expected {expected[i]:R} (difference {d:E2} of the scale {scale:G4})"));
            worst = Math.Max(worst, d);
        }
        return worst;
    }

    private static MpcOptions OptionsVariant(int variant) => variant switch
    {
        1 => new MpcOptions { TrustRegion = 0.25 },
        2 => new MpcOptions { ControlRegularization = 0.05, BoxQpMaxIterations = 3 },
        3 => new MpcOptions { MaxIterations = 3, DifferentiateUnconverged = true },
        _ => MpcOptions.Default,
    };

    /// <summary>
    /// A random problem in one of four layouts. 0: everything per stage, bounds of every kind per
    /// entry; 1: C time-invariant, c batch-shared, F shared, f time-invariant, lower bounds
    /// time-invariant, upper bound a scalar; 2: C shared, F batch-shared, no f, lower bounds only
    /// (batch-shared); 3: c shared, upper bounds only (shared over time and batch).
    /// </summary>
    private static LqrProblem BuildProblem(MpcDimensions dims, int layout, int seed, Random rng)
    {
        RandomLqr d = BoxTestProblems.Generate(dims, seed, costScale: 3.0, withOffset: layout != 2);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim, S = T - 1;
        StageArray? F = d.F is null ? null : StageArray.PerStage(d.F);
        StageArray? f = d.f is null ? null : StageArray.PerStage(d.f);
        switch (layout)
        {
            case 1:
            {
                (double[] lo, _) = Bounds(rng, B * m, lowerOnly: true);
                return new LqrProblem(dims, d.XInit, StageArray.TimeInvariant(d.C[..(B * N * N)]),
                    StageArray.BatchShared(Slice(d.c, T, B, N, 0)), d.F is null ? null : StageArray.Shared(d.F[..(n * N)]),
                    d.f is null ? null : StageArray.TimeInvariant(d.f[..(B * n)]),
                    StageArray.TimeInvariant(lo), StageArray.Scalar(0.6));
            }
            case 2:
            {
                (double[] lo, _) = Bounds(rng, T * m, lowerOnly: true);
                return new LqrProblem(dims, d.XInit, StageArray.Shared(d.C[..(N * N)]), StageArray.PerStage(d.c),
                    d.F is null ? null : StageArray.BatchShared(Slice(d.F, S, B, n * N, 0)), null,
                    StageArray.BatchShared(lo), null);
            }
            case 3:
            {
                (_, double[] hi) = Bounds(rng, m, upperOnly: true);
                return new LqrProblem(dims, d.XInit, StageArray.PerStage(d.C), StageArray.Shared(d.c[..N]), F, f,
                    null, StageArray.Shared(hi));
            }
            default:
            {
                (double[] lo, double[] hi) = Bounds(rng, T * B * m);
                return new LqrProblem(dims, d.XInit, StageArray.PerStage(d.C), StageArray.PerStage(d.c), F, f,
                    StageArray.PerStage(lo), StageArray.PerStage(hi));
            }
        }
    }

    /// <summary>
    /// Random bounds per entry: two-sided, lower only, upper only, none, or equal (a fixed
    /// control); with <paramref name="lowerOnly"/> or <paramref name="upperOnly"/> the other side
    /// is absent and the given one finite or infinite.
    /// </summary>
    private static (double[] Lo, double[] Hi) Bounds(Random rng, int count, bool lowerOnly = false, bool upperOnly = false)
    {
        var lo = new double[count];
        var hi = new double[count];
        for (int k = 0; k < count; k++)
        {
            double a = -0.1 - rng.NextDouble(), b = 0.1 + rng.NextDouble();
            int kind = lowerOnly || upperOnly ? rng.Next(4) == 0 ? 3 : lowerOnly ? 1 : 2 : rng.Next(8);
            (lo[k], hi[k]) = kind switch
            {
                1 => (a, double.PositiveInfinity),
                2 => (double.NegativeInfinity, b),
                3 => (double.NegativeInfinity, double.PositiveInfinity),
                4 => (0.3 * a, 0.3 * a),
                _ => (a, b),
            };
        }
        return (lo, hi);
    }

    /// <summary>Element b's entries of a [S][B][size] array, as [S][size].</summary>
    private static double[] Slice(double[] a, int S, int B, int size, int b)
    {
        var r = new double[S * size];
        for (int t = 0; t < S; t++)
        {
            Array.Copy(a, (t * B + b) * size, r, t * size, size);
        }
        return r;
    }
}
