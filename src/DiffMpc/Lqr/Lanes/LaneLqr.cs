// Notation as in RiccatiSweep and AdjointSweep, for a group of 8 batch elements held in the lanes
// of Vector512<double> (lane j = element 8g + j; the last group is padded by repeating element
// B-1, whose padded copies are computed and discarded):
//   Q_t = sym(C_t) + F_t' V_{t+1} F_t,  q_t = c_t + F_t' (V_{t+1} f_t + v_{t+1})
//   Q_uu = L_t L_t',  K_t = -Q_uu^{-1} Q_ux,  k_t = -Q_uu^{-1} q_u
//   V_t = Q_xx + Q_xu K_t (symmetrised),  v_t = q_x + Q_xu k_t
//   rollout u_t = K_t x_t + k_t, x_{t+1} = F_t tau_t + f_t; y_t = sym(C_t) tau_t
//   lambda_t = y_x + c_x + F_{t,x}' lambda_{t+1};  r_t = y_u + c_u + F_{t,u}' lambda_{t+1} (KKT residual)
//   adjoint: same with g_t = [dL/dx_t; dL/du_t] for c, f = 0, x_1 = 0, reusing L_t and K_t.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DiffMpc.Problems;
using DiffMpc.Results;
using V = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The unconstrained LQR forward solve and adjoint (backward) solve with batch elements in SIMD
/// lanes. A group's problem data are packed into the worker's lane buffers (O(data) against
/// O(n^3) work per stage) at the start of <see cref="Forward"/> and again in
/// <see cref="Backward"/>: the packed copy lives only while its group is processed, so it stays
/// in cache and the memory traffic grows with B like the input's; factors and gains (smaller)
/// stay packed per group for <see cref="Backward"/>.
/// Results are unpacked into the shared <see cref="LqrWorkspace"/> per element, so solution
/// publishing and gradient assembly are the same as on the per-problem path.
/// </summary>
internal sealed class LaneLqr
{
    private const int W = LaneBlas.Width;

    private readonly MpcDimensions _d;
    private readonly LqrWorkspace _ws;
    private readonly int _groups;
    // Per group, lane-packed (each V is one entry of 8 problems).
    private readonly V[] _K;      // K_t, [G][T][m][n]
    private readonly V[] _k;      // k_t, [G][T][m]
    private readonly V[] _L;      // Cholesky factor of Q_uu, [G][T][m][m]
    private readonly V[] _Dinv;   // 1 / diag(L), [G][T][m]
    private readonly V[] _tau;    // the solution tau_t, [G][T][N] (read by WriteGradients)
    private readonly V[] _lambda; // the costates lambda_t, [G][T][n]
    private readonly Scratch[] _scratch;
    // Packed data kept per group from Forward to Backward when they fit in cache (see KeepPackedBytes).
    private readonly V[]? _Cg;    // sym(C_t), [G][T][N][N]
    private readonly V[]? _cg;    // c_t, [G][T][N]
    private readonly V[]? _Fg;    // F_t, [G][T-1][n][N]
    private readonly V[]? _fg;    // f_t, [G][T-1][n]
    private bool _hasOffset;

    public LaneLqr(MpcDimensions d, LqrWorkspace ws, int workers)
    {
        _d = d;
        _ws = ws;
        int T = d.Horizon, n = d.StateDim, m = d.ControlDim, N = d.TauDim, S = Math.Max(T - 1, 0);
        _groups = GroupCount(d.BatchSize);
        int G = _groups;
        _K = new V[G * T * m * n];
        _k = new V[G * T * m];
        _L = new V[G * T * m * m];
        _Dinv = new V[G * T * m];
        _tau = new V[G * T * N];
        _lambda = new V[G * T * n];
        long packedBytes = (long)G * T * (N * N + N + n * N + n) * 64;
        if (packedBytes <= KeepPackedBytes)
        {
            _Cg = new V[G * T * N * N];
            _cg = new V[G * T * N];
            _Fg = new V[Math.Max(G * S * n * N, 1)];
            _fg = new V[Math.Max(G * S * n, 1)];
        }
        _scratch = new Scratch[workers];
        for (int w = 0; w < workers; w++)
        {
            _scratch[w] = new Scratch(T, n, m, _Cg is not null);
        }
    }

