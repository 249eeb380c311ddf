// Shared helpers of the box-constraint tests: seeded random LQR problems, bound expansion,
// linear test losses, active-set patterns and an independent dense reference (the QP condensed
// onto the controls, solved by a primal active-set method with MathNet).
using DiffMpc.Problems;
using DiffMpc.Results;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DiffMpc.Tests.Box;

/// <summary>A seeded batch of random LQR data in the full [T][B][...] layouts.</summary>
internal sealed class RandomLqr
{
    public required MpcDimensions Dims { get; init; }

    public required double[] XInit { get; init; }

    /// <summary>[T][B][N][N], symmetric positive definite per stage.</summary>
    public required double[] C { get; init; }

    /// <summary>[T][B][N].</summary>
    public required double[] c { get; init; }

    /// <summary>[T-1][B][n][N]; null when T = 1.</summary>
    public required double[]? F { get; init; }

    /// <summary>[T-1][B][n]; null when T = 1 or no offset was asked for.</summary>
    public required double[]? f { get; init; }

    public LqrProblem Build(StageArray? uLower, StageArray? uUpper) =>
        new(Dims, XInit, C, c, F is null ? null : StageArray.PerStage(F), f is null ? null : StageArray.PerStage(f),
            uLower, uUpper);
}

/// <summary>The problem of one batch element condensed onto its controls u = (u_1..u_T).</summary>
/// <remarks>
/// z = (tau_1..tau_T) = S u + s0 with s0 = Px x_init + (offset terms); the cost is
/// 1/2 z' Cbig z + cbig' z = 1/2 u' H u + h' u + const.
/// </remarks>
internal sealed class CondensedQp
{
    public required Matrix<double> S { get; init; }

    public required Matrix<double> Px { get; init; }

    public required Vector<double> S0 { get; init; }

    public required Matrix<double> Cbig { get; init; }

    public required Vector<double> Cvec { get; init; }

    public Matrix<double> H => S.TransposeThisAndMultiply(Cbig * S);

    public Vector<double> Hvec => S.TransposeThisAndMultiply(Cbig * S0 + Cvec);

    public double Cost(Vector<double> u)
    {
        Vector<double> z = S * u + S0;
        return 0.5 * z.DotProduct(Cbig * z) + Cvec.DotProduct(z);
    }
}

