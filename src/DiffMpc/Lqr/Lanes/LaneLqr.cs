// Notation as in RiccatiSweep and AdjointSweep, for a group of W batch elements held in the lanes
// of a vector TV (W = 8 for Vector512<double>, 4 for Vector256<double>; lane j = element Wg + j;
// the last group is padded by repeating element B-1, whose padded copies are computed and
// discarded):
//   Q_t = sym(C_t) + F_t' Vm{t+1} F_t,  q_t = c_t + F_t' (Vm{t+1} f_t + v_{t+1})
//   Q_uu = L_t L_t',  K_t = -Q_uu^{-1} Q_ux,  k_t = -Q_uu^{-1} q_u
//   Vmt = Q_xx + Q_xu K_t (symmetrised),  v_t = q_x + Q_xu k_t
//   rollout u_t = K_t x_t + k_t, x_{t+1} = F_t tau_t + f_t; y_t = sym(C_t) tau_t
//   lambda_t = y_x + c_x + F_{t,x}' lambda_{t+1};  r_t = y_u + c_u + F_{t,u}' lambda_{t+1} (KKT residual)
//   adjoint: same with g_t = [dL/dx_t; dL/du_t] for c, f = 0, x_1 = 0, reusing L_t and K_t;
//   its costates come from the value function, dlambda_t = Vm_t dx_t + v_t (the gradient of
//   1/2 x'Vm_t x + v_t'x at dx_t, equal to the costate recursion at the solution), so the
//   adjoint pass reads Vm_t (kept from the forward) instead of C_t and needs no backward sweep of its own.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.LinearAlgebra;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The unconstrained LQR forward solve and adjoint (backward) solve with batch elements in SIMD
/// lanes. A group's problem data are packed into the worker's lane buffers (O(data) against
/// O(n^3) work per stage) at the start of <see cref="Forward"/>, and its dynamics F again in
/// <see cref="Backward"/>: the packed copy lives only while its group is processed, so it stays
/// in cache and the memory traffic grows with B like the input's; factors, gains and the
/// value-function matrices (smaller) stay packed per group for <see cref="Backward"/>.
/// Results are unpacked into the shared <see cref="LqrWorkspace"/> per element, so solution
/// publishing and gradient assembly are the same as on the per-problem path.
/// </summary>
internal sealed class LaneLqr<TV> : ILaneLqr
    where TV : struct
{
    private static readonly int W = Simd.Width<TV>();

    private readonly MpcDimensions _d;
    private readonly LqrWorkspace _ws;
    private readonly int _groups;
    // Per group, lane-packed (each vector is one entry of W problems).
    // Per group, stages stored last first (slot T-1-t holds stage t, see Slot): the Riccati
    // recursion writes them, and the adjoint sweep reads them, in ascending addresses.
    private readonly LaneArray<TV> _K;      // K_t, [G][T][m][n]
    private readonly LaneArray<TV> _k;      // k_t, [G][T][m]
    private readonly LaneArray<TV> _L;      // Cholesky factor of Q_uu, [G][T][m][m]
    private readonly LaneArray<TV> _Dinv;   // 1 / diag(L), [G][T][m]
    private readonly LaneArray<TV> _V;      // Vm_t, lower triangle packed by rows, [G][T][n(n+1)/2]
    private readonly LaneAdjoint<TV> _adjointTest;   // primal side of the adjoint-usable test, per group
    private readonly Scratch[] _scratch;
    // Packed dynamics kept per group from Forward to Backward when they fit in cache (see KeepPackedBytes).
    private readonly LaneArray<TV>? _Fg;    // F_t, [G][T-1][n][N]
    private bool _hasOffset;

    public LaneLqr(MpcDimensions d, LqrWorkspace ws, int workers)
    {
        _d = d;
        _ws = ws;
        int T = d.Horizon, n = d.StateDim, m = d.ControlDim, N = d.TauDim, S = Math.Max(T - 1, 0);
        _groups = LaneLqr.GroupCount(d.BatchSize, W);
        int G = _groups;
        _K = new LaneArray<TV>(G * T * m * n);
        _k = new LaneArray<TV>(G * T * m);
        _L = new LaneArray<TV>(G * T * m * m);
        _Dinv = new LaneArray<TV>(G * T * m);
        _V = new LaneArray<TV>(G * T * Packed(n));
        _adjointTest = new LaneAdjoint<TV>(d, G);
        if ((long)G * S * n * N * W * sizeof(double) <= KeepPackedBytes)
        {
            _Fg = new LaneArray<TV>(Math.Max(G * S * n * N, 1));
        }
        _scratch = new Scratch[workers];
        for (int w = 0; w < workers; w++)
        {
            _scratch[w] = new Scratch(T, n, m, keepDynamics: _Fg is not null);
        }
    }

    /// <summary>
    /// Largest packed copy of the dynamics F (the only problem data <see cref="Backward"/> reads)
    /// kept from Forward to Backward. Small batches keep it, so Backward reads it packed from
    /// cache instead of packing again (one Backward at n = 10, T = 20, B = 64: 108 us against
    /// 114 us keeping all of C, c, F, f and 130 us before the costates came from Vm); larger
    /// ones pack each group's F into the worker's buffer in both passes, so the packed copy never
    /// leaves cache and the memory traffic stays proportional to the input (measured 1.6x faster
    /// at B = 1024). C, c and f always go to the worker's buffers.
    /// </summary>
    private const long KeepPackedBytes = 8L << 20;

    public int Width => W;

    public int Groups => _groups;

    /// <summary>Per-call settings shared by every group; call before running the groups of a solve.</summary>
    public void Prepare(in LqrData data) => _hasOffset = !data.f.IsZero;

    /// <summary>
    /// Solves group g and writes tau, lambda, status, cost and residual of its elements into the
    /// workspace. Returns false, having written nothing, when a value of the group's data is not
    /// finite.
    /// </summary>
    public bool Forward(in LqrData data, int g, int worker, Span<bool> differentiable)
    {
        double mu = data.ControlRegularization;
        Scratch s = _scratch[worker];
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        if (!Pack(data, g, s))
        {
            return false;
        }
        TV bad = Factor(mu, g, s);
        Span<TV> F = FBuf(g, s), f = OffsetBuf(s);
        Span<TV> K = Group(_K, g, T * m * n), k = Group(_k, g, T * m);

        // Rollout, then costates, cost and KKT residual (backward in time).
        Span<TV> tau = s.Tau, lam = s.Lambda;
        for (int i = 0; i < n; i++)
        {
            tau[i] = s.X0[i];
        }
        Rollout(T, n, m, K, k, F, f, _hasOffset, tau);
        Costates(g, s, Simd.Create<TV>(mu), out TV cost, out TV residual, out TV scale, ref bad);

        _adjointTest.KeepSolution(g, tau, lam);

        // Unpack the valid lanes.
        LanePacking.Unpack(tau, g, T, N, _ws.Tau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.Lambda, B);
        for (int j = 0; j < W; j++)
        {
            int b = g * W + j;
            if (b >= B)
            {
                break;
            }
            ulong flag = Simd.GetBits(bad, j);
            SolveStatus status = flag == 0 ? SolveStatus.Converged
                : (flag & Scratch.NonFiniteBit) != 0 && (flag & ~Scratch.NonFiniteBit) == 0 ? SolveStatus.NonFinite
                : SolveStatus.NotPositiveDefinite;
            bool ok = status == SolveStatus.Converged;
            status = SolutionWriter.CheckAccuracy(status, Simd.Get(residual, j), Simd.Get(scale, j));
            _ws.Status[b] = status;
            _ws.Cost[b] = ok ? Simd.Get(cost, j) : double.NaN;
            _ws.KktResidual[b] = ok ? Simd.Get(residual, j) : double.NaN;
            _ws.ActiveCount[b] = 0;
            _ws.Iterations[b] = 1;
            _ws.StepNorm[b] = 0;
            differentiable[b] = status == SolveStatus.Converged;
        }
        return true;
    }

    /// <summary>
    /// The phase Costates of group g after the rollout (tau in the worker's scratch): costates
    /// lambda (backward in time), the cost, the KKT residual of the controls and the scale of its
    /// terms; lanes with a non-finite tau, lambda or cost are flagged in <paramref name="bad"/>.
    /// A method of its own so its many small operations get their own inlining budget.
    /// </summary>
    private void Costates(int g, Scratch s, TV muV, out TV cost, out TV residual, out TV scale, ref TV bad)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> C = s.C.Span, c = s.c.Span, F = FBuf(g, s);
        Span<TV> tau = s.Tau, lam = s.Lambda, y = s.Y;
        cost = Simd.Zero<TV>();
        residual = Simd.Zero<TV>();
        scale = Simd.Zero<TV>();
        TV finite = Simd.Zero<TV>();
        var halfV = Simd.Create<TV>(0.5);
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<TV> taut = tau.Slice(t * N, N), ct = c.Slice(t * N, N);
            Span<TV> lamt = lam.Slice(t * n, n);
            LaneBlas.Gemv(N, N, C.Slice(t * N * N, N * N), N, 1, taut, y, accumulate: false);   // y = sym(C) tau
            for (int i = n; i < N; i++)
            {
                y[i] = Simd.Fma(muV, taut[i], y[i]);                          // + mu u
            }
            TermScale(C.Slice(t * N * N, N * N), ct, taut, muV, t < T - 1 ? F.Slice(t * n * N, n * N) : default,
                t < T - 1 ? lam.Slice((t + 1) * n, n) : default, n, m, ref scale);
            TV quad = Simd.Zero<TV>(), lin = Simd.Zero<TV>();
            for (int i = 0; i < N; i++)
            {
                quad = Simd.Fma(taut[i], y[i], quad);
                lin = Simd.Fma(ct[i], taut[i], lin);
                y[i] = Simd.Add(y[i], ct[i]);
            }
            cost = Simd.Add(cost, Simd.Fma(halfV, quad, lin));
            if (t < T - 1)
            {
                ReadOnlySpan<TV> Ft = F.Slice(t * n * N, n * N), lamNext = lam.Slice((t + 1) * n, n);
                LaneBlas.Gemv(N, n, Ft, 1, N, lamNext, y, accumulate: true);   // y += F' lambda_{t+1}
            }
            LaneBlas.Copy(y[..n], lamt);
            for (int i = 0; i < m; i++)
            {
                residual = Simd.Max(residual, Simd.Abs(y[n + i]));
            }
            LaneBlas.AddZeroProducts(taut, ref finite);
            LaneBlas.AddZeroProducts(lamt, ref finite);
        }
        bad = Simd.Or(bad, Simd.And(Simd.NonFinite(Simd.Fma(cost, Simd.Zero<TV>(), finite)), s.NonFiniteFlag));
    }

    /// <summary>
    /// The phase Factor of group g (data packed in the worker's buffers): the backward Riccati
    /// recursion, leaving K_t, k_t and the Cholesky factors of Q_uu in the group's slots. Returns
    /// the lanes whose Q_uu was not positive definite at some stage (all bits set).
    /// </summary>
    private TV Factor(double mu, int g, Scratch s)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> C = s.C.Span, c = s.c.Span, F = FBuf(g, s), f = OffsetBuf(s);
        Span<TV> K = Group(_K, g, T * m * n), k = Group(_k, g, T * m), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<TV> Vkeep = Group(_V, g, T * Packed(n));
        Span<TV> Vm = s.Vn, v = s.v, Q = s.Q, q = s.q, Wm = s.Wm, h = s.h;
        var muV = Simd.Create<TV>(mu);
        TV bad = Simd.Zero<TV>();

        for (int t = T - 1; t >= 0; t--)
        {
            LaneBlas.Copy(c.Slice(t * N, N), q);
            if (t < T - 1)
            {
                ReadOnlySpan<TV> Ft = F.Slice(t * n * N, n * N);
                LaneBlas.Gemm(n, N, n, Vm, n, 1, Ft, N, 1, Wm, N, accumulate: false);        // W = TV F
                LaneBlas.Gemm(N, N, n, Ft, 1, N, Wm, N, 1, Q, N, accumulate: true, lowerOnly: true,
                    init: C.Slice(t * N * N, N * N));                                           // Q = sym(C) + F' W (lower)
                LaneBlas.Copy(v, h);
                if (_hasOffset)
                {
                    LaneBlas.Gemv(n, n, Vm, n, 1, f.Slice(t * n, n), h, accumulate: true);   // h = TV f + v
                }
                LaneBlas.Gemv(N, n, Ft, 1, N, h, q, accumulate: true);                       // q += F' h
            }
            else
            {
                LaneBlas.Copy(C.Slice(t * N * N, N * N), Q);
            }
            for (int i = 0; i < m; i++)
            {
                Q[(n + i) * N + n + i] = Simd.Add(Q[(n + i) * N + n + i], muV);
            }
            int r = Slot(T, t);
            Span<TV> Lt = L.Slice(r * m * m, m * m), dinv = Dinv.Slice(r * m, m);
            bad = Simd.Or(bad, LaneBlas.Potrf(m, Q[(n * N + n)..], N, Lt, dinv));

            // K = -Q_uu^{-1} Q_ux, k = -Q_uu^{-1} q_u.
            Span<TV> Kt = K.Slice(r * m * n, m * n), kt = k.Slice(r * m, m);
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<TV> Qux = Q.Slice((n + i) * N, n);
                Span<TV> Ki = Kt.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    Ki[j] = Simd.Neg(Qux[j]);
                }
                kt[i] = Simd.Neg(q[n + i]);
            }
            LaneBlas.Potrs(m, n, Lt, dinv, Kt, n);
            LaneBlas.Potrs(m, 1, Lt, dinv, kt, 1);

            // V = Q_xx + Q_xu K, v = q_x + Q_xu k, with Q_xu = Q_ux' read from the lower
            // triangle (Q_xu[i][j] = Q[n + j][i]). V is symmetric: its lower triangle is
            // computed and mirrored.
            for (int i = 0; i < n; i++)
            {
                LaneBlas.Copy(Q.Slice(i * N, i + 1), Vm.Slice(i * n, i + 1));
            }
            LaneBlas.Gemm(n, n, m, Q[(n * N)..], 1, N, Kt, n, 1, Vm, n, accumulate: true, lowerOnly: true);
            Span<TV> Vt = Vkeep.Slice(r * Packed(n), Packed(n));
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    Vm[j * n + i] = Vm[i * n + j];
                }
                LaneBlas.Copy(Vm.Slice(i * n, i + 1), Vt.Slice(i * (i + 1) / 2, i + 1));
            }
            LaneBlas.Copy(q[..n], v);
            LaneBlas.Gemv(n, m, Q[(n * N)..], 1, N, kt, v, accumulate: true);
        }
        return bad;
    }

    /// <summary>
    /// Benchmark hook: packs group g's data on worker 0 (call <see cref="Prepare"/> first) so
    /// <see cref="FactorPacked"/> can time the Riccati recursion alone.
    /// </summary>
    internal bool PackForKernelTiming(in LqrData data, int g) => Pack(data, g, _scratch[0]);

    /// <summary>Benchmark hook: the phase Factor of group g on worker 0's packed data.</summary>
    internal TV FactorPacked(double mu, int g) => Factor(mu, g, _scratch[0]);

    /// <summary>
    /// scale = max(scale, max over controls i of sum_j |sym(C)_ij tau_j| + |c_i| + |mu u_i| +
    /// sum_k |F_ki lambda_{t+1,k}|), the size of the terms the control gradient balances (see
    /// <see cref="Box.KktResidual.Compute"/>); F and lambdaNext are empty at the last stage.
    /// </summary>
    private static void TermScale(ReadOnlySpan<TV> C, ReadOnlySpan<TV> c, ReadOnlySpan<TV> tau, TV mu, ReadOnlySpan<TV> F,
        ReadOnlySpan<TV> lambdaNext, int n, int m, ref TV scale)
    {
        int N = n + m;
        for (int i = n; i < N; i++)
        {
            TV sum0 = Simd.Add(Simd.Abs(c[i]), Simd.Abs(Simd.Mul(mu, tau[i]))), sum1 = Simd.Zero<TV>();
            ReadOnlySpan<TV> row = C.Slice(i * N, N);
            int j = 0;
            for (; j + 1 < N; j += 2)
            {
                sum0 = Simd.Add(sum0, Simd.Abs(Simd.Mul(row[j], tau[j])));
                sum1 = Simd.Add(sum1, Simd.Abs(Simd.Mul(row[j + 1], tau[j + 1])));
            }
            for (; j < N; j++)
            {
                sum0 = Simd.Add(sum0, Simd.Abs(Simd.Mul(row[j], tau[j])));
            }
            for (int k = 0; k < lambdaNext.Length; k++)
            {
                sum1 = Simd.Add(sum1, Simd.Abs(Simd.Mul(F[k * N + i], lambdaNext[k])));
            }
            scale = Simd.Max(scale, Simd.Add(sum0, sum1));
        }
    }

    /// <summary>Solves the adjoint LQR of group g and writes dtau, dlambda of its elements into the workspace.</summary>
    public void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker)
    {
        Scratch s = _scratch[worker];
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<TV> F = FBuf(g, s);
        if (_Fg is null)
        {
            LanePacking.PackDynamics(data, g, F, s.Lane);
        }
        Span<TV> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<TV> gv = s.G, dk = s.Dk, q = s.q, tau = s.Tau, lam = s.Lambda;

        // g_t = [dL/dx_t; dL/du_t] in lanes.
        Span<int> lane = s.Lane;
        LanePacking.SetLanes<TV>(g, B, lane);
        LanePacking.GatherLossGradients(dLdx, dLdu, _d, lane, gv);

        // Solve-only backward sweep: q = g + F' v_{t+1}, dk = -Q_uu^{-1} q_u, v_t = q_x + K' q_u,
        // with v_t kept in the slot of dlambda_t.
        for (int t = T - 1; t >= 0; t--)
        {
            LaneBlas.Copy(gv.Slice(t * N, N), q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, lam.Slice((t + 1) * n, n), q, accumulate: true);
            }
            int r = Slot(T, t);
            Span<TV> dkt = dk.Slice(r * m, m);
            LaneBlas.Copy(q.Slice(n, m), dkt);
            LaneBlas.Potrs(m, 1, L.Slice(r * m * m, m * m), Dinv.Slice(r * m, m), dkt, 1);
            for (int i = 0; i < m; i++)
            {
                dkt[i] = Simd.Neg(dkt[i]);
            }
            Span<TV> vt = lam.Slice(t * n, n);
            LaneBlas.Copy(q[..n], vt);
            LaneBlas.Gemv(n, m, K.Slice(r * m * n, m * n), 1, n, q.Slice(n, m), vt, accumulate: true);
        }

        // Adjoint rollout from dx_1 = 0, with the costates dlambda_t = Vm_t dx_t + v_t.
        for (int i = 0; i < n; i++)
        {
            tau[i] = Simd.Zero<TV>();
        }
        Rollout(T, n, m, K, dk, F, default, withOffset: false, tau, Group(_V, g, T * Packed(n)), lam);

        LanePacking.Unpack(tau, g, T, N, _ws.DTau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.DLambda, B);
    }

    /// <inheritdoc/>
    public void AdjointUsable(int g, int worker, Span<bool> usable) => _adjointTest.Usable(g, _scratch[worker].Tau, _scratch[worker].Lambda, usable);

    /// <summary>
    /// u_t = K_t x_t + kk_t, x_{t+1} = F_t tau_t (+ f_t); tau[0..n) holds x_1 on entry. With
    /// value-function matrices <paramref name="V"/> ([T][n(n+1)/2], packed as <see cref="LaneBlas.Spmv"/>)
    /// also lambda_t += V_t x_t, turning the linear value terms held in <paramref name="lambda"/> into costates.
    /// K, kk and V hold stage t in slot <see cref="Slot"/>(T, t); F, f, tau and lambda in slot t.
    /// </summary>
    private static void Rollout(int T, int n, int m, ReadOnlySpan<TV> K, ReadOnlySpan<TV> kk, ReadOnlySpan<TV> F,
        ReadOnlySpan<TV> f, bool withOffset, Span<TV> tau, ReadOnlySpan<TV> V = default, Span<TV> lambda = default)
    {
        int N = n + m, P = Packed(n);
        for (int t = 0; t < T; t++)
        {
            Span<TV> taut = tau.Slice(t * N, N);
            int r = Slot(T, t);
            LaneBlas.Copy(kk.Slice(r * m, m), taut.Slice(n, m));
            LaneBlas.Gemv(m, n, K.Slice(r * m * n, m * n), n, 1, taut[..n], taut.Slice(n, m), accumulate: true);
            if (!V.IsEmpty)
            {
                LaneBlas.Spmv(n, V.Slice(r * P, P), taut[..n], lambda.Slice(t * n, n));
            }
            if (t < T - 1)
            {
                Span<TV> xNext = tau.Slice((t + 1) * N, n);
                if (withOffset)
                {
                    LaneBlas.Copy(f.Slice(t * n, n), xNext);
                }
                LaneBlas.Gemv(n, N, F.Slice(t * n * N, n * N), N, 1, taut, xNext, accumulate: withOffset);
            }
        }
    }

    /// <summary>Packs sym(C), c, F, f and x_init of group g into the lane buffers in use for it; false when a value is not finite.</summary>
    private bool Pack(in LqrData data, int g, Scratch s) =>
        LanePacking.Pack(data, g, _hasOffset, s.C.Span, s.c.Span, FBuf(g, s), OffsetBuf(s), s.X0, s.Lane);

    /// <summary>
    /// The slot of stage t in the per-stage gain and value buffers (K, k, L, 1/diag(L), Vm, dk):
    /// T-1-t, so the backward-in-time passes that write and read them run through ascending
    /// addresses, which the hardware prefetchers follow when the buffers stream from memory.
    /// Measured at n = 10, T = 20, two workers: Solve 3-5% faster at B = 256 and 5% at
    /// B = 1024, unchanged at B = 64 (in cache).
    /// </summary>
    private static int Slot(int T, int t) => T - 1 - t;

    private static Span<TV> Group(LaneArray<TV> a, int g, int size) => a.AsSpan(g * size, size);

    /// <summary>Vectors of an n x n symmetric matrix stored as its packed lower triangle.</summary>
    private static int Packed(int n) => n * (n + 1) / 2;

    private int S => Math.Max(_d.Horizon - 1, 0);

    private Span<TV> OffsetBuf(Scratch s) => s.f.AsSpan(0, S * _d.StateDim);

    private Span<TV> FBuf(int g, Scratch s) => _Fg is null ? s.F.AsSpan(0, S * _d.StateDim * _d.TauDim) : Group(_Fg, g, S * _d.StateDim * _d.TauDim);


    /// <summary>Lane temporaries of one worker.</summary>
    private sealed class Scratch
    {
        /// <summary>Flag for lanes whose trajectory is not finite (distinct from a bad pivot's all-ones).</summary>
        public const ulong NonFiniteBit = 1;

        public Scratch(int T, int n, int m, bool keepDynamics)
        {
            int N = n + m;
            Vn = new LaneArray<TV>(n * n);
            v = new LaneArray<TV>(n);
            Q = new LaneArray<TV>(N * N);
            q = new LaneArray<TV>(N);
            Wm = new LaneArray<TV>(n * N);
            h = new LaneArray<TV>(n);
            Y = new LaneArray<TV>(N);
            X0 = new LaneArray<TV>(n);
            Tau = new LaneArray<TV>(T * N);
            Lambda = new LaneArray<TV>(T * n);
            G = new LaneArray<TV>(T * N);
            Dk = new LaneArray<TV>(T * m);
            NonFiniteFlag = Simd.Create<TV>(BitConverter.UInt64BitsToDouble(NonFiniteBit));
            Lane = new int[W];
            int S = Math.Max(T - 1, 0);
            C = new LaneArray<TV>(T * N * N);
            c = new LaneArray<TV>(T * N);
            F = new LaneArray<TV>(keepDynamics ? 0 : Math.Max(S * n * N, 1));
            f = new LaneArray<TV>(Math.Max(S * n, 1));
        }

        public LaneArray<TV> Vn { get; }

        public LaneArray<TV> v { get; }

        public LaneArray<TV> Q { get; }

        public LaneArray<TV> q { get; }

        public LaneArray<TV> Wm { get; }

        public LaneArray<TV> h { get; }

        public LaneArray<TV> Y { get; }

        public LaneArray<TV> X0 { get; }

        public LaneArray<TV> Tau { get; }

        public LaneArray<TV> Lambda { get; }

        public LaneArray<TV> G { get; }

        public LaneArray<TV> Dk { get; }

        public TV NonFiniteFlag { get; }

        /// <summary>sym(C_t) of the group being processed, [T][N][N].</summary>
        public LaneArray<TV> C { get; }

        /// <summary>c_t, [T][N].</summary>
        public LaneArray<TV> c { get; }

        /// <summary>F_t, [T-1][n][N].</summary>
        public LaneArray<TV> F { get; }

        /// <summary>f_t, [T-1][n].</summary>
        public LaneArray<TV> f { get; }

        /// <summary>The batch element of each lane of the group being processed, [8].</summary>
        public int[] Lane { get; }
    }
}