    /// <summary>
    /// Largest packed copy of the batch's data kept from Forward to Backward. Small batches keep
    /// it (Backward then reads packed data from cache instead of packing again: measured bwd/fwd
    /// 0.46 instead of 0.94 at n = 10, T = 20, B = 64); larger ones pack each group into the
    /// worker's buffers in both passes, so the packed copy never leaves cache and the memory
    /// traffic stays proportional to the input (measured 1.6x faster at B = 1024).
    /// </summary>
    private const long KeepPackedBytes = 8L << 20;

    /// <summary>Number of lane groups (units of work) for a batch of B.</summary>
    public static int GroupCount(int batch) => (batch + W - 1) / W;

    /// <summary>
    /// True when this build should use the lane path for an unconstrained problem of this shape:
    /// Vector512 is hardware-accelerated and n is small enough for the lane kernels to win
    /// (measured: n &lt;= 16; larger n keeps the per-problem path with vectorised kernels). The
    /// choice does not depend on B, so an element's result is the same in any batch.
    /// </summary>
    public static bool Supports(MpcDimensions d) =>
        Vector512.IsHardwareAccelerated && d.StateDim <= 16 && d.ControlDim <= 16;

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
        V bad = Factor(mu, g, s);
        Span<V> C = CBuf(g, s), c = cBuf(g, s), F = FBuf(g, s), f = fBuf(g, s);
        Span<V> K = Group(_K, g, T * m * n), k = Group(_k, g, T * m);
        var muV = Vector512.Create(mu);

