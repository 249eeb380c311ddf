using BenchmarkDotNet.Attributes;
using DiffMpc.Benchmarks.Problems;
using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Suites;

/// <summary>
/// The lqr shapes of problems.json on a reusable <see cref="LqrSolver"/> (built in GlobalSetup):
/// forward = Solve; forward+backward = Solve + Backward with dL/dx = 1, dL/du = 1 (L = sum(x) + sum(u)).
/// Set DIFFMPC_BENCH_ONLY to a comma-separated list of problem names to run only those.
/// </summary>
[MemoryDiagnoser]
public class LqrBenchmarks
{
    /// <summary>Restricts <see cref="ProblemNames"/> to these comma-separated names.</summary>
    public const string OnlyEnvironmentVariable = "DIFFMPC_BENCH_ONLY";

    private LqrSolver _solver = null!;
    private LqrProblem _problem = null!;
    private double[] _dLdx = null!;
    private double[] _dLdu = null!;

    [ParamsSource(nameof(ProblemNames))]
    public string Problem { get; set; } = "";

    /// <summary>Every problem of kind lqr in problems.json (or those named in DIFFMPC_BENCH_ONLY).</summary>
    public static IEnumerable<string> ProblemNames() => Selected(kind => kind == "lqr");

    /// <summary>The names of the problems.json entries whose kind passes <paramref name="kind"/>, restricted by DIFFMPC_BENCH_ONLY when it is set.</summary>
    internal static List<string> Selected(Func<string, bool> kind)
    {
        string? only = Environment.GetEnvironmentVariable(OnlyEnvironmentVariable);
        HashSet<string>? keep = string.IsNullOrWhiteSpace(only)
            ? null
            : [.. only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        return [.. ProblemCatalog.LoadDefault().Problems
            .Where(p => kind(p.Kind) && (keep is null || keep.Contains(p.Name)))
            .Select(p => p.Name)];
    }

    [GlobalSetup]
    public void Setup()
    {
        ProblemSpec spec = ProblemCatalog.LoadDefault().Get(Problem);
        _problem = LqrProblemGenerator.Build(spec);
        _solver = new LqrSolver(_problem.Dimensions);
        (_dLdx, _dLdu) = LqrBenchProblem.LossGradients(_problem.Dimensions);
        MpcSolution s = _solver.Solve(_problem);
        if (!s.AllConverged)
        {
            throw new InvalidOperationException($"{Problem}: only {s.ConvergedCount}/{s.Status.Length} elements converged.");
        }
        _solver.Backward(_dLdx, _dLdu);
    }

    [Benchmark]
    public MpcSolution Forward() => _solver.Solve(_problem);

    [Benchmark]
    public MpcGradients ForwardBackward()
    {
        _solver.Solve(_problem);
        return _solver.Backward(_dLdx, _dLdu);
    }
}
