namespace DiffMpc.LinearAlgebra;

/// <summary>
/// Counts Cholesky factorisations (Potrf calls, scalar or in SIMD lanes) on the current thread.
/// Lets a test prove that a backward pass reuses the forward factors instead of refactorising;
/// thread-static, so counting costs no synchronisation.
/// </summary>
internal static class FactorizationCounter
{
    [ThreadStatic]
    private static long t_count;

    /// <summary>Factorisations performed on this thread so far.</summary>
    public static long Count => t_count;

    /// <summary>Records one factorisation.</summary>
    public static void Increment() => t_count++;
}
