using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Tests.Nonlinear;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>Cancellation of long solves through a CancellationToken.</summary>
public sealed class CancellationTests
{
    [Fact]
    public void CancelledBeforeSolve_Throws_AndLeavesNoSolution()
    {
        NonlinearProblem p = IlqrTestProblems.Pendulum(10, 2, 81);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => solver.Solve(p, null, cts.Token));
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));
        Assert.Throws<OperationCanceledException>(() => Mpc.Solve(p, null, null, cts.Token));
    }

    [Fact]
    public void CancelledDuringALongSolve_ThrowsPromptly_ThenTheSolverWorksAgain()
    {
        // A large batch of long-horizon cartpole problems takes far longer than the cancellation delay.
        NonlinearProblem p = IlqrTestProblems.Cartpole(40, 32, 82);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => solver.Solve(p, null, cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {clock.Elapsed}");
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));

        NonlinearProblem next = IlqrTestProblems.Cartpole(40, 32, 83);
        next = new NonlinearProblem(next.Dimensions, p.Dynamics, next.Parameters, next.XInit, next.CostQuadratic,
            next.CostLinear, next.ControlLower, next.ControlUpper);
        var full = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(solver.Solve(next).ConvergedCount > 0);
        Assert.True(full.Elapsed > TimeSpan.FromMilliseconds(100), $"a full solve took only {full.Elapsed}: the cancellation test is not testing mid-solve cancellation");
    }

    [Fact]
    public void LqrSolver_HonoursTheToken()
    {
        var dims = new MpcDimensions(5, 1, 2, 1);
        var problem = new LqrProblem(dims, [1.0, 0.0], StageArray.Shared([1, 0, 0, 0, 1, 0, 0, 0, 1]),
            StageArray.Shared(new double[3]), StageArray.Shared([1, 0.1, 0, 0, 1, 0.1]));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => new LqrSolver(dims).Solve(problem, null, cts.Token));
        Assert.Throws<OperationCanceledException>(() => Mpc.Solve(problem, null, null, cts.Token));
    }
}