internal static class BoxTestProblems
{
    /// <summary>Standard normal samples from a seeded generator (Box-Muller).</summary>
    public static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double[] Normals(Random rng, int count, double scale = 1)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = scale * Normal(rng);
        }
        return a;
    }

    /// <summary>
    /// Random problem: C_t = M M' / N + 0.1 I (M standard normal), c_t = costScale * N(0, 1),
    /// F_t = [A_t, B_t] with A_t = I + dynamicsGain G / sqrt(n) (time-varying) or, when
    /// <paramref name="spectralRadius"/> is given, a fixed random matrix per element scaled to that
    /// spectral radius; B_t standard normal / sqrt(n); f_t, x_init normal.
    /// </summary>
    public static RandomLqr Generate(MpcDimensions dims, int seed, double costScale, double dynamicsGain = 0.2,
        double? spectralRadius = null, bool withOffset = true, double xInitScale = 1)
    {
        var rng = new Random(seed);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        var C = new double[T * B * N * N];
        for (int tb = 0; tb < T * B; tb++)
        {
            double[] M = Normals(rng, N * N);
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double s = 0;
                    for (int k = 0; k < N; k++)
                    {
                        s += M[i * N + k] * M[j * N + k];
                    }
                    C[tb * N * N + i * N + j] = s / N + (i == j ? 0.1 : 0);
                }
            }
        }
        double[] c = Normals(rng, T * B * N, costScale);
        double[]? F = null, f = null;
        if (T > 1)
        {
            F = new double[(T - 1) * B * n * N];
            Matrix<double>[]? fixedA = null;
            if (spectralRadius is double rho)
            {
                fixedA = new Matrix<double>[B];
                for (int b = 0; b < B; b++)
                {
                    Matrix<double> G = Matrix<double>.Build.Dense(n, n, Normals(rng, n * n));
                    double r = G.Evd().EigenValues.Select(z => z.Magnitude).Max();
                    fixedA[b] = G * (rho / r);
                }
            }
            for (int t = 0; t < T - 1; t++)
            {
                for (int b = 0; b < B; b++)
                {
                    int o = (t * B + b) * n * N;
                    for (int i = 0; i < n; i++)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            F[o + i * N + j] = fixedA is not null
                                ? fixedA[b][i, j]
                                : (i == j ? 1 : 0) + dynamicsGain * Normal(rng) / Math.Sqrt(n);
                        }
                        for (int j = 0; j < m; j++)
                        {
                            F[o + i * N + n + j] = Normal(rng) / Math.Sqrt(n);
                        }
                    }
                }
            }
            if (withOffset)
            {
                f = Normals(rng, (T - 1) * B * n, 0.5);
            }
        }
        return new RandomLqr { Dims = dims, XInit = Normals(rng, B * n, xInitScale), C = C, c = c, F = F, f = f };
    }

    /// <summary>Entry (t, b, i) of a bound in any layout; infinity when the bound is absent.</summary>
    public static double BoundAt(StageArray? a, MpcDimensions d, int t, int b, int i, bool lower)
    {
        if (a is null)
        {
            return lower ? double.NegativeInfinity : double.PositiveInfinity;
        }
        if (a.IsScalar)
        {
            return a.Data[0];
        }
        int m = d.ControlDim;
        int idx = (a.SharedOverTime ? 0 : t * (a.SharedOverBatch ? 1 : d.BatchSize) * m) + (a.SharedOverBatch ? 0 : b * m) + i;
        return a.Data[idx];
    }

    /// <summary>The bounds of element b as vectors over (t, i), t-major.</summary>
    public static (double[] Lo, double[] Hi) ElementBounds(LqrProblem p, int b)
    {
        MpcDimensions d = p.Dimensions;
        int T = d.Horizon, m = d.ControlDim;
        var lo = new double[T * m];
        var hi = new double[T * m];
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                lo[t * m + i] = BoundAt(p.ControlLower, d, t, b, i, lower: true);
                hi[t * m + i] = BoundAt(p.ControlUpper, d, t, b, i, lower: false);
            }
        }
        return (lo, hi);
    }

    /// <summary>Per control (t, b, i): -1 at its lower bound, +1 at its upper bound, 0 free.</summary>
    public static sbyte[] ActivePattern(LqrProblem p, MpcSolution sol)
    {
        MpcDimensions d = p.Dimensions;
        int T = d.Horizon, B = d.BatchSize, m = d.ControlDim;
        var pattern = new sbyte[T * B * m];
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                for (int i = 0; i < m; i++)
                {
                    double u = sol.U[(t * B + b) * m + i];
                    pattern[(t * B + b) * m + i] =
                        u == BoundAt(p.ControlLower, d, t, b, i, lower: true) ? (sbyte)-1
                        : u == BoundAt(p.ControlUpper, d, t, b, i, lower: false) ? (sbyte)1 : (sbyte)0;
                }
            }
        }
        return pattern;
    }

    /// <summary>True when every control lies within its bounds.</summary>
    public static bool Feasible(LqrProblem p, MpcSolution sol)
    {
        MpcDimensions d = p.Dimensions;
        int B = d.BatchSize, m = d.ControlDim;
        for (int t = 0; t < d.Horizon; t++)
        {
            for (int b = 0; b < B; b++)
            {
                for (int i = 0; i < m; i++)
                {
                    double u = sol.U[(t * B + b) * m + i];
                    if (!(u >= BoundAt(p.ControlLower, d, t, b, i, true) && u <= BoundAt(p.ControlUpper, d, t, b, i, false)))
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /// <summary>A linear test loss L = wx . X + wu . U with seeded weights.</summary>
    public static (double[] Wx, double[] Wu) LossWeights(MpcDimensions d, int seed)
    {
        var rng = new Random(seed);
        return (Normals(rng, d.Horizon * d.BatchSize * d.StateDim), Normals(rng, d.Horizon * d.BatchSize * d.ControlDim));
    }

    public static double Loss(MpcSolution sol, double[] wx, double[] wu)
    {
        double l = 0;
        for (int i = 0; i < wx.Length; i++)
        {
            l += wx[i] * sol.X[i];
        }
        for (int i = 0; i < wu.Length; i++)
        {
            l += wu[i] * sol.U[i];
        }
        return l;
    }

    /// <summary>z = (tau_1..tau_T) of element b from x_1 = x0 and controls u (t-major).</summary>
    private static double[] Rollout(RandomLqr p, int b, ReadOnlySpan<double> x0, ReadOnlySpan<double> u, bool withOffset)
    {
        MpcDimensions d = p.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
        var z = new double[T * N];
        x0.CopyTo(z);
        for (int t = 0; t < T; t++)
        {
            u.Slice(t * m, m).CopyTo(z.AsSpan(t * N + n, m));
            if (t < T - 1)
            {
                for (int i = 0; i < n; i++)
                {
                    double s = withOffset && p.f is not null ? p.f[(t * B + b) * n + i] : 0;
                    for (int j = 0; j < N; j++)
                    {
                        s += p.F![((t * B + b) * n + i) * N + j] * z[t * N + j];
                    }
                    z[(t + 1) * N + i] = s;
                }
            }
        }
        return z;
    }

    /// <summary>Condenses element b of <paramref name="p"/> onto its controls.</summary>
    public static CondensedQp Condense(RandomLqr p, int b)
    {
        MpcDimensions d = p.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
        var S = Matrix<double>.Build.Dense(T * N, T * m);
        var Px = Matrix<double>.Build.Dense(T * N, n);
        var zeroX = new double[n];
        var zeroU = new double[T * m];
        for (int j = 0; j < T * m; j++)
        {
            var e = new double[T * m];
            e[j] = 1;
            S.SetColumn(j, Rollout(p, b, zeroX, e, withOffset: false));
        }
        for (int k = 0; k < n; k++)
        {
            var e = new double[n];
            e[k] = 1;
            Px.SetColumn(k, Rollout(p, b, e, zeroU, withOffset: false));
        }
        Vector<double> s0 = Vector<double>.Build.DenseOfArray(Rollout(p, b, p.XInit.AsSpan(b * n, n), zeroU, withOffset: true));
        var Cbig = Matrix<double>.Build.Dense(T * N, T * N);
        var cvec = Vector<double>.Build.Dense(T * N);
        for (int t = 0; t < T; t++)
        {
            int o = (t * B + b) * N * N;
            for (int i = 0; i < N; i++)
            {
                cvec[t * N + i] = p.c[(t * B + b) * N + i];
                for (int j = 0; j < N; j++)
                {
                    Cbig[t * N + i, t * N + j] = 0.5 * (p.C[o + i * N + j] + p.C[o + j * N + i]);
                }
            }
        }
        return new CondensedQp { S = S, Px = Px, S0 = s0, Cbig = Cbig, Cvec = cvec };
    }

    /// <summary>
    /// min 1/2 u' H u + h' u subject to lo &lt;= u &lt;= hi by a primal active-set method
    /// (exact equality-constrained steps, blocking bounds added, the most negative multiplier
    /// released), independent of the library's projected-Newton/DDP solver. Returns u and the
    /// final working set (-1 lower, +1 upper, 0 free).
    /// </summary>
    public static (Vector<double> U, sbyte[] State) SolveBoxQp(Matrix<double> H, Vector<double> h, double[] lo, double[] hi)
    {
        int nv = h.Count;
        var x = Vector<double>.Build.Dense(nv);
        var state = new sbyte[nv];
        for (int i = 0; i < nv; i++)
        {
            x[i] = Math.Clamp(0, lo[i], hi[i]);
            state[i] = x[i] == lo[i] ? (sbyte)-1 : x[i] == hi[i] ? (sbyte)1 : (sbyte)0;
        }
        double gScale = 1 + h.AbsoluteMaximum();
        for (int iter = 0; iter < 50 * nv + 100; iter++)
        {
            Vector<double> xs = EqualityConstrained(H, h, x, state);
            double alpha = 1;
            int block = -1;
            sbyte side = 0;
            for (int i = 0; i < nv; i++)
            {
                if (state[i] != 0)
                {
                    continue;
                }
                double p = xs[i] - x[i];
                if (xs[i] < lo[i] && p < 0)
                {
                    double a = (lo[i] - x[i]) / p;
                    if (a < alpha)
                    {
                        (alpha, block, side) = (a, i, -1);
                    }
                }
                else if (xs[i] > hi[i] && p > 0)
                {
                    double a = (hi[i] - x[i]) / p;
                    if (a < alpha)
                    {
                        (alpha, block, side) = (a, i, 1);
                    }
                }
            }
            if (block >= 0)
            {
                x += alpha * (xs - x);
                x[block] = side < 0 ? lo[block] : hi[block];
                state[block] = side;
                continue;
            }
            x = xs;
            Vector<double> g = H * x + h;
            int release = -1;
            double worst = -1e-13 * gScale;
            for (int i = 0; i < nv; i++)
            {
                double lambda = state[i] < 0 ? g[i] : state[i] > 0 ? -g[i] : 0;
                if (lambda < worst)
                {
                    (worst, release) = (lambda, i);
                }
            }
            if (release < 0)
            {
                return (x, state);
            }
            state[release] = 0;
        }
        throw new InvalidOperationException("reference active-set method did not terminate");
    }

    /// <summary>The minimiser over the free entries with the working-set entries held at x.</summary>
    private static Vector<double> EqualityConstrained(Matrix<double> H, Vector<double> h, Vector<double> x, sbyte[] state)
    {
        int[] free = [.. Enumerable.Range(0, h.Count).Where(i => state[i] == 0)];
        Vector<double> xs = x.Clone();
        if (free.Length == 0)
        {
            return xs;
        }
        for (int i = 0; i < h.Count; i++)
        {
            if (state[i] == 0)
            {
                xs[i] = 0;
            }
        }
        Vector<double> rhs = -(h + H * xs);
        Matrix<double> Hff = Sub(H, free, free);
        Vector<double> sol = Hff.Cholesky().Solve(Vector<double>.Build.DenseOfEnumerable(free.Select(i => rhs[i])));
        for (int k = 0; k < free.Length; k++)
        {
            xs[free[k]] = sol[k];
        }
        return xs;
    }

    public static Matrix<double> Sub(Matrix<double> a, int[] rows, int[] cols)
    {
        var r = Matrix<double>.Build.Dense(rows.Length, cols.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < cols.Length; j++)
            {
                r[i, j] = a[rows[i], cols[j]];
            }
        }
        return r;
    }

    public static Cholesky<double> FreeCholesky(Matrix<double> H, int[] free) => Sub(H, free, free).Cholesky();
}
