// Notation as in Box/BoxQp, for 8 problems in the lanes of Vector512<double>: minimise
// 1/2 x' H x + g' x subject to lo <= x <= hi, x in R^m, per lane. "Clamped" entries sit at a bound
// with the gradient pushing outward (or zero); the rest are "free" (a per-lane, per-entry mask).
// The free block H_ff is factorised on the full m x m matrix with the clamped rows and columns
// replaced by the identity, M = blend(H, I): its Cholesky factor is the compact factor of H_ff
// with identity rows interleaved, so one lane kernel serves every lane's free set, and a solve
// with a right-hand side that is zero on the clamped entries leaves them zero.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using V = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The projected-Newton box QP of control-limited DDP (as <see cref="Box.BoxQp"/>: Newton step on
/// the free set, projected Armijo line search) solved for 8 problems at once. Each lane keeps its
/// own clamped set, step size, iteration outcome and stopping point: a lane that has stopped is
/// frozen while the others continue, so a lane's result never depends on its neighbours.
/// </summary>
internal sealed class LaneBoxQp
{
    private const double Armijo = 0.1;
    private const double StepDecay = 0.6;
    private const double MinStep = 1e-22;
    private const double RoundoffLevel = 1e-13;

    private readonly int _m;
    private readonly LaneArray<V> _grad;
    private readonly LaneArray<V> _dir;
    private readonly LaneArray<V> _trial;
    private readonly LaneArray<V> _hx;
    private readonly LaneArray<V> _ht;
    private readonly LaneArray<V> _factoredFree;

    public LaneBoxQp(int m)
    {
        _m = m;
        _grad = new LaneArray<V>(m);
        _dir = new LaneArray<V>(m);
        _trial = new LaneArray<V>(m);
        _hx = new LaneArray<V>(m);
        _ht = new LaneArray<V>(m);
        _factoredFree = new LaneArray<V>(m);
    }

