// Notation as in Box/ControlLimitedLqr and LaneLqr, for a group of 8 batch elements held in the
// lanes of Vector512<double> (lane j = element 8g + j; the last group is padded by repeating
// element B-1, whose padded copies are computed and discarded):
//   iterate (xbar, ubar); g_t = (sym(C_t) + mu I_u) tau_t + c_t the cost gradient at it
//   Q_t = sym(C_t) + mu I_u + F_t' V_{t+1} F_t,  q_t = g_t + F_t' v_{t+1}
//   k_t = argmin 1/2 k' Q_uu k + q_u' k  s.t. max(u_lo - ubar, -Delta) <= k <= min(u_hi - ubar, Delta)
//   K_t = -H_ff^{-1} Q_fx on the free rows, 0 on the clamped rows (H_ff = free block of Q_uu)
//   V_t = Q_xx + Q_xu K_t (symmetric),  v_t = q_x + Q_xu k_t
//   trial u_t = clamp(ubar_t + alpha k_t + K_t (x_t - xbar_t)), x_{t+1} = F_t tau_t + f_t
//   lambda_t = (g_t + F_t' lambda_{t+1})_x,  r_t = (g_t + F_t' lambda_{t+1})_u  (condensed gradient)
// Per-lane state: each lane has its own step size, step norm, iteration count and outcome; a lane
// that stops is frozen (every update of the iterate is a blend with the lane's "still active"
// mask) while the others continue, and the group stops when no lane is active. So a lane's result
// never depends on the other lanes of its group or on its position in the batch.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.Box;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using V = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The box-constrained LQR (control-limited DDP, <see cref="ControlLimitedLqr"/>) and its adjoint
/// with batch elements in SIMD lanes. Forward: the DDP iteration per group, lanes that do not end
/// converged and verified by the projected gradient handed to the per-element active-set method,
/// then FinalizeActiveSet (factors with the active set of the solution held fixed, kept per group
/// for <see cref="Backward"/>), Polish, costates and KKT residual, all in lanes. Results are
/// unpacked into the shared <see cref="LqrWorkspace"/> per element, so solution publishing and
/// gradient assembly (bound gradients included) are those of the per-element path.
/// </summary>
internal sealed class LaneBoxLqr
{
    /// <summary>Problems per group: the box kernels are written for Vector512 (8 lanes).</summary>
    public const int Width = 8;

    private const int W = Width;

    private readonly MpcDimensions _d;
    private readonly LqrWorkspace _ws;
    // Per group, lane-packed, from FinalizeActiveSet (also used as the iteration's storage).
    private readonly LaneArray<V> _K;      // K_t, [G][T][m][n]
    private readonly LaneArray<V> _L;      // Cholesky factor of blend(Q_uu, I) for the free set, [G][T][m][m]
    private readonly LaneArray<V> _Dinv;   // 1 / diag(L), [G][T][m]
    private readonly LaneArray<V> _Free;   // free masks, [G][T][m]
    private readonly int[] _fallbacks;   // lanes handed to the per-element method, per group
    private readonly Scratch[] _scratch;
    private bool _hasOffset;
    private double _mu;
    private ControlBox _box;
    private double[]? _uInit;
    private MpcOptions _o = MpcOptions.Default;

    public LaneBoxLqr(MpcDimensions d, LqrWorkspace ws, int workers)
    {
        _d = d;
        _ws = ws;
        int T = d.Horizon, n = d.StateDim, m = d.ControlDim;
        int G = LaneLqr.GroupCount(d.BatchSize, W);
        _K = new LaneArray<V>(G * T * m * n);
        _L = new LaneArray<V>(G * T * m * m);
        _Dinv = new LaneArray<V>(G * T * m);
        _Free = new LaneArray<V>(G * T * m);
        _fallbacks = new int[G];
        _scratch = new Scratch[workers];
        for (int w = 0; w < workers; w++)
        {
            _scratch[w] = new Scratch(T, n, m);
        }
    }

    /// <summary>
    /// Batch elements (padding lanes excluded) of the last solve whose DDP result was handed to
    /// the per-element active-set method.
    /// </summary>
    public int FallbackCount
    {
        get
        {
            int sum = 0;
            foreach (int c in _fallbacks)
            {
                sum += c;
            }
            return sum;
        }
    }

    /// <summary>Per-call settings shared by every group; call before running the groups of a solve.</summary>
    public void Prepare(in LqrData data, in ControlBox box, double[]? uInit, MpcOptions options)
    {
        _hasOffset = !data.f.IsZero;
        _mu = data.ControlRegularization;
        _box = box;
        _uInit = uInit;
        _o = options;
    }

