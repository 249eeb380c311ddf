// Notation as in Box/BoxQp, for 8 problems in the lanes of Vector512<double>: minimise
// 1/2 x' H x + g' x subject to lo <= x <= hi, x in R^m, per lane. "Clamped" entries sit at a bound
// with the gradient pushing outward (or zero); the rest are "free" (a per-lane, per-entry mask).
// The free block H_ff is factorised on the full m x m matrix with the clamped rows and columns
// replaced by the identity, M = blend(H, I): its Cholesky factor is the compact factor of H_ff
// with identity rows interleaved, so one lane kernel serves every lane's free set, and a solve
// with a right-hand side that is zero on the clamped entries leaves them zero.
using System.Runtime.CompilerServices;
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
    private readonly V[] _grad;
    private readonly V[] _dir;
    private readonly V[] _trial;
    private readonly V[] _y;
    private readonly V[] _factoredFree;
    private readonly V[] _blend;

    public LaneBoxQp(int m)
    {
        _m = m;
        _grad = new V[m];
        _dir = new V[m];
        _trial = new V[m];
        _y = new V[m];
        _factoredFree = new V[m];
        _blend = new V[m * m];
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
        Span<V> grad = _grad, dir = _dir, trial = _trial, factoredFree = _factoredFree;
        for (int i = 0; i < m; i++)
        {
            x[i] = LaneMask.Clamp(x[i], lo[i], hi[i]);
        }
        V value = V.Zero, haveValue = V.Zero, bad = V.Zero;
        var zero = V.Zero;
        var armijo = Vector512.Create(Armijo);
        var decay = Vector512.Create(StepDecay);
        var minStep = Vector512.Create(MinStep);
        var roundoff = Vector512.Create(RoundoffLevel);
        for (int iter = 0; ; iter++)
        {
            // Gradient and clamped set at x.
            g.CopyTo(grad);
            LaneBlas.Gemv(m, m, h, m, 1, x, grad, accumulate: true);
            V changed = iter == 0 ? run : V.Zero;
            for (int i = 0; i < m; i++)
            {
                V clamped = (Vector512.LessThanOrEqual(x[i], lo[i]) & Vector512.GreaterThanOrEqual(grad[i], zero))
                    | (Vector512.GreaterThanOrEqual(x[i], hi[i]) & Vector512.LessThanOrEqual(grad[i], zero));
                V f = Vector512.ConditionalSelect(run, ~clamped, free[i]);
                free[i] = f;
                changed |= (f ^ factoredFree[i]) & run;
            }
            if (LaneMask.Any(changed))
            {
                // Lanes whose free set did not change get bitwise the factor they had.
                V notPd = FactorFree(m, h, m, free, _blend, l, dinv) & run;
                bad |= notPd;
                run &= ~notPd;
                free.CopyTo(factoredFree);
            }

            // Converged when the free gradient is at the round-off level of g + H x (scale >= 1).
            V gFree = V.Zero;
            for (int i = 0; i < m; i++)
            {
                gFree = Vector512.Max(gFree, Vector512.ConditionalSelect(free[i], Vector512.Abs(grad[i]), zero));
            }
            V small = Vector512.LessThanOrEqual(gFree, roundoff);
            if (LaneMask.Any(run & ~small))
            {
                small |= Vector512.LessThanOrEqual(gFree, roundoff * Scale(h, g, x));
            }
            run &= ~small;
            if (!LaneMask.Any(run) || iter >= maxIterations)
            {
                return bad;
            }

            // Newton direction on the free set: dir_f = -H_ff^{-1} grad_f, dir_c = 0.
            for (int i = 0; i < m; i++)
            {
                dir[i] = Vector512.ConditionalSelect(free[i], grad[i], zero);
            }
            LaneBlas.Potrs(m, 1, l, dinv, dir, 1);
            V slope = V.Zero;
            for (int i = 0; i < m; i++)
            {
                dir[i] = Vector512.ConditionalSelect(free[i], -dir[i], zero);
                slope = Vector512.FusedMultiplyAdd(dir[i], grad[i], slope);
            }
            run &= Vector512.LessThan(slope, zero);   // else the free gradient is at round-off level
            if (!LaneMask.Any(run))
            {
                return bad;
            }

            // Projected Armijo line search, one step size per lane.
            V need = run & ~haveValue;
            if (LaneMask.Any(need))
            {
                value = Vector512.ConditionalSelect(need, Value(h, g, x), value);
                haveValue |= run;
            }
            V step = V.One, search = run;
            while (true)
            {
                for (int i = 0; i < m; i++)
                {
                    trial[i] = LaneMask.Clamp(x[i] + step * dir[i], lo[i], hi[i]);
                }
                V trialValue = Value(h, g, trial);
                V decrease = V.Zero;
                for (int i = 0; i < m; i++)
                {
                    decrease = Vector512.FusedMultiplyAdd(grad[i], trial[i] - x[i], decrease);
                }
                V accept = search & Vector512.LessThanOrEqual(trialValue - value, armijo * decrease);
                value = Vector512.ConditionalSelect(accept, trialValue, value);
                for (int i = 0; i < m; i++)
                {
                    x[i] = Vector512.ConditionalSelect(accept, trial[i], x[i]);
                }
                search &= ~accept;
                if (!LaneMask.Any(search))
                {
                    break;
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
    /// Factors blend(A, I) for the free masks <paramref name="free"/>: entry (i, j) of the lower
    /// triangle is a_ij when controls i and j are both free in the lane, else the identity's.
    /// <paramref name="a"/> is read in its lower triangle with leading dimension
    /// <paramref name="lda"/>; <paramref name="blend"/> is m x m scratch. Returns the lanes whose
    /// free block is not positive definite.
    /// </summary>
    public static V FactorFree(int m, ReadOnlySpan<V> a, int lda, ReadOnlySpan<V> free, Span<V> blend, Span<V> l, Span<V> dinv)
    {
        for (int i = 0; i < m; i++)
        {
            V fi = free[i];
            for (int j = 0; j < i; j++)
            {
                blend[i * m + j] = Vector512.ConditionalSelect(fi & free[j], a[i * lda + j], V.Zero);
            }
            blend[i * m + i] = Vector512.ConditionalSelect(fi, a[i * lda + i], V.One);
        }
        return LaneBlas.Potrf(m, blend, m, l, dinv);
    }

    /// <summary>max(1, max_i |g_i| + sum_j |H_ij x_j|): the size of the terms of g + H x.</summary>
    private V Scale(ReadOnlySpan<V> h, ReadOnlySpan<V> g, ReadOnlySpan<V> x)
    {
        int m = _m;
        V scale = V.One;
        for (int i = 0; i < m; i++)
        {
            V hx = V.Zero;
            for (int j = 0; j < m; j++)
            {
                hx += Vector512.Abs(h[i * m + j] * x[j]);
            }
            scale = Vector512.Max(scale, Vector512.Abs(g[i]) + hx);
        }
        return scale;
    }

    /// <summary>1/2 x' H x + g' x per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private V Value(ReadOnlySpan<V> h, ReadOnlySpan<V> g, ReadOnlySpan<V> x)
    {
        int m = _m;
        Span<V> y = _y;
        LaneBlas.Gemv(m, m, h, m, 1, x, y, accumulate: false);
        var half = Vector512.Create(0.5);
        V v = V.Zero;
        for (int i = 0; i < m; i++)
        {
            v = Vector512.FusedMultiplyAdd(x[i], Vector512.FusedMultiplyAdd(half, y[i], g[i]), v);
        }
        return v;
    }
}