    /// <summary>
    /// Solves the QP in the lanes of <paramref name="run"/> (the other lanes' outputs are
    /// unspecified). <paramref name="x"/> holds the warm start on entry (clamped into the box)
    /// and the solution on exit; <paramref name="free"/> receives the free masks and
    /// <paramref name="l"/>, <paramref name="dinv"/> the factor of blend(H, I) for that free set.
    /// A lane stops as the scalar solver returns: converged (free gradient at round-off level),
    /// iteration limit, no descent, or a free block that is not positive definite; the last
    /// are flagged in the returned mask.
    /// </summary>
    /// <param name="h">H, m x m row-major, both triangles.</param>
    /// <param name="g">g, length m.</param>
    /// <param name="lo">Lower bounds (may be -Inf).</param>
    /// <param name="hi">Upper bounds (may be +Inf), hi &gt;= lo.</param>
    /// <param name="x">Warm start in, solution out.</param>
    /// <param name="free">Free masks out, [m].</param>
    /// <param name="l">Cholesky factor of blend(H, I) out, [m][m] (lower triangle).</param>
    /// <param name="dinv">Reciprocal diagonal of <paramref name="l"/> out, [m].</param>
    /// <param name="maxIterations">Iteration limit.</param>
    /// <param name="run">Lanes to solve.</param>
    public V Solve(ReadOnlySpan<V> h, ReadOnlySpan<V> g, ReadOnlySpan<V> lo, ReadOnlySpan<V> hi, Span<V> x, Span<V> free,
        Span<V> l, Span<V> dinv, int maxIterations, V run)
    {
        int m = _m;
        Debug.Assert(h.Length >= m * m && g.Length >= m && lo.Length >= m && hi.Length >= m && x.Length >= m
            && free.Length >= m && l.Length >= m * m && dinv.Length >= m);
        ref V G = ref MemoryMarshal.GetReference(g);
        ref V Lo = ref MemoryMarshal.GetReference(lo);
        ref V Hi = ref MemoryMarshal.GetReference(hi);
        ref V X = ref MemoryMarshal.GetReference(x);
        ref V Free = ref MemoryMarshal.GetReference(free);
        ref V Grad = ref MemoryMarshal.GetReference(_grad.Span);
        ref V Dir = ref MemoryMarshal.GetReference(_dir.Span);
        ref V Trial = ref MemoryMarshal.GetReference(_trial.Span);
        ref V Hx = ref MemoryMarshal.GetReference(_hx.Span);
        ref V Ht = ref MemoryMarshal.GetReference(_ht.Span);
        ref V Factored = ref MemoryMarshal.GetReference(_factoredFree.Span);
        for (int i = 0; i < m; i++)
        {
            Unsafe.Add(ref X, i) = LaneMask.Clamp(Unsafe.Add(ref X, i), Unsafe.Add(ref Lo, i), Unsafe.Add(ref Hi, i));
        }
        LaneBlas.Gemv(m, m, h, m, 1, x, _hx, accumulate: false);   // H x, kept current as x changes
        V value = Value(m, ref X, ref Hx, ref G);
        V bad = V.Zero;
        var zero = V.Zero;
        var armijo = Vector512.Create(Armijo);
        var decay = Vector512.Create(StepDecay);
        var minStep = Vector512.Create(MinStep);
        var roundoff = Vector512.Create(RoundoffLevel);
        for (int iter = 0; ; iter++)
        {
            // Gradient, clamped set and free-gradient size at x.
            V changed = iter == 0 ? run : zero, gFree = zero;
            for (int i = 0; i < m; i++)
            {
                V gi = Unsafe.Add(ref G, i) + Unsafe.Add(ref Hx, i);
                Unsafe.Add(ref Grad, i) = gi;
                V xi = Unsafe.Add(ref X, i);
                V clamped = (Vector512.LessThanOrEqual(xi, Unsafe.Add(ref Lo, i)) & Vector512.GreaterThanOrEqual(gi, zero))
                    | (Vector512.GreaterThanOrEqual(xi, Unsafe.Add(ref Hi, i)) & Vector512.LessThanOrEqual(gi, zero));
                V f = Vector512.ConditionalSelect(run, ~clamped, Unsafe.Add(ref Free, i));
                Unsafe.Add(ref Free, i) = f;
                changed |= f ^ Unsafe.Add(ref Factored, i);
                gFree = Vector512.Max(gFree, Vector512.ConditionalSelect(f, Vector512.Abs(gi), zero));
            }
            if (LaneMask.Any(changed & run))
            {
                // Lanes whose free set did not change get bitwise the factor they had.
                V notPd = FactorFree(m, h, m, free, l, dinv) & run;
                bad |= notPd;
                run &= ~notPd;
                free[..m].CopyTo(_factoredFree);
            }

            // Converged when the free gradient is at the round-off level of g + H x (scale >= 1).
            V small = Vector512.LessThanOrEqual(gFree, roundoff);
            if (LaneMask.Any(run & ~small))
            {
                small |= Vector512.LessThanOrEqual(gFree, roundoff * Scale(m, h, ref G, ref X));
            }
            run &= ~small;
            if (!LaneMask.Any(run) || iter >= maxIterations)
            {
                return bad;
            }

            // Newton direction on the free set: dir_f = -H_ff^{-1} grad_f, dir_c = 0.
            for (int i = 0; i < m; i++)
            {
                Unsafe.Add(ref Dir, i) = Vector512.ConditionalSelect(Unsafe.Add(ref Free, i), Unsafe.Add(ref Grad, i), zero);
            }
            CholeskySolve(m, l, dinv, ref Dir);
            V slope = zero;
            for (int i = 0; i < m; i++)
            {
                V di = Vector512.ConditionalSelect(Unsafe.Add(ref Free, i), -Unsafe.Add(ref Dir, i), zero);
                Unsafe.Add(ref Dir, i) = di;
                slope = Vector512.FusedMultiplyAdd(di, Unsafe.Add(ref Grad, i), slope);
            }
            run &= Vector512.LessThan(slope, zero);   // else the free gradient is at round-off level
            if (!LaneMask.Any(run))
            {
                return bad;
            }

            // Projected Armijo line search, one step size per lane.
            V step = V.One, search = run;
            while (true)
            {
                V decrease = zero;
                for (int i = 0; i < m; i++)
                {
                    V xi = Unsafe.Add(ref X, i);
                    V ti = LaneMask.Clamp(xi + step * Unsafe.Add(ref Dir, i), Unsafe.Add(ref Lo, i), Unsafe.Add(ref Hi, i));
                    Unsafe.Add(ref Trial, i) = ti;
                    decrease = Vector512.FusedMultiplyAdd(Unsafe.Add(ref Grad, i), ti - xi, decrease);
                }
                LaneBlas.Gemv(m, m, h, m, 1, _trial, _ht, accumulate: false);
                V trialValue = Value(m, ref Trial, ref Ht, ref G);
                V accept = search & Vector512.LessThanOrEqual(trialValue - value, armijo * decrease);
                if (LaneMask.Any(accept))
                {
                    value = Vector512.ConditionalSelect(accept, trialValue, value);
                    for (int i = 0; i < m; i++)
                    {
                        Unsafe.Add(ref X, i) = Vector512.ConditionalSelect(accept, Unsafe.Add(ref Trial, i), Unsafe.Add(ref X, i));
                        Unsafe.Add(ref Hx, i) = Vector512.ConditionalSelect(accept, Unsafe.Add(ref Ht, i), Unsafe.Add(ref Hx, i));
                    }
                    search &= ~accept;
                    if (!LaneMask.Any(search))
                    {
                        break;
                    }
                }
                step = Vector512.ConditionalSelect(search, step * decay, step);
                V noDescent = search & Vector512.LessThan(step, minStep);
                run &= ~noDescent;
                search &= ~noDescent;
                if (!LaneMask.Any(search))
                {
                    break;
                }
            }
            if (!LaneMask.Any(run))
            {
                return bad;
            }
        }
    }

