// Notation as in Box/BoxQp, for W problems in the lanes of a vector TV (W = 8 for Vector512<double>,
// 4 for Vector256<double>): minimise
// 1/2 x' H x + g' x subject to lo <= x <= hi, x in R^m, per lane. "Clamped" entries sit at a bound
// with the gradient pushing outward (or zero); the rest are "free" (a per-lane, per-entry mask).
// The free block H_ff is factorised on the full m x m matrix with the clamped rows and columns
// replaced by the identity, M = blend(H, I): its Cholesky factor is the compact factor of H_ff
// with identity rows interleaved, so one lane kernel serves every lane's free set, and a solve
// with a right-hand side that is zero on the clamped entries leaves them zero.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DiffMpc.LinearAlgebra;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The projected-Newton box QP of control-limited DDP (as <see cref="Box.BoxQp"/>: Newton step on
/// the free set, projected Armijo line search) solved for W problems at once. Each lane keeps its
/// own clamped set, step size, iteration outcome and stopping point: a lane that has stopped is
/// frozen while the others continue, so a lane's result never depends on its neighbours.
/// </summary>
internal sealed class LaneBoxQp<TV>
    where TV : struct
{
    private const double Armijo = 0.1;
    private const double StepDecay = 0.6;
    private const double MinStep = 1e-22;
    private const double RoundoffLevel = 1e-13;

    private readonly int _m;
    private readonly LaneArray<TV> _grad;
    private readonly LaneArray<TV> _dir;
    private readonly LaneArray<TV> _trial;
    private readonly LaneArray<TV> _hx;
    private readonly LaneArray<TV> _ht;
    private readonly LaneArray<TV> _factoredFree;

    public LaneBoxQp(int m)
    {
        _m = m;
        _grad = new LaneArray<TV>(m);
        _dir = new LaneArray<TV>(m);
        _trial = new LaneArray<TV>(m);
        _hx = new LaneArray<TV>(m);
        _ht = new LaneArray<TV>(m);
        _factoredFree = new LaneArray<TV>(m);
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
    public TV Solve(ReadOnlySpan<TV> h, ReadOnlySpan<TV> g, ReadOnlySpan<TV> lo, ReadOnlySpan<TV> hi, Span<TV> x, Span<TV> free,
        Span<TV> l, Span<TV> dinv, int maxIterations, TV run)
    {
        int m = _m;
        Debug.Assert(h.Length >= m * m && g.Length >= m && lo.Length >= m && hi.Length >= m && x.Length >= m
            && free.Length >= m && l.Length >= m * m && dinv.Length >= m);
        ref TV G = ref MemoryMarshal.GetReference(g);
        ref TV Lo = ref MemoryMarshal.GetReference(lo);
        ref TV Hi = ref MemoryMarshal.GetReference(hi);
        ref TV X = ref MemoryMarshal.GetReference(x);
        ref TV Free = ref MemoryMarshal.GetReference(free);
        ref TV Grad = ref MemoryMarshal.GetReference(_grad.Span);
        ref TV Dir = ref MemoryMarshal.GetReference(_dir.Span);
        ref TV Trial = ref MemoryMarshal.GetReference(_trial.Span);
        ref TV Hx = ref MemoryMarshal.GetReference(_hx.Span);
        ref TV Ht = ref MemoryMarshal.GetReference(_ht.Span);
        ref TV Factored = ref MemoryMarshal.GetReference(_factoredFree.Span);
        Span<TV> hxSpan = _hx.Span, trialSpan = _trial.Span, htSpan = _ht.Span, factoredSpan = _factoredFree.Span;
        for (int i = 0; i < m; i++)
        {
            Unsafe.Add(ref X, i) = LaneMask.Clamp(Unsafe.Add(ref X, i), Unsafe.Add(ref Lo, i), Unsafe.Add(ref Hi, i));
        }
        LaneBlas.Gemv(m, m, h, m, 1, x, hxSpan, accumulate: false);   // H x, kept current as x changes
        TV value = Value(m, ref X, ref Hx, ref G);
        TV bad = Simd.Zero<TV>();
        var zero = Simd.Zero<TV>();
        var armijo = Simd.Create<TV>(Armijo);
        var decay = Simd.Create<TV>(StepDecay);
        var minStep = Simd.Create<TV>(MinStep);
        var roundoff = Simd.Create<TV>(RoundoffLevel);
        for (int iter = 0; ; iter++)
        {
            // Gradient, clamped set and free-gradient size at x.
            TV changed = iter == 0 ? run : zero, gFree = zero;
            for (int i = 0; i < m; i++)
            {
                TV gi = Simd.Add(Unsafe.Add(ref G, i), Unsafe.Add(ref Hx, i));
                Unsafe.Add(ref Grad, i) = gi;
                TV xi = Unsafe.Add(ref X, i);
                TV clamped = Simd.Or(Simd.And(Simd.LessThanOrEqual(xi, Unsafe.Add(ref Lo, i)), Simd.GreaterThanOrEqual(gi, zero)),
                    Simd.And(Simd.GreaterThanOrEqual(xi, Unsafe.Add(ref Hi, i)), Simd.LessThanOrEqual(gi, zero)));
                TV f = Simd.Select(run, Simd.Not(clamped), Unsafe.Add(ref Free, i));
                Unsafe.Add(ref Free, i) = f;
                changed = Simd.Or(changed, Simd.Xor(f, Unsafe.Add(ref Factored, i)));
                gFree = Simd.Max(gFree, Simd.Select(f, Simd.Abs(gi), zero));
            }
            if (LaneMask.Any(Simd.And(changed, run)))
            {
                // Lanes whose free set did not change get bitwise the factor they had.
                TV notPd = Simd.And(FactorFree(m, h, m, free, l, dinv), run);
                bad = Simd.Or(bad, notPd);
                run = Simd.And(run, Simd.Not(notPd));
                free[..m].CopyTo(factoredSpan);
            }

            // Converged when the free gradient is at the round-off level of g + H x (scale >= 1).
            TV small = Simd.LessThanOrEqual(gFree, roundoff);
            if (LaneMask.Any(Simd.And(run, Simd.Not(small))))
            {
                small = Simd.Or(small, Simd.LessThanOrEqual(gFree, Simd.Mul(roundoff, Scale(m, h, ref G, ref X))));
            }
            run = Simd.And(run, Simd.Not(small));
            if (!LaneMask.Any(run) || iter >= maxIterations)
            {
                return bad;
            }

            // Newton direction on the free set: dir_f = -H_ff^{-1} grad_f, dir_c = 0.
            for (int i = 0; i < m; i++)
            {
                Unsafe.Add(ref Dir, i) = Simd.Select(Unsafe.Add(ref Free, i), Unsafe.Add(ref Grad, i), zero);
            }
            CholeskySolve(m, l, dinv, ref Dir);
            TV slope = zero;
            for (int i = 0; i < m; i++)
            {
                TV di = Simd.Select(Unsafe.Add(ref Free, i), Simd.Neg(Unsafe.Add(ref Dir, i)), zero);
                Unsafe.Add(ref Dir, i) = di;
                slope = Simd.Fma(di, Unsafe.Add(ref Grad, i), slope);
            }
            run = Simd.And(run, Simd.LessThan(slope, zero));   // else the free gradient is at round-off level
            if (!LaneMask.Any(run))
            {
                return bad;
            }

            // Projected Armijo line search, one step size per lane.
            TV step = Simd.Create<TV>(1.0), search = run;
            while (true)
            {
                TV decrease = zero;
                for (int i = 0; i < m; i++)
                {
                    TV xi = Unsafe.Add(ref X, i);
                    TV ti = LaneMask.Clamp(Simd.Add(xi, Simd.Mul(step, Unsafe.Add(ref Dir, i))), Unsafe.Add(ref Lo, i), Unsafe.Add(ref Hi, i));
                    Unsafe.Add(ref Trial, i) = ti;
                    decrease = Simd.Fma(Unsafe.Add(ref Grad, i), Simd.Sub(ti, xi), decrease);
                }
                LaneBlas.Gemv(m, m, h, m, 1, trialSpan, htSpan, accumulate: false);
                TV trialValue = Value(m, ref Trial, ref Ht, ref G);
                TV accept = Simd.And(search, Simd.LessThanOrEqual(Simd.Sub(trialValue, value), Simd.Mul(armijo, decrease)));
                if (LaneMask.Any(accept))
                {
                    value = Simd.Select(accept, trialValue, value);
                    for (int i = 0; i < m; i++)
                    {
                        Unsafe.Add(ref X, i) = Simd.Select(accept, Unsafe.Add(ref Trial, i), Unsafe.Add(ref X, i));
                        Unsafe.Add(ref Hx, i) = Simd.Select(accept, Unsafe.Add(ref Ht, i), Unsafe.Add(ref Hx, i));
                    }
                    search = Simd.And(search, Simd.Not(accept));
                    if (!LaneMask.Any(search))
                    {
                        break;
                    }
                }
                step = Simd.Select(search, Simd.Mul(step, decay), step);
                TV noDescent = Simd.And(search, Simd.LessThan(step, minStep));
                run = Simd.And(run, Simd.Not(noDescent));
                search = Simd.And(search, Simd.Not(noDescent));
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
    public static void SolveFree(int m, int cols, ReadOnlySpan<TV> l, ReadOnlySpan<TV> dinv, ReadOnlySpan<TV> free,
        ReadOnlySpan<TV> rhs, int rhsStride, Span<TV> dst, int dstStride)
    {
        Debug.Assert(l.Length >= m * m && dinv.Length >= m && free.Length >= m);
        Debug.Assert(rhs.Length >= (m - 1) * rhsStride + cols && dst.Length >= (m - 1) * dstStride + cols);
        ref TV L = ref MemoryMarshal.GetReference(l);
        ref TV Dinv = ref MemoryMarshal.GetReference(dinv);
        ref TV R = ref MemoryMarshal.GetReference(rhs);
        ref TV D = ref MemoryMarshal.GetReference(dst);
        ref TV F = ref MemoryMarshal.GetReference(free);
        for (int i = 0; i < m; i++)
        {
            TV fi = Unsafe.Add(ref F, i), inv = Unsafe.Add(ref Dinv, i);
            ref TV ri = ref Unsafe.Add(ref R, i * rhsStride);
            ref TV di = ref Unsafe.Add(ref D, i * dstStride);
            for (int j = 0; j < cols; j++)
            {
                TV x = Simd.Select(fi, Unsafe.Add(ref ri, j), Simd.Zero<TV>());
                for (int p = 0; p < i; p++)
                {
                    x = Simd.Fma(Simd.Neg(Unsafe.Add(ref L, i * m + p)), Unsafe.Add(ref D, p * dstStride + j), x);
                }
                Unsafe.Add(ref di, j) = Simd.Mul(x, inv);
            }
        }
        for (int i = m - 1; i >= 0; i--)
        {
            TV fi = Unsafe.Add(ref F, i), inv = Unsafe.Add(ref Dinv, i);
            ref TV di = ref Unsafe.Add(ref D, i * dstStride);
            for (int j = 0; j < cols; j++)
            {
                // Rows p > i are final and stored negated: x - l_pi y_p = x + l_pi (-y_p).
                TV x = Unsafe.Add(ref di, j);
                for (int p = i + 1; p < m; p++)
                {
                    x = Simd.Fma(Unsafe.Add(ref L, p * m + i), Unsafe.Add(ref D, p * dstStride + j), x);
                }
                Unsafe.Add(ref di, j) = Simd.Select(fi, Simd.Neg(Simd.Mul(x, inv)), Simd.Zero<TV>());
            }
        }
    }

    /// <summary>
    /// Solves (L L') y = r in place for one lane right-hand side (the operations of
    /// <see cref="LaneBlas.Potrs"/> with nrhs = 1, without its strided slices).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CholeskySolve(int m, ReadOnlySpan<TV> l, ReadOnlySpan<TV> dinv, ref TV r)
    {
        ref TV L = ref MemoryMarshal.GetReference(l);
        ref TV D = ref MemoryMarshal.GetReference(dinv);
        for (int i = 0; i < m; i++)
        {
            TV s = Unsafe.Add(ref r, i);
            for (int p = 0; p < i; p++)
            {
                s = Simd.Fma(Simd.Neg(Unsafe.Add(ref L, i * m + p)), Unsafe.Add(ref r, p), s);
            }
            Unsafe.Add(ref r, i) = Simd.Mul(s, Unsafe.Add(ref D, i));
        }
        for (int i = m - 1; i >= 0; i--)
        {
            TV s = Unsafe.Add(ref r, i);
            for (int p = i + 1; p < m; p++)
            {
                s = Simd.Fma(Simd.Neg(Unsafe.Add(ref L, p * m + i)), Unsafe.Add(ref r, p), s);
            }
            Unsafe.Add(ref r, i) = Simd.Mul(s, Unsafe.Add(ref D, i));
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
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static TV FactorFree(int m, ReadOnlySpan<TV> a, int lda, ReadOnlySpan<TV> free, Span<TV> l, Span<TV> dinv)
    {
        Debug.Assert(a.Length >= (m - 1) * lda + m && free.Length >= m && l.Length >= m * m && dinv.Length >= m);
        LinearAlgebra.FactorizationCounter.Increment();
        ref TV A = ref MemoryMarshal.GetReference(a);
        ref TV F = ref MemoryMarshal.GetReference(free);
        ref TV L = ref MemoryMarshal.GetReference(l);
        ref TV D = ref MemoryMarshal.GetReference(dinv);
        TV bad = Simd.Zero<TV>();
        for (int j = 0; j < m; j++)
        {
            TV fj = Unsafe.Add(ref F, j);
            TV d = Simd.Select(fj, Unsafe.Add(ref A, j * lda + j), Simd.Create<TV>(1.0));
            for (int p = 0; p < j; p++)
            {
                TV ljp = Unsafe.Add(ref L, j * m + p);
                d = Simd.Fma(Simd.Neg(ljp), ljp, d);
            }
            TV ok = Simd.And(Simd.GreaterThan(d, Simd.Zero<TV>()), Simd.EqualMask(Simd.Sub(d, d), Simd.Zero<TV>()));
            bad = Simd.Or(bad, Simd.Not(ok));
            d = Simd.Select(ok, d, Simd.Create<TV>(1.0));
            TV ljj = Simd.Sqrt(d);
            TV inv = Simd.Div(Simd.Create<TV>(1.0), ljj);
            Unsafe.Add(ref L, j * m + j) = ljj;
            Unsafe.Add(ref D, j) = inv;
            for (int i = j + 1; i < m; i++)
            {
                TV s = Simd.Select(Simd.And(Unsafe.Add(ref F, i), fj), Unsafe.Add(ref A, i * lda + j), Simd.Zero<TV>());
                for (int p = 0; p < j; p++)
                {
                    s = Simd.Fma(Simd.Neg(Unsafe.Add(ref L, i * m + p)), Unsafe.Add(ref L, j * m + p), s);
                }
                Unsafe.Add(ref L, i * m + j) = Simd.Mul(s, inv);
            }
        }
        return bad;
    }

    /// <summary>max(1, max_i |g_i| + sum_j |H_ij x_j|): the size of the terms of g + H x.</summary>
    private static TV Scale(int m, ReadOnlySpan<TV> h, ref TV G, ref TV X)
    {
        ref TV H = ref MemoryMarshal.GetReference(h);
        TV scale = Simd.Create<TV>(1.0);
        for (int i = 0; i < m; i++)
        {
            TV hx = Simd.Zero<TV>();
            for (int j = 0; j < m; j++)
            {
                hx = Simd.Add(hx, Simd.Abs(Simd.Mul(Unsafe.Add(ref H, i * m + j), Unsafe.Add(ref X, j))));
            }
            scale = Simd.Max(scale, Simd.Add(Simd.Abs(Unsafe.Add(ref G, i)), hx));
        }
        return scale;
    }

    /// <summary>1/2 x' H x + g' x per lane, given hx = H x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Value(int m, ref TV X, ref TV Hx, ref TV G)
    {
        var half = Simd.Create<TV>(0.5);
        TV v = Simd.Zero<TV>();
        for (int i = 0; i < m; i++)
        {
            v = Simd.Fma(Unsafe.Add(ref X, i), Simd.Fma(half, Unsafe.Add(ref Hx, i), Unsafe.Add(ref G, i)), v);
        }
        return v;
    }
}
