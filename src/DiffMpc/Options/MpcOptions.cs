using DiffMpc.Internal;

namespace DiffMpc.Options;

/// <summary>
/// Immutable solver settings. Every property has a documented default; <see cref="Validate"/>
/// is called once when a solver is created.
/// </summary>
public sealed record MpcOptions
{
    /// <summary>The defaults.</summary>
    public static MpcOptions Default { get; } = new();

    /// <summary>
    /// mu &gt;= 0 added to the diagonal of Q_uu at every stage; equivalent to adding mu I to every
    /// C_t's control block, so the solution and gradients are those of that regularised problem.
    /// Default 0 (the problem as given). Use it when C_uu may be only positive semi-definite.
    /// </summary>
    public double ControlRegularization { get; init; }

    /// <summary>
    /// The most threads a solve may use across the batch; -1 (default) means
    /// <see cref="Environment.ProcessorCount"/>. Results are bitwise identical for every value.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Guard.InRange(ControlRegularization, 0, double.MaxValue, nameof(ControlRegularization), nameof(ControlRegularization));
        if (MaxDegreeOfParallelism != -1)
        {
            Guard.AtLeast(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism), $"{nameof(MaxDegreeOfParallelism)} (or -1 for all cores)");
        }
    }

    internal int ResolvedDegreeOfParallelism =>
        MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : MaxDegreeOfParallelism;
}