    /// <summary>
    /// dst = -blend(A, I)^{-1} rhs on the free rows and 0 on the clamped rows for an m x cols
    /// right-hand side (row i at rhs[i * rhsStride], of dst at dst[i * dstStride]), with L and
    /// 1/diag(L) from <see cref="FactorFree"/>: K_t = -H_ff^{-1} Q_fx, k_t = -H_ff^{-1} q_f. Rows
    /// are processed whole (the columns' substitutions are independent, so they overlap): the
    /// forward substitution writes L^{-1} rhs_f into dst, the backward one finishes each row and
    /// stores it negated and masked. Clamped rows enter as zero and stay zero.
    /// </summary>
    public static void SolveFree(int m, int cols, ReadOnlySpan<V> l, ReadOnlySpan<V> dinv, ReadOnlySpan<V> free,
        ReadOnlySpan<V> rhs, int rhsStride, Span<V> dst, int dstStride)
    {
        Debug.Assert(l.Length >= m * m && dinv.Length >= m && free.Length >= m);
        Debug.Assert(rhs.Length >= (m - 1) * rhsStride + cols && dst.Length >= (m - 1) * dstStride + cols);
        ref V L = ref MemoryMarshal.GetReference(l);
        ref V Dinv = ref MemoryMarshal.GetReference(dinv);
        ref V R = ref MemoryMarshal.GetReference(rhs);
        ref V D = ref MemoryMarshal.GetReference(dst);
        ref V F = ref MemoryMarshal.GetReference(free);
        for (int i = 0; i < m; i++)
        {
            V fi = Unsafe.Add(ref F, i), inv = Unsafe.Add(ref Dinv, i);
            ref V ri = ref Unsafe.Add(ref R, i * rhsStride);
            ref V di = ref Unsafe.Add(ref D, i * dstStride);
            for (int j = 0; j < cols; j++)
            {
                V x = Vector512.ConditionalSelect(fi, Unsafe.Add(ref ri, j), V.Zero);
                for (int p = 0; p < i; p++)
                {
                    x = Vector512.FusedMultiplyAdd(-Unsafe.Add(ref L, i * m + p), Unsafe.Add(ref D, p * dstStride + j), x);
                }
                Unsafe.Add(ref di, j) = x * inv;
            }
        }
        for (int i = m - 1; i >= 0; i--)
        {
            V fi = Unsafe.Add(ref F, i), inv = Unsafe.Add(ref Dinv, i);
            ref V di = ref Unsafe.Add(ref D, i * dstStride);
            for (int j = 0; j < cols; j++)
            {
                // Rows p > i are final and stored negated: x - l_pi y_p = x + l_pi (-y_p).
                V x = Unsafe.Add(ref di, j);
                for (int p = i + 1; p < m; p++)
                {
                    x = Vector512.FusedMultiplyAdd(Unsafe.Add(ref L, p * m + i), Unsafe.Add(ref D, p * dstStride + j), x);
                }
                Unsafe.Add(ref di, j) = Vector512.ConditionalSelect(fi, -(x * inv), V.Zero);
            }
        }
    }

