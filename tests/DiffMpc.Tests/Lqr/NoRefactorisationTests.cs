using DiffMpc.LinearAlgebra;
using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Tests.Nonlinear;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// The backward pass reuses the forward Cholesky factors: it performs no factorisation at all,
/// for the unconstrained LQR (per-problem and SIMD-lane paths), the box-constrained LQR and iLQR.
/// Counted on the calling thread, so every solve here runs single-threaded.
/// </summary>
public sealed class NoRefactorisationTests
{
    private static readonly MpcOptions OneThread = new() { MaxDegreeOfParallelism = 1 };

    [Theory]
    [InlineData(10, 4, 20, 16)]   // SIMD-lane path (B >= 8)
    [InlineData(20, 4, 8, 8)]     // SIMD-lane path, n > 16
    [InlineData(20, 4, 8, 3)]     // per-problem path (B < 8)
    public void Lqr_BackwardFactorisesNothing(int n, int m, int T, int B)
    {
        LqrProblem p = RandomLqr.Create(101, new MpcDimensions(T, B, n, m)).Problem;
        AssertBackwardFactorisesNothing(new LqrSolver(p.Dimensions, OneThread), s => s.Solve(p), s => s.Backward(null, new double[T * B * m]));
    }

    [Theory]
    [InlineData(false)]   // SIMD-lane path (B >= 8, n, m <= 16, T > 1)
    [InlineData(true)]    // per-element path, forced
    public void BoxLqr_BackwardFactorisesNothing(bool perElement)
    {
        LqrCase k = RandomLqr.Create(102, new MpcDimensions(10, 8, 4, 2));
        var p = new LqrProblem(k.Problem.Dimensions, k.Problem.XInit, k.Problem.CostQuadratic, k.Problem.CostLinear,
            k.Problem.Dynamics, k.Problem.DynamicsOffset, StageArray.Scalar(-0.2), StageArray.Scalar(0.2));
        var solver = new LqrSolver(p.Dimensions, OneThread) { ForceScalarBox = perElement };
        AssertBackwardFactorisesNothing(solver, s => s.Solve(p), s => s.Backward(null, new double[10 * 8 * 2]));
        Assert.Equal(!perElement && DiffMpc.Lqr.Lanes.LaneLqr.SupportsBox(p.Dimensions, DiffMpc.Lqr.Lanes.LaneLqr.ChosenWidth(p.Dimensions)), solver.SolvedInBoxLanes);
    }

    [Fact]
    public void Ilqr_BackwardFactorisesNothing()
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(10, 2, 103);
        AssertBackwardFactorisesNothing(new IlqrSolver(p.Dimensions, p.Dynamics, OneThread), s => s.Solve(p),
            s => s.Backward(new double[10 * 2 * 3], null));
    }

    private static void AssertBackwardFactorisesNothing<TSolver>(TSolver solver, Action<TSolver> solve, Action<TSolver> backward)
    {
        long before = FactorizationCounter.Count;
        solve(solver);
        long forward = FactorizationCounter.Count - before;
        Assert.True(forward > 0, "the forward pass should factorise (the counter is wired in)");
        long mid = FactorizationCounter.Count;
        backward(solver);
        Assert.Equal(0, FactorizationCounter.Count - mid);
    }
}
