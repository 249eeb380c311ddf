using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using DiffMpc.Benchmarks.Problems;

namespace DiffMpc.Benchmarks.Quick;

/// <summary>
/// The quick mode: <c>quick [--problems PATH] [--json OUT] [NAME ...]</c>. Builds each named problem
/// of problems.json (all when none are named) with a fixed seed, warms up, times forward and
/// forward+backward as medians of several runs, and prints a table (and optionally JSON).
/// </summary>
internal static class QuickRunner
{
    /// <summary>
    /// Sampling time per problem (forward and forward+backward alternately) beyond the minimum run
    /// count; with warm-up and setup a problem takes ~20 s at most unless its "reps" demand more.
    /// </summary>
    private const double BudgetSeconds = 6.0;

    private const string NotSupported = "not supported by this build";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        string? problemsPath = null, jsonPath = null;
        var names = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--problems" when i + 1 < args.Length:
                    problemsPath = args[++i];
                    break;
                case "--json" when i + 1 < args.Length:
                    jsonPath = args[++i];
                    break;
                case "-h" or "--help":
                    Console.WriteLine("usage: quick [--problems PATH] [--json OUT] [NAME ...]");
                    return 0;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        Console.Error.WriteLine($"quick: unknown or incomplete option '{args[i]}'; usage: quick [--problems PATH] [--json OUT] [NAME ...]");
                        return 2;
                    }
                    names.Add(args[i]);
                    break;
            }
        }

        problemsPath = Path.GetFullPath(problemsPath ?? BenchPaths.DefaultProblemsPath());
        ProblemCatalog catalog;
        try
        {
            catalog = ProblemCatalog.Load(problemsPath);
        }
        catch (InvalidDataException ex)
        {
            Console.Error.WriteLine($"quick: {ex.Message}");
            return 2;
        }
        List<ProblemSpec> selected;
        if (names.Count == 0)
        {
            selected = catalog.Problems;
        }
        else
        {
            string[] unknown = [.. names.Where(n => !catalog.Problems.Exists(p => p.Name == n))];
            if (unknown.Length > 0)
            {
                Console.Error.WriteLine($"quick: unknown problem(s) {string.Join(", ", unknown)}; known: {string.Join(", ", catalog.Problems.Select(p => p.Name))}");
                return 2;
            }
            selected = [.. names.Select(catalog.Get)];
        }

        string? jsonFull = null;
        if (jsonPath is not null)
        {
            // Checked before any timing: a path that cannot be written fails now, not after the run.
            try
            {
                jsonFull = Path.GetFullPath(jsonPath);
                Directory.CreateDirectory(Path.GetDirectoryName(jsonFull)!);
                File.WriteAllText(jsonFull, "[]\n");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                Console.Error.WriteLine($"quick: cannot write --json {jsonPath}: {ex.Message}");
                return 2;
            }
        }

        Console.WriteLine("DiffMpc quick benchmark (Release build expected; times are medians, ms per call)");
#if DEBUG
        Console.WriteLine("WARNING: this is a Debug build; run with -c Release for meaningful numbers.");
#endif
        Console.WriteLine(MachineInfo.Describe());
        Console.WriteLine($"problems: {problemsPath}");
        Console.WriteLine();
        Console.WriteLine(Header());

        var results = new List<QuickResult>();
        foreach (ProblemSpec spec in selected)
        {
            QuickResult r = Measure(spec);
            results.Add(r);
            Console.WriteLine(Row(r));
        }

        if (jsonFull is not null)
        {
            File.WriteAllText(jsonFull, JsonSerializer.Serialize(results, JsonOptions) + "\n");
            Console.WriteLine();
            Console.WriteLine($"wrote {jsonFull}");
        }
        return 0;
    }

    private static QuickResult Measure(ProblemSpec spec)
    {
        long start = Stopwatch.GetTimestamp();
        IBenchProblem? problem = BenchProblemFactory.Create(spec);
        if (problem is null)
        {
            return new QuickResult(spec.Name, null, null, null, null, null) { Note = NotSupported };
        }
        int minRuns = Math.Max(spec.Reps ?? QuickTiming.DefaultMinRuns, 1);
        (double forward, double forwardBackward) = QuickTiming.MedianMs(problem.Forward, problem.ForwardBackward, minRuns, BudgetSeconds);
        double? gflops = problem.Flops is double flops ? flops / (forwardBackward * 1e-3) / 1e9 : null;
        return new QuickResult(spec.Name, forward, forwardBackward, Finite(problem.CostMean), Finite(problem.ConvergedFraction), gflops)
        {
            Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
        };
    }

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    private static string Header() =>
        $"{"name",-30} {"forward_ms",12} {"fwd+bwd_ms",12} {"bwd/fwd",8} {"cost_mean",14} {"converged",10} {"GFLOP/s",8} {"wall_s",7}";

    private static string Row(QuickResult r)
    {
        if (r.Note is not null)
        {
            return $"{r.Name,-30} {r.Note}";
        }
        double? ratio = r.ForwardBackwardMs is double fb && r.ForwardMs is double f && f > 0 ? (fb - f) / f : null;
        return $"{r.Name,-30} {Fmt(r.ForwardMs, "F4"),12} {Fmt(r.ForwardBackwardMs, "F4"),12} {Fmt(ratio, "F2"),8} "
            + $"{Fmt(r.CostMean, "G6"),14} {Fmt(r.ConvergedFraction, "F3"),10} {Fmt(r.Gflops, "F2"),8} {r.Seconds,7:F1}";
    }

    private static string Fmt(double? x, string format) => x is double v ? v.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "-";
}

/// <summary>
/// One row of the quick mode's JSON output. All numbers are null for a kind this build cannot run
/// (the row says so); gflops is null for the iterative kinds (box_lqr, pendulum, cartpole), whose
/// flop count depends on the iterations.
/// </summary>
internal sealed record QuickResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("forward_ms")] double? ForwardMs,
    [property: JsonPropertyName("forward_backward_ms")] double? ForwardBackwardMs,
    [property: JsonPropertyName("cost_mean")] double? CostMean,
    [property: JsonPropertyName("converged_fraction")] double? ConvergedFraction,
    [property: JsonPropertyName("gflops")] double? Gflops)
{
    /// <summary>Why there are no numbers (table only).</summary>
    [JsonIgnore]
    public string? Note { get; init; }

    /// <summary>Wall time spent on the problem, setup included (table only).</summary>
    [JsonIgnore]
    public double Seconds { get; init; }
}