    /// <summary>
    /// Solves (L L') y = r in place for one lane right-hand side (the operations of
    /// <see cref="LaneBlas.Potrs"/> with nrhs = 1, without its strided slices).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CholeskySolve(int m, ReadOnlySpan<V> l, ReadOnlySpan<V> dinv, ref V r)
    {
        ref V L = ref MemoryMarshal.GetReference(l);
        ref V D = ref MemoryMarshal.GetReference(dinv);
        for (int i = 0; i < m; i++)
        {
            V s = Unsafe.Add(ref r, i);
            for (int p = 0; p < i; p++)
            {
                s = Vector512.FusedMultiplyAdd(-Unsafe.Add(ref L, i * m + p), Unsafe.Add(ref r, p), s);
            }
            Unsafe.Add(ref r, i) = s * Unsafe.Add(ref D, i);
        }
        for (int i = m - 1; i >= 0; i--)
        {
            V s = Unsafe.Add(ref r, i);
            for (int p = i + 1; p < m; p++)
            {
                s = Vector512.FusedMultiplyAdd(-Unsafe.Add(ref L, p * m + i), Unsafe.Add(ref r, p), s);
            }
            Unsafe.Add(ref r, i) = s * Unsafe.Add(ref D, i);
        }
    }

    /// <summary>
    /// Lower Cholesky factor of blend(A, I) for the free masks <paramref name="free"/>: entry
    /// (i, j) of the lower triangle is a_ij when controls i and j are both free in the lane, else
    /// the identity's. The operations of <see cref="LaneBlas.Potrf"/> on that matrix, with the
    /// blend read on the fly: a lane whose pivot is not positive and finite is flagged in the
    /// returned mask and continues with pivot 1. <paramref name="a"/> is read in its lower
    /// triangle with leading dimension <paramref name="lda"/>.
    /// </summary>
    public static V FactorFree(int m, ReadOnlySpan<V> a, int lda, ReadOnlySpan<V> free, Span<V> l, Span<V> dinv)
    {
        Debug.Assert(a.Length >= (m - 1) * lda + m && free.Length >= m && l.Length >= m * m && dinv.Length >= m);
        LinearAlgebra.FactorizationCounter.Increment();
        ref V A = ref MemoryMarshal.GetReference(a);
        ref V F = ref MemoryMarshal.GetReference(free);
        ref V L = ref MemoryMarshal.GetReference(l);
        ref V D = ref MemoryMarshal.GetReference(dinv);
        V bad = V.Zero;
        for (int j = 0; j < m; j++)
        {
            V fj = Unsafe.Add(ref F, j);
            V d = Vector512.ConditionalSelect(fj, Unsafe.Add(ref A, j * lda + j), V.One);
            for (int p = 0; p < j; p++)
            {
                V ljp = Unsafe.Add(ref L, j * m + p);
                d = Vector512.FusedMultiplyAdd(-ljp, ljp, d);
            }
            V ok = Vector512.GreaterThan(d, V.Zero) & Vector512.Equals(d - d, V.Zero);
            bad |= ~ok;
            d = Vector512.ConditionalSelect(ok, d, V.One);
            V ljj = Vector512.Sqrt(d);
            V inv = V.One / ljj;
            Unsafe.Add(ref L, j * m + j) = ljj;
            Unsafe.Add(ref D, j) = inv;
            for (int i = j + 1; i < m; i++)
            {
                V s = Vector512.ConditionalSelect(Unsafe.Add(ref F, i) & fj, Unsafe.Add(ref A, i * lda + j), V.Zero);
                for (int p = 0; p < j; p++)
                {
                    s = Vector512.FusedMultiplyAdd(-Unsafe.Add(ref L, i * m + p), Unsafe.Add(ref L, j * m + p), s);
                }
                Unsafe.Add(ref L, i * m + j) = s * inv;
            }
        }
        return bad;
    }

    /// <summary>max(1, max_i |g_i| + sum_j |H_ij x_j|): the size of the terms of g + H x.</summary>
    private static V Scale(int m, ReadOnlySpan<V> h, ref V G, ref V X)
    {
        ref V H = ref MemoryMarshal.GetReference(h);
        V scale = V.One;
        for (int i = 0; i < m; i++)
        {
            V hx = V.Zero;
            for (int j = 0; j < m; j++)
            {
                hx += Vector512.Abs(Unsafe.Add(ref H, i * m + j) * Unsafe.Add(ref X, j));
            }
            scale = Vector512.Max(scale, Vector512.Abs(Unsafe.Add(ref G, i)) + hx);
        }
        return scale;
    }

    /// <summary>1/2 x' H x + g' x per lane, given hx = H x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V Value(int m, ref V X, ref V Hx, ref V G)
    {
        var half = Vector512.Create(0.5);
        V v = V.Zero;
        for (int i = 0; i < m; i++)
        {
            v = Vector512.FusedMultiplyAdd(Unsafe.Add(ref X, i), Vector512.FusedMultiplyAdd(half, Unsafe.Add(ref Hx, i), Unsafe.Add(ref G, i)), v);
        }
        return v;
    }
}
