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
    public void CancelledDuringASolve_ThrowsPromptly_ThenTheSolverWorksAgain()
    {
        // The model cancels the token itself after a number of evaluations: mid-solve, deterministically.
        using var cts = new CancellationTokenSource();
        var model = new CancellingModel(new DiffMpc.Systems.Cartpole(), cts, cancelAfter: 2000);
        NonlinearProblem template = IlqrTestProblems.Cartpole(40, 16, 82);
        var p = new NonlinearProblem(template.Dimensions, model, template.Parameters, template.XInit, template.CostQuadratic,
            template.CostLinear, template.ControlLower, template.ControlUpper);
        var solver = new IlqrSolver(p.Dimensions, model, new Options.MpcOptions { MaxDegreeOfParallelism = 1 });
        Assert.ThrowsAny<OperationCanceledException>(() => solver.Solve(p, null, cts.Token));
        long atCancel = model.Evaluations;
        // Stopped within about one element's remaining work (its linearisations and final Hessian:
        // ~2,600 autodiff evaluations here), far short of the whole solve.
        Assert.InRange(atCancel, 2000, 2000 + 6000);
        Assert.Throws<InvalidOperationException>(() => solver.Backward(null, null));

        model.Disarm();
        DiffMpc.Results.MpcSolution again = solver.Solve(p);
        Assert.True(model.Evaluations - atCancel > 5 * atCancel, $"the whole solve took only {model.Evaluations - atCancel} evaluations");
        DiffMpc.Results.MpcSolution fresh = new IlqrSolver(p.Dimensions, model, new Options.MpcOptions { MaxDegreeOfParallelism = 1 }).Solve(p);
        Assert.Equal(fresh.Status, again.Status);
        Assert.Equal(fresh.U, again.U);   // bitwise: the cancelled solve left nothing behind
    }

    /// <summary>Wraps a model, counting evaluations and cancelling a token after a given number.</summary>
    private sealed class CancellingModel(IDynamics inner, CancellationTokenSource cts, long cancelAfter) : IDynamics
    {
        private long _evaluations;
        private bool _armed = true;

        public long Evaluations => Interlocked.Read(ref _evaluations);

        public int StateDim => inner.StateDim;

        public int ControlDim => inner.ControlDim;

        public int ParameterCount => inner.ParameterCount;

        public void Disarm() => _armed = false;

        public void Step<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> u, ReadOnlySpan<T> theta, Span<T> xNext)
            where T : System.Numerics.IFloatingPointIeee754<T>
        {
            if (Interlocked.Increment(ref _evaluations) == cancelAfter && _armed)
            {
                cts.Cancel();
            }
            inner.Step(x, u, theta, xNext);
        }
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
