// Notation (per batch element, stages t = 0..T-1 in code, 1..T in the docs):
//   Q_t = sym(C_t) + F_t' V_{t+1} F_t,  q_t = c_t + F_t' (V_{t+1} f_t + v_{t+1})
//   gains (unconstrained): Q_uu = L_t L_t',  K_t = -Q_uu^{-1} Q_ux,  k_t = -Q_uu^{-1} q_u
//   (box-constrained: see StageGains; clamped rows of K_t are zero)
//   V_t = Q_xx + Q_xu K_t,  v_t = q_x + Q_xu k_t   (V_{T+1} = 0, v_{T+1} = 0)
//   rollout: u_t = K_t x_t + k_t,  x_{t+1} = F_t tau_t + f_t
//   costates: lambda_t = (sym(C_t) tau_t + c_t)_x + F_{t,x}' lambda_{t+1},  lambda_{T+1} = 0
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.LinearAlgebra;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>
/// The phases of the forward LQR solve for one batch element: <see cref="Factor"/> (backward
/// Riccati recursion with a Cholesky factorisation of Q_uu per stage), <see cref="Rollout"/>,
/// <see cref="Costates"/> and <see cref="Cost"/>.
/// </summary>
internal static class RiccatiSweep
{
    /// <summary>
    /// Backward Riccati recursion for element b. At each stage it forms Q_t, q_t (q from
    /// <paramref name="linear"/>, plus V f when <paramref name="withOffset"/>), adds the problem's
    /// control regularisation plus the iteration's damping <paramref name="damping"/> to the
    /// diagonal of Q_uu, lets <paramref name="gains"/> compute k_t, K_t and the factor of the free
    /// block of Q_uu, then updates V_t = Q_xx + Q_xu K_t, v_t = q_x + Q_xu k_t. Returns the first
    /// non-converged status of the gains; never throws.
    /// </summary>
    public static SolveStatus Factor<TLinear, TGains>(in LqrData d, int b, double damping, in TLinear linear, bool withOffset,
        ref TGains gains, LqrWorkspace ws, StageScratch s)
        where TLinear : struct, IStageVector
        where TGains : struct, IStageGains
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim, N = n + m;
        Span<double> V = s.V, v = s.v, Q = s.Q, q = s.q, W = s.W, h = s.h;
        double mu = d.ControlRegularization + damping;
        for (int t = T - 1; t >= 0; t--)
        {
            if (d.SymmetricC)
            {
                d.C.At(t, b).CopyTo(Q);
            }
            else
            {
                SymmetricPart(d.C.At(t, b), N, Q);
            }
            q.Clear();
            linear.AddTo(t, b, q, 0);
            if (t < T - 1)
            {
                ReadOnlySpan<double> Ft = d.F.At(t, b);
                Blas.Gemm(false, false, n, N, n, 1, V, n, Ft, N, 0, W, N);   // W = V F
                Blas.Gemm(true, false, N, N, n, 1, Ft, N, W, N, 1, Q, N);    // Q += F' W
                v.CopyTo(h);
                if (withOffset && !d.f.IsZero)
                {
                    Blas.Gemv(false, n, n, 1, V, n, d.f.At(t, b), 1, h);      // h = V f + v
                }
                Blas.Gemv(true, n, N, 1, Ft, N, h, 1, q);                    // q += F' h
            }
            for (int i = 0; i < m; i++)
            {
                Q[(n + i) * N + n + i] += mu;
            }

            SolveStatus status = gains.Compute(t, b, Q, q, ws, s);
            if (status != SolveStatus.Converged)
            {
                return status;
            }

            // V = Q_xx + Q_xu K (symmetrised against round-off), v = q_x + Q_xu k.
            ReadOnlySpan<double> K = ws.KAt(t, b);
            for (int i = 0; i < n; i++)
            {
                Q.Slice(i * N, n).CopyTo(V.Slice(i * n, n));
            }
            Blas.Gemm(false, false, n, n, m, 1, Q[n..], N, K, n, 1, V, n);
            Symmetrize(V, n);
            q[..n].CopyTo(v);
            Blas.Gemv(false, n, m, 1, Q[n..], N, ws.kAt(t, b), 1, v);
        }
        return SolveStatus.Converged;
    }

    /// <summary>
    /// Forward rollout of u_t = K_t x_t + k_t through the dynamics from x_1 = <paramref name="xInit"/>,
    /// writing tau_t into <paramref name="tauAll"/> ([T][B][n+m]) with feedforward terms from
    /// <paramref name="kAll"/> ([T][B][m]). Without the offset f (<paramref name="withOffset"/>
    /// false) this is the adjoint rollout.
    /// </summary>
    public static void Rollout(in LqrData d, int b, LqrWorkspace ws, ReadOnlySpan<double> xInit, bool withOffset,
        ReadOnlySpan<double> kAll, Span<double> tauAll)
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, m = d.Dims.ControlDim, N = n + m;
        Span<double> tau0 = tauAll.Slice(b * N, N);
        xInit.CopyTo(tau0);
        for (int t = 0; t < T; t++)
        {
            Span<double> tau = tauAll.Slice((t * B + b) * N, N);
            Span<double> u = tau.Slice(n, m);
            kAll.Slice((t * B + b) * m, m).CopyTo(u);
            Blas.Gemv(false, m, n, 1, ws.KAt(t, b), n, tau[..n], 1, u);
            if (t < T - 1)
            {
                Span<double> xNext = tauAll.Slice(((t + 1) * B + b) * N, n);
                Blas.Gemv(false, n, N, 1, d.F.At(t, b), N, tau, 0, xNext);
                if (withOffset && !d.f.IsZero)
                {
                    Blas.Axpy(1, d.f.At(t, b), xNext);
                }
            }
        }
    }

    /// <summary>
    /// Costates of the dynamics constraints by the adjoint recursion
    /// lambda_t = (sym(C_t) tau_t + g_t)_x + F_{t,x}' lambda_{t+1}, where g is c (primal) or the
    /// loss gradient (adjoint), supplied by <paramref name="g"/>.
    /// </summary>
    public static void Costates<TLinear>(in LqrData d, int b, in TLinear g, ReadOnlySpan<double> tauAll,
        Span<double> lambdaAll, StageScratch s)
        where TLinear : struct, IStageVector
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, N = d.Dims.TauDim;
        Span<double> r = s.q;
        for (int t = T - 1; t >= 0; t--)
        {
            ReadOnlySpan<double> tau = tauAll.Slice((t * B + b) * N, N);
            Span<double> lam = lambdaAll.Slice((t * B + b) * n, n);
            StageHessianProduct(d, t, b, 0, tau, r[..n]);
            g.AddTo(t, b, r[..n], 0);
            r[..n].CopyTo(lam);
            if (t < T - 1)
            {
                ReadOnlySpan<double> lamNext = lambdaAll.Slice(((t + 1) * B + b) * n, n);
                ReadOnlySpan<double> Ft = d.F.At(t, b);
                for (int i = 0; i < n; i++)
                {
                    Blas.Axpy(lamNext[i], Ft.Slice(i * N, n), lam);   // lam += F_x' lamNext
                }
            }
        }
    }

    /// <summary>sum_t 1/2 tau_t' C_t tau_t + c_t' tau_t for element b.</summary>
    public static double Cost(in LqrData d, int b, ReadOnlySpan<double> tauAll)
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, N = d.Dims.TauDim;
        Span<double> w = d.SymmetricC ? stackalloc double[N] : default;
        double cost = 0;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> tau = tauAll.Slice((t * B + b) * N, N);
            ReadOnlySpan<double> C = d.C.At(t, b);
            double quad = 0;
            if (d.SymmetricC)
            {
                SymMatVec(C, N, 0, tau, w);
                quad = Blas.Dot(w, tau);
            }
            else
            {
                for (int i = 0; i < N; i++)
                {
                    quad += tau[i] * Blas.Dot(C.Slice(i * N, N), tau);
                }
            }
            cost += 0.5 * quad + Blas.Dot(d.c.At(t, b), tau) + ControlPenalty(d, tau);
        }
        return cost;
    }

    /// <summary>dst = (A + A')/2 for an N x N row-major A.</summary>
    internal static void SymmetricPart(ReadOnlySpan<double> a, int N, Span<double> dst)
    {
        for (int i = 0; i < N; i++)
        {
            dst[i * N + i] = a[i * N + i];
            for (int j = 0; j < i; j++)
            {
                double s = 0.5 * (a[i * N + j] + a[j * N + i]);
                dst[i * N + j] = s;
                dst[j * N + i] = s;
            }
        }
    }

    /// <summary>1/2 mu |u|^2 of tau = [x; u] (the control regularisation's share of the cost).</summary>
    internal static double ControlPenalty(in LqrData d, ReadOnlySpan<double> tau)
    {
        double mu = d.ControlRegularization;
        if (mu == 0)
        {
            return 0;
        }
        ReadOnlySpan<double> u = tau[d.Dims.StateDim..];
        return 0.5 * mu * Blas.Dot(u, u);
    }

    /// <summary>
    /// Rows first .. first+y.Length-1 of the stage Hessian times tau, (sym(C_t) + mu I_u) tau, into y.
    /// </summary>
    internal static void HessianRows(in LqrData d, int t, int b, int first, ReadOnlySpan<double> tau, Span<double> y)
    {
        int n = d.Dims.StateDim;
        StageHessianProduct(d, t, b, first, tau, y);
        double mu = d.ControlRegularization;
        if (mu != 0)
        {
            for (int r = 0; r < y.Length; r++)
            {
                if (first + r >= n)
                {
                    y[r] += mu * tau[first + r];
                }
            }
        }
    }

    /// <summary>Entries first .. first+y.Length-1 of sym(C_t) tau, into y.</summary>
    private static void StageHessianProduct(in LqrData d, int t, int b, int first, ReadOnlySpan<double> tau, Span<double> y)
    {
        int N = d.Dims.TauDim;
        if (d.SymmetricC)
        {
            SymMatVec(d.C.At(t, b), N, first, tau, y);
        }
        else
        {
            SymMatVecRows(d.C.At(t, b), N, first, tau, y);
        }
    }

    /// <summary>
    /// Entries first .. first+y.Length-1 of A x for a symmetric N x N row-major A, into y,
    /// accumulated as sum_i x_i A[i, first..] (contiguous rows, the accumulator in registers).
    /// </summary>
    internal static void SymMatVec(ReadOnlySpan<double> a, int N, int first, ReadOnlySpan<double> x, Span<double> y)
    {
        Debug.Assert(a.Length >= N * N && x.Length >= N && first + y.Length <= N);
        int len = y.Length, j = 0;
        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            j = SymMatVecColumns<Vector512<double>>(ref ar, N, first, ref xr, ref yr, j, len);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            j = SymMatVecColumns<Vector256<double>>(ref ar, N, first, ref xr, ref yr, j, len);
        }
        for (; j < len; j++)
        {
            double s = 0;
            for (int i = 0; i < N; i++)
            {
                s += Unsafe.Add(ref xr, i) * Unsafe.Add(ref ar, i * N + first + j);
            }
            Unsafe.Add(ref yr, j) = s;
        }
    }

    /// <summary>
    /// The columns of <see cref="SymMatVec"/> that whole vectors of type T (Vector512 or
    /// Vector256) cover, from column j on; returns the first column left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SymMatVecColumns<T>(ref double ar, int N, int first, ref double xr, ref double yr, int j, int len)
        where T : struct
    {
        int w = Simd.Width<T>();
        for (; j + w <= len; j += w)
        {
            T s = Simd.Zero<T>();
            for (int i = 0; i < N; i++)
            {
                s = Simd.Fma(Simd.Create<T>(Unsafe.Add(ref xr, i)), Simd.Load<T>(ref ar, (nuint)(i * N + first + j)), s);
            }
            Simd.Store(s, ref yr, (nuint)j);
        }
        return j;
    }

    /// <summary>
    /// Entries first .. first+y.Length-1 of sym(A) x for an N x N row-major A, into y.
    /// </summary>
    internal static void SymMatVecRows(ReadOnlySpan<double> a, int N, int first, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int r = 0; r < y.Length; r++)
        {
            int i = first + r;
            double s = Blas.Dot(a.Slice(i * N, N), x);
            for (int j = 0; j < N; j++)
            {
                s += a[j * N + i] * x[j];
            }
            y[r] = 0.5 * s;
        }
    }

    private static void Symmetrize(Span<double> a, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double s = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = s;
                a[j * n + i] = s;
            }
        }
    }
}