        // Rollout, then costates, cost and KKT residual (backward in time).
        Span<V> tau = s.Tau, lam = s.Lambda, y = s.Y;
        for (int i = 0; i < n; i++)
        {
            tau[i] = s.X0[i];
        }
        Rollout(T, n, m, K, k, F, f, _hasOffset, tau);
        V cost = V.Zero, residual = V.Zero, scale = V.Zero, finite = V.Zero;
        var halfV = Vector512.Create(0.5);
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<V> taut = tau.Slice(t * N, N), ct = c.Slice(t * N, N);
            Span<V> lamt = lam.Slice(t * n, n);
            LaneBlas.Gemv(N, N, C.Slice(t * N * N, N * N), N, 1, taut, y, accumulate: false);   // y = sym(C) tau
            for (int i = n; i < N; i++)
            {
                y[i] = Vector512.FusedMultiplyAdd(muV, taut[i], y[i]);                          // + mu u
            }
            TermScale(C.Slice(t * N * N, N * N), ct, taut, muV, t < T - 1 ? F.Slice(t * n * N, n * N) : default,
                t < T - 1 ? lam.Slice((t + 1) * n, n) : default, n, m, ref scale);
            V quad = V.Zero, lin = V.Zero;
            for (int i = 0; i < N; i++)
            {
                quad = Vector512.FusedMultiplyAdd(taut[i], y[i], quad);
                lin = Vector512.FusedMultiplyAdd(ct[i], taut[i], lin);
                y[i] += ct[i];
            }
            cost += Vector512.FusedMultiplyAdd(halfV, quad, lin);
            if (t < T - 1)
            {
                ReadOnlySpan<V> Ft = F.Slice(t * n * N, n * N), lamNext = lam.Slice((t + 1) * n, n);
                LaneBlas.Gemv(N, n, Ft, 1, N, lamNext, y, accumulate: true);   // y += F' lambda_{t+1}
            }
            LaneBlas.Copy(y[..n], lamt);
            for (int i = 0; i < m; i++)
            {
                residual = Vector512.Max(residual, Vector512.Abs(y[n + i]));
            }
            LaneBlas.AddZeroProducts(taut, ref finite);
            LaneBlas.AddZeroProducts(lamt, ref finite);
        }
        bad |= LaneBlas.NonFinite(Vector512.FusedMultiplyAdd(cost, V.Zero, finite)) & s.NonFiniteFlag;

        // Unpack the valid lanes.
        ReadOnlySpan<double> badBits = MemoryMarshal.Cast<V, double>(MemoryMarshal.CreateReadOnlySpan(ref bad, 1));
        ReadOnlySpan<double> costs = MemoryMarshal.Cast<V, double>(MemoryMarshal.CreateReadOnlySpan(ref cost, 1));
        ReadOnlySpan<double> residuals = MemoryMarshal.Cast<V, double>(MemoryMarshal.CreateReadOnlySpan(ref residual, 1));
        ReadOnlySpan<double> scales = MemoryMarshal.Cast<V, double>(MemoryMarshal.CreateReadOnlySpan(ref scale, 1));
        tau.CopyTo(Group(_tau, g, T * N));
        lam.CopyTo(Group(_lambda, g, T * n));
        LanePacking.Unpack(tau, g, T, N, _ws.Tau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.Lambda, B);
        for (int j = 0; j < W; j++)
        {
            int b = g * W + j;
            if (b >= B)
            {
                break;
            }
            ulong flag = BitConverter.DoubleToUInt64Bits(badBits[j]);
            SolveStatus status = flag == 0 ? SolveStatus.Converged
                : (flag & Scratch.NonFiniteBit) != 0 && (flag & ~Scratch.NonFiniteBit) == 0 ? SolveStatus.NonFinite
                : SolveStatus.NotPositiveDefinite;
            bool ok = status == SolveStatus.Converged;
            status = SolutionWriter.CheckAccuracy(status, residuals[j], scales[j]);
            _ws.Status[b] = status;
            _ws.Cost[b] = ok ? costs[j] : double.NaN;
            _ws.KktResidual[b] = ok ? residuals[j] : double.NaN;
            _ws.ActiveCount[b] = 0;
            _ws.Iterations[b] = 1;
            _ws.StepNorm[b] = 0;
            differentiable[b] = status == SolveStatus.Converged;
        }
        return true;
    }

    /// <summary>
    /// The phase Factor of group g (data packed in the worker's buffers): the backward Riccati
    /// recursion, leaving K_t, k_t and the Cholesky factors of Q_uu in the group's slots. Returns
    /// the lanes whose Q_uu was not positive definite at some stage (all bits set).
    /// </summary>
    private V Factor(double mu, int g, Scratch s)
    {
        int T = _d.Horizon, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        Span<V> C = CBuf(g, s), c = cBuf(g, s), F = FBuf(g, s), f = fBuf(g, s);
        Span<V> K = Group(_K, g, T * m * n), k = Group(_k, g, T * m), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<V> V_ = s.Vn, v = s.v, Q = s.Q, q = s.q, Wm = s.Wm, h = s.h;
        var muV = Vector512.Create(mu);
        V bad = V.Zero;

        for (int t = T - 1; t >= 0; t--)
        {
            LaneBlas.Copy(c.Slice(t * N, N), q);
            if (t < T - 1)
            {
                ReadOnlySpan<V> Ft = F.Slice(t * n * N, n * N);
                LaneBlas.Gemm(n, N, n, V_, n, 1, Ft, N, 1, Wm, N, accumulate: false);        // W = V F
                LaneBlas.Gemm(N, N, n, Ft, 1, N, Wm, N, 1, Q, N, accumulate: true, lowerOnly: true,
                    init: C.Slice(t * N * N, N * N));                                           // Q = sym(C) + F' W (lower)
                LaneBlas.Copy(v, h);
                if (_hasOffset)
                {
                    LaneBlas.Gemv(n, n, V_, n, 1, f.Slice(t * n, n), h, accumulate: true);   // h = V f + v
                }
                LaneBlas.Gemv(N, n, Ft, 1, N, h, q, accumulate: true);                       // q += F' h
            }
            else
            {
                LaneBlas.Copy(C.Slice(t * N * N, N * N), Q);
            }
            for (int i = 0; i < m; i++)
            {
                Q[(n + i) * N + n + i] += muV;
            }
            Span<V> Lt = L.Slice(t * m * m, m * m), dinv = Dinv.Slice(t * m, m);
            bad |= LaneBlas.Potrf(m, Q[(n * N + n)..], N, Lt, dinv);

            // K = -Q_uu^{-1} Q_ux, k = -Q_uu^{-1} q_u.
            Span<V> Kt = K.Slice(t * m * n, m * n), kt = k.Slice(t * m, m);
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<V> Qux = Q.Slice((n + i) * N, n);
                Span<V> Ki = Kt.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    Ki[j] = -Qux[j];
                }
                kt[i] = -q[n + i];
            }
            LaneBlas.Potrs(m, n, Lt, dinv, Kt, n);
            LaneBlas.Potrs(m, 1, Lt, dinv, kt, 1);

            // V = Q_xx + Q_xu K, v = q_x + Q_xu k, with Q_xu = Q_ux' read from the lower
            // triangle (Q_xu[i][j] = Q[n + j][i]). V is symmetric: its lower triangle is
            // computed and mirrored.
            for (int i = 0; i < n; i++)
            {
                LaneBlas.Copy(Q.Slice(i * N, i + 1), V_.Slice(i * n, i + 1));
            }
            LaneBlas.Gemm(n, n, m, Q[(n * N)..], 1, N, Kt, n, 1, V_, n, accumulate: true, lowerOnly: true);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    V_[j * n + i] = V_[i * n + j];
                }
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
    internal V FactorPacked(double mu, int g) => Factor(mu, g, _scratch[0]);

    /// <summary>
    /// scale = max(scale, max over controls i of sum_j |sym(C)_ij tau_j| + |c_i| + |mu u_i| +
    /// sum_k |F_ki lambda_{t+1,k}|), the size of the terms the control gradient balances (see
    /// <see cref="Box.KktResidual.Compute"/>); F and lambdaNext are empty at the last stage.
    /// </summary>
    private static void TermScale(ReadOnlySpan<V> C, ReadOnlySpan<V> c, ReadOnlySpan<V> tau, V mu, ReadOnlySpan<V> F,
        ReadOnlySpan<V> lambdaNext, int n, int m, ref V scale)
    {
        int N = n + m;
        for (int i = n; i < N; i++)
        {
            V sum0 = Vector512.Abs(c[i]) + Vector512.Abs(mu * tau[i]), sum1 = V.Zero;
            ReadOnlySpan<V> row = C.Slice(i * N, N);
            int j = 0;
            for (; j + 1 < N; j += 2)
            {
                sum0 += Vector512.Abs(row[j] * tau[j]);
                sum1 += Vector512.Abs(row[j + 1] * tau[j + 1]);
            }
            for (; j < N; j++)
            {
                sum0 += Vector512.Abs(row[j] * tau[j]);
            }
            for (int k = 0; k < lambdaNext.Length; k++)
            {
                sum1 += Vector512.Abs(F[k * N + i] * lambdaNext[k]);
            }
            scale = Vector512.Max(scale, sum0 + sum1);
        }
    }

    /// <summary>Solves the adjoint LQR of group g and writes dtau, dlambda of its elements into the workspace.</summary>
    public void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker)
    {
        Scratch s = _scratch[worker];
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m;
        if (_Cg is null)
        {
            Pack(data, g, s);   // checked finite by Forward
        }
        Span<V> C = CBuf(g, s), F = FBuf(g, s);
        Span<V> K = Group(_K, g, T * m * n), L = Group(_L, g, T * m * m), Dinv = Group(_Dinv, g, T * m);
        Span<V> gv = s.G, dk = s.Dk, v = s.v, q = s.q, tau = s.Tau, lam = s.Lambda, y = s.Y;

        // g_t = [dL/dx_t; dL/du_t] in lanes.
        Span<int> lane = s.Lane;
        LanePacking.SetLanes(g, B, lane);
        for (int t = 0; t < T; t++)
        {
            Span<V> gt = gv.Slice(t * N, N);
            if (dLdx is null)
            {
                gt[..n].Clear();
            }
            else
            {
                LanePacking.Gather(dLdx, t * B * n, n, n, lane, gt[..n]);
            }
            if (dLdu is null)
            {
                gt.Slice(n, m).Clear();
            }
            else
            {
                LanePacking.Gather(dLdu, t * B * m, m, m, lane, gt.Slice(n, m));
            }
        }

        // Solve-only backward sweep: q = g + F' v, dk = -Q_uu^{-1} q_u, v = q_x + K' q_u.
        for (int t = T - 1; t >= 0; t--)
        {
            LaneBlas.Copy(gv.Slice(t * N, N), q);
            if (t < T - 1)
            {
                LaneBlas.Gemv(N, n, F.Slice(t * n * N, n * N), 1, N, v, q, accumulate: true);
            }
            Span<V> dkt = dk.Slice(t * m, m);
            LaneBlas.Copy(q.Slice(n, m), dkt);
            LaneBlas.Potrs(m, 1, L.Slice(t * m * m, m * m), Dinv.Slice(t * m, m), dkt, 1);
            for (int i = 0; i < m; i++)
            {
                dkt[i] = -dkt[i];
            }
            LaneBlas.Copy(q[..n], v);
            LaneBlas.Gemv(n, m, K.Slice(t * m * n, m * n), 1, n, q.Slice(n, m), v, accumulate: true);
        }

        // Adjoint rollout from dx_1 = 0, then adjoint costates.
        for (int i = 0; i < n; i++)
        {
            tau[i] = V.Zero;
        }
        Rollout(T, n, m, K, dk, F, default, withOffset: false, tau);
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
            LaneBlas.Copy(y[..n], lam.Slice(t * n, n));
        }

        LanePacking.Unpack(tau, g, T, N, _ws.DTau, B);
        LanePacking.Unpack(lam, g, T, n, _ws.DLambda, B);
    }

    /// <summary>
    /// Per lane of group g after <see cref="Backward"/> on the same worker: true when the adjoint
    /// is finite and its outer products with the solution cannot overflow, exactly the test of
    /// <see cref="SolutionWriter.AdjointUsable"/>, into <paramref name="usable"/> (length 8).
    /// </summary>
    public void AdjointUsable(int g, int worker, Span<bool> usable)
    {
        Scratch s = _scratch[worker];
        int T = _d.Horizon, n = _d.StateDim, N = _d.TauDim;
        V tau = MaxAbs(Group(_tau, g, T * N)), lam = MaxAbs(Group(_lambda, g, T * n));
        V dtau = MaxAbs(s.Tau.AsSpan(0, T * N)), dlam = MaxAbs(s.Lambda.AsSpan(0, T * n));
        var limit = Vector512.Create(1e300);
        V ok = Vector512.LessThanOrEqual(dtau * tau, limit) & Vector512.LessThanOrEqual(dlam * tau, limit)
            & Vector512.LessThanOrEqual(lam * dtau, limit) & Vector512.LessThanOrEqual(dlam, limit)
            & Vector512.LessThanOrEqual(dtau, limit);
        for (int j = 0; j < W; j++)
        {
            usable[j] = ok.AsUInt64().GetElement(j) != 0;
        }
    }

    /// <summary>Per lane, max |x_i| over x, or +Infinity when a value is not finite (as <see cref="SolutionWriter.MaxAbs"/>).</summary>
    private static V MaxAbs(ReadOnlySpan<V> x)
    {
        V m = V.Zero, bad = V.Zero;
        foreach (V v in x)
        {
            m = Vector512.Max(m, Vector512.Abs(v));
            bad |= LaneBlas.NonFinite(v);
        }
        return Vector512.ConditionalSelect(bad, Vector512.Create(double.PositiveInfinity), m);
    }

    /// <summary>
    /// Writes the per-stage gradients dL/dC, dL/dc, dL/dF and dL/df (when
    /// <paramref name="dfOut"/> is given) of the full group g straight from the lanes, after
    /// <see cref="Backward"/> of the same group on the same worker: the values (and their
    /// rounding) of <see cref="GradientAssembly.WriteElement"/>, zeros for elements not
    /// <paramref name="included"/>. Every output has the unshared layout [T or T-1][B][size].
    /// </summary>
    public void WriteGradients(int g, int worker, ReadOnlySpan<bool> included, double[] dCOut, double[] dcOut, double[] dFOut,
        double[]? dfOut)
    {
        Scratch s = _scratch[worker];
        int T = _d.Horizon, B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim, N = n + m, first = g * W;
        System.Diagnostics.Debug.Assert(first + W <= B, "only full groups are written from the lanes");
        V keep = V.Zero;
        for (int j = 0; j < W; j++)
        {
            keep = keep.WithElement(j, included[first + j] ? BitConverter.UInt64BitsToDouble(ulong.MaxValue) : 0.0);
        }
        ReadOnlySpan<V> tauAll = Group(_tau, g, T * N), lamAll = Group(_lambda, g, T * n);
        ReadOnlySpan<V> dtauAll = s.Tau, dlamAll = s.Lambda;
        Span<V> block = s.Q;   // N x N
        var half = Vector512.Create(0.5);
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<V> tau = tauAll.Slice(t * N, N), dtau = dtauAll.Slice(t * N, N);
            // dL/dC_t = 1/2 (dtau tau' + tau dtau') and dL/dc_t = dtau, each 0 + v as WriteElement.
            for (int i = 0; i < N; i++)
            {
                V a = half * dtau[i], b = half * tau[i];
                Span<V> row = block.Slice(i * N, N);
                for (int j = 0; j < N; j++)
                {
                    row[j] = V.Zero + (a * tau[j] + b * dtau[j]);
                }
            }
            LanePacking.Scatter(block[..(N * N)], keep, dCOut, (t * B + first) * N * N, N * N);
            for (int i = 0; i < N; i++)
            {
                block[i] = V.Zero + dtau[i];
            }
            LanePacking.Scatter(block[..N], keep, dcOut, (t * B + first) * N, N);
            if (t == T - 1)
            {
                break;
            }
            // dL/dF_t = dlambda_{t+1} tau_t' + lambda_{t+1} dtau_t' and dL/df_t = dlambda_{t+1}.
            ReadOnlySpan<V> lam = lamAll.Slice((t + 1) * n, n), dlam = dlamAll.Slice((t + 1) * n, n);
            for (int i = 0; i < n; i++)
            {
                V a = dlam[i], b = lam[i];
                Span<V> row = block.Slice(i * N, N);
                for (int j = 0; j < N; j++)
                {
                    row[j] = V.Zero + (a * tau[j] + b * dtau[j]);
                }
            }
            LanePacking.Scatter(block[..(n * N)], keep, dFOut, (t * B + first) * n * N, n * N);
            if (dfOut is not null)
            {
                for (int i = 0; i < n; i++)
                {
                    block[i] = V.Zero + dlam[i];
                }
                LanePacking.Scatter(block[..n], keep, dfOut, (t * B + first) * n, n);
            }
        }
    }

    /// <summary>u_t = K_t x_t + kk_t, x_{t+1} = F_t tau_t (+ f_t); tau[0..n) holds x_1 on entry.</summary>
    private static void Rollout(int T, int n, int m, ReadOnlySpan<V> K, ReadOnlySpan<V> kk, ReadOnlySpan<V> F,
        ReadOnlySpan<V> f, bool withOffset, Span<V> tau)
    {
        int N = n + m;
        for (int t = 0; t < T; t++)
        {
            Span<V> taut = tau.Slice(t * N, N);
            LaneBlas.Copy(kk.Slice(t * m, m), taut.Slice(n, m));
            LaneBlas.Gemv(m, n, K.Slice(t * m * n, m * n), n, 1, taut[..n], taut.Slice(n, m), accumulate: true);
            if (t < T - 1)
            {
                Span<V> xNext = tau.Slice((t + 1) * N, n);
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
        LanePacking.Pack(data, g, _hasOffset, CBuf(g, s), cBuf(g, s), FBuf(g, s), fBuf(g, s), s.X0, s.Lane);

    private static Span<V> Group(V[] a, int g, int size) => a.AsSpan(g * size, size);

    private int S => Math.Max(_d.Horizon - 1, 0);

    private Span<V> CBuf(int g, Scratch s) => _Cg is null ? s.C : Group(_Cg, g, _d.Horizon * _d.TauDim * _d.TauDim);

    private Span<V> cBuf(int g, Scratch s) => _cg is null ? s.c : Group(_cg, g, _d.Horizon * _d.TauDim);

    private Span<V> FBuf(int g, Scratch s) => _Fg is null ? s.F.AsSpan(0, S * _d.StateDim * _d.TauDim) : Group(_Fg, g, S * _d.StateDim * _d.TauDim);

    private Span<V> fBuf(int g, Scratch s) => _fg is null ? s.f.AsSpan(0, S * _d.StateDim) : Group(_fg, g, S * _d.StateDim);

    /// <summary>Lane temporaries of one worker.</summary>
    private sealed class Scratch
    {
        /// <summary>Flag for lanes whose trajectory is not finite (distinct from a bad pivot's all-ones).</summary>
        public const ulong NonFiniteBit = 1;

        public Scratch(int T, int n, int m, bool keepPacked)
        {
            int N = n + m;
            Vn = new V[n * n];
            v = new V[n];
            Q = new V[N * N];
            q = new V[N];
            Wm = new V[n * N];
            h = new V[n];
            Y = new V[N];
            X0 = new V[n];
            Tau = new V[T * N];
            Lambda = new V[T * n];
            G = new V[T * N];
            Dk = new V[T * m];
            NonFiniteFlag = Vector512.Create(NonFiniteBit).AsDouble();
            Lane = new int[W];
            int S = Math.Max(T - 1, 0);
            C = new V[keepPacked ? 0 : T * N * N];
            c = new V[keepPacked ? 0 : T * N];
            F = new V[keepPacked ? 0 : Math.Max(S * n * N, 1)];
            f = new V[keepPacked ? 0 : Math.Max(S * n, 1)];
        }

        public V[] Vn { get; }

        public V[] v { get; }

        public V[] Q { get; }

        public V[] q { get; }

        public V[] Wm { get; }

        public V[] h { get; }

        public V[] Y { get; }

        public V[] X0 { get; }

        public V[] Tau { get; }

        public V[] Lambda { get; }

        public V[] G { get; }

        public V[] Dk { get; }

        public V NonFiniteFlag { get; }

        /// <summary>sym(C_t) of the group being processed, [T][N][N].</summary>
        public V[] C { get; }

        /// <summary>c_t, [T][N].</summary>
        public V[] c { get; }

        /// <summary>F_t, [T-1][n][N].</summary>
        public V[] F { get; }

        /// <summary>f_t, [T-1][n].</summary>
        public V[] f { get; }

        /// <summary>The batch element of each lane of the group being processed, [8].</summary>
        public int[] Lane { get; }
    }
}