    /// <summary>
    /// Solves group g and writes tau, lambda, the free flags, status, cost, residual, active
    /// count, iterations and step norm of its elements into the workspace, and their
    /// differentiability into <paramref name="differentiable"/>, as the per-element path does.
    /// Returns false, having written nothing, when a value of the group's data is not finite.
    /// </summary>
    public bool Forward(in LqrData data, int g, int worker, Span<bool> differentiable)
    {
        Scratch s = _scratch[worker];
        MpcOptions o = _o;
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        if (!LanePacking.Pack<V>(data, g, _hasOffset, s.C, s.c, s.F, s.f, s.X0, s.Lane))
        {
            return false;   // a value is not finite: nothing written, the solver reports it
        }
        PackBounds(s);
        s.StagesKept = false;
        Span<V> tau = s.Tau, k = s.k;
        Span<SolveStatus> status = s.Status;

        // Start: u = clamp(uInit or 0), open-loop rollout, cost.
        for (int t = 0; t < T; t++)
        {
            Span<V> u = tau.Slice(t * N + n, m);
            if (_uInit is null)
            {
                u.Clear();
            }
            else
            {
                LanePacking.Gather(_uInit, t * B * m, m, m, s.Lane, u);
            }
            for (int i = 0; i < m; i++)
            {
                u[i] = LaneMask.Clamp(u[i], s.Lo[t * m + i], s.Hi[t * m + i]);
            }
        }
        k.Clear();
        RolloutOpenLoop(s, tau);
        V cost = Cost(s, tau, s.Grad);
        V active = ~LaneBlas.NonFinite(cost);
        status.Fill(SolveStatus.MaxIterations);
        SetStatus(status, ~active, SolveStatus.NonFinite);
        V stepNorm = Vector512.ConditionalSelect(active, Vector512.Create(double.PositiveInfinity), Vector512.Create(double.NaN));
        V iterations = V.Zero;

        // Control-limited DDP: BackwardPass (box QP per stage), LineSearch (clamped rollouts).
        var tolerance = Vector512.Create(o.Tolerance);
        for (int iter = 0; iter < o.MaxIterations && LaneMask.Any(active); iter++)
        {
            if (_ws.Cancellation.IsCancellationRequested)
            {
                break;   // the solver throws OperationCanceledException once the batch returns
            }
            iterations += LaneMask.Count(active);
            V notPd = Sweep(s, g, finalize: false, active) & active;
            SetStatus(status, notPd, SolveStatus.NotPositiveDefinite);
            active &= ~notPd;
            if (!LaneMask.Any(active))
            {
                break;
            }
            V accepted = LineSearch(s, g, active, ref cost, ref stepNorm, out V fullStep, out V lastTrialCost);
            V failed = active & ~accepted;
            V finiteTrial = ~LaneBlas.NonFinite(lastTrialCost);
            SetStatus(status, failed & finiteTrial, SolveStatus.LineSearchFailed);
            SetStatus(status, failed & ~finiteTrial, SolveStatus.NonFinite);
            // A small step counts as convergence only when it is the full step.
            V converged = accepted & fullStep & Vector512.LessThanOrEqual(stepNorm, tolerance);
            SetStatus(status, converged, SolveStatus.Converged);
            active &= accepted & ~converged;
        }

        // Verification by the projected gradient; the other lanes go to the per-element method.
        Span<int> lane = s.Lane;
        int first = g * W, valid = Math.Min(B - first, W);
        ControlGradients(s, tau);
        V pg = ProjectedGradient(s, tau);
        double kktTolerance = ControlLimitedLqr.KktTolerance(o);
        for (int j = 0; j < valid; j++)
        {
            _ws.Iterations[first + j] = (int)iterations.GetElement(j);
            _ws.StepNorm[first + j] = stepNorm.GetElement(j);
        }
        int fallbacks = 0;
        for (int j = 0; j < valid; j++)
        {
            bool verified = status[j] == SolveStatus.Converged && pg.GetElement(j) <= kktTolerance;
            if (verified || status[j] is not (SolveStatus.Converged or SolveStatus.LineSearchFailed or SolveStatus.MaxIterations))
            {
                continue;
            }
            if (fallbacks++ == 0)
            {
                LanePacking.Unpack(tau, g, T, N, _ws.Tau, B);
            }
            int b = first + j;
            StageScratch ss = _ws.Scratch[worker];
            LqrData d = ControlLimitedLqr.Symmetrized(data, b, ss);
            status[j] = ControlLimitedLqr.HandOver(d, _box, b, o, _ws, ss);
        }
        _fallbacks[g] = fallbacks;
        if (fallbacks > 0)
        {
            for (int t = 0; t < T; t++)
            {
                LanePacking.Gather(_ws.Tau, t * B * N, N, N, lane, tau.Slice(t * N, N));
            }
            for (int j = valid; j < W; j++)
            {
                status[j] = status[valid - 1];   // padding lanes repeat element B-1
            }
        }

        // FinalizeActiveSet: factorise with the active set of the iterate held fixed.
        CostGradient(s, tau, s.Grad);
        V finalNotPd = Sweep(s, g, finalize: true, V.Zero);
        V hasTrajectory = V.Zero, isConverged = V.Zero;
        for (int j = 0; j < W; j++)
        {
            if (SolutionWriter.HasTrajectory(status[j]))
            {
                hasTrajectory |= LaneMask.Single(j);
                if (status[j] == SolveStatus.Converged)
                {
                    isConverged |= LaneMask.Single(j);
                }
            }
        }
        SetStatus(status, finalNotPd & hasTrajectory, SolveStatus.NotPositiveDefinite);
        isConverged &= ~finalNotPd;

        // Polish: one exact Newton step on the free controls (active set fixed), kept when it
        // stays feasible and does not increase the cost.
        if (LaneMask.Any(isConverged))
        {
            cost = Cost(s, tau);
            Span<V> trial = s.Trial;
            Rollout(s, g, V.One, clamp: false, tau, trial);
            V polished = Cost(s, trial);
            V accept = isConverged & Feasible(s, trial) & Vector512.LessThanOrEqual(polished, Allowance(cost));
            if (LaneMask.Any(accept))
            {
                LaneMask.Select(accept, trial, tau);
            }
        }

        // Costates, cost and KKT residual of the solution.
        ControlGradients(s, tau);
        cost = Cost(s, tau);
        V residual = Residual(s, tau, out V activeCount, out V scale);
        V bad = LaneBlas.NonFinite(cost);
        for (int i = 0; i < T * N; i++)
        {
            bad |= LaneBlas.NonFinite(tau[i]);
        }
        for (int i = 0; i < T * n; i++)
        {
            bad |= LaneBlas.NonFinite(s.Lambda[i]);
        }

        // Unpack the valid lanes.
        LanePacking.Unpack(tau, g, T, N, _ws.Tau, B);
        LanePacking.Unpack<V>(s.Lambda, g, T, n, _ws.Lambda, B);
        ReadOnlySpan<V> free = Group(_Free, g, T * m);
        for (int j = 0; j < valid; j++)
        {
            int b = first + j;
            for (int t = 0; t < T; t++)
            {
                Span<bool> fb = _ws.FreeAt(t, b);
                for (int i = 0; i < m; i++)
                {
                    fb[i] = BitConverter.DoubleToUInt64Bits(free[t * m + i].GetElement(j)) != 0;
                }
            }
            SolveStatus st = status[j];
            bool hasSolution = SolutionWriter.HasTrajectory(st);
            if (hasSolution)
            {
                st = SolutionWriter.CheckAccuracy(st, residual.GetElement(j), scale.GetElement(j), o.Tolerance);
                if (LaneMask.Lane(bad, j))
                {
                    st = SolveStatus.NonFinite;
                    hasSolution = false;
                }
            }
            _ws.Status[b] = st;
            _ws.Cost[b] = hasSolution ? cost.GetElement(j) : double.NaN;
            _ws.KktResidual[b] = hasSolution ? residual.GetElement(j) : double.NaN;
            _ws.ActiveCount[b] = hasSolution ? (int)activeCount.GetElement(j) : 0;
            differentiable[b] = st == SolveStatus.Converged
                || (o.DifferentiateUnconverged && st is SolveStatus.MaxIterations or SolveStatus.LineSearchFailed);
        }
        return true;
    }

