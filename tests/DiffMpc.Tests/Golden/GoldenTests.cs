using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Golden;

/// <summary>
/// Runs every golden case in ../shared/golden (or $DIFFMPC_GOLDEN_DIR): one test per file, named
/// after it. Kinds the library cannot solve yet are skipped with the reason.
/// </summary>
public sealed class GoldenTests
{
    private const double TrajectoryTol = 1e-6;
    private const double GradientTol = 1e-5;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(RepoPaths.GoldenDir))
        {
            foreach (string file in Directory.GetFiles(RepoPaths.GoldenDir, "*.json").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }
        }
        return data;
    }

    [Fact]
    public void GoldenFolder_HoldsCases()
    {
        Assert.True(Directory.Exists(RepoPaths.GoldenDir), $"golden folder not found: {RepoPaths.GoldenDir}");
        Assert.NotEmpty(Directory.GetFiles(RepoPaths.GoldenDir, "*.json"));
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Case(string file)
    {
        GoldenCase g = GoldenCase.Load(Path.Combine(RepoPaths.GoldenDir, file));
        Assert.Equal(1, g.Format);
        switch (g.Kind)
        {
            case "lqr":
            case "box_lqr":
                RunLinearQuadratic(g);
                break;
            case "ilqr":
                Skip.If(true, $"{g.Name}: kind 'ilqr' (nonlinear dynamics) is not implemented yet (issue 4).");
                break;
            default:
                Skip.If(true, $"{g.Name}: kind '{g.Kind}' is not known to this version of the tests.");
                break;
        }
    }

    private static void RunLinearQuadratic(GoldenCase g)
    {
        var dims = new MpcDimensions(g.T, g.B, g.N, g.M);
        double[]? f = g.Array("inputs.f");
        var problem = new LqrProblem(dims, g.Required("inputs.x_init"), g.Required("inputs.C"), g.Required("inputs.c"),
            g.Array("inputs.F") is { } F ? StageArray.PerStage(F) : null, f is null ? null : StageArray.PerStage(f),
            Bound(g, "inputs.u_lower"), Bound(g, "inputs.u_upper"));

        MpcSolution sol = Mpc.Solve(problem);
        if (problem.HasControlBounds)
        {
            Assert.All(sol.KktResidual, r => Assert.True(r <= 1e-9, $"{g.Name}: KKT residual {r}"));
        }
        Assert.All(sol.Status, s => Assert.Equal(SolveStatus.Converged, s));
        Compare.Absolute(g.Required("expected.x"), sol.X, TrajectoryTol, $"{g.Name} x");
        Compare.Absolute(g.Required("expected.u"), sol.U, TrajectoryTol, $"{g.Name} u");
        Compare.Absolute(g.Required("expected.cost"), sol.Cost, TrajectoryTol, $"{g.Name} cost");

        MpcGradients grad = Mpc.Backward(sol, g.Required("loss.wx"), g.Required("loss.wu"));
        IReadOnlyList<string> given = g.Members("expected_grad");
        Assert.NotEmpty(given);
        foreach (string name in given)
        {
            double[] actual = name switch
            {
                "C" => grad.CostQuadratic,
                "c" => grad.CostLinear,
                "F" => grad.Dynamics,
                "f" => grad.DynamicsOffset ?? throw new Xunit.Sdk.XunitException($"{g.Name}: gradient for f expected, but the problem has no f."),
                "x_init" => grad.XInit,
                "u_lower" => grad.ControlLower ?? throw new Xunit.Sdk.XunitException($"{g.Name}: gradient for u_lower expected, but the problem has no lower bound."),
                "u_upper" => grad.ControlUpper ?? throw new Xunit.Sdk.XunitException($"{g.Name}: gradient for u_upper expected, but the problem has no upper bound."),
                _ => throw new Xunit.Sdk.XunitException($"{g.Name}: expected_grad.{name} is not a gradient this test knows how to check."),
            };
            Compare.Relative(g.Required($"expected_grad.{name}"), actual, GradientTol, $"{g.Name} dL/d{name}");
        }
    }

    /// <summary>A bound given as a scalar (every t, b, i) or as a [T][B][m] array; null when absent.</summary>
    private static StageArray? Bound(GoldenCase g, string path) =>
        g.IsScalar(path) ? StageArray.Scalar(g.Required(path)[0]) : g.Array(path) is { } a ? StageArray.PerStage(a) : null;
}
