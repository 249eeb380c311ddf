// Zero allocation in steady state: after warm-up, Solve + Backward on a reusable solver allocates
// nothing, for the LQR, box-constrained LQR and nonlinear (iLQR) solvers, sequential and parallel.
//
// Sequential runs (MaxDegreeOfParallelism = 1) do all their work on the calling thread, so
// GC.GetAllocatedBytesForCurrentThread sees every byte and must read exactly 0.
// Parallel runs also execute chunks on pool threads, which the per-thread counter cannot see, so
// the process-wide GC.GetTotalAllocatedBytes(precise: true) is measured, in a collection that
// does not run alongside other tests. Inside the test host that counter is not quiet: the
// runner's own threads allocate ~170 bytes per ~0.1 s whatever the solver does (a console
// program running the same loop measures exactly 0 process-wide). So the parallel check takes the
// smallest delta of several attempts of many calls and requires it to be below one minimal object
// (24 bytes) per call: a solver that allocated anything per call would exceed that in every attempt.
using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using Xunit;

namespace DiffMpc.Tests.Performance;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialAllocationTests
{
    public const string Name = "Allocation (not parallel with other tests)";
}

[Collection(SerialAllocationTests.Name)]
public sealed class AllocationTests
{
    private const int WarmupCalls = 60;
    private const int MeasuredCalls = 20;
    private const int Attempts = 10;
    private const int MinimalObjectBytes = 24;
    private const double WarmupSecondsParallel = 1.0;

    public static TheoryData<int> Parallelism => new() { 1, 2 };

    /// <summary>Degree of parallelism, and a switch each test names (path, selection).</summary>
    public static TheoryData<int, bool> ParallelismAndSwitch => new() { { 1, false }, { 2, false }, { 1, true }, { 2, true } };

    /// <summary>
    /// The LQR; with <paramref name="selected"/>, a backward pass asked for some gradients only
    /// alternates with a full one (so the dropped arrays are cleared every call).
    /// </summary>
    [Theory]
    [MemberData(nameof(ParallelismAndSwitch))]
    public void Lqr_SolveAndBackward_AllocateNothing(int dop, bool selected)
    {
        var dims = new MpcDimensions(20, 16, 10, 4);
        LqrProblem problem = PerfProblems.Lqr(dims, 5);
        var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = dop });
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        AssertNoAllocation(() =>
        {
            solver.Solve(problem);
            if (selected)
            {
                solver.Backward(dx, du, DiffMpc.Results.GradientKinds.AllDynamics);
            }
            solver.Backward(dx, du);
        }, dop);
    }

    /// <summary>The box-constrained LQR on the SIMD-lane path and, forced, on the per-element path.</summary>
    [Theory]
    [MemberData(nameof(ParallelismAndSwitch))]
    public void BoxLqr_SolveAndBackward_AllocateNothing(int dop, bool perElement)
    {
        var dims = new MpcDimensions(20, 16, 8, 4);
        LqrProblem problem = PerfProblems.Lqr(dims, 6, box: 1.0);
        var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = dop }) { ForceScalarBox = perElement };
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        Assert.True(solver.Solve(problem).ActiveBounds.Sum() > 0, "some bounds must be active");
        Assert.Equal(!perElement && DiffMpc.Lqr.Lanes.LaneLqr.SupportsBox(dims, DiffMpc.Lqr.Lanes.LaneLqr.ChosenWidth(dims)), solver.SolvedInBoxLanes);
        AssertNoAllocation(() =>
        {
            solver.Solve(problem);
            solver.Backward(dx, du);
        }, dop);
    }

    [Theory]
    [MemberData(nameof(Parallelism))]
    public void Ilqr_Pendulum_SolveAndBackward_AllocateNothing(int dop)
    {
        var model = new DiffMpc.Systems.Pendulum();
        var dims = new MpcDimensions(10, 4, model.StateDim, model.ControlDim);
        NonlinearProblem problem = PerfProblems.Pendulum(dims, model, 7);
        var solver = new IlqrSolver(dims, model, new MpcOptions { MaxDegreeOfParallelism = dop, Tolerance = 1e-6 });
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        AssertNoAllocation(() =>
        {
            solver.Solve(problem);
            solver.Backward(dx, du);
        }, dop);
    }

    /// <summary>The Newton (SQP) tail of a slow cartpole element (Hessians of the Lagrangian inside the iteration).</summary>
    [Fact]
    public void Ilqr_NewtonTail_SolveAndBackward_AllocateNothing()
    {
        NonlinearProblem problem = DiffMpc.Tests.Nonlinear.IlqrTestProblems.SlowTailCartpole();
        var solver = new IlqrSolver(problem.Dimensions, problem.Dynamics, new MpcOptions { MaxDegreeOfParallelism = 1 });
        Assert.Equal(DiffMpc.Results.SolveStatus.Converged, solver.Solve(problem).Status[0]);
        (double[] dx, double[] du) = PerfProblems.Ones(problem.Dimensions);
        AssertNoAllocation(() =>
        {
            solver.Solve(problem);
            solver.Backward(dx, du);
        }, 1);
    }

    private static void AssertNoAllocation(Action action, int dop)
    {
        // Warm up long enough for tiered JIT to settle (its background compiles allocate).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < WarmupCalls || (dop > 1 && clock.Elapsed.TotalSeconds < WarmupSecondsParallel); i++)
        {
            action();
        }
        if (dop == 1)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < MeasuredCalls; i++)
            {
                action();
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"{allocated} bytes allocated in {MeasuredCalls} steady-state calls");
            return;
        }

        const int parallelCalls = 5 * MeasuredCalls;
        long best = long.MaxValue;
        var seen = new List<long>();
        for (int attempt = 0; attempt < Attempts && best >= MinimalObjectBytes * parallelCalls; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < parallelCalls; i++)
            {
                action();
            }
            long delta = GC.GetTotalAllocatedBytes(precise: true) - before;
            seen.Add(delta);
            best = Math.Min(best, delta);
        }
        Assert.True(best < MinimalObjectBytes * parallelCalls,
            $"{best} bytes allocated process-wide in {parallelCalls} steady-state parallel calls (attempts: {string.Join(", ", seen)})");
    }
}
