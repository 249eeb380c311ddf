// Backward with a subset of GradientKinds: the kinds asked for are bitwise the gradients of a full
// backward pass, every other array holds zeros (also after a pass that had computed it), and
// MpcGradients.Computed says which is which. Every path is covered: SIMD lanes (B >= 8),
// per element (B < 8), box-constrained lanes and per element, per-worker gradient writes (large
// B), and broadcast layouts (serial accumulation).
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

public sealed class GradientSelectionTests
{
    private static readonly GradientKinds[] Singles =
    [
        GradientKinds.CostQuadratic, GradientKinds.CostLinear, GradientKinds.Dynamics,
        GradientKinds.DynamicsOffset, GradientKinds.XInit, GradientKinds.ControlBounds,
    ];

    public static TheoryData<string, int, int, bool, bool> Paths => new()
    {
        // name, B, dop, box, force per-element box path (B = 720: 6.6 MB of gradients, above LqrSolver.BlockWritesAbove)
        { "lanes", 16, 2, false, false },
        { "per element", 5, 1, false, false },
        { "box lanes", 16, 2, true, false },
        { "box per element", 16, 2, true, true },
        { "lanes, per-worker writes", 720, 2, false, false },
    };

    /// <summary>Each single kind, the named groups and None, against one full pass.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void SubsetsEqualFullPass_OthersZero(string path, int B, int dop, bool box, bool perElementBox)
    {
        var dims = new MpcDimensions(8, B, 6, 3);
        LqrProblem problem = Problem(dims, box);
        var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = dop }) { ForceScalarBox = perElementBox };
        (double[] wx, double[] wu) = RandomLqr.LossWeights(3, dims);
        MpcSolution solution = solver.Solve(problem);
        Assert.Equal(B, solution.ConvergedCount);
        if (box)
        {
            Assert.True(solution.ActiveBounds.Sum() > 0, $"{path}: some bounds must be active");
        }
        if (B > 700)
        {
            Assert.True(solver.WritesGradientsPerWorker, $"{path}: B = {B} must take the per-worker write path");
        }
        Arrays full = Arrays.Copy(solver.Backward(wx, wu));
        Assert.True(full.OfType<double[]>().All(a => a.Any(v => v != 0)), $"{path}: every full gradient has a non-zero entry");

        var kinds = new List<GradientKinds>(Singles)
        {
            GradientKinds.None, GradientKinds.Cost, GradientKinds.AllDynamics,
            GradientKinds.AllDynamics | GradientKinds.XInit, GradientKinds.All,
        };
        foreach (GradientKinds k in kinds)
        {
            MpcGradients g = solver.Backward(wx, wu, k);
            Assert.Equal(k, g.Computed);
            AssertSelected(full, g, k, $"{path}, {k}");
        }
    }

    /// <summary>Broadcast layouts (time-invariant C, shared F, ...) take the serial accumulation.</summary>
    [Fact]
    public void BroadcastLayouts_SubsetsEqualFullPass()
    {
        var dims = new MpcDimensions(6, 9, 4, 2);
        LqrCase lqr = RandomLqr.Create(11, dims, C: Layout.TimeInvariant, c: Layout.BatchShared, F: Layout.Shared, f: Layout.TimeInvariant);
        var solver = new LqrSolver(dims);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(4, dims);
        solver.Solve(lqr.Problem);
        Arrays full = Arrays.Copy(solver.Backward(wx, wu));
        foreach (GradientKinds k in Singles.Append(GradientKinds.Cost).Append(GradientKinds.None))
        {
            MpcGradients g = solver.Backward(wx, wu, k);
            AssertSelected(full, g, k, $"broadcast, {k}");
        }
    }

    /// <summary>
    /// A kind dropped after a pass that computed it is zeroed; asked for again it is recomputed
    /// bitwise; the two-argument Backward and Mpc.Backward compute everything.
    /// </summary>
    [Fact]
    public void DroppedKindsAreZeroed_AndComeBack()
    {
        var dims = new MpcDimensions(8, 16, 6, 3);
        LqrProblem problem = Problem(dims, box: true);
        var solver = new LqrSolver(dims);
        (double[] wx, double[] wu) = RandomLqr.LossWeights(5, dims);
        MpcSolution solution = solver.Solve(problem);
        Arrays full = Arrays.Copy(solver.Backward(wx, wu));

        MpcGradients g = solver.Backward(wx, wu, GradientKinds.Dynamics);
        AssertSelected(full, g, GradientKinds.Dynamics, "after dropping");
        g = solver.Backward(wx, wu, GradientKinds.XInit | GradientKinds.ControlBounds);
        AssertSelected(full, g, GradientKinds.XInit | GradientKinds.ControlBounds, "after switching");
        g = solver.Backward(wx, wu);
        Assert.Equal(GradientKinds.All, g.Computed);
        AssertSelected(full, g, GradientKinds.All, "all again");

        g = Mpc.Backward(solution, wx, wu, GradientKinds.CostLinear);
        AssertSelected(full, g, GradientKinds.CostLinear, "Mpc.Backward with kinds");
        g = Mpc.Backward(solution, wx, wu);
        AssertSelected(full, g, GradientKinds.All, "Mpc.Backward");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void UndefinedFlag_Throws(int bits)
    {
        var dims = new MpcDimensions(4, 2, 2, 1);
        var solver = new LqrSolver(dims);
        solver.Solve(RandomLqr.Create(1, dims).Problem);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => solver.Backward(null, null, (GradientKinds)bits));
        Assert.Equal("kinds", ex.ParamName);
        Assert.Contains("GradientKinds", ex.Message, StringComparison.Ordinal);
    }

    private static LqrProblem Problem(MpcDimensions dims, bool box)
    {
        LqrCase lqr = RandomLqr.Create(7, dims);
        return box
            ? new LqrProblem(dims, lqr.XInit, lqr.C, lqr.c, lqr.F, lqr.f, StageArray.Scalar(-0.3), StageArray.Scalar(0.4))
            : lqr.Problem;
    }

    private static void AssertSelected(Arrays full, MpcGradients g, GradientKinds k, string what)
    {
        Arrays got = Arrays.Copy(g);
        for (int i = 0; i < full.Count; i++)
        {
            (GradientKinds kind, string name) = Arrays.Kinds[i];
            if (full[i] is null)
            {
                Assert.Null(got[i]);
            }
            else if ((k & kind) != 0)
            {
                Bitwise.Equal(full[i], got[i]!, $"{what}: {name}");
            }
            else
            {
                Assert.True(got[i]!.All(v => v == 0), $"{what}: {name} not asked for must hold zeros");
            }
        }
    }

    /// <summary>Copies of the gradient arrays in a fixed order (null where the problem has none).</summary>
    private sealed class Arrays : List<double[]?>
    {
        public static readonly (GradientKinds Kind, string Name)[] Kinds =
        [
            (GradientKinds.CostQuadratic, "dC"), (GradientKinds.CostLinear, "dc"), (GradientKinds.Dynamics, "dF"),
            (GradientKinds.DynamicsOffset, "df"), (GradientKinds.XInit, "dx_init"),
            (GradientKinds.ControlBounds, "du_lower"), (GradientKinds.ControlBounds, "du_upper"),
        ];

        public static Arrays Copy(MpcGradients g) =>
        [
            g.CostQuadratic.ToArray(), g.CostLinear.ToArray(), g.Dynamics.ToArray(), g.DynamicsOffset?.ToArray(),
            g.XInit.ToArray(), g.ControlLower?.ToArray(), g.ControlUpper?.ToArray(),
        ];
    }
}
