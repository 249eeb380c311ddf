namespace DiffMpc.Problems;

/// <summary>
/// The fixed sizes of a batch of MPC problems: horizon T, batch size B, state dimension n and
/// control dimension m. A solver's workspace is sized once from these.
/// </summary>
/// <param name="Horizon">T, the number of time steps (states x_1..x_T and controls u_1..u_T); at least 1.</param>
/// <param name="BatchSize">B, the number of independent problems solved together; at least 1.</param>
/// <param name="StateDim">n, the state dimension; at least 1.</param>
/// <param name="ControlDim">m, the control dimension; at least 1.</param>
public readonly record struct MpcDimensions(int Horizon, int BatchSize, int StateDim, int ControlDim)
{
    /// <summary>n + m, the length of tau_t = [x_t; u_t].</summary>
    public int TauDim => StateDim + ControlDim;

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> when any dimension is below 1, or when the
    /// largest array of the problem, C with T B (n+m)^2 values, would exceed the largest .NET array
    /// (<see cref="Array.MaxLength"/> elements).
    /// </summary>
    /// <param name="paramName">The argument to name in the exception.</param>
    public void Validate(string paramName = "dimensions")
    {
        Check(Horizon, "Horizon (T)", paramName);
        Check(BatchSize, "BatchSize (B)", paramName);
        Check(StateDim, "StateDim (n)", paramName);
        Check(ControlDim, "ControlDim (m)", paramName);
        long N = (long)StateDim + ControlDim;
        CheckSize(N * N > Array.MaxLength ? long.MaxValue : (Int128)Horizon * BatchSize * N * N, "T B (n+m)^2, the values of C", paramName);
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="paramName"/> when an
    /// array of <paramref name="count"/> values cannot be allocated. The count is a product of
    /// dimensions in 128 bits, which no product of four ints overflows (in 64 bits one could wrap
    /// around to a small count); from long.MaxValue on it is reported as "more than 9.2e18".
    /// </summary>
    internal void CheckSize(Int128 count, string what, string paramName)
    {
        if (count > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(paramName, this,
                $"{what} must fit in one .NET array (at most {Array.MaxLength} values); these dimensions ({this}) need " +
                (count >= long.MaxValue ? "more than 9.2e18." : $"{count}."));
        }
    }

    private static void Check(int value, string what, string paramName)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be at least 1; got {value}.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"T={Horizon}, B={BatchSize}, n={StateDim}, m={ControlDim}";
}
