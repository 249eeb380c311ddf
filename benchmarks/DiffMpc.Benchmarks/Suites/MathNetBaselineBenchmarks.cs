using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DiffMpc.Benchmarks.Baseline;
using DiffMpc.Benchmarks.Problems;
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Suites;

/// <summary>
/// The library against a naive MathNet.Numerics Riccati (<see cref="MathNetRiccati"/>: per problem,
/// allocating, single-threaded) on lqr_n10_m4_T20_B64. The library runs with its default
/// parallelism and, for a like-for-like single-thread comparison, with MaxDegreeOfParallelism = 1.
/// GlobalSetup asserts that the baseline's solution and gradients match the library's to 1e-8.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MathNetBaselineBenchmarks
{
    /// <summary>The problems.json shape compared.</summary>
    public const string ProblemName = "lqr_n10_m4_T20_B64";

    private LqrProblem _problem = null!;
    private LqrSolver _solver = null!;
    private LqrSolver _solverOneThread = null!;
    private double[] _dLdx = null!;
    private double[] _dLdu = null!;

    [GlobalSetup]
    public void Setup()
    {
        _problem = LqrProblemGenerator.Build(ProblemCatalog.LoadDefault().Get(ProblemName));
        _solver = new LqrSolver(_problem.Dimensions);
        _solverOneThread = new LqrSolver(_problem.Dimensions, new MpcOptions { MaxDegreeOfParallelism = 1 });
        (_dLdx, _dLdu) = LqrBenchProblem.LossGradients(_problem.Dimensions);
        double worst = BaselineCheck.Verify(_problem);
        Console.WriteLine($"// MathNet baseline matches the library on {ProblemName}: largest scaled difference {worst:E2} <= {BaselineCheck.Tolerance:E0}");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Forward")]
    public double[] MathNetForward() => MathNetRiccati.Solve(_problem).U;

    [Benchmark]
    [BenchmarkCategory("Forward")]
    public MpcSolution LibraryForward() => _solver.Solve(_problem);

    [Benchmark]
    [BenchmarkCategory("Forward")]
    public MpcSolution LibraryForwardOneThread() => _solverOneThread.Solve(_problem);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ForwardBackward")]
    public double[] MathNetForwardBackward() => MathNetRiccati.SolveAndBackward(_problem, _dLdx, _dLdu).DC!;

    [Benchmark]
    [BenchmarkCategory("ForwardBackward")]
    public MpcGradients LibraryForwardBackward()
    {
        _solver.Solve(_problem);
        return _solver.Backward(_dLdx, _dLdu);
    }

    [Benchmark]
    [BenchmarkCategory("ForwardBackward")]
    public MpcGradients LibraryForwardBackwardOneThread()
    {
        _solverOneThread.Solve(_problem);
        return _solverOneThread.Backward(_dLdx, _dLdu);
    }
}
