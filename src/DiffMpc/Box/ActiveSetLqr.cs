// Notation: J(u) the cost of the box-constrained LQR condensed onto the controls (states from the
// linear dynamics), g = dJ/du its gradient (costates), W the working set of controls held at a
// bound. Primal active-set method: each iteration solves the equality-constrained QP on the face
// defined by W exactly (the Riccati recursion with W held: J is quadratic), giving the step d with
// d_W = 0; it moves u + alpha d with alpha = min(1, largest feasible step), adding the blocking
// bound to W when alpha < 1. At the face minimiser (d = 0) it releases the held control with the
// most negative multiplier (g_i at a lower bound, -g_i at an upper one), or stops when none is
// negative. Cost decreases monotonically; termination is finite for this convex problem.
using DiffMpc.LinearAlgebra;
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Box;

/// <summary>
/// A primal active-set method on the condensed box-constrained LQR for one element: the safeguard
/// that takes over when control-limited DDP stalls (which it can on unstable dynamics, where
/// clamping a control that has feedback breaks the descent property of its rollout).
/// </summary>
internal static class ActiveSetLqr
{
    /// <summary>
    /// Iterates from the feasible iterate in ws.Tau until the projected gradient is at most
    /// <paramref name="kktTolerance"/> (Converged), for at most <paramref name="maxIterations"/>
    /// iterations (0: only the convergence test). The working set starts as the controls at a bound.
    /// </summary>
    public static SolveStatus Iterate(in LqrData d, in ControlBox box, int b, MpcOptions o, double kktTolerance,
        int maxIterations, LqrWorkspace ws, StageScratch s, ref int iterations, ref double stepNorm)
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, m = d.Dims.ControlDim, N = n + m;
        var gradient = new ViewStageVector(StageView.Full(ws.CostGradient, B, N));
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m);
            Span<bool> free = ws.FreeAt(t, b);
            for (int i = 0; i < m; i++)
            {
                free[i] = u[i] != box.Lower(t, b, i) && u[i] != box.Upper(t, b, i);
            }
        }
        for (int iter = 0; ; iter++)
        {
            if (ProjectedGradient(d, box, b, ws, s) <= kktTolerance)
            {
                return SolveStatus.Converged;
            }
            if (iter >= maxIterations || ws.Cancellation.IsCancellationRequested)
            {
                return SolveStatus.MaxIterations;
            }
            iterations++;

            // Newton step to the minimiser of the current face (held controls fixed: k_W = 0).
            ControlLimitedLqr.CostGradient(d, b, ws);
            for (int t = 0; t < T; t++)
            {
                ws.kAt(t, b).Clear();
            }
            var gains = default(PresetFreeSetGains);
            SolveStatus factor = RiccatiSweep.Factor(d, b, 0, gradient, withOffset: false, ref gains, ws, s);
            if (factor != SolveStatus.Converged)
            {
                return factor;
            }
            NewtonDirection(d, b, ws);

            // Ratio test on the free controls.
            double alpha = 1, uScale = 1, dMax = 0;
            int blockT = -1, blockI = -1;
            for (int t = 0; t < T; t++)
            {
                ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m), du = ws.DTauAt(t, b).Slice(n, m);
                ReadOnlySpan<bool> free = ws.FreeAt(t, b);
                for (int i = 0; i < m; i++)
                {
                    uScale = Math.Max(uScale, Math.Abs(u[i]));
                    if (!free[i] || du[i] == 0)
                    {
                        continue;
                    }
                    dMax = Math.Max(dMax, Math.Abs(du[i]));
                    double room = du[i] < 0 ? box.Lower(t, b, i) - u[i] : box.Upper(t, b, i) - u[i];
                    double limit = room / du[i];
                    if (limit < alpha)
                    {
                        alpha = Math.Max(limit, 0);
                        blockT = t;
                        blockI = i;
                    }
                }
            }

            if (dMax <= 1e-14 * uScale)
            {
                // At the face minimiser: release the held control with the most negative multiplier
                // (g is current: ProjectedGradient left it in ws.Dk).
                double worst = 0;
                int relT = -1, relI = -1;
                for (int t = 0; t < T; t++)
                {
                    ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m), g = ws.DkAt(t, b);
                    ReadOnlySpan<bool> free = ws.FreeAt(t, b);
                    for (int i = 0; i < m; i++)
                    {
                        if (free[i] || box.Lower(t, b, i) == box.Upper(t, b, i))
                        {
                            continue;   // free, or fixed by equal bounds (never released)
                        }
                        double multiplier = u[i] == box.Lower(t, b, i) ? g[i] : -g[i];
                        if (multiplier < worst)
                        {
                            worst = multiplier;
                            relT = t;
                            relI = i;
                        }
                    }
                }
                if (relT < 0)
                {
                    // A KKT point of the face in exact arithmetic: the free gradient left is
                    // round-off. It counts as converged when that is at the round-off level of
                    // the terms it balances (ill-conditioned problems put that level above an
                    // absolute tolerance); otherwise it is reported as a stall.
                    return ProjectedGradient(d, box, b, ws, s) <= RoundoffLevel * KktResidual.TermScale(d, b, ws)
                        ? SolveStatus.Converged
                        : SolveStatus.LineSearchFailed;
                }
                ws.FreeAt(relT, b)[relI] = true;
                stepNorm = 0;
                continue;
            }

            // Step, landing exactly on the blocking bound, which joins the working set.
            Step(d, box, b, alpha, blockT, blockI, ws);
            stepNorm = ControlLimitedLqr.AcceptTrial(ws, b);
            if (blockT >= 0)
            {
                ws.FreeAt(blockT, b)[blockI] = false;
            }
        }
    }

    /// <summary>Relative size of a projected gradient that round-off alone explains.</summary>
    private const double RoundoffLevel = 1e-13;

    /// <summary>
    /// The projected-gradient measure max |u - P(u - g)| of element b's iterate in ws.Tau (0 exactly
    /// at a KKT point), leaving the costates in ws.Lambda and g in ws.Dk (forward scratch).
    /// </summary>
    public static double ProjectedGradient(in LqrData d, in ControlBox box, int b, LqrWorkspace ws, StageScratch s)
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim;
        var c = new ViewStageVector(d.c);
        RiccatiSweep.Costates(d, b, c, ws.Tau, ws.Lambda, s);
        double pg = 0;
        for (int t = 0; t < T; t++)
        {
            Span<double> g = ws.DkAt(t, b);
            KktResidual.ControlGradient(d, t, b, ws.TauAt(t, b), c, ws.Lambda, g);
            ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m);
            for (int i = 0; i < m; i++)
            {
                double projected = Math.Clamp(u[i] - g[i], box.Lower(t, b, i), box.Upper(t, b, i));
                pg = Math.Max(pg, Math.Abs(u[i] - projected));
            }
        }
        return pg;
    }

    /// <summary>d_t = k_t + K_t dx_t, dx_{t+1} = F_t [dx_t; d_t], dx_1 = 0, into ws.DTau (forward scratch).</summary>
    private static void NewtonDirection(in LqrData d, int b, LqrWorkspace ws)
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim, N = n + m;
        ws.DTauAt(0, b)[..n].Clear();
        for (int t = 0; t < T; t++)
        {
            Span<double> dtau = ws.DTauAt(t, b);
            Span<double> du = dtau.Slice(n, m);
            ws.kAt(t, b).CopyTo(du);
            Blas.Gemv(false, m, n, 1, ws.KAt(t, b), n, dtau[..n], 1, du);
            if (t < T - 1)
            {
                Blas.Gemv(false, n, N, 1, d.F.At(t, b), N, dtau, 0, ws.DTauAt(t + 1, b)[..n]);
            }
        }
    }

    /// <summary>
    /// u + alpha d (clamped into the box against round-off; the blocking control set exactly to its
    /// bound) rolled out through the linear dynamics into ws.TauTrial.
    /// </summary>
    private static void Step(in LqrData d, in ControlBox box, int b, double alpha, int blockT, int blockI, LqrWorkspace ws)
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim;
        var model = new ControlLimitedLqr.LinearModel(d);
        d.XInit.AsSpan(b * n, n).CopyTo(ws.TauTrialAt(0, b));
        for (int t = 0; t < T; t++)
        {
            Span<double> trial = ws.TauTrialAt(t, b);
            ReadOnlySpan<double> bar = ws.TauAt(t, b), dtau = ws.DTauAt(t, b);
            for (int i = 0; i < m; i++)
            {
                double lo = box.Lower(t, b, i), hi = box.Upper(t, b, i);
                double u = Math.Clamp(bar[n + i] + alpha * dtau[n + i], lo, hi);
                if (t == blockT && i == blockI)
                {
                    u = dtau[n + i] < 0 ? lo : hi;
                }
                trial[n + i] = u;
            }
            if (t < T - 1)
            {
                model.Step(t, b, trial, ws.TauTrialAt(t + 1, b)[..n]);
            }
        }
    }

    /// <summary>
    /// Gains for a working set already written to ws.Free, with the held controls' steps k_A already
    /// in ws.k (zero for the active-set method): K as usual, k_F = -H_FF^{-1} (q_F + H_FA k_A).
    /// </summary>
    private readonly struct PresetFreeSetGains : IStageGains
    {
        public SolveStatus Compute(int t, int b, ReadOnlySpan<double> Q, ReadOnlySpan<double> q, LqrWorkspace ws, StageScratch s)
        {
            SolveStatus status = StageGains.FromFreeSet(t, b, Q, q, ws, s, computeFeedforward: false);
            if (status != SolveStatus.Converged)
            {
                return status;
            }
            int n = ws.Dims.StateDim, m = ws.Dims.ControlDim, N = n + m;
            ReadOnlySpan<bool> free = ws.FreeAt(t, b);
            Span<double> k = ws.kAt(t, b);
            Span<double> r = s.Lo.AsSpan(0, m);
            for (int i = 0; i < m; i++)
            {
                double ri = q[n + i];
                for (int j = 0; j < m; j++)
                {
                    if (!free[j])
                    {
                        ri += Q[(n + i) * N + n + j] * k[j];
                    }
                }
                r[i] = ri;
            }
            int nf = ws.FreeCount[t * ws.Dims.BatchSize + b];
            Span<double> rhs = s.Rhs.AsSpan(0, nf);
            for (int a = 0; a < nf; a++)
            {
                rhs[a] = r[s.FreeIdx[a]];
            }
            Lapack.Potrs(nf, ws.CholAt(t, b), nf, rhs);
            for (int a = 0; a < nf; a++)
            {
                k[s.FreeIdx[a]] = -rhs[a];
            }
            return SolveStatus.Converged;
        }
    }
}
