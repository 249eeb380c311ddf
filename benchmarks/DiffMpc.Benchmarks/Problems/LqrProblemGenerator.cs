// Notation: tau_t = [x_t; u_t] of length N = n + m; C_t, c_t the cost Hessian and linear term;
// F_t = [A_t, B_t], f_t the dynamics x_{t+1} = F_t tau_t + f_t.
using DiffMpc.Problems;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// Builds the random LQR problems of problems.json's kind "lqr" (and the LQR part of "box_lqr"),
/// deterministically from a seed:
/// <list type="bullet">
/// <item>C_t = G G' / N + 0.1 I with G an N x N standard normal matrix (PSD plus 0.1 I, exactly symmetric);</item>
/// <item>c_t standard normal;</item>
/// <item>F_t = [I + 0.2 G_A / sqrt(n), G_B] with G_A (n x n) and G_B (n x m) standard normal, drawn anew for every stage (time-varying);</item>
/// <item>f_t and x_init standard normal.</item>
/// </list>
/// Every input is drawn independently for every stage and batch element, so every input uses the
/// full, unshared layout (<see cref="StageArray.PerStage"/>: C [T][B][N][N], c [T][B][N],
/// F [T-1][B][n][N], f [T-1][B][n]) — nothing is broadcast, the most general and most
/// memory-hungry case, and the layout of the golden files.
/// </summary>
internal static class LqrProblemGenerator
{
    /// <summary>The seed every benchmark uses, so runs and machines see the same numbers.</summary>
    public const int DefaultSeed = 2018;

    /// <summary>The dimensions of an lqr/box_lqr entry.</summary>
    public static MpcDimensions Dimensions(ProblemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new MpcDimensions(spec.Horizon, spec.Batch, spec.RequireN(), spec.RequireM());
    }

    /// <summary>The problem of an lqr/box_lqr entry (its LQR part; bounds are not added here).</summary>
    public static LqrProblem Build(ProblemSpec spec, int seed = DefaultSeed) => Build(Dimensions(spec), seed);

    /// <summary>A random problem of the given shape.</summary>
    public static LqrProblem Build(MpcDimensions dims, int seed = DefaultSeed)
    {
        dims.Validate(nameof(dims));
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        var rng = new Gaussian(seed);

        var C = new double[T * B * N * N];
        var g = new double[N * N];
        for (int e = 0; e < T * B; e++)
        {
            rng.Fill(g);
            Span<double> Ce = C.AsSpan(e * N * N, N * N);
            for (int i = 0; i < N; i++)
            {
                ReadOnlySpan<double> gi = g.AsSpan(i * N, N);
                for (int j = 0; j <= i; j++)
                {
                    ReadOnlySpan<double> gj = g.AsSpan(j * N, N);
                    double s = 0;
                    for (int k = 0; k < N; k++)
                    {
                        s += gi[k] * gj[k];
                    }
                    s /= N;
                    Ce[i * N + j] = s;
                    Ce[j * N + i] = s;
                }
                Ce[i * N + i] += 0.1;
            }
        }

        var c = new double[T * B * N];
        rng.Fill(c);

        var F = new double[(T - 1) * B * n * N];
        double scale = 0.2 / Math.Sqrt(n);
        for (int e = 0; e < (T - 1) * B; e++)
        {
            Span<double> Fe = F.AsSpan(e * n * N, n * N);
            rng.Fill(Fe);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    Fe[i * N + j] = (i == j ? 1.0 : 0.0) + scale * Fe[i * N + j];
                }
            }
        }

        var f = new double[(T - 1) * B * n];
        rng.Fill(f);
        var xInit = new double[B * n];
        rng.Fill(xInit);

        return new LqrProblem(dims, xInit, StageArray.PerStage(C), StageArray.PerStage(c),
            T > 1 ? StageArray.PerStage(F) : null, T > 1 ? StageArray.PerStage(f) : null);
    }

    /// <summary>Standard normal numbers (Box-Muller) from a seeded <see cref="Random"/>.</summary>
    private sealed class Gaussian(int seed)
    {
        private readonly Random _random = new(seed);

        public void Fill(Span<double> x)
        {
            for (int i = 0; i < x.Length; i += 2)
            {
                double u1 = 1.0 - _random.NextDouble(), u2 = _random.NextDouble();
                double r = Math.Sqrt(-2.0 * Math.Log(u1));
                x[i] = r * Math.Cos(2 * Math.PI * u2);
                if (i + 1 < x.Length)
                {
                    x[i + 1] = r * Math.Sin(2 * Math.PI * u2);
                }
            }
        }
    }
}
