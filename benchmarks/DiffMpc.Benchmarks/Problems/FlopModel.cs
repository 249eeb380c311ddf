namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// Estimated floating-point operations (a multiply-add counts 2) of one batched LQR solve and its
/// backward pass, as the textbook Riccati algorithm performs them. GFLOP/s figures divide these by
/// measured time; they are a yardstick, not a hardware counter.
/// </summary>
/// <remarks>
/// With N = n + m, per stage and batch element (the T-1 vs T stage difference is ignored):
/// <code>
/// forward  = 2n^2N + 2nN^2          Q = C + F'(V F)                   (two GEMMs)
///          + 2n^2 + 2nN             q = c + F'(V f + v)
///          + m^3/3                  Cholesky of Q_uu
///          + 2m^2 n + 2m^2          K = -Q_uu^{-1} Q_ux, k = -Q_uu^{-1} q_u (triangular solves)
///          + 2n^2 m + 2nm           V = Q_xx + Q_xu K, v = q_x + K' q_u
///          + 2mn + 2nN              rollout u = K x + k, x' = F tau + f
///          + 2nN + 2n^2             costates lambda = (C tau + c)_x + F_x' lambda'
///          + 2N^2                   cost 1/2 tau' C tau + c' tau
/// backward = 2nN + 2m^2 + 2nm       adjoint Riccati (solve only: Cholesky factors and K are reused)
///          + 2mn + 2nN              adjoint rollout
///          + 2nN + 2n^2             adjoint costates
///          + 3N^2 + 4nN + N + n     gradients dC (sym. outer products), dF, dc, df
/// </code>
/// total = T * B * (forward + backward). The forward is dominated by 2n^2N + 2nN^2 + 2n^2 m, i.e.
/// O(n^3) per stage; the backward is O(nN + N^2), so backward/forward ratios well below 1 are expected.
/// </remarks>
internal static class FlopModel
{
    /// <summary>Forward (solve) flops per stage and batch element: the Riccati recursion, then rollout, costates and cost.</summary>
    public static double ForwardPerStage(int n, int m)
    {
        double N = n + m, nn = n, mm = m;
        return RiccatiPerStage(n, m)
            + 2 * mm * nn + 2 * nn * N
            + 2 * nn * N + 2 * nn * nn
            + 2 * N * N;
    }

    /// <summary>
    /// Flops of the Riccati recursion alone (the first five lines of the forward: Q, q, the
    /// Cholesky factorisation, the gains and V, v) per stage and batch element.
    /// </summary>
    public static double RiccatiPerStage(int n, int m) =>
        RiccatiDynamics(n, m, lowerTriangles: false) + RiccatiFactor(n, m, lowerTriangles: false);

    /// <summary>Backward (gradient) flops per stage and batch element.</summary>
    public static double BackwardPerStage(int n, int m)
    {
        double N = n + m, nn = n, mm = m;
        return 2 * nn * N + 2 * mm * mm + 2 * nn * mm
            + 2 * mm * nn + 2 * nn * N
            + 2 * nn * N + 2 * nn * nn
            + 3 * N * N + 4 * nn * N + N + nn;
    }

    /// <summary>Flops of one forward solve of a batch.</summary>
    public static double Forward(int n, int m, int T, int B) => (double)T * B * ForwardPerStage(n, m);

    /// <summary>Flops of one forward solve plus backward pass of a batch (the textbook count).</summary>
    public static double ForwardBackward(int n, int m, int T, int B) =>
        (double)T * B * (ForwardPerStage(n, m) + BackwardPerStage(n, m));

    /// <summary>
    /// As <see cref="ForwardBackward"/>, with the Riccati recursion counted as the kernels execute
    /// it (<see cref="RiccatiExecuted"/>) instead of the textbook's T full stages: the figure
    /// GFLOP/s and shares of the peak are computed from, so they are not inflated by work the
    /// kernels skip (at T = 20 the textbook count is 1.3x the executed one at n = 10, 1.4x at n = 32).
    /// </summary>
    public static double ForwardBackwardExecuted(int n, int m, int T, int B, bool lowerTriangles) =>
        ForwardBackward(n, m, T, B) - (double)B * (T * RiccatiPerStage(n, m) - RiccatiExecuted(n, m, T, lowerTriangles));

    /// <summary>
    /// Flops of the Riccati recursion of one batch element over T stages as the kernels execute
    /// it: the last stage has no dynamics (no W = V F, no F' W, no F' h), and with
    /// <paramref name="lowerTriangles"/> (the SIMD-lane kernels) the symmetric products
    /// Q = C + F' W and V = Q_xx + Q_xu K are computed on their lower triangles only, in register
    /// panels of 4, 2 and 1 rows that reach to the panel's last row (<see cref="LowerPanelEntries"/>);
    /// the per-problem kernels compute them whole.
    /// </summary>
    public static double RiccatiExecuted(int n, int m, int T, bool lowerTriangles) =>
        T * RiccatiFactor(n, m, lowerTriangles) + Math.Max(T - 1, 0) * RiccatiDynamics(n, m, lowerTriangles);

    /// <summary>One stage's Riccati work with the dynamics: W = V F, Q += F' W, h = V f + v, q += F' h.</summary>
    private static double RiccatiDynamics(int n, int m, bool lowerTriangles)
    {
        double N = n + m, nn = n;
        double qEntries = lowerTriangles ? LowerPanelEntries(n + m) : N * N;
        return 2 * nn * nn * N + 2 * nn * qEntries + 2 * nn * nn + 2 * nn * N;
    }

    /// <summary>One stage's Riccati work on Q: Cholesky of Q_uu, K and k, V = Q_xx + Q_xu K and v.</summary>
    private static double RiccatiFactor(int n, int m, bool lowerTriangles)
    {
        double nn = n, mm = m;
        double vEntries = lowerTriangles ? LowerPanelEntries(n) : nn * nn;
        return mm * mm * mm / 3 + 2 * mm * mm * nn + 2 * mm * mm + 2 * mm * vEntries + 2 * nn * mm;
    }

    /// <summary>
    /// Entries of an M x M product that a lower-triangle Gemm in register panels computes: rows in
    /// panels of 4 (then 2, then 1), each row of a panel up to the panel's last column
    /// (LaneBlas.Gemm with lowerOnly).
    /// </summary>
    public static double LowerPanelEntries(int M)
    {
        double entries = 0;
        int i = 0;
        foreach (int rows in new[] { 4, 2, 1 })
        {
            for (; i + rows <= M; i += rows)
            {
                entries += rows * Math.Min(M, i + rows);
            }
        }
        return entries;
    }
}
