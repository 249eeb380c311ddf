using DiffMpc.Problems;

namespace DiffMpc.Box;

/// <summary>
/// Resolved control bounds u_lower &lt;= u_t &lt;= u_upper as strided views ([T][B][m] or a
/// broadcast, or a scalar); a missing side is unbounded.
/// </summary>
internal readonly struct ControlBox(StageView lower, StageView upper)
{
    /// <summary>True when at least one side is given.</summary>
    public bool IsBounded => !lower.IsZero || !upper.IsZero;

    public double Lower(int t, int b, int i) => lower.IsZero ? double.NegativeInfinity : lower.ValueAt(t, b, i);

    public double Upper(int t, int b, int i) => upper.IsZero ? double.PositiveInfinity : upper.ValueAt(t, b, i);

    /// <summary>Clamps u (length m) of stage t, element b into the box.</summary>
    public void Clamp(int t, int b, Span<double> u)
    {
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = Math.Clamp(u[i], Lower(t, b, i), Upper(t, b, i));
        }
    }
}
