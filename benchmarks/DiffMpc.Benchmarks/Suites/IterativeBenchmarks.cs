using BenchmarkDotNet.Attributes;
using DiffMpc.Benchmarks.Problems;

namespace DiffMpc.Benchmarks.Suites;

/// <summary>
/// The iterative shapes of problems.json (box_lqr, pendulum, cartpole), built as the quick mode
/// builds them (<see cref="BenchProblemFactory"/>): forward = Solve from u = 0; forward+backward =
/// Solve + Backward of L = sum(x) + sum(u) with respect to every input. Every Solve starts cold, so
/// each call does the same iterations. DIFFMPC_BENCH_ONLY restricts the problems as for
/// <see cref="LqrBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class IterativeBenchmarks
{
    private IBenchProblem _problem = null!;

    [ParamsSource(nameof(ProblemNames))]
    public string Problem { get; set; } = "";

    /// <summary>Every problem of problems.json whose kind is not lqr (or those named in DIFFMPC_BENCH_ONLY).</summary>
    public static IEnumerable<string> ProblemNames() => LqrBenchmarks.Selected(kind => kind != "lqr");

    [GlobalSetup]
    public void Setup()
    {
        ProblemSpec spec = ProblemCatalog.LoadDefault().Get(Problem);
        _problem = BenchProblemFactory.Create(spec)
            ?? throw new InvalidOperationException($"{Problem}: kind {spec.Kind} is not supported by this build.");
        _problem.ForwardBackward();
        if (_problem.ConvergedFraction < 1)
        {
            // Reported, not fatal: the benchmark's shapes are expected to converge, and the
            // quick mode prints the same fraction.
            Console.WriteLine($"// {Problem}: converged fraction {_problem.ConvergedFraction:F3}");
        }
    }

    [Benchmark]
    public void Forward() => _problem.Forward();

    [Benchmark]
    public void ForwardBackward() => _problem.ForwardBackward();
}
