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
