using DiffMpc.Problems;

namespace DiffMpc.Tests.Support;

/// <summary>How a per-stage input is stored (see <see cref="StageArray"/>).</summary>
public enum Layout
{
    /// <summary>[S][B][E].</summary>
    PerStage,

    /// <summary>[B][E], shared over time.</summary>
    TimeInvariant,

    /// <summary>[S][E], shared over the batch.</summary>
    BatchShared,

    /// <summary>[E], shared over time and batch.</summary>
    Shared,
}

/// <summary>
/// A generated problem: the raw arrays (which the <see cref="LqrProblem"/> references, so
/// mutating them changes the problem) and their layouts.
/// </summary>
internal sealed class LqrCase
{
    public LqrCase(MpcDimensions dims, double[] xInit, StageArray C, StageArray c, StageArray F, StageArray? f)
    {
        Dims = dims;
        XInit = xInit;
        this.C = C;
        this.c = c;
        this.F = F;
        this.f = f;
        Problem = new LqrProblem(dims, xInit, C, c, F, f);
    }

    public MpcDimensions Dims { get; }

    public double[] XInit { get; }

    public StageArray C { get; }

    public StageArray c { get; }

    public StageArray F { get; }

    public StageArray? f { get; }

    public LqrProblem Problem { get; }

    public int T => Dims.Horizon;

    public int B => Dims.BatchSize;

    public int N => Dims.StateDim;

    public int M => Dims.ControlDim;

    /// <summary>Element (t, b) of C as an (n+m) x (n+m) row-major span.</summary>
    public ReadOnlySpan<double> CAt(int t, int b) => Layouts.Element(C, t, b, B, Dims.TauDim * Dims.TauDim);

    /// <summary>Element (t, b) of c.</summary>
    public ReadOnlySpan<double> cAt(int t, int b) => Layouts.Element(c, t, b, B, Dims.TauDim);

    /// <summary>Element (t, b) of F as an n x (n+m) row-major span.</summary>
    public ReadOnlySpan<double> FAt(int t, int b) => Layouts.Element(F, t, b, B, N * Dims.TauDim);

    /// <summary>Element (t, b) of f; zeros when f is omitted.</summary>
    public ReadOnlySpan<double> fAt(int t, int b) =>
        f is null ? new double[N] : Layouts.Element(f, t, b, B, N);

    /// <summary>Every input array by name (f only when present).</summary>
    public IEnumerable<(string Name, double[] Data)> Inputs()
    {
        yield return ("xInit", XInit);
        yield return ("C", C.Data);
        yield return ("c", c.Data);
        yield return ("F", F.Data);
        if (f is not null)
        {
            yield return ("f", f.Data);
        }
    }

    /// <summary>
    /// Overwrites the control block C_uu of stage t, element b with diagonal * I (in place, so
    /// every stage/element sharing that storage changes too).
    /// </summary>
    public void SetControlCost(int t, int b, double diagonal)
    {
        int n = N, Nt = Dims.TauDim;
        int off = Layouts.Offset(C, t, b, B, Nt * Nt);
        for (int i = n; i < Nt; i++)
        {
            for (int j = n; j < Nt; j++)
            {
                C.Data[off + i * Nt + j] = i == j ? diagonal : 0.0;
            }
        }
    }

    /// <summary>Element b alone as a B = 1 problem with per-stage (copied) arrays.</summary>
    public LqrCase Single(int b)
    {
        var d = new MpcDimensions(T, 1, N, M);
        int Nt = Dims.TauDim;
        double[] Cs = new double[T * Nt * Nt], cs = new double[T * Nt];
        double[] Fs = new double[(T - 1) * N * Nt], fs = new double[(T - 1) * N];
        for (int t = 0; t < T; t++)
        {
            CAt(t, b).CopyTo(Cs.AsSpan(t * Nt * Nt));
            cAt(t, b).CopyTo(cs.AsSpan(t * Nt));
            if (t < T - 1)
            {
                FAt(t, b).CopyTo(Fs.AsSpan(t * N * Nt));
                fAt(t, b).CopyTo(fs.AsSpan(t * N));
            }
        }
        return new LqrCase(d, XInit.AsSpan(b * N, N).ToArray(), StageArray.PerStage(Cs), StageArray.PerStage(cs),
            StageArray.PerStage(Fs), f is null ? null : StageArray.PerStage(fs));
    }
}

