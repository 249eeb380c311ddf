// Notation (per batch element): the adjoint of the KKT system at the solution is the LQR with
// the same C_t and F_t, linear term g_t = [dL/dx_t; dL/du_t], f = 0 and x_init = 0. Its solution
// (dtau, dlambda) gives every gradient (see GradientAssembly). Because Q_t depends only on C and
// F (and the active set, held fixed), the forward Cholesky factors of the free blocks of Q_uu
// and the gains K_t are reused unchanged: this sweep only solves.
//   q_t = g_t + F_t' v_{t+1},  dk_f = -H_ff^{-1} q_f (0 on held controls),  v_t = q_x + K_t' q_u
//   rollout: du_t = K_t dx_t + dk_t, dx_{t+1} = F_t dtau_t, dx_1 = 0
//   costates: dlambda_t = (sym(C_t) dtau_t + g_t)_x + F_{t,x}' dlambda_{t+1}
using DiffMpc.LinearAlgebra;

namespace DiffMpc.Lqr;

/// <summary>The backward (adjoint) LQR solve for one batch element: solve-only, no factorisation.</summary>
internal static class AdjointSweep
{
    /// <summary>Solves the adjoint LQR for element b, writing dtau, dlambda and dk into the workspace.</summary>
    public static void Solve(in LqrData d, int b, in SplitStageVector g, LqrWorkspace ws, StageScratch s)
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim, N = n + m;
        Span<double> v = s.v, q = s.q;
        for (int t = T - 1; t >= 0; t--)
        {
            q.Clear();
            g.AddTo(t, b, q, 0);
            if (t < T - 1)
            {
                Blas.Gemv(true, n, N, 1, d.F.At(t, b), N, v, 1, q);
            }
            // dk = -H_ff^{-1} q_f on the free set, 0 on held controls (active set fixed).
            int nf = 0;
            ReadOnlySpan<bool> free = ws.FreeAt(t, b);
            for (int i = 0; i < m; i++)
            {
                if (free[i])
                {
                    s.FreeIdx[nf++] = i;
                }
            }
            StageGains.SolveFree(nf, ws.CholAt(t, b), s.FreeIdx, q.Slice(n, m), ws.DkAt(t, b), s.Rhs);
            q[..n].CopyTo(v);
            Blas.Gemv(true, m, n, 1, ws.KAt(t, b), n, q.Slice(n, m), 1, v);
        }

        Span<double> zero = s.h;
        zero.Clear();
        RiccatiSweep.Rollout(d, b, ws, zero, withOffset: false, ws.Dk, ws.DTau);
        RiccatiSweep.Costates(d, b, g, ws.DTau, ws.DLambda, s);
    }
}
