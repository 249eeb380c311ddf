// Notation as in Box/ControlLimitedLqr and LaneLqr, for a group of W batch elements held in the
// lanes of a vector TV (W = 8 for Vector512<double>, 4 for Vector256<double>; lane j = element
// Wg + j; the last group is padded by repeating element B-1, whose padded copies are computed and
// discarded):
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
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DiffMpc.Box;
using DiffMpc.LinearAlgebra;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

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
internal sealed class LaneBoxLqr<TV> : ILaneBoxLqr
    where TV : struct
{
    private static readonly int W = Simd.Width<TV>();

    private readonly MpcDimensions _d;
    private readonly LqrWorkspace _ws;
    // Per group, lane-packed, from FinalizeActiveSet (also used as the iteration's storage).
    private readonly LaneArray<TV> _K;      // K_t, [G][T][m][n]
    private readonly LaneArray<TV> _L;      // Cholesky factor of blend(Q_uu, I) for the free set, [G][T][m][m]
    private readonly LaneArray<TV> _Dinv;   // 1 / diag(L), [G][T][m]
    private readonly LaneArray<TV> _Free;   // free masks, [G][T][m]
    private readonly LaneAdjoint<TV> _adjointTest;   // primal side of the adjoint-usable test, per group
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
        _K = new LaneArray<TV>(G * T * m * n);
        _L = new LaneArray<TV>(G * T * m * m);
        _Dinv = new LaneArray<TV>(G * T * m);
        _Free = new LaneArray<TV>(G * T * m);
        _adjointTest = new LaneAdjoint<TV>(d, G);
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
        if (!LanePacking.Pack<TV>(data, g, _hasOffset, s.C, s.c, s.F, s.f, s.X0, s.Lane))
        {
            return false;   // a value is not finite: nothing written, the solver reports it
        }
        PackBounds(s);
        s.StagesKept = false;
        Iterate(s, g, out TV iterations, out TV stepNorm);
        Verify(data, s, g, worker, iterations, stepNorm);
        Finish(s, g);
        WriteResults(s, g, differentiable);
        return true;
    }

    /// <summary>
    /// The DDP iteration of group g from the packed data: start from the clamped warm start, then
    /// sweeps and line searches until every lane has stopped; sets s.Tau, s.Status and returns
    /// each lane's iteration count and last step norm. (Forward is split into phase methods,
    /// each compiled on its own, so the JIT's inlining budget covers every lane operation.)
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Iterate(Scratch s, int g, out TV iterations, out TV stepNorm)
    {
        MpcOptions o = _o;
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> tau = s.Tau, k = s.k;
        Span<SolveStatus> status = s.Status;

        // Start: u = clamp(uInit or 0), open-loop rollout, cost.
        for (int t = 0; t < T; t++)
        {
            Span<TV> u = tau.Slice(t * N + n, m);
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
        TV cost = Cost(s, tau, s.Grad);
        TV active = Simd.Not(Simd.NonFinite(cost));
        status.Fill(SolveStatus.MaxIterations);
        SetStatus(status, Simd.Not(active), SolveStatus.NonFinite);
        stepNorm = Simd.Select(active, Simd.Create<TV>(double.PositiveInfinity), Simd.Create<TV>(double.NaN));
        iterations = Simd.Zero<TV>();

        // Control-limited DDP: BackwardPass (box QP per stage), LineSearch (clamped rollouts).
        var tolerance = Simd.Create<TV>(o.Tolerance);
        for (int iter = 0; iter < o.MaxIterations && LaneMask.Any(active); iter++)
        {
            if (_ws.Cancellation.IsCancellationRequested)
            {
                break;   // the solver throws OperationCanceledException once the batch returns
            }
            iterations = Simd.Add(iterations, LaneMask.Count(active));
            TV notPd = Simd.And(Sweep(s, g, finalize: false, active), active);
            SetStatus(status, notPd, SolveStatus.NotPositiveDefinite);
            active = Simd.And(active, Simd.Not(notPd));
            if (!LaneMask.Any(active))
            {
                break;
            }
            TV accepted = LineSearch(s, g, active, ref cost, ref stepNorm, out TV fullStep, out TV lastTrialCost);
            TV failed = Simd.And(active, Simd.Not(accepted));
            TV finiteTrial = Simd.Not(Simd.NonFinite(lastTrialCost));
            SetStatus(status, Simd.And(failed, finiteTrial), SolveStatus.LineSearchFailed);
            SetStatus(status, Simd.And(failed, Simd.Not(finiteTrial)), SolveStatus.NonFinite);
            // A small step counts as convergence only when it is the full step.
            TV converged = Simd.And(Simd.And(accepted, fullStep), Simd.LessThanOrEqual(stepNorm, tolerance));
            SetStatus(status, converged, SolveStatus.Converged);
            active = Simd.And(active, Simd.And(accepted, Simd.Not(converged)));
        }
    }

    /// <summary>
    /// Writes the iteration counts and step norms of group g's elements, verifies the lanes by
    /// the projected gradient and hands the others to the per-element active-set method.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Verify(in LqrData data, Scratch s, int g, int worker, TV iterations, TV stepNorm)
    {
        MpcOptions o = _o;
        int T = _d.Horizon, B = _d.BatchSize, N = _d.TauDim;
        Span<TV> tau = s.Tau;
        Span<SolveStatus> status = s.Status;

        // Verification by the projected gradient; the other lanes go to the per-element method.
        Span<int> lane = s.Lane;
        int first = g * W, valid = Math.Min(B - first, W);
        ControlGradients(s, tau);
        TV pg = ProjectedGradient(s, tau);
        double kktTolerance = ControlLimitedLqr.KktTolerance(o);
        for (int j = 0; j < valid; j++)
        {
            _ws.Iterations[first + j] = (int)Simd.Get(iterations, j);
            _ws.StepNorm[first + j] = Simd.Get(stepNorm, j);
        }
        int fallbacks = 0;
        for (int j = 0; j < valid; j++)
        {
            bool verified = status[j] == SolveStatus.Converged && Simd.Get(pg, j) <= kktTolerance;
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
    }

    /// <summary>
    /// FinalizeActiveSet (the group's factors for its solution's active set, kept for
    /// <see cref="Backward"/>) and Polish of group g's solution in s.Tau.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Finish(Scratch s, int g)
    {
        Span<TV> tau = s.Tau;
        Span<SolveStatus> status = s.Status;

        // FinalizeActiveSet: factorise with the active set of the iterate held fixed.
        CostGradient(s, tau, s.Grad);
        TV finalNotPd = Sweep(s, g, finalize: true, Simd.Zero<TV>());
        TV hasTrajectory = Simd.Zero<TV>(), isConverged = Simd.Zero<TV>();
        for (int j = 0; j < W; j++)
        {
            if (SolutionWriter.HasTrajectory(status[j]))
            {
                hasTrajectory = Simd.Or(hasTrajectory, LaneMask.Single<TV>(j));
                if (status[j] == SolveStatus.Converged)
                {
                    isConverged = Simd.Or(isConverged, LaneMask.Single<TV>(j));
                }
            }
        }
        SetStatus(status, Simd.And(finalNotPd, hasTrajectory), SolveStatus.NotPositiveDefinite);
        isConverged = Simd.And(isConverged, Simd.Not(finalNotPd));

        // Polish: one exact Newton step on the free controls (active set fixed), kept when it
        // stays feasible and does not increase the cost.
        if (LaneMask.Any(isConverged))
        {
            TV current = Cost(s, tau);
            Span<TV> trial = s.Trial;
            Rollout(s, g, Simd.Create<TV>(1.0), clamp: false, tau, trial);
            TV polished = Cost(s, trial);
            TV accept = Simd.And(Simd.And(isConverged, Feasible(s, trial)), Simd.LessThanOrEqual(polished, Allowance(current)));
            if (LaneMask.Any(accept))
            {
                LaneMask.Select(accept, trial, tau);
            }
        }
    }

    /// <summary>
    /// Costates, cost and KKT residual of group g's solution in s.Tau, and its valid elements'
    /// results written into the workspace.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteResults(Scratch s, int g, Span<bool> differentiable)
    {
        MpcOptions o = _o;
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        int first = g * W, valid = Math.Min(B - first, W);
        Span<TV> tau = s.Tau;
        Span<SolveStatus> status = s.Status;

        // Costates, cost and KKT residual of the solution.
        ControlGradients(s, tau);
        TV cost = Cost(s, tau);
        TV residual = Residual(s, tau, out TV activeCount, out TV scale);
        TV bad = Simd.NonFinite(cost);
        for (int i = 0; i < T * N; i++)
        {
            bad = Simd.Or(bad, Simd.NonFinite(tau[i]));
        }
        for (int i = 0; i < T * n; i++)
        {
            bad = Simd.Or(bad, Simd.NonFinite(s.Lambda[i]));
        }

        _adjointTest.KeepSolution(g, tau, s.Lambda);

        // Unpack the valid lanes.
        LanePacking.Unpack(tau, g, T, N, _ws.Tau, B);
        LanePacking.Unpack<TV>(s.Lambda, g, T, n, _ws.Lambda, B);
        ReadOnlySpan<TV> free = Group(_Free, g, T * m);
        for (int j = 0; j < valid; j++)
        {
            int b = first + j;
            for (int t = 0; t < T; t++)
            {
                Span<bool> fb = _ws.FreeAt(t, b);
                for (int i = 0; i < m; i++)
                {
                    fb[i] = Simd.GetBits(free[t * m + i], j) != 0;
                }
            }
            SolveStatus st = status[j];
            bool hasSolution = SolutionWriter.HasTrajectory(st);
            if (hasSolution)
            {
                st = SolutionWriter.BoxStatus(st, Simd.Get(residual, j), Simd.Get(scale, j), o.Tolerance);
                if (LaneMask.Lane(bad, j))
                {
                    st = SolveStatus.NonFinite;
                    hasSolution = false;
                }
            }
            _ws.Status[b] = st;
            _ws.Cost[b] = hasSolution ? Simd.Get(cost, j) : double.NaN;
            _ws.KktResidual[b] = hasSolution ? Simd.Get(residual, j) : double.NaN;
            _ws.ActiveCount[b] = hasSolution ? (int)Simd.Get(activeCount, j) : 0;
            differentiable[b] = st == SolveStatus.Converged
                || (o.DifferentiateUnconverged && st is SolveStatus.MaxIterations or SolveStatus.LineSearchFailed);
        }
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
        _ = LanePacking.Pack<TV>(data, g, withOffset: false, s.C, s.c, s.F, s.f, s.X0, s.Lane);   // checked finite by Forward
        Span<TV> gv = s.Grad, tau = s.Tau, lam = s.Lambda;

        // g_t = [dL/dx_t; dL/du_t] in lanes.
        Span<int> lane = s.Lane;
        LanePacking.GatherLossGradients(dLdx, dLdu, _d, lane, gv);
        AdjointSweep(s, g);
        AdjointRollout(s, g);
        LanePacking.Unpack(tau, g, T, N, _ws.DTau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.DLambda, B);
    }

    /// <inheritdoc/>
    public void AdjointUsable(int g, int worker, Span<bool> usable) => _adjointTest.Usable(g, _scratch[worker].Tau, _scratch[worker].Lambda, usable);

    /// <summary>The adjoint's solve-only backward sweep of group g: dk into s.k, from the loss gradients in s.Grad.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AdjointSweep(Scratch s, int g)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> F = s.F;
        Span<TV> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<TV> free = Group(_Free, g, T * m);
        Span<TV> gv = s.Grad, dk = s.k, v = s.v, q = s.q;

        // Solve-only backward sweep: q = g + F' v, dk_f = -H_ff^{-1} q_f (0 held), v = q_x + K' q_u.
        for (int t = T - 1; t >= 0; t--)
        {
            gv.Slice(t * N, N).CopyTo(q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, v, q, accumulate: true);
            }
            LaneBoxQp<TV>.SolveFree(m, 1, L.Slice(t * m * m, m * m), Dinv.Slice(t * m, m), free.Slice(t * m, m), q[n..], 1,
                dk.Slice(t * m, m), 1);
            q[..n].CopyTo(v);
            LaneBlas.Gemv(n, m, K.Slice(t * m * n, m * n), 1, n, q.Slice(n, m), v, accumulate: true);
        }

    }

    /// <summary>The adjoint rollout of group g from dx_1 = 0 into s.Tau, then the adjoint costates into s.Lambda.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AdjointRollout(Scratch s, int g)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> C = s.C, F = s.F;
        Span<TV> K = Group(_K, g, T * m * n);
        Span<TV> gv = s.Grad, dk = s.k, tau = s.Tau, lam = s.Lambda, y = s.Y;

        // Adjoint rollout from dx_1 = 0, then adjoint costates.
        for (int t = 0; t < T; t++)
        {
            Span<TV> taut = tau.Slice(t * N, N);
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
                y[i] = Simd.Add(y[i], gv[t * N + i]);
            }
            if (t < T - 1)
            {
                LaneBlas.Gemv(n, n, F.Slice(t * n * N, n * N), 1, N, lam.Slice((t + 1) * n, n), y, accumulate: true);
            }
            y[..n].CopyTo(lam.Slice(t * n, n));
        }
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
    private TV Sweep(Scratch s, int g, bool finalize, TV run)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> C = s.C, F = s.F, tau = s.Tau, grad = s.Grad, k = s.k;
        Span<TV> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<TV> Free = Group(_Free, g, T * m);
        Span<TV> V_ = s.Vn, v = s.v, q = s.q, Wm = s.Wm, H = s.H, qpLo = s.QpLo, qpHi = s.QpHi, previousFree = s.PreviousFree;
        var muV = Simd.Create<TV>(_mu);
        var trust = Simd.Create<TV>(_o.TrustRegion);
        TV bad = Simd.Zero<TV>();
        bool reuse = !finalize && s.StagesKept;   // Q_t and K_t of the previous sweep still hold
        for (int t = T - 1; t >= 0; t--)
        {
            Span<TV> Q = s.QStages.AsSpan(t * N * N, N * N);
            Copy(grad.Slice(t * N, N), q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, v, q, accumulate: true);    // q += F' v
            }
            if (!reuse)
            {
                if (t < T - 1)
                {
                    ReadOnlySpan<TV> Ft = F.Slice(t * n * N, n * N);
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
                    Q[(n + i) * N + n + i] = Simd.Add(Q[(n + i) * N + n + i], muV);
                }
            }
            Span<TV> Lt = L.Slice(t * m * m, m * m), dinv = Dinv.Slice(t * m, m), free = Free.Slice(t * m, m);
            Span<TV> Kt = K.Slice(t * m * n, m * n), kt = k.Slice(t * m, m);
            ReadOnlySpan<TV> ubar = tau.Slice(t * N + n, m), lo = s.Lo.AsSpan(t * m, m), hi = s.Hi.AsSpan(t * m, m);
            if (finalize)
            {
                for (int i = 0; i < m; i++)
                {
                    free[i] = Simd.Not(Simd.Or(Simd.EqualMask(ubar[i], lo[i]), Simd.EqualMask(ubar[i], hi[i])));
                }
                bad = Simd.Or(bad, LaneBoxQp<TV>.FactorFree(m, Q[(n * N + n)..], N, free, Lt, dinv));
            }
            else
            {
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        TV hij = Q[(n + i) * N + n + j];
                        H[i * m + j] = hij;
                        H[j * m + i] = hij;
                    }
                    qpLo[i] = Simd.Max(Simd.Sub(lo[i], ubar[i]), Simd.Neg(trust));
                    qpHi[i] = Simd.Min(Simd.Sub(hi[i], ubar[i]), trust);
                    previousFree[i] = free[i];
                }
                TV notPd = s.Qp.Solve(H, q.Slice(n, m), qpLo, qpHi, kt, free, Lt, dinv, _o.BoxQpMaxIterations, run);
                bad = Simd.Or(bad, notPd);
                run = Simd.And(run, Simd.Not(notPd));
                if (reuse)
                {
                    TV changed = Simd.Zero<TV>();
                    for (int i = 0; i < m; i++)
                    {
                        changed = Simd.Or(changed, Simd.Xor(free[i], previousFree[i]));
                    }
                    // Same free sets in every lane: L_t (refactorised by the QP) and K_t are
                    // bitwise the previous sweep's, and so is V_t; else recompute from here on.
                    reuse = !LaneMask.Any(changed);
                }
            }

            if (!reuse)
            {
                // K_f = -H_ff^{-1} Q_fx, K_c = 0 (and with finalize k_f = -H_ff^{-1} q_f, k_c = 0).
                LaneBoxQp<TV>.SolveFree(m, n, Lt, dinv, free, Q[(n * N)..], N, Kt, n);
                if (finalize)
                {
                    LaneBoxQp<TV>.SolveFree(m, 1, Lt, dinv, free, q[n..], 1, kt, 1);
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
    private TV LineSearch(Scratch s, int g, TV active, ref TV cost, ref TV stepNorm, out TV fullStep, out TV lastTrialCost)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> tau = s.Tau;
        var decay = Simd.Create<TV>(_o.LineSearchDecay);
        TV alpha = Simd.Create<TV>(1.0), searching = active, accepted = Simd.Zero<TV>();
        TV newCost = cost, newNorm = stepNorm;
        fullStep = Simd.Zero<TV>();
        lastTrialCost = Simd.Zero<TV>();
        TV allowance = Allowance(cost);
        for (int ls = 0; ls < _o.LineSearchMaxSteps && LaneMask.Any(searching); ls++)
        {
            Rollout(s, g, alpha, clamp: true, tau, s.Trial);
            TV trialCost = Cost(s, s.Trial, s.TrialGrad);
            lastTrialCost = Simd.Select(searching, trialCost, lastTrialCost);
            TV accept = Simd.And(searching, Simd.LessThanOrEqual(trialCost, allowance));
            if (LaneMask.Any(accept))
            {
                ReadOnlySpan<TV> trial = s.Trial;
                TV norm = Simd.Zero<TV>();
                for (int t = 0; t < T; t++)
                {
                    for (int i = n; i < N; i++)
                    {
                        norm = Simd.Max(norm, Simd.Abs(Simd.Sub(trial[t * N + i], tau[t * N + i])));
                    }
                }
                newNorm = Simd.Select(accept, norm, newNorm);
                newCost = Simd.Select(accept, trialCost, newCost);
                if (ls == 0)
                {
                    fullStep = accept;
                }
                KeepTrials(s, accept);
                accepted = Simd.Or(accepted, accept);
                searching = Simd.And(searching, Simd.Not(accept));
            }
            alpha = Simd.Select(searching, Simd.Mul(alpha, decay), alpha);
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

    /// <summary>The trials (and their cost gradients) of the lanes of <paramref name="accept"/> become those lanes' accepted ones.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KeepTrials(Scratch s, TV accept)
    {
        if (LaneMask.All(accept))
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
    }

    /// <summary>cost + 1e-13 max(1, |cost|): the largest trial cost a line search accepts.</summary>
    private static TV Allowance(TV cost) =>
        Simd.Add(cost, Simd.Mul(Simd.Create<TV>(1e-13), Simd.Max(Simd.Create<TV>(1.0), Simd.Abs(cost))));

    /// <summary>
    /// Candidate trajectory u_t = ubar_t + alpha k_t + K_t (x_t - xbar_t) (clamped into the box
    /// when asked) from x_1 = x_init, into <paramref name="trial"/>.
    /// </summary>
    private void Rollout(Scratch s, int g, TV alpha, bool clamp, ReadOnlySpan<TV> bar, Span<TV> trial)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        ReadOnlySpan<TV> K = Group(_K, g, T * m * n), k = s.k, F = s.F, f = s.f, lo = s.Lo, hi = s.Hi;
        Span<TV> dx = s.Dx;
        s.X0.AsSpan(0, n).CopyTo(trial);
        for (int t = 0; t < T; t++)
        {
            Span<TV> trialt = trial.Slice(t * N, N);
            ReadOnlySpan<TV> bart = bar.Slice(t * N, N);
            for (int j = 0; j < n; j++)
            {
                dx[j] = Simd.Sub(trialt[j], bart[j]);
            }
            Span<TV> u = trialt.Slice(n, m);
            for (int i = 0; i < m; i++)
            {
                u[i] = Simd.Mul(alpha, k[t * m + i]);
            }
            LaneBlas.Gemv(m, n, K.Slice(t * m * n, m * n), n, 1, dx, u, accumulate: true);
            for (int i = 0; i < m; i++)
            {
                TV ui = Simd.Add(bart[n + i], u[i]);
                u[i] = clamp ? LaneMask.Clamp(ui, lo[t * m + i], hi[t * m + i]) : ui;
            }
            if (t < T - 1)
            {
                Step(s, t, trialt, trial.Slice((t + 1) * N, n));
            }
        }
    }

    /// <summary>The true dynamics from x_init with the controls already in tau.</summary>
    private void RolloutOpenLoop(Scratch s, Span<TV> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        s.X0.AsSpan(0, n).CopyTo(tau);
        for (int t = 0; t < T - 1; t++)
        {
            Step(s, t, tau.Slice(t * N, N), tau.Slice((t + 1) * N, n));
        }
    }

    /// <summary>x_{t+1} = F_t tau_t + f_t.</summary>
    private void Step(Scratch s, int t, ReadOnlySpan<TV> taut, Span<TV> xNext)
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
    private TV Cost(Scratch s, ReadOnlySpan<TV> tau, Span<TV> grad = default)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        Span<TV> y = s.Y;
        var muV = Simd.Create<TV>(_mu);
        var halfV = Simd.Create<TV>(0.5);
        TV cost = Simd.Zero<TV>();
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<TV> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, y, accumulate: false);
            for (int i = n; i < N; i++)
            {
                y[i] = Simd.Fma(muV, taut[i], y[i]);
            }
            TV quad = Simd.Zero<TV>(), lin = Simd.Zero<TV>();
            for (int i = 0; i < N; i++)
            {
                quad = Simd.Fma(taut[i], y[i], quad);
                lin = Simd.Fma(ct[i], taut[i], lin);
            }
            cost = Simd.Add(cost, Simd.Fma(halfV, quad, lin));
            if (!grad.IsEmpty)
            {
                Span<TV> gt = grad.Slice(t * N, N);
                for (int i = 0; i < N; i++)
                {
                    gt[i] = Simd.Add(y[i], ct[i]);
                }
            }
        }
        return cost;
    }

    /// <summary>g_t = (sym(C_t) + mu I_u) tau_t + c_t for every stage, into <paramref name="grad"/>.</summary>
    private void CostGradient(Scratch s, ReadOnlySpan<TV> tau, Span<TV> grad)
    {
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        var muV = Simd.Create<TV>(_mu);
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<TV> taut = tau.Slice(t * N, N);
            Span<TV> gt = grad.Slice(t * N, N);
            s.c.AsSpan(t * N, N).CopyTo(gt);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, gt, accumulate: true);
            for (int i = n; i < N; i++)
            {
                gt[i] = Simd.Fma(muV, taut[i], gt[i]);
            }
        }
    }

    /// <summary>
    /// Costates lambda_t into s.Lambda and the condensed control gradients r_t into s.R, from
    /// the trajectory <paramref name="tau"/>.
    /// </summary>
    private void ControlGradients(Scratch s, ReadOnlySpan<TV> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> y = s.Y, lam = s.Lambda, r = s.R;
        var muV = Simd.Create<TV>(_mu);
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<TV> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N);
            ct.CopyTo(y);
            LaneBlas.Gemv(N, N, s.C.AsSpan(t * N * N, N * N), N, 1, taut, y, accumulate: true);
            for (int i = n; i < N; i++)
            {
                y[i] = Simd.Fma(muV, taut[i], y[i]);
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
    private TV ProjectedGradient(Scratch s, ReadOnlySpan<TV> tau)
    {
        TV pg = Simd.Zero<TV>();
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                TV u = tau[t * N + n + i];
                TV projected = LaneMask.Clamp(Simd.Sub(u, s.R[t * m + i]), s.Lo[t * m + i], s.Hi[t * m + i]);
                pg = Simd.Max(pg, Simd.Abs(Simd.Sub(u, projected)));
            }
        }
        return pg;
    }

    /// <summary>
    /// The KKT residual with the box sign test (see <see cref="KktResidual.Compute"/>: a control
    /// with equal bounds has no violation, one at a bound only the outward sign), the number of
    /// controls at a bound and the scale of the balanced terms, from s.R and s.Lambda.
    /// </summary>
    private TV Residual(Scratch s, ReadOnlySpan<TV> tau, out TV activeCount, out TV scale)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        var muV = Simd.Create<TV>(_mu);
        TV residual = Simd.Zero<TV>();
        activeCount = Simd.Zero<TV>();
        scale = Simd.Zero<TV>();
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<TV> taut = tau.Slice(t * N, N), ct = s.c.AsSpan(t * N, N), Ct = s.C.AsSpan(t * N * N, N * N);
            for (int i = 0; i < m; i++)
            {
                TV u = taut[n + i], lo = s.Lo[t * m + i], hi = s.Hi[t * m + i], r = s.R[t * m + i];
                TV fixedControl = Simd.EqualMask(lo, hi);
                TV atLo = Simd.EqualMask(u, lo), atHi = Simd.EqualMask(u, hi);
                TV violation = Simd.Select(atHi, Simd.Max(Simd.Zero<TV>(), r), Simd.Abs(r));
                violation = Simd.Select(atLo, Simd.Max(Simd.Zero<TV>(), Simd.Neg(r)), violation);
                violation = Simd.Select(fixedControl, Simd.Zero<TV>(), violation);
                residual = Simd.Max(residual, violation);
                activeCount = Simd.Add(activeCount, LaneMask.Count(Simd.Or(Simd.Or(fixedControl, atLo), atHi)));

                // Term scale: |c_i| + |mu u_i| + sum_j |sym(C)_ij tau_j| + sum_k |F_ki lambda_{t+1,k}|.
                int row = n + i;
                TV sum = Simd.Add(Simd.Abs(ct[row]), Simd.Abs(Simd.Mul(muV, u)));
                for (int j = 0; j < N; j++)
                {
                    sum = Simd.Add(sum, Simd.Abs(Simd.Mul(Ct[row * N + j], taut[j])));
                }
                if (t < T - 1)
                {
                    ReadOnlySpan<TV> Ft = s.F.AsSpan(t * n * N, n * N), lamNext = s.Lambda.AsSpan((t + 1) * n, n);
                    for (int kk = 0; kk < n; kk++)
                    {
                        sum = Simd.Add(sum, Simd.Abs(Simd.Mul(Ft[kk * N + row], lamNext[kk])));
                    }
                }
                scale = Simd.Max(scale, sum);
            }
        }
        return residual;
    }

    /// <summary>The lanes whose controls in <paramref name="tau"/> all lie within their bounds.</summary>
    private TV Feasible(Scratch s, ReadOnlySpan<TV> tau)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        TV ok = Simd.AllBitsSet<TV>();
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                TV u = tau[t * N + n + i];
                ok = Simd.And(ok, Simd.And(Simd.GreaterThanOrEqual(u, s.Lo[t * m + i]), Simd.LessThanOrEqual(u, s.Hi[t * m + i])));
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
                ref double lo = ref Unsafe.As<TV, double>(ref s.Lo[t * m + i]);
                ref double hi = ref Unsafe.As<TV, double>(ref s.Hi[t * m + i]);
                for (int j = 0; j < W; j++)
                {
                    Unsafe.Add(ref lo, j) = _box.Lower(t, lane[j], i);
                    Unsafe.Add(ref hi, j) = _box.Upper(t, lane[j], i);
                }
            }
        }
    }

    /// <summary>status[j] = value for every lane j set in <paramref name="mask"/>.</summary>
    private static void SetStatus(Span<SolveStatus> status, TV mask, SolveStatus value)
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

    private static Span<TV> Group(LaneArray<TV> a, int g, int size) => a.AsSpan(g * size, size);

    /// <summary>dst = src for short lane vectors (a plain loop: cheaper than a memmove call at these sizes).</summary>
    private static void Copy(ReadOnlySpan<TV> src, Span<TV> dst)
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
            C = new LaneArray<TV>(T * N * N);
            c = new LaneArray<TV>(T * N);
            F = new LaneArray<TV>(Math.Max(S * n * N, 1));
            f = new LaneArray<TV>(Math.Max(S * n, 1));
            X0 = new LaneArray<TV>(n);
            Lane = new int[W];
            Lo = new LaneArray<TV>(T * m);
            Hi = new LaneArray<TV>(T * m);
            Tau = new LaneArray<TV>(T * N);
            Trial = new LaneArray<TV>(T * N);
            Next = new LaneArray<TV>(T * N);
            Grad = new LaneArray<TV>(T * N);
            TrialGrad = new LaneArray<TV>(T * N);
            NextGrad = new LaneArray<TV>(T * N);
            k = new LaneArray<TV>(T * m);
            Lambda = new LaneArray<TV>(T * n);
            R = new LaneArray<TV>(T * m);
            Vn = new LaneArray<TV>(n * n);
            v = new LaneArray<TV>(n);
            QStages = new LaneArray<TV>(T * N * N);
            PreviousFree = new LaneArray<TV>(m);
            q = new LaneArray<TV>(N);
            Wm = new LaneArray<TV>(n * N);
            H = new LaneArray<TV>(m * m);
            QpLo = new LaneArray<TV>(m);
            QpHi = new LaneArray<TV>(m);
            Dx = new LaneArray<TV>(n);
            Y = new LaneArray<TV>(N);
            Qp = new LaneBoxQp<TV>(m);
            Status = new SolveStatus[W];
        }

        /// <summary>sym(C_t) of the group being processed, [T][N][N].</summary>
        public LaneArray<TV> C { get; }

        /// <summary>c_t, [T][N].</summary>
        public LaneArray<TV> c { get; }

        /// <summary>F_t, [T-1][n][N].</summary>
        public LaneArray<TV> F { get; }

        /// <summary>f_t, [T-1][n].</summary>
        public LaneArray<TV> f { get; }

        public LaneArray<TV> X0 { get; }

        /// <summary>The batch element of each lane of the group being processed, [W].</summary>
        public int[] Lane { get; }

        /// <summary>Control bounds, [T][m] each (infinite where absent).</summary>
        public LaneArray<TV> Lo { get; }

        public LaneArray<TV> Hi { get; }

        /// <summary>The iterate (xbar, ubar), then the solution, [T][N].</summary>
        public LaneArray<TV> Tau { get; }

        /// <summary>Line-search trial trajectory, [T][N].</summary>
        public LaneArray<TV> Trial { get; set; }

        /// <summary>The accepted trials of the lanes that accepted so far in a line search, [T][N].</summary>
        public LaneArray<TV> Next { get; set; }

        /// <summary>Cost gradient g_t at the iterate (forward) or loss gradient (backward), [T][N].</summary>
        public LaneArray<TV> Grad { get; }

        /// <summary>Cost gradient at <see cref="Trial"/>, [T][N].</summary>
        public LaneArray<TV> TrialGrad { get; set; }

        /// <summary>Cost gradient at <see cref="Next"/>, [T][N].</summary>
        public LaneArray<TV> NextGrad { get; set; }

        /// <summary>k_t (forward, box-QP warm start) or dk_t (backward), [T][m].</summary>
        public LaneArray<TV> k { get; }

        public LaneArray<TV> Lambda { get; }

        /// <summary>Condensed control gradients r_t, [T][m].</summary>
        public LaneArray<TV> R { get; }

        public LaneArray<TV> Vn { get; }

        public LaneArray<TV> v { get; }

        /// <summary>Q_t of every stage from the last sweep, [T][N][N] (lower triangle).</summary>
        public LaneArray<TV> QStages { get; }

        /// <summary>
        /// True when <see cref="QStages"/> and the group's K hold the last iteration sweep's
        /// values for the group being processed (see the remarks of Sweep).
        /// </summary>
        public bool StagesKept { get; set; }

        /// <summary>The free masks of a stage before its box QP, [m].</summary>
        public LaneArray<TV> PreviousFree { get; }

        public LaneArray<TV> q { get; }

        public LaneArray<TV> Wm { get; }

        /// <summary>Q_uu with both triangles, [m][m].</summary>
        public LaneArray<TV> H { get; }

        public LaneArray<TV> QpLo { get; }

        public LaneArray<TV> QpHi { get; }

        public LaneArray<TV> Dx { get; }

        public LaneArray<TV> Y { get; }

        public LaneBoxQp<TV> Qp { get; }

        /// <summary>Outcome per lane of the group being processed.</summary>
        public SolveStatus[] Status { get; }
    }
}
