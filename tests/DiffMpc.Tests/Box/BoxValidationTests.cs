using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Box;

/// <summary>
/// Argument checking of bounds, warm starts and options, and the behaviour of the box solver
/// under its options: infinite bounds, warm starts, iteration limits, trust regions.
/// </summary>
public sealed class BoxValidationTests
{
    private static readonly MpcDimensions Dims = new(Horizon: 3, BatchSize: 2, StateDim: 2, ControlDim: 2);

    private static RandomLqr Data(int seed = 5) => BoxTestProblems.Generate(Dims, seed, costScale: 2.0);

    private static double[] Full(double value) => [.. Enumerable.Repeat(value, 3 * 2 * 2)];

    // ---- bound values -------------------------------------------------------------------

    [Fact]
    public void LowerAboveUpper_Throws_NamingEntryAndValues()
    {
        double[] lo = Full(-1), hi = Full(1);
        lo[7] = 0.5;
        hi[7] = 0.25; // t = 1, b = 1, i = 1
        LqrProblem p = Data().Build(lo, hi);
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(p));
        Assert.Equal("uLower", ex.ParamName);
        Assert.Contains("t=1, b=1, i=1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0.5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0.25", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LowerAboveUpper_WithBroadcastBounds_Throws()
    {
        LqrProblem p = Data().Build(StageArray.Shared([-1, 0.3]), StageArray.Scalar(0.2));
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(p));
        Assert.Equal("uLower", ex.ParamName);
        Assert.Contains("i=1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EqualBounds_AreAllowed_AndFixTheControl()
    {
        double[] lo = Full(-1), hi = Full(1);
        lo[3] = hi[3] = 0.125;
        MpcSolution sol = Mpc.Solve(Data().Build(lo, hi));
        Assert.True(sol.AllConverged);
        Assert.Equal(0.125, sol.U[3]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NaNBound_Throws(bool lower)
    {
        double[] bound = Full(lower ? -1 : 1);
        bound[4] = double.NaN;
        LqrProblem p = lower ? Data().Build(bound, null) : Data().Build(null, bound);
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(p));
        Assert.Equal(lower ? "uLower" : "uUpper", ex.ParamName);
        Assert.Contains("entry 4 is NaN", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NaNScalarBound_Throws()
    {
        LqrProblem p = Data().Build(StageArray.Scalar(double.NaN), StageArray.Scalar(1));
        Assert.Equal("uLower", Assert.Throws<ArgumentException>(() => Mpc.Solve(p)).ParamName);
    }

    [Fact]
    public void PositiveInfinityLower_Throws()
    {
        double[] lo = Full(-1);
        lo[2] = double.PositiveInfinity;
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(Data().Build(lo, null)));
        Assert.Equal("uLower", ex.ParamName);
        Assert.Contains("Infinity", ex.Message, StringComparison.Ordinal);
        Assert.Contains("entry 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeInfinityUpper_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(Data().Build(null, StageArray.Scalar(double.NegativeInfinity))));
        Assert.Equal("uUpper", ex.ParamName);
        Assert.Contains("-Infinity", ex.Message, StringComparison.Ordinal);
    }

    // ---- bound shapes -------------------------------------------------------------------

    public static TheoryData<string, int, string> WrongShapes() => new()
    {
        // layout, length given, expected shape text
        { "PerStage", 11, "[T=3][B=2][m=2] = 12 values; got 11" },
        { "PerStage", 13, "[T=3][B=2][m=2] = 12 values; got 13" },
        { "TimeInvariant", 3, "[B=2][m=2] = 4 values; got 3" },
        { "BatchShared", 4, "[T=3][m=2] = 6 values; got 4" },
        { "Shared", 3, "[m=2] = 2 values; got 3" },
        { "Shared", 0, "[m=2] = 2 values; got 0" },
    };

    [Theory]
    [MemberData(nameof(WrongShapes))]
    public void WrongBoundShape_Throws_NamingExpectedAndActual(string layout, int length, string expected)
    {
        var data = new double[length];
        StageArray Make() => layout switch
        {
            "PerStage" => StageArray.PerStage(data),
            "TimeInvariant" => StageArray.TimeInvariant(data),
            "BatchShared" => StageArray.BatchShared(data),
            _ => StageArray.Shared(data),
        };
        RandomLqr d = Data();
        var exLo = Assert.Throws<ArgumentException>(() => d.Build(Make(), null));
        Assert.Equal("uLower", exLo.ParamName);
        Assert.Contains(expected, exLo.Message, StringComparison.Ordinal);
        var exHi = Assert.Throws<ArgumentException>(() => d.Build(StageArray.Scalar(-1), Make()));
        Assert.Equal("uUpper", exHi.ParamName);
        Assert.Contains(expected, exHi.Message, StringComparison.Ordinal);
    }

    // ---- warm starts --------------------------------------------------------------------

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(0)]
    public void WrongUInitLength_Throws_NamingExpectedAndActual(int length)
    {
        LqrProblem p = Data().Build(StageArray.Scalar(-1), StageArray.Scalar(1));
        var ex = Assert.Throws<ArgumentException>(() => Mpc.Solve(p, uInit: new double[length]));
        Assert.Equal("uInit", ex.ParamName);
        Assert.Contains($"[T=3][B=2][m=2] = 12 values; got {length} values", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonFiniteUInit_Throws(double bad)
    {
        LqrProblem p = Data().Build(StageArray.Scalar(-1), StageArray.Scalar(1));
        double[] uInit = new double[12];
        uInit[5] = bad;
        var ex = Assert.Throws<ArgumentException>(() => new LqrSolver(Dims).Solve(p, uInit));
        Assert.Equal("uInit", ex.ParamName);
        Assert.Contains("entry 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WarmStartFromSolution_ConvergesInOneIteration_ToTheSameSolution()
    {
        var dims = new MpcDimensions(Horizon: 10, BatchSize: 8, StateDim: 4, ControlDim: 3);
        RandomLqr d = BoxTestProblems.Generate(dims, 77, costScale: 4.0);
        LqrProblem p = d.Build(StageArray.Scalar(-0.5), StageArray.Scalar(0.5));
        MpcSolution cold = Mpc.Solve(p);
        Assert.True(cold.AllConverged);
        Assert.True(cold.Iterations.Max() > 1, "the cold start should need several iterations");
        Assert.True(cold.ActiveBounds.Sum() > 0);

        MpcSolution warm = Mpc.Solve(p, uInit: cold.U);
        Assert.True(warm.AllConverged);
        Assert.All(warm.Iterations, it => Assert.Equal(1, it));
        Compare.Absolute(cold.U, warm.U, 1e-12, "warm-started U");
        Compare.Absolute(cold.Cost, warm.Cost, 1e-12, "warm-started cost");
        Assert.Equal(cold.ActiveBounds, warm.ActiveBounds);
    }

    [Fact]
    public void InfeasibleWarmStart_IsClampedAndConverges()
    {
        LqrProblem p = Data().Build(StageArray.Scalar(-0.3), StageArray.Scalar(0.3));
        MpcSolution cold = Mpc.Solve(p);
        MpcSolution warm = Mpc.Solve(p, uInit: [.. Enumerable.Range(0, 12).Select(k => k % 2 == 0 ? 50.0 : -50.0)]);
        Assert.True(warm.AllConverged);
        Compare.Absolute(cold.U, warm.U, 1e-10, "U from an infeasible warm start");
    }

    // ---- infinite bounds ----------------------------------------------------------------

    public static TheoryData<string> InfiniteLayouts() => ["PerStage", "Scalar", "LowerOnly", "UpperOnly"];

    [Theory]
    [MemberData(nameof(InfiniteLayouts))]
    public void AllInfiniteBounds_GiveTheUnconstrainedAnswer(string layout)
    {
        var dims = new MpcDimensions(Horizon: 6, BatchSize: 3, StateDim: 3, ControlDim: 2);
        RandomLqr d = BoxTestProblems.Generate(dims, 31, costScale: 2.0);
        int count = 6 * 3 * 2;
        LqrProblem bounded = layout switch
        {
            "PerStage" => d.Build(Enumerable.Repeat(double.NegativeInfinity, count).ToArray(), Enumerable.Repeat(double.PositiveInfinity, count).ToArray()),
            "Scalar" => d.Build(StageArray.Scalar(double.NegativeInfinity), StageArray.Scalar(double.PositiveInfinity)),
            "LowerOnly" => d.Build(StageArray.Scalar(double.NegativeInfinity), null),
            _ => d.Build(null, StageArray.Shared([double.PositiveInfinity, double.PositiveInfinity])),
        };
        Assert.True(bounded.HasControlBounds);
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 3);

        var freeSolver = new LqrSolver(dims);
        MpcSolution free = freeSolver.Solve(d.Build(null, null));
        MpcGradients gFree = freeSolver.Backward(wx, wu);
        var boxSolver = new LqrSolver(dims);
        MpcSolution box = boxSolver.Solve(bounded);
        MpcGradients gBox = boxSolver.Backward(wx, wu);

        Assert.True(box.AllConverged);
        Assert.All(box.ActiveBounds, a => Assert.Equal(0, a));
        Compare.Absolute(free.U, box.U, 1e-10, $"{layout} U");
        Compare.Absolute(free.X, box.X, 1e-10, $"{layout} X");
        Compare.Relative(free.Cost, box.Cost, 1e-10, $"{layout} cost");
        Compare.Relative(gFree.CostLinear, gBox.CostLinear, 1e-10, $"{layout} dL/dc");
        Compare.Relative(gFree.CostQuadratic, gBox.CostQuadratic, 1e-10, $"{layout} dL/dC");
        Compare.Relative(gFree.Dynamics, gBox.Dynamics, 1e-10, $"{layout} dL/dF");
        Compare.Relative(gFree.XInit, gBox.XInit, 1e-10, $"{layout} dL/dx_init");
        foreach (double[]? bg in new[] { gBox.ControlLower, gBox.ControlUpper })
        {
            Assert.All(bg ?? [], v => Assert.Equal(0, v));
        }
    }

    // ---- options ------------------------------------------------------------------------

    public static TheoryData<string, MpcOptions> BadOptions() => new()
    {
        { "Tolerance", MpcOptions.Default with { Tolerance = 0 } },
        { "Tolerance", MpcOptions.Default with { Tolerance = -1e-10 } },
        { "Tolerance", MpcOptions.Default with { Tolerance = double.NaN } },
        { "MaxIterations", MpcOptions.Default with { MaxIterations = 0 } },
        { "LineSearchDecay", MpcOptions.Default with { LineSearchDecay = 0 } },
        { "LineSearchDecay", MpcOptions.Default with { LineSearchDecay = 1 } },
        { "LineSearchMaxSteps", MpcOptions.Default with { LineSearchMaxSteps = 0 } },
        { "TrustRegion", MpcOptions.Default with { TrustRegion = 0 } },
        { "TrustRegion", MpcOptions.Default with { TrustRegion = -1 } },
        { "TrustRegion", MpcOptions.Default with { TrustRegion = double.NaN } },
        // A trust region no larger than the tolerance: every step would pass for convergence.
        { "TrustRegion", MpcOptions.Default with { Tolerance = 1e-2, TrustRegion = 1e-3 } },
        { "TrustRegion", MpcOptions.Default with { Tolerance = 1e-8, TrustRegion = 1e-8 } },
        { "Tolerance", MpcOptions.Default with { Tolerance = double.PositiveInfinity } },
        { "BoxQpMaxIterations", MpcOptions.Default with { BoxQpMaxIterations = 0 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void OptionOutOfRange_Throws(string name, MpcOptions options)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LqrSolver(Dims, options));
        Assert.Equal(name, ex.ParamName);
        LqrProblem p = Data().Build(StageArray.Scalar(-1), StageArray.Scalar(1));
        Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(() => Mpc.Solve(p, options)).ParamName);
    }

    /// <summary>The paper-sized problem with one iteration allowed: not converged, yet feasible.</summary>
    private static (LqrProblem Problem, MpcDimensions Dims) HardProblem()
    {
        var dims = new MpcDimensions(Horizon: 20, BatchSize: 16, StateDim: 8, ControlDim: 4);
        RandomLqr d = BoxTestProblems.Generate(dims, 20180101, costScale: 5.0);
        return (d.Build(StageArray.Scalar(-1), StageArray.Scalar(1)), dims);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OneIteration_ReportsMaxIterations_FeasibleU_AndGradientsPerDifferentiateUnconverged(bool differentiate)
    {
        (LqrProblem p, MpcDimensions dims) = HardProblem();
        var solver = new LqrSolver(dims, MpcOptions.Default with { MaxIterations = 1, DifferentiateUnconverged = differentiate });
        MpcSolution sol = solver.Solve(p);
        Assert.All(sol.Status, s => Assert.Equal(SolveStatus.MaxIterations, s));
        Assert.All(sol.Iterations, it => Assert.Equal(1, it));
        Assert.All(sol.StepNorm, s => Assert.True(s > 1e-10));
        Assert.True(BoxTestProblems.Feasible(p, sol), "the last iterate must respect the bounds");
        Assert.All(sol.U, u => Assert.True(double.IsFinite(u)));
        Assert.All(sol.Cost, c => Assert.True(double.IsFinite(c)));
        Assert.All(sol.KktResidual, r => Assert.True(r > 1e-9, $"KKT residual {r} of an unconverged iterate"));

        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 8);
        MpcGradients g = solver.Backward(wx, wu);
        double[][] all = [g.CostQuadratic, g.CostLinear, g.Dynamics, g.DynamicsOffset!, g.XInit, g.ControlLower!, g.ControlUpper!];
        if (differentiate)
        {
            Assert.All(all.Take(5), a => Assert.Contains(a, v => v != 0));
            Assert.True(g.ControlLower![0] != 0 || g.ControlUpper![0] != 0);
            Assert.All(all, a => Assert.All(a, v => Assert.True(double.IsFinite(v))));
        }
        else
        {
            Assert.All(all, a => Assert.All(a, v => Assert.Equal(0, v)));
        }
    }

    [Fact]
    public void TrustRegion_ConvergesToTheSameSolution_InMoreIterations()
    {
        (LqrProblem p, _) = HardProblem();
        MpcSolution plain = Mpc.Solve(p);
        MpcSolution trusted = Mpc.Solve(p, MpcOptions.Default with { TrustRegion = 0.2 });
        Assert.True(plain.AllConverged);
        Assert.True(trusted.AllConverged, $"statuses {string.Join(",", trusted.Status)}");
        Assert.All(trusted.KktResidual, r => Assert.True(r < 1e-9));
        Compare.Absolute(plain.U, trusted.U, 1e-8, "U with a trust region");
        Compare.Relative(plain.Cost, trusted.Cost, 1e-10, "cost with a trust region");
        Assert.True(trusted.Iterations.Sum() > plain.Iterations.Sum(),
            $"a 0.2 trust region from u = 0 should need more iterations ({trusted.Iterations.Sum()} vs {plain.Iterations.Sum()})");
    }
}