/// <summary>Offsets into broadcast arrays, mirroring the library's documented layouts.</summary>
internal static class Layouts
{
    public static int Length(Layout layout, int stages, int batch, int elementSize) => layout switch
    {
        Layout.PerStage => stages * batch * elementSize,
        Layout.TimeInvariant => batch * elementSize,
        Layout.BatchShared => stages * elementSize,
        _ => elementSize,
    };

    public static StageArray Wrap(Layout layout, double[] data) => layout switch
    {
        Layout.PerStage => StageArray.PerStage(data),
        Layout.TimeInvariant => StageArray.TimeInvariant(data),
        Layout.BatchShared => StageArray.BatchShared(data),
        _ => StageArray.Shared(data),
    };

    public static int Offset(StageArray a, int t, int b, int batch, int elementSize) =>
        ((a.SharedOverTime ? 0 : t * (a.SharedOverBatch ? 1 : batch)) + (a.SharedOverBatch ? 0 : b)) * elementSize;

    public static ReadOnlySpan<double> Element(StageArray a, int t, int b, int batch, int elementSize) =>
        a.Data.AsSpan(Offset(a, t, b, batch, elementSize), elementSize);
}

/// <summary>
/// Seeded generator of well-conditioned random LQR problems: C = A A' / N + 0.1 I with I added to
/// the control block (so Q_uu is positive definite), random c, F = [I + 0.2 G / sqrt(n), Bmat],
/// random f and x_init, in any broadcast layout.
/// </summary>
internal static class RandomLqr
{
    /// <summary>Creates a problem.</summary>
    /// <param name="seed">Random seed.</param>
    /// <param name="dims">T, B, n, m.</param>
    /// <param name="C">Layout of C.</param>
    /// <param name="c">Layout of c.</param>
    /// <param name="F">Layout of F.</param>
    /// <param name="f">Layout of f; null omits f.</param>
    /// <param name="asymmetricC">Adds a random antisymmetric part to every C (its symmetric part is unchanged).</param>
    public static LqrCase Create(int seed, MpcDimensions dims, Layout C = Layout.PerStage, Layout c = Layout.PerStage,
        Layout F = Layout.PerStage, Layout? f = Layout.PerStage, bool asymmetricC = false)
    {
        var rng = new Random(seed);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = n + m;

        double[] xInit = Gaussian(rng, B * n, 1.0);

        double[] Cd = new double[Layouts.Length(C, T, B, N * N)];
        for (int e = 0; e < Cd.Length / (N * N); e++)
        {
            Span<double> blk = Cd.AsSpan(e * N * N, N * N);
            double[] A = Gaussian(rng, N * N, 1.0 / Math.Sqrt(N));
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double s = 0;
                    for (int k = 0; k < N; k++)
                    {
                        s += A[i * N + k] * A[j * N + k];
                    }
                    blk[i * N + j] = s + (i == j ? (i >= n ? 1.1 : 0.1) : 0);
                }
            }
            if (asymmetricC)
            {
                for (int i = 0; i < N; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        double r = rng.NextDouble() * 2 - 1;
                        blk[i * N + j] += r;
                        blk[j * N + i] -= r;
                    }
                }
            }
        }

        double[] cd = Gaussian(rng, Layouts.Length(c, T, B, N), 1.0);

        double[] Fd = new double[Layouts.Length(F, T - 1, B, n * N)];
        for (int e = 0; e < Fd.Length / (n * N); e++)
        {
            Span<double> blk = Fd.AsSpan(e * n * N, n * N);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double g = NextGaussian(rng);
                    blk[i * N + j] = j < n ? (i == j ? 1 : 0) + 0.2 * g / Math.Sqrt(n) : g / Math.Sqrt(m);
                }
            }
        }

        StageArray? fArr = f is { } fl ? Layouts.Wrap(fl, Gaussian(rng, Layouts.Length(fl, T - 1, B, n), 0.5)) : null;
        return new LqrCase(dims, xInit, Layouts.Wrap(C, Cd), Layouts.Wrap(c, cd), Layouts.Wrap(F, Fd), fArr);
    }

    /// <summary>Random loss weights wx [T][B][n] and wu [T][B][m] for L = sum wx x + sum wu u.</summary>
    public static (double[] Wx, double[] Wu) LossWeights(int seed, MpcDimensions dims)
    {
        var rng = new Random(seed ^ 0x5eed);
        int T = dims.Horizon, B = dims.BatchSize;
        return (Gaussian(rng, T * B * dims.StateDim, 1.0), Gaussian(rng, T * B * dims.ControlDim, 1.0));
    }

    public static double[] Gaussian(Random rng, int count, double scale)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = scale * NextGaussian(rng);
        }
        return a;
    }

    public static double NextGaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
