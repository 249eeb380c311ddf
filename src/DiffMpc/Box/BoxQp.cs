// Notation: minimise 1/2 x' H x + g' x subject to lo <= x <= hi, x in R^m (one stage's control
// step). "Clamped" entries sit at a bound with the gradient pushing outward (or zero: a control at
// a bound with zero multiplier counts as clamped); the rest are "free". H_ff = L L' is the
// Cholesky factor of the free block, stored compactly (nf x nf, leading dimension nf).
using DiffMpc.LinearAlgebra;

namespace DiffMpc.Box;

/// <summary>Outcome of a <see cref="BoxQp"/> solve.</summary>
internal enum BoxQpStatus
{
    Converged,
    NotPositiveDefinite,
    MaxIterations,
    NoDescent,
}

/// <summary>
/// Projected-Newton solver for a small box-constrained QP (Bertsekas 1982; the box QP of
/// control-limited DDP), owning its workspace. Iterates until the gradient on the free set
/// vanishes to round-off and the clamped set is stable; each step is a Newton step on the free
/// set followed by a projected Armijo line search.
/// </summary>
internal sealed class BoxQp
{
    private const double Armijo = 0.1;
    private const double StepDecay = 0.6;
    private const double MinStep = 1e-22;

    private readonly int _m;
    private readonly double[] _grad;
    private readonly double[] _dir;
    private readonly double[] _trial;
    private readonly double[] _rhs;
    private readonly int[] _freeIdx;
    private readonly bool[] _factoredFree;

    public BoxQp(int m)
    {
        _m = m;
        _grad = new double[m];
        _dir = new double[m];
        _trial = new double[m];
        _rhs = new double[m];
        _freeIdx = new int[m];
        _factoredFree = new bool[m];
    }

    /// <summary>Iterations used by the last solve.</summary>
    public int Iterations { get; private set; }

