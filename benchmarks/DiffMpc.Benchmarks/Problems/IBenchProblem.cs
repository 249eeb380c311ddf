namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// One benchmark problem, built once (data and a reusable solver) and then run many times by the
/// quick mode. To support a new kind of problems.json, implement this in one class and add a
/// line to <see cref="BenchProblemFactory.Create"/>.
/// </summary>
internal interface IBenchProblem
{
    /// <summary>The problems.json name.</summary>
    string Name { get; }

    /// <summary>Solves the batch (the timed "forward").</summary>
    void Forward();

    /// <summary>Solves the batch and differentiates L = sum(x) + sum(u) with respect to every input (the timed "forward_backward").</summary>
    void ForwardBackward();

    /// <summary>Mean objective over the converged elements of the last solve (NaN when none converged).</summary>
    double CostMean { get; }

    /// <summary>Fraction of the batch that converged in the last solve.</summary>
    double ConvergedFraction { get; }

    /// <summary>Estimated flops of one <see cref="ForwardBackward"/> (see <see cref="FlopModel"/>); null when no estimate exists.</summary>
    double? Flops { get; }
}

/// <summary>Builds the benchmark problem of a problems.json entry.</summary>
internal static class BenchProblemFactory
{
    /// <summary>The problem for <paramref name="spec"/>, or null when this build cannot solve its kind.</summary>
    public static IBenchProblem? Create(ProblemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            "lqr" => new LqrBenchProblem(spec),
            "box_lqr" => new BoxLqrBenchProblem(spec),
            "pendulum" or "cartpole" => new NonlinearBenchProblem(spec),
            _ => null,
        };
    }
}
