using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Robustness;

/// <summary>Backward before Solve, and gradient arrays of the wrong shape or with bad values.</summary>
public sealed class ApiMisuseTests
{
    private static readonly MpcDimensions Dims = new(4, 2, 3, 1);

    [Fact]
    public void LqrSolver_BackwardBeforeSolve_ThrowsInvalidOperation()
    {
        var solver = new LqrSolver(Dims);
        var ex = Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
        Assert.Contains("Solve", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IlqrSolver_BackwardBeforeSolve_ThrowsInvalidOperation()
    {
        var solver = new IlqrSolver(Dims, PendulumSpec.Model);
        var ex = Assert.Throws<InvalidOperationException>(() => solver.Backward(new double[12], new double[4]));
        Assert.Contains("Solve", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A solve that throws leaves no solution to differentiate, on every path (lanes, per-problem
    /// kernels, box-constrained), whether the data, the bounds or the warm start is rejected;
    /// before, the per-problem path kept the previous solution and Backward differentiated that.
    /// </summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(0, true)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public void LqrSolver_RejectedSolve_LeavesNoSolution(int laneWidth, bool box)
    {
        var dims = new MpcDimensions(5, 8, 3, 2);
        LqrCase k = RandomLqr.Create(31, dims);
        int T = dims.Horizon, B = dims.BatchSize, m = dims.ControlDim;
        double[] lower = Enumerable.Repeat(-1.0, T * B * m).ToArray(), upper = Enumerable.Repeat(1.0, T * B * m).ToArray();
        LqrProblem problem = box
            ? new LqrProblem(dims, k.XInit, k.C, k.c, k.F, k.f, StageArray.PerStage(lower), StageArray.PerStage(upper))
            : k.Problem;
        var solver = new LqrSolver(dims, null, laneWidth);
        foreach (Action reject in new Action[]
        {
            () => { k.C.Data[40] = double.NaN; },
            () => { k.XInit[4] = double.PositiveInfinity; },
            () => { lower[7] = box ? 2.0 : lower[7]; },
        })
        {
            double c40 = k.C.Data[40], x4 = k.XInit[4], l7 = lower[7];
            Assert.True(solver.Solve(problem).AllConverged);
            Assert.NotNull(solver.Backward(null, null));
            reject();
            if (lower[7] == l7 && k.C.Data[40].Equals(c40) && k.XInit[4].Equals(x4))
            {
                continue;   // bounds of a problem without bounds
            }
            Assert.ThrowsAny<ArgumentException>(() => solver.Solve(problem));
            Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
            (k.C.Data[40], k.XInit[4], lower[7]) = (c40, x4, l7);
        }
        Assert.True(solver.Solve(problem).AllConverged);
        Assert.ThrowsAny<ArgumentException>(() => solver.Solve(problem, new double[3]));   // warm start of the wrong shape
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
    }

    [Fact]
    public void IlqrSolver_RejectedSolve_LeavesNoSolution()
    {
        PendulumInstance k = new PendulumSpec(4, 2, PerStageCost: false, BoundMode: 0, Seed: 3).Build();
        var solver = new IlqrSolver(k.Problem.Dimensions, k.Problem.Dynamics);
        Assert.NotNull(solver.Solve(k.Problem));
        Assert.NotNull(solver.Backward(null, null));
        k.Problem.XInit[1] = double.NaN;
        Assert.ThrowsAny<ArgumentException>(() => solver.Solve(k.Problem));
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
    }

    public static TheoryData<string, int, int, double> WrongGradients => new()
    {
        { "dLdx", 11, 8, 0 },          // one value short
        { "dLdx", 13, 8, 0 },          // one value too many
        { "dLdx", 0, 8, 0 },
        { "dLdu", 12, 7, 0 },
        { "dLdu", 12, 9, 0 },
        { "dLdx", 12, 8, double.NaN }, // right shape, NaN entry
        { "dLdu", 12, 8, double.PositiveInfinity },
    };

    [Theory]
    [MemberData(nameof(WrongGradients))]
    public void Lqr_WrongGradientArrays_ThrowArgumentException_NamingTheArray(string name, int xLen, int uLen, double poison)
    {
        LqrCase lqr = Support.RandomLqr.Create(3, Dims);
        var solver = new LqrSolver(Dims);
        MpcSolution sol = solver.Solve(lqr.Problem);
        (double[] dx, double[] du) = Arrays(name, xLen, uLen, poison);
        var ex = Assert.ThrowsAny<ArgumentException>(() => solver.Backward(dx, du));
        Assert.Equal(name, ex.ParamName);
        var ex2 = Assert.ThrowsAny<ArgumentException>(() => Mpc.Backward(sol, dx, du));
        Assert.Equal(name, ex2.ParamName);
        // The solver stays usable after the rejected call.
        Assert.NotNull(solver.Backward(new double[24], new double[8]));
    }

    [Theory]
    [MemberData(nameof(WrongGradients))]
    public void Ilqr_WrongGradientArrays_ThrowArgumentException_NamingTheArray(string name, int xLen, int uLen, double poison)
    {
        NonlinearProblem p = new PendulumSpec(4, 2, false, 1, 9).Build().Problem;
        var solver = new IlqrSolver(Dims, PendulumSpec.Model);
        MpcSolution sol = solver.Solve(p);
        (double[] dx, double[] du) = Arrays(name, xLen, uLen, poison);
        var ex = Assert.ThrowsAny<ArgumentException>(() => solver.Backward(dx, du));
        Assert.Equal(name, ex.ParamName);
        var ex2 = Assert.ThrowsAny<ArgumentException>(() => Mpc.BackwardNonlinear(sol, dx, du));
        Assert.Equal(name, ex2.ParamName);
        Assert.NotNull(solver.Backward(new double[24], new double[8]));
    }

    [Fact]
    public void Backward_WithASolutionOfTheOtherKind_ThrowsArgumentException()
    {
        MpcSolution lqr = Mpc.Solve(Support.RandomLqr.Create(3, Dims).Problem);
        MpcSolution ilqr = Mpc.Solve(new PendulumSpec(4, 2, false, 1, 9).Build().Problem);
        Assert.Equal("solution", Assert.ThrowsAny<ArgumentException>(() => Mpc.BackwardNonlinear(lqr, null, null)).ParamName);
        Assert.Equal("solution", Assert.ThrowsAny<ArgumentException>(() => Mpc.Backward(ilqr, null, null)).ParamName);
    }

    /// <summary>xLen / uLen are per 2 elements of n = 3 (x) and 1 (u): 12 -> 24 values, 8 -> 8 values.</summary>
    private static (double[] Dx, double[] Du) Arrays(string name, int xLen, int uLen, double poison)
    {
        var dx = new double[xLen * 2];
        var du = new double[uLen];
        if (poison != 0)
        {
            (name == "dLdx" ? dx : du)[name == "dLdx" ? 5 : 3] = poison;
        }
        return (dx, du);
    }
}