    /// <summary>
    /// Solves the QP. <paramref name="x"/> holds the warm start on entry (clamped into the box)
    /// and the solution on exit; <paramref name="free"/> receives the free flags and
    /// <paramref name="chol"/> the compact Cholesky factor of H_ff for that free set.
    /// </summary>
    /// <param name="h">H, m x m row-major (symmetric).</param>
    /// <param name="ldh">Leading dimension of H.</param>
    /// <param name="g">g, length m.</param>
    /// <param name="lo">Lower bounds (may be -Inf).</param>
    /// <param name="hi">Upper bounds (may be +Inf), hi &gt;= lo.</param>
    /// <param name="x">Warm start in, solution out.</param>
    /// <param name="free">Free flags out.</param>
    /// <param name="chol">At least m*m values; the compact factor out.</param>
    /// <param name="maxIterations">Iteration limit.</param>
    /// <param name="nFree">Number of free entries.</param>
    public BoxQpStatus Solve(ReadOnlySpan<double> h, int ldh, ReadOnlySpan<double> g, ReadOnlySpan<double> lo,
        ReadOnlySpan<double> hi, Span<double> x, Span<bool> free, Span<double> chol, int maxIterations, out int nFree)
    {
        int m = _m;
        for (int i = 0; i < m; i++)
        {
            x[i] = Math.Clamp(x[i], lo[i], hi[i]);
        }
        double value = double.NaN;   // q(x), computed when a line search first needs it
        bool haveValue = false;
        int factoredCount = -1;
        nFree = 0;
        Iterations = 0;
        for (int iter = 0; ; iter++)
        {
            Iterations = iter;
            // Gradient and clamped set at x.
            Span<double> grad = _grad;
            g.CopyTo(grad);
            Blas.Gemv(false, m, m, 1, h, ldh, x, 1, grad);
            nFree = 0;
            bool changed = factoredCount < 0;
            for (int i = 0; i < m; i++)
            {
                bool clamped = (x[i] <= lo[i] && grad[i] >= 0) || (x[i] >= hi[i] && grad[i] <= 0);
                free[i] = !clamped;
                if (!clamped)
                {
                    _freeIdx[nFree++] = i;
                }
                changed |= _factoredFree[i] != free[i];
            }
            if (changed)
            {
                if (!FactorFree(h, ldh, free, chol, nFree))
                {
                    return BoxQpStatus.NotPositiveDefinite;
                }
                factoredCount = nFree;
            }

            // Converged when the free gradient is at the round-off level of g + H x (scale >= 1,
            // so the scale is only needed above 1e-13).
            double gFree = 0;
            for (int i = 0; i < m; i++)
            {
                if (free[i])
                {
                    gFree = Math.Max(gFree, Math.Abs(grad[i]));
                }
            }
            if (nFree == 0 || gFree <= 1e-13 || gFree <= 1e-13 * Scale(h, ldh, g, x))
            {
                return BoxQpStatus.Converged;
            }
            if (iter >= maxIterations)
            {
                return BoxQpStatus.MaxIterations;
            }

            // Newton direction on the free set: dir_f = -H_ff^{-1} grad_f, dir_c = 0.
            Span<double> rhs = _rhs.AsSpan(0, nFree);
            for (int j = 0; j < nFree; j++)
            {
                rhs[j] = grad[_freeIdx[j]];
            }
            Lapack.Potrs(nFree, chol, nFree, rhs);
            Span<double> dir = _dir;
            dir.Clear();
            double slope = 0;
            for (int j = 0; j < nFree; j++)
            {
                int i = _freeIdx[j];
                dir[i] = -rhs[j];
                slope += dir[i] * grad[i];
            }
            if (!(slope < 0))
            {
                return BoxQpStatus.Converged;   // the free gradient is at round-off level
            }

            // Projected Armijo line search.
            if (!haveValue)
            {
                value = Value(h, ldh, g, x);
                haveValue = true;
            }
            double step = 1;
            Span<double> trial = _trial;
            while (true)
            {
                for (int i = 0; i < m; i++)
                {
                    trial[i] = Math.Clamp(x[i] + step * dir[i], lo[i], hi[i]);
                }
                double trialValue = Value(h, ldh, g, trial);
                double decrease = 0;
                for (int i = 0; i < m; i++)
                {
                    decrease += grad[i] * (trial[i] - x[i]);
                }
                if (trialValue - value <= Armijo * decrease)
                {
                    value = trialValue;
                    trial.CopyTo(x);
                    break;
                }
                step *= StepDecay;
                if (step < MinStep)
                {
                    return BoxQpStatus.NoDescent;
                }
            }
        }
    }

    /// <summary>
    /// Factors H_ff for a given free set into the compact buffer (the fixed-active-set
    /// factorisation used at a solution). Returns false when H_ff is not positive definite.
    /// </summary>
    public bool FactorFree(ReadOnlySpan<double> h, int ldh, ReadOnlySpan<bool> free, Span<double> chol, int nFree)
    {
        int p = 0;
        for (int i = 0; i < _m; i++)
        {
            _factoredFree[i] = free[i];
            if (free[i])
            {
                _freeIdx[p++] = i;
            }
        }
        for (int a = 0; a < nFree; a++)
        {
            for (int c = 0; c <= a; c++)
            {
                chol[a * nFree + c] = h[_freeIdx[a] * ldh + _freeIdx[c]];
            }
        }
        return Lapack.Potrf(nFree, chol, nFree);
    }

    /// <summary>max(1, max_i |g_i| + sum_j |H_ij x_j|): the size of the terms of g + H x.</summary>
    private double Scale(ReadOnlySpan<double> h, int ldh, ReadOnlySpan<double> g, ReadOnlySpan<double> x)
    {
        double scale = 1;
        for (int i = 0; i < _m; i++)
        {
            double hx = 0;
            for (int j = 0; j < _m; j++)
            {
                hx += Math.Abs(h[i * ldh + j] * x[j]);
            }
            scale = Math.Max(scale, Math.Abs(g[i]) + hx);
        }
        return scale;
    }

    private double Value(ReadOnlySpan<double> h, int ldh, ReadOnlySpan<double> g, ReadOnlySpan<double> x)
    {
        double v = 0;
        for (int i = 0; i < _m; i++)
        {
            v += x[i] * (0.5 * Blas.Dot(h.Slice(i * ldh, _m), x) + g[i]);
        }
        return v;
    }
}