    /// <summary>
    /// Solves the adjoint LQR of group g with the active set of the forward solution held fixed
    /// (dk = 0 on held controls), reusing the factors of FinalizeActiveSet (no factorisation),
    /// and writes dtau, dlambda of its elements into the workspace.
    /// </summary>
    public void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker)
    {
        Scratch s = _scratch[worker];
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        _ = LanePacking.Pack<V>(data, g, withOffset: false, s.C, s.c, s.F, s.f, s.X0, s.Lane);   // checked finite by Forward
        Span<V> C = s.C, F = s.F;
        Span<V> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<V> free = Group(_Free, g, T * m);
        Span<V> gv = s.Grad, dk = s.k, v = s.v, q = s.q, tau = s.Tau, lam = s.Lambda, y = s.Y;

        // g_t = [dL/dx_t; dL/du_t] in lanes.
        Span<int> lane = s.Lane;
        LanePacking.GatherLossGradients(dLdx, dLdu, _d, lane, gv);

        // Solve-only backward sweep: q = g + F' v, dk_f = -H_ff^{-1} q_f (0 held), v = q_x + K' q_u.
        for (int t = T - 1; t >= 0; t--)
        {
            gv.Slice(t * N, N).CopyTo(q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, v, q, accumulate: true);
            }
            LaneBoxQp.SolveFree(m, 1, L.Slice(t * m * m, m * m), Dinv.Slice(t * m, m), free.Slice(t * m, m), q[n..], 1,
                dk.Slice(t * m, m), 1);
            q[..n].CopyTo(v);
            LaneBlas.Gemv(n, m, K.Slice(t * m * n, m * n), 1, n, q.Slice(n, m), v, accumulate: true);
        }

        // Adjoint rollout from dx_1 = 0, then adjoint costates.
        for (int t = 0; t < T; t++)
        {
            Span<V> taut = tau.Slice(t * N, N);
            if (t == 0)
            {
                taut[..n].Clear();
            }
            dk.Slice(t * m, m).CopyTo(taut.Slice(n, m));
            LaneBlas.Gemv(m, n, K.Slice(t * m * n, m * n), n, 1, taut[..n], taut.Slice(n, m), accumulate: true);
            if (t < T - 1)
            {
                LaneBlas.Gemv(n, N, F.Slice(t * n * N, n * N), N, 1, taut, tau.Slice((t + 1) * N, n), accumulate: false);
            }
        }
        for (int t = T - 1; t >= 0; t--)
        {
            LaneBlas.Gemv(n, N, C.Slice(t * N * N, N * N), N, 1, tau.Slice(t * N, N), y, accumulate: false);
            for (int i = 0; i < n; i++)
            {
                y[i] += gv[t * N + i];
            }
            if (t < T - 1)
            {
                LaneBlas.Gemv(n, n, F.Slice(t * n * N, n * N), 1, N, lam.Slice((t + 1) * n, n), y, accumulate: true);
            }
            y[..n].CopyTo(lam.Slice(t * n, n));
        }

        LanePacking.Unpack(tau, g, T, N, _ws.DTau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.DLambda, B);
    }

    /// <summary>
    /// Backward sweep over the stages. In the iteration (<paramref name="finalize"/> false) the
    /// gains come from the lane box QP, solved in the lanes of <paramref name="run"/> and
    /// warm-started from the previous k; with <paramref name="finalize"/> the free set is the
    /// controls strictly inside their bounds and k = -H_ff^{-1} q_f (the polish step). Reads the
    /// cost gradient in s.Grad; writes k into s.k and K, L, 1/diag(L), free into the group's
    /// buffers. Returns the lanes with a free block that is not positive definite.
    /// </summary>
    /// <remarks>
    /// Q_t depends on the iterate only through V_{t+1}, and V_{t+1} only through the free sets
    /// (and Q) of the later stages; the iterate enters q_t, k_t and v_t alone. So while every
    /// later stage of an iteration's sweep kept, in every lane, the free set it had in the
    /// previous sweep, Q_t (kept per stage in s.QStages), K_t and V_{t+1} are bitwise those of
    /// the previous sweep and are reused instead of recomputed (once the active sets settle,
    /// most of a sweep is q, the box QP and v). The reuse is exact, so no lane can tell.
    /// </remarks>
    private V Sweep(Scratch s, int g, bool finalize, V run)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<V> C = s.C, F = s.F, tau = s.Tau, grad = s.Grad, k = s.k;
        Span<V> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<V> Free = Group(_Free, g, T * m);
        Span<V> V_ = s.Vn, v = s.v, q = s.q, Wm = s.Wm, H = s.H, qpLo = s.QpLo, qpHi = s.QpHi, previousFree = s.PreviousFree;
        var muV = Vector512.Create(_mu);
        var trust = Vector512.Create(_o.TrustRegion);
        V bad = V.Zero;
        bool reuse = !finalize && s.StagesKept;   // Q_t and K_t of the previous sweep still hold
        for (int t = T - 1; t >= 0; t--)
        {
            Span<V> Q = s.QStages.AsSpan(t * N * N, N * N);
            Copy(grad.Slice(t * N, N), q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, v, q, accumulate: true);    // q += F' v
            }
            if (!reuse)
            {
                if (t < T - 1)
                {
                    ReadOnlySpan<V> Ft = F.Slice(t * n * N, n * N);
                    LaneBlas.Gemm(n, N, n, V_, n, 1, Ft, N, 1, Wm, N, accumulate: false);    // W = V F
                    LaneBlas.Gemm(N, N, n, Ft, 1, N, Wm, N, 1, Q, N, accumulate: true, lowerOnly: true,
                        init: C.Slice(t * N * N, N * N));                                       // Q = sym(C) + F' W (lower)
                }
                else
                {
                    Copy(C.Slice(t * N * N, N * N), Q);
                }
                for (int i = 0; i < m; i++)
                {
                    Q[(n + i) * N + n + i] += muV;
                }
            }
            Span<V> Lt = L.Slice(t * m * m, m * m), dinv = Dinv.Slice(t * m, m), free = Free.Slice(t * m, m);
            Span<V> Kt = K.Slice(t * m * n, m * n), kt = k.Slice(t * m, m);
            ReadOnlySpan<V> ubar = tau.Slice(t * N + n, m), lo = s.Lo.AsSpan(t * m, m), hi = s.Hi.AsSpan(t * m, m);
            if (finalize)
            {
                for (int i = 0; i < m; i++)
                {
                    free[i] = ~(Vector512.Equals(ubar[i], lo[i]) | Vector512.Equals(ubar[i], hi[i]));
                }
                bad |= LaneBoxQp.FactorFree(m, Q[(n * N + n)..], N, free, Lt, dinv);
            }
            else
            {
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        V hij = Q[(n + i) * N + n + j];
                        H[i * m + j] = hij;
                        H[j * m + i] = hij;
                    }
                    qpLo[i] = Vector512.Max(lo[i] - ubar[i], -trust);
                    qpHi[i] = Vector512.Min(hi[i] - ubar[i], trust);
                    previousFree[i] = free[i];
                }
                V notPd = s.Qp.Solve(H, q.Slice(n, m), qpLo, qpHi, kt, free, Lt, dinv, _o.BoxQpMaxIterations, run);
                bad |= notPd;
                run &= ~notPd;
                if (reuse)
                {
                    V changed = V.Zero;
                    for (int i = 0; i < m; i++)
                    {
                        changed |= free[i] ^ previousFree[i];
                    }
                    // Same free sets in every lane: L_t (refactorised by the QP) and K_t are
                    // bitwise the previous sweep's, and so is V_t; else recompute from here on.
                    reuse = changed.Equals(V.Zero);
                }
            }

            if (!reuse)
            {
                // K_f = -H_ff^{-1} Q_fx, K_c = 0 (and with finalize k_f = -H_ff^{-1} q_f, k_c = 0).
                LaneBoxQp.SolveFree(m, n, Lt, dinv, free, Q[(n * N)..], N, Kt, n);
                if (finalize)
                {
                    LaneBoxQp.SolveFree(m, 1, Lt, dinv, free, q[n..], 1, kt, 1);
                }

                // V = Q_xx + Q_xu K (lower triangle, mirrored), with Q_xu[i][j] = Q[n + j][i] read
                // from the lower triangle.
                for (int i = 0; i < n; i++)
                {
                    Copy(Q.Slice(i * N, i + 1), V_.Slice(i * n, i + 1));
                }
                LaneBlas.Gemm(n, n, m, Q[(n * N)..], 1, N, Kt, n, 1, V_, n, accumulate: true, lowerOnly: true);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        V_[j * n + i] = V_[i * n + j];
                    }
                }
            }
            // v = q_x + Q_xu k.
            Copy(q[..n], v);
            LaneBlas.Gemv(n, m, Q[(n * N)..], 1, N, kt, v, accumulate: true);
        }
        s.StagesKept = !finalize;
        return bad;
    }

    /// <summary>
    /// Backtracking line search on the true cost from alpha = 1, one alpha per lane, in the lanes
    /// of <paramref name="active"/>: a lane accepts the first trial whose cost does not increase
    /// and then stops changing. Accepted lanes take the trial as their iterate, its cost and its
    /// step norm max |u - ubar|. Returns the accepting lanes; <paramref name="fullStep"/> flags
    /// those that accepted alpha = 1, <paramref name="lastTrialCost"/> holds each lane's last
    /// trial cost.
    /// </summary>
    private V LineSearch(Scratch s, int g, V active, ref V cost, ref V stepNorm, out V fullStep, out V lastTrialCost)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<V> tau = s.Tau;
        var decay = Vector512.Create(_o.LineSearchDecay);
        V alpha = V.One, searching = active, accepted = V.Zero;
        V newCost = cost, newNorm = stepNorm;
        fullStep = V.Zero;
        lastTrialCost = V.Zero;
        V allowance = Allowance(cost);
        for (int ls = 0; ls < _o.LineSearchMaxSteps && LaneMask.Any(searching); ls++)
        {
            Rollout(s, g, alpha, clamp: true, tau, s.Trial);
            V trialCost = Cost(s, s.Trial, s.TrialGrad);
            lastTrialCost = Vector512.ConditionalSelect(searching, trialCost, lastTrialCost);
            V accept = searching & Vector512.LessThanOrEqual(trialCost, allowance);
            if (LaneMask.Any(accept))
            {
                ReadOnlySpan<V> trial = s.Trial;
                V norm = V.Zero;
                for (int t = 0; t < T; t++)
                {
                    for (int i = n; i < N; i++)
                    {
                        norm = Vector512.Max(norm, Vector512.Abs(trial[t * N + i] - tau[t * N + i]));
                    }
                }
                newNorm = Vector512.ConditionalSelect(accept, norm, newNorm);
                newCost = Vector512.ConditionalSelect(accept, trialCost, newCost);
                if (ls == 0)
                {
                    fullStep = accept;
                }
                if (accept.Equals(V.AllBitsSet))
                {
                    // Every lane accepted at once: the trial buffers become the accepted ones.
                    (s.Trial, s.Next) = (s.Next, s.Trial);
                    (s.TrialGrad, s.NextGrad) = (s.NextGrad, s.TrialGrad);
                }
                else
                {
                    LaneMask.Select(accept, s.Trial, s.Next);
                    LaneMask.Select(accept, s.TrialGrad, s.NextGrad);
                }
                accepted |= accept;
                searching &= ~accept;
            }
            alpha = Vector512.ConditionalSelect(searching, alpha * decay, alpha);
        }
        if (LaneMask.Any(accepted))
        {
            LaneMask.Select(accepted, s.Next, tau);
            LaneMask.Select(accepted, s.NextGrad, s.Grad);
        }
        cost = newCost;
        stepNorm = newNorm;
        return accepted;
    }

    /// <summary>cost + 1e-13 max(1, |cost|): the largest trial cost a line search accepts.</summary>
    private static V Allowance(V cost) =>
        cost + Vector512.Create(1e-13) * Vector512.Max(V.One, Vector512.Abs(cost));

    /// <summary>
    /// Candidate trajectory u_t = ubar_t + alpha k_t + K_t (x_t - xbar_t) (clamped into the box
    /// when asked) from x_1 = x_init, into <paramref name="trial"/>.
    /// </summary>
    private void Rollout(Scratch s, int g, V alpha, bool clamp, ReadOnlySpan<V> bar, Span<V> trial)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        ReadOnlySpan<V> K = Group(_K, g, T * m * n), k = s.k, F = s.F, f = s.f, lo = s.Lo, hi = s.Hi;
        Span<V> dx = s.Dx;
        s.X0.AsSpan(0, n).CopyTo(trial);
        for (int t = 0; t < T; t++)
        {
            Span<V> trialt = trial.Slice(t * N, N);
            ReadOnlySpan<V> bart = bar.Slice(t * N, N);
            for (int j = 0; j < n; j++)
            {
                dx[j] = trialt[j] - bart[j];
            }
            Span<V> u = trialt.Slice(n, m);
            for (int i = 0; i < m; i++)
            {
                u[i] = alpha * k[t * m + i];
            }
            LaneBlas.Gemv(m, n, K.Slice(t * m * n, m * n), n, 1, dx, u, accumulate: true);
            for (int i = 0; i < m; i++)
            {
                V ui = bart[n + i] + u[i];
                u[i] = clamp ? LaneMask.Clamp(ui, lo[t * m + i], hi[t * m + i]) : ui;
            }
            if (t < T - 1)
            {
                Step(s, t, trialt, trial.Slice((t + 1) * N, n));
            }
        }
    }

    /// <summary>The true dynamics from x_init with the controls already in tau.</summary>
    private void RolloutOpenLoop(Scratch s, Span<V> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        s.X0.AsSpan(0, n).CopyTo(tau);
        for (int t = 0; t < T - 1; t++)
        {
            Step(s, t, tau.Slice(t * N, N), tau.Slice((t + 1) * N, n));
        }
    }

    /// <summary>x_{t+1} = F_t tau_t + f_t.</summary>
    private void Step(Scratch s, int t, ReadOnlySpan<V> taut, Span<V> xNext)
    {
        int n = _d.StateDim, N = _d.TauDim;
        if (_hasOffset)
        {
            Copy(s.f.AsSpan(t * n, n), xNext);
        }
        LaneBlas.Gemv(n, N, s.F.AsSpan(t * n * N, n * N), N, 1, taut, xNext, accumulate: _hasOffset);
    }

    /// <summary>
    /// sum_t 1/2 tau_t' (sym(C_t) + mu I_u) tau_t + c_t' tau_t per lane, and, when
    /// <paramref name="grad"/> is not empty, the cost gradient g_t = (sym(C_t) + mu I_u) tau_t + c_t
    /// into it.
    /// </summary>
    private V Cost(Scratch s, ReadOnlySpan<V> tau, Span<V> grad = default)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        Span<V> y = s.Y;
        var muV = Vector512.Create(_mu);
        var halfV = Vector512.Create(0.5);
        V cost = V.Zero;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<V> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, y, accumulate: false);
            for (int i = n; i < N; i++)
            {
                y[i] = Vector512.FusedMultiplyAdd(muV, taut[i], y[i]);
            }
            V quad = V.Zero, lin = V.Zero;
            for (int i = 0; i < N; i++)
            {
                quad = Vector512.FusedMultiplyAdd(taut[i], y[i], quad);
                lin = Vector512.FusedMultiplyAdd(ct[i], taut[i], lin);
            }
            cost += Vector512.FusedMultiplyAdd(halfV, quad, lin);
            if (!grad.IsEmpty)
            {
                Span<V> gt = grad.Slice(t * N, N);
                for (int i = 0; i < N; i++)
                {
                    gt[i] = y[i] + ct[i];
                }
            }
        }
        return cost;
    }

    /// <summary>g_t = (sym(C_t) + mu I_u) tau_t + c_t for every stage, into <paramref name="grad"/>.</summary>
    private void CostGradient(Scratch s, ReadOnlySpan<V> tau, Span<V> grad)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        var muV = Vector512.Create(_mu);
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<V> taut = tau.Slice(t * N, N);
            Span<V> gt = grad.Slice(t * N, N);
            s.c.AsSpan(t * N, N).CopyTo(gt);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, gt, accumulate: true);
            for (int i = n; i < N; i++)
            {
                gt[i] = Vector512.FusedMultiplyAdd(muV, taut[i], gt[i]);
            }
        }
    }

    /// <summary>
    /// Costates lambda_t into s.Lambda and the condensed control gradients r_t into s.R, from
    /// the trajectory <paramref name="tau"/>.
    /// </summary>
    private void ControlGradients(Scratch s, ReadOnlySpan<V> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<V> y = s.Y, lam = s.Lambda, r = s.R;
        var muV = Vector512.Create(_mu);
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<V> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N);
            ct.CopyTo(y);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, y, accumulate: true);
            for (int i = n; i < N; i++)
            {
                y[i] = Vector512.FusedMultiplyAdd(muV, taut[i], y[i]);
            }
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, s.F.AsSpan(t * n * N, n * N), 1, N, lam.Slice((t + 1) * n, n), y, accumulate: true);
            }
            y[..n].CopyTo(lam.Slice(t * n, n));
            y.Slice(n, m).CopyTo(r.Slice(t * m, m));
        }
    }

    /// <summary>max over t, i of |u - clamp(u - r, lo, hi)| (0 exactly at a KKT point), with r in s.R.</summary>
    private V ProjectedGradient(Scratch s, ReadOnlySpan<V> tau)
    {
        V pg = V.Zero;
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                V u = tau[t * N + n + i];
                V projected = LaneMask.Clamp(u - s.R[t * m + i], s.Lo[t * m + i], s.Hi[t * m + i]);
                pg = Vector512.Max(pg, Vector512.Abs(u - projected));
            }
        }
        return pg;
    }

    /// <summary>
    /// The KKT residual with the box sign test (see <see cref="KktResidual.Compute"/>: a control
    /// with equal bounds has no violation, one at a bound only the outward sign), the number of
    /// controls at a bound and the scale of the balanced terms, from s.R and s.Lambda.
    /// </summary>
    private V Residual(Scratch s, ReadOnlySpan<V> tau, out V activeCount, out V scale)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        var muV = Vector512.Create(_mu);
        V residual = V.Zero;
        activeCount = V.Zero;
        scale = V.Zero;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<V> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N), Ct = s.C.AsSpan(t * N * N, N * N);
            for (int i = 0; i < m; i++)
            {
                V u = taut[n + i], lo = s.Lo[t * m + i], hi = s.Hi[t * m + i], r = s.R[t * m + i];
                V fixedControl = Vector512.Equals(lo, hi);
                V atLo = Vector512.Equals(u, lo), atHi = Vector512.Equals(u, hi);
                V violation = Vector512.ConditionalSelect(atHi, Vector512.Max(V.Zero, r), Vector512.Abs(r));
                violation = Vector512.ConditionalSelect(atLo, Vector512.Max(V.Zero, -r), violation);
                violation = Vector512.ConditionalSelect(fixedControl, V.Zero, violation);
                residual = Vector512.Max(residual, violation);
                activeCount += LaneMask.Count(fixedControl | atLo | atHi);

                // Term scale: |c_i| + |mu u_i| + sum_j |sym(C)_ij tau_j| + sum_k |F_ki lambda_{t+1,k}|.
                int row = n + i;
                V sum = Vector512.Abs(ct[row]) + Vector512.Abs(muV * u);
                for (int j = 0; j < N; j++)
                {
                    sum += Vector512.Abs(Ct[row * N + j] * taut[j]);
                }
                if (t < T - 1)
                {
                    ReadOnlySpan<V> Ft = s.F.AsSpan(t * n * N, n * N), lamNext = s.Lambda.AsSpan((t + 1) * n, n);
                    for (int kk = 0; kk < n; kk++)
                    {
                        sum += Vector512.Abs(Ft[kk * N + row] * lamNext[kk]);
                    }
                }
                scale = Vector512.Max(scale, sum);
            }
        }
        return residual;
    }

    /// <summary>The lanes whose controls in <paramref name="tau"/> all lie within their bounds.</summary>
    private V Feasible(Scratch s, ReadOnlySpan<V> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        V ok = V.AllBitsSet;
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                V u = tau[t * N + n + i];
                ok &= Vector512.GreaterThanOrEqual(u, s.Lo[t * m + i]) & Vector512.LessThanOrEqual(u, s.Hi[t * m + i]);
            }
        }
        return ok;
    }

    /// <summary>Packs the control bounds of the group's elements into s.Lo, s.Hi ([T][m]; missing sides infinite).</summary>
    private void PackBounds(Scratch s)
    {
        int T = _d.Horizon, m = _d.ControlDim;
        ReadOnlySpan<int> lane = s.Lane;
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                s.Lo[t * m + i] = Vector512.Create(_box.Lower(t, lane[0], i), _box.Lower(t, lane[1], i), _box.Lower(t, lane[2], i),
                    _box.Lower(t, lane[3], i), _box.Lower(t, lane[4], i), _box.Lower(t, lane[5], i), _box.Lower(t, lane[6], i),
                    _box.Lower(t, lane[7], i));
                s.Hi[t * m + i] = Vector512.Create(_box.Upper(t, lane[0], i), _box.Upper(t, lane[1], i), _box.Upper(t, lane[2], i),
                    _box.Upper(t, lane[3], i), _box.Upper(t, lane[4], i), _box.Upper(t, lane[5], i), _box.Upper(t, lane[6], i),
                    _box.Upper(t, lane[7], i));
            }
        }
    }

    /// <summary>status[j] = value for every lane j set in <paramref name="mask"/>.</summary>
    private static void SetStatus(Span<SolveStatus> status, V mask, SolveStatus value)
    {
        uint bits = LaneMask.Bits(mask);
        for (int j = 0; j < W; j++)
        {
            if ((bits & (1u << j)) != 0)
            {
                status[j] = value;
            }
        }
    }

    private static Span<V> Group(LaneArray<V> a, int g, int size) => a.AsSpan(g * size, size);

    /// <summary>dst = src for short lane vectors (a plain loop: cheaper than a memmove call at these sizes).</summary>
    private static void Copy(ReadOnlySpan<V> src, Span<V> dst)
    {
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = src[i];
        }
    }

    /// <summary>Lane temporaries of one worker.</summary>
    private sealed class Scratch
    {
        public Scratch(int T, int n, int m)
        {
            int N = n + m, S = Math.Max(T - 1, 0);
            C = new LaneArray<V>(T * N * N);
            c = new LaneArray<V>(T * N);
            F = new LaneArray<V>(Math.Max(S * n * N, 1));
            f = new LaneArray<V>(Math.Max(S * n, 1));
            X0 = new LaneArray<V>(n);
            Lane = new int[W];
            Lo = new LaneArray<V>(T * m);
            Hi = new LaneArray<V>(T * m);
            Tau = new LaneArray<V>(T * N);
            Trial = new LaneArray<V>(T * N);
            Next = new LaneArray<V>(T * N);
            Grad = new LaneArray<V>(T * N);
            TrialGrad = new LaneArray<V>(T * N);
            NextGrad = new LaneArray<V>(T * N);
            k = new LaneArray<V>(T * m);
            Lambda = new LaneArray<V>(T * n);
            R = new LaneArray<V>(T * m);
            Vn = new LaneArray<V>(n * n);
            v = new LaneArray<V>(n);
            QStages = new LaneArray<V>(T * N * N);
            PreviousFree = new LaneArray<V>(m);
            q = new LaneArray<V>(N);
            Wm = new LaneArray<V>(n * N);
            H = new LaneArray<V>(m * m);
            QpLo = new LaneArray<V>(m);
            QpHi = new LaneArray<V>(m);
            Dx = new LaneArray<V>(n);
            Y = new LaneArray<V>(N);
            Qp = new LaneBoxQp(m);
            Status = new SolveStatus[W];
        }

        /// <summary>sym(C_t) of the group being processed, [T][N][N].</summary>
        public LaneArray<V> C { get; }

        /// <summary>c_t, [T][N].</summary>
        public LaneArray<V> c { get; }

        /// <summary>F_t, [T-1][n][N].</summary>
        public LaneArray<V> F { get; }

        /// <summary>f_t, [T-1][n].</summary>
        public LaneArray<V> f { get; }

        public LaneArray<V> X0 { get; }

        /// <summary>The batch element of each lane of the group being processed, [8].</summary>
        public int[] Lane { get; }

        /// <summary>Control bounds, [T][m] each (infinite where absent).</summary>
        public LaneArray<V> Lo { get; }

        public LaneArray<V> Hi { get; }

        /// <summary>The iterate (xbar, ubar), then the solution, [T][N].</summary>
        public LaneArray<V> Tau { get; }

        /// <summary>Line-search trial trajectory, [T][N].</summary>
        public LaneArray<V> Trial { get; set; }

        /// <summary>The accepted trials of the lanes that accepted so far in a line search, [T][N].</summary>
        public LaneArray<V> Next { get; set; }

        /// <summary>Cost gradient g_t at the iterate (forward) or loss gradient (backward), [T][N].</summary>
        public LaneArray<V> Grad { get; }

        /// <summary>Cost gradient at <see cref="Trial"/>, [T][N].</summary>
        public LaneArray<V> TrialGrad { get; set; }

        /// <summary>Cost gradient at <see cref="Next"/>, [T][N].</summary>
        public LaneArray<V> NextGrad { get; set; }

        /// <summary>k_t (forward, box-QP warm start) or dk_t (backward), [T][m].</summary>
        public LaneArray<V> k { get; }

        public LaneArray<V> Lambda { get; }

        /// <summary>Condensed control gradients r_t, [T][m].</summary>
        public LaneArray<V> R { get; }

        public LaneArray<V> Vn { get; }

        public LaneArray<V> v { get; }

        /// <summary>Q_t of every stage from the last sweep, [T][N][N] (lower triangle).</summary>
        public LaneArray<V> QStages { get; }

        /// <summary>
        /// True when <see cref="QStages"/> and the group's K hold the last iteration sweep's
        /// values for the group being processed (see the remarks of Sweep).
        /// </summary>
        public bool StagesKept { get; set; }

        /// <summary>The free masks of a stage before its box QP, [m].</summary>
        public LaneArray<V> PreviousFree { get; }

        public LaneArray<V> q { get; }

        public LaneArray<V> Wm { get; }

        /// <summary>Q_uu with both triangles, [m][m].</summary>
        public LaneArray<V> H { get; }

        public LaneArray<V> QpLo { get; }

        public LaneArray<V> QpHi { get; }

        public LaneArray<V> Dx { get; }

        public LaneArray<V> Y { get; }

        public LaneBoxQp Qp { get; }

        /// <summary>Outcome per lane of the group being processed.</summary>
        public SolveStatus[] Status { get; }
    }
}
