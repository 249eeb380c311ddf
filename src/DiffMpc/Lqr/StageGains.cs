// Notation: Q, q the stage Q-function (Q_uu already includes the regularisation mu); "free" the
// controls not held at a bound; H_ff = L L' the Cholesky factor of the free block of Q_uu,
// stored compactly (nf x nf). Gains: K_t rows of held controls are zero; free rows are
// -H_ff^{-1} Q_fx. k_t depends on the variant.
using DiffMpc.Box;
using DiffMpc.LinearAlgebra;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>How one stage's gains k_t, K_t and the factor of Q_uu's free block are computed.</summary>
internal interface IStageGains
{
    /// <summary>Writes k_t, K_t, the free flags and the compact Cholesky factor into the workspace.</summary>
    SolveStatus Compute(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws, StageScratch s);
}

/// <summary>Unconstrained LQR: every control free, k_t = -Q_uu^{-1} q_u.</summary>
internal readonly struct UnconstrainedGains : IStageGains
{
    public SolveStatus Compute(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws, StageScratch s)
    {
        ws.FreeAt(t, b).Fill(true);
        return StageGains.FromFreeSet(t, b, Q, q, ws, s, computeFeedforward: true);
    }
}

/// <summary>
/// Control-limited DDP step at the iterate held in the workspace: k_t solves the box QP
/// min 1/2 k' Q_uu k + q_u' k s.t. u_lower - ubar_t &lt;= k &lt;= u_upper - ubar_t (intersected with
/// |k| &lt;= trust region), warm-started from the previous k_t.
/// </summary>
internal readonly struct BoxGains(ControlBox box, double trustRegion, int maxQpIterations) : IStageGains
{
    public SolveStatus Compute(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws, StageScratch s)
    {
        int n = ws.Dims.StateDim, m = ws.Dims.ControlDim, N = n + m;
        ReadOnlySpan<double> ubar = ws.TauAt(t, b).Slice(n, m);
        for (int i = 0; i < m; i++)
        {
            s.Lo[i] = Math.Max(box.Lower(t, b, i) - ubar[i], -trustRegion);
            s.Hi[i] = Math.Min(box.Upper(t, b, i) - ubar[i], trustRegion);
        }
        Span<double> k = ws.kAt(t, b);
        BoxQpStatus qp = s.Qp.Solve(Q[(n * N + n)..], N, q.Slice(n, m), s.Lo, s.Hi, k, ws.FreeAt(t, b),
            ws.CholAt(t, b), maxQpIterations, out int nFree);
        ws.FreeCount[t * ws.Dims.BatchSize + b] = nFree;
        if (qp == BoxQpStatus.NotPositiveDefinite)
        {
            return SolveStatus.NotPositiveDefinite;
        }
        // An inexact QP solution (iteration limit, no descent at round-off) still gives a
        // feasible descent step; the outer iteration's convergence test decides.
        return StageGains.FromFreeSet(t, b, Q, q, ws, s, computeFeedforward: false, factored: true);
    }
}

/// <summary>
/// Gains at a solution with its active set held fixed: controls at a bound are held
/// (k = 0, K row = 0), the rest are free. This is the factorisation the backward pass reuses.
/// </summary>
internal readonly struct FixedActiveSetGains(ControlBox box) : IStageGains
{
    public SolveStatus Compute(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws, StageScratch s)
    {
        int n = ws.Dims.StateDim, m = ws.Dims.ControlDim;
        ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m);
        Span<bool> free = ws.FreeAt(t, b);
        for (int i = 0; i < m; i++)
        {
            free[i] = u[i] != box.Lower(t, b, i) && u[i] != box.Upper(t, b, i);
        }
        return StageGains.FromFreeSet(t, b, Q, q, ws, s, computeFeedforward: true);
    }
}

/// <summary>Shared free-set algebra of the gain variants.</summary>
internal static class StageGains
{
    /// <summary>
    /// Given the free flags of stage t, factors H_ff (unless <paramref name="factored"/>), sets
    /// the free rows of K_t to -H_ff^{-1} Q_fx and the held rows to zero, and, when
    /// <paramref name="computeFeedforward"/>, k_t to -H_ff^{-1} q_f on the free set and 0 elsewhere.
    /// </summary>
    public static SolveStatus FromFreeSet(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws,
        StageScratch s, bool computeFeedforward, bool factored = false)
    {
        int n = ws.Dims.StateDim, m = ws.Dims.ControlDim, N = n + m;
        ReadOnlySpan<bool> free = ws.FreeAt(t, b);
        Span<double> chol = ws.CholAt(t, b);
        int nf = 0;
        for (int i = 0; i < m; i++)
        {
            if (free[i])
            {
                s.FreeIdx[nf++] = i;
            }
        }
        ws.FreeCount[t * ws.Dims.BatchSize + b] = nf;
        if (!factored)
        {
            for (int a = 0; a < nf; a++)
            {
                int row = (n + s.FreeIdx[a]) * N + n;
                for (int c = 0; c <= a; c++)
                {
                    chol[a * nf + c] = Q[row + s.FreeIdx[c]];
                }
            }
            if (!Lapack.Potrf(nf, chol, nf))
            {
                return SolveStatus.NotPositiveDefinite;
            }
        }

        Span<double> K = ws.KAt(t, b);
        K.Clear();
        Span<double> rows = s.Rows.AsSpan(0, nf * n);
        for (int a = 0; a < nf; a++)
        {
            Q.Slice((n + s.FreeIdx[a]) * N, n).CopyTo(rows.Slice(a * n, n));
        }
        Lapack.Potrs(nf, n, chol, nf, rows, n);
        for (int a = 0; a < nf; a++)
        {
            Span<double> dst = K.Slice(s.FreeIdx[a] * n, n);
            ReadOnlySpan<double> src = rows.Slice(a * n, n);
            for (int j = 0; j < n; j++)
            {
                dst[j] = -src[j];
            }
        }
        if (computeFeedforward)
        {
            SolveFree(nf, chol, s.FreeIdx, q.Slice(n, m), ws.kAt(t, b), s.Rhs);
        }
        return SolveStatus.Converged;
    }

    /// <summary>k = -H_ff^{-1} r_f on the free set (given by <paramref name="freeIdx"/>), 0 elsewhere.</summary>
    public static void SolveFree(int nf, ReadOnlySpan<double> chol, ReadOnlySpan<int> freeIdx, ReadOnlySpan<double> r,
        Span<double> k, Span<double> rhs)
    {
        k.Clear();
        for (int a = 0; a < nf; a++)
        {
            rhs[a] = r[freeIdx[a]];
        }
        Lapack.Potrs(nf, chol, nf, rhs);
        for (int a = 0; a < nf; a++)
        {
            k[freeIdx[a]] = -rhs[a];
        }
    }
}
