// The Vector256 lane paths (4 problems per vector, the fallback where AVX-512 is missing),
// unconstrained and box-constrained, keep the performance guarantees of the Vector512 ones:
// nothing allocated in steady state, and results independent of the degree of parallelism. On a
// machine with AVX-512 they run only when forced.
using DiffMpc.Lqr;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.Performance;

[Collection(SerialAllocationTests.Name)]
public sealed class LaneWidthTests
{
    private const int Width = 4;

    [SkippableFact]
    public void Vector256Lanes_SolveAndBackward_AllocateNothing()
    {
        var dims = new MpcDimensions(20, 16, 10, 4);
        Skip.IfNot(LaneLqr.Supports(dims, Width), "Vector256 is not hardware-accelerated here");
        LqrProblem problem = PerfProblems.Lqr(dims, 5);
        var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 1 }, Width);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        AssertSteadyStateAllocatesNothing(solver, problem, dx, du);
    }

    [SkippableFact]
    public void Vector256Lanes_AreBitwiseIdentical_ForOneAndTwoWorkers()
    {
        var dims = new MpcDimensions(12, 37, 7, 3);
        Skip.IfNot(LaneLqr.Supports(dims, Width), "Vector256 is not hardware-accelerated here");
        LqrProblem problem = PerfProblems.Lqr(dims, 9);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        var one = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 1 }, Width);
        var two = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 2 }, Width);
        MpcSolution a = one.Solve(problem), b = two.Solve(problem);
        AssertBitwiseEqual(one, a, two, b, dx, du);
    }

    [SkippableFact]
    public void Vector256BoxLanes_SolveAndBackward_AllocateNothing()
    {
        var dims = new MpcDimensions(20, 16, 8, 4);
        Skip.IfNot(LaneLqr.Supports(dims, Width), "Vector256 is not hardware-accelerated here");
        LqrProblem problem = PerfProblems.Lqr(dims, 6, box: 1.0);
        var solver = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 1 }, Width);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        Assert.True(solver.Solve(problem).ActiveBounds.Sum() > 0, "some bounds must be active");
        Assert.True(solver.SolvedInBoxLanes);
        AssertSteadyStateAllocatesNothing(solver, problem, dx, du);
    }

    [SkippableFact]
    public void Vector256BoxLanes_AreBitwiseIdentical_ForOneAndTwoWorkers()
    {
        var dims = new MpcDimensions(20, 37, 8, 4);
        Skip.IfNot(LaneLqr.Supports(dims, Width), "Vector256 is not hardware-accelerated here");
        LqrProblem problem = PerfProblems.Lqr(dims, 11, 1.0);
        (double[] dx, double[] du) = PerfProblems.Ones(dims);
        var one = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 1 }, Width);
        var two = new LqrSolver(dims, new MpcOptions { MaxDegreeOfParallelism = 2 }, Width);
        MpcSolution a = one.Solve(problem), b = two.Solve(problem);
        Assert.True(one.SolvedInBoxLanes && two.SolvedInBoxLanes);
        Assert.Equal(dims.BatchSize, a.ConvergedCount);
        (MpcGradients ga, MpcGradients gb) = AssertBitwiseEqual(one, a, two, b, dx, du);
        Bitwise.Equal(ga.ControlLower!, gb.ControlLower!, "dL/du_lower");
    }

    /// <summary>After a warm-up, 20 Solve + Backward calls on the calling thread allocate 0 bytes.</summary>
    private static void AssertSteadyStateAllocatesNothing(LqrSolver solver, LqrProblem problem, double[] dx, double[] du)
    {
        for (int i = 0; i < 60; i++)
        {
            solver.Solve(problem);
            solver.Backward(dx, du);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            solver.Solve(problem);
            solver.Backward(dx, du);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The solutions a and b (of solvers one and two) and their gradients are bitwise equal; returns the gradients.</summary>
    private static (MpcGradients A, MpcGradients B) AssertBitwiseEqual(LqrSolver one, MpcSolution a, LqrSolver two, MpcSolution b,
        double[] dx, double[] du)
    {
        Bitwise.Equal(a.X, b.X, "x");
        Bitwise.Equal(a.U, b.U, "u");
        Bitwise.Equal(a.Costates, b.Costates, "costates");
        Bitwise.Equal(a.Cost, b.Cost, "cost");
        MpcGradients ga = one.Backward(dx, du), gb = two.Backward(dx, du);
        Bitwise.Equal(ga.CostQuadratic, gb.CostQuadratic, "dL/dC");
        Bitwise.Equal(ga.Dynamics, gb.Dynamics, "dL/dF");
        Bitwise.Equal(ga.XInit, gb.XInit, "dL/dx_init");
        return (ga, gb);
    }
}
