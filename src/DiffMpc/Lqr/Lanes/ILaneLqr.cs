using System.Runtime.Intrinsics;
using DiffMpc.Problems;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The unconstrained LQR solved with batch elements in SIMD lanes, whatever the vector width
/// (<see cref="LaneLqr{TV}"/> for Vector512 or Vector256); the solver drives it group by group.
/// </summary>
internal interface ILaneLqr
{
    /// <summary>Batch elements per group (lanes per vector).</summary>
    int Width { get; }

    /// <summary>Number of lane groups (units of work).</summary>
    int Groups { get; }

    /// <summary>Per-call settings shared by every group; call before running the groups of a solve.</summary>
    void Prepare(in LqrData data);

    /// <summary>Solves group g into the workspace; false (nothing written) when its data are not all finite.</summary>
    bool Forward(in LqrData data, int g, int worker, Span<bool> differentiable);

    /// <summary>Solves the adjoint LQR of group g into the workspace (dtau and dlambda of every stage).</summary>
    void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker);

    /// <summary>
    /// Per lane of group g after <see cref="Backward"/> on the same worker: true when the adjoint
    /// is finite and its outer products with the solution cannot overflow
    /// (<see cref="LaneAdjoint{TV}.Usable"/>), into <paramref name="usable"/> (length: the lane width).
    /// </summary>
    void AdjointUsable(int g, int worker, Span<bool> usable);
}

/// <summary>Choice of the lane width and the shapes the lane path serves.</summary>
internal static class LaneLqr
{
    /// <summary>Largest n and m of the unconstrained lane path.</summary>
    public const int MaxDim = 64;

    /// <summary>Largest n and m of the box-constrained lane path (the range it was measured and tested on).</summary>
    public const int MaxBoxDim = 16;

    /// <summary>Largest packed copy of one group's problem data (a worker's lane buffers).</summary>
    private const long MaxPackedBytes = 128L << 20;

    /// <summary>
    /// The lane width a solver built with the public constructor uses for this shape, or 0 for
    /// the per-problem kernels: the widest accelerated width when its lane path supports the
    /// shape and the batch fills at least one group (B &gt;= width). Measured: with full groups
    /// the lane kernels win for every n, m &lt;= 64 (n = 32, m = 8, T = 50, B = 128: forward 61 -&gt;
    /// 28 ms; n = 64, m = 16, T = 20, B = 32: 27 -&gt; 19 ms), but a group of 8 lanes holding one
    /// problem does 8 times its work (B = 1: n = 16 0.18 against 0.07 ms per problem, n = 64 7.0
    /// against 1.1 ms). The choice depends on the shape only (not on the data or the order of
    /// the batch), so results are bitwise reproducible for a shape; an element solved alone
    /// (B = 1, per-problem kernels) agrees with its result in a batch of 8 or more (lanes) to
    /// rounding, and bitwise when both batches take the same path.
    /// </summary>
    public static int ChosenWidth(MpcDimensions d)
    {
        int w = PreferredWidth;
        return w != 0 && d.BatchSize >= w && Supports(d, w) ? w : 0;
    }

    /// <summary>
    /// True when lanes of the given width (8 or 4) can serve an unconstrained problem of this
    /// shape: those vectors are hardware-accelerated, n, m &lt;= <see cref="MaxDim"/>, and one
    /// group's packed data stay within <see cref="MaxPackedBytes"/>.
    /// </summary>
    public static bool Supports(MpcDimensions d, int width)
    {
        int n = d.StateDim, m = d.ControlDim, N = n + m;
        long packed = (long)d.Horizon * (N * N + N + n * N + n) * width * sizeof(double);
        return n <= MaxDim && m <= MaxDim && packed <= MaxPackedBytes
            && (width == 8 ? Vector512.IsHardwareAccelerated : width == 4 && Vector256.IsHardwareAccelerated);
    }

    /// <summary>
    /// True when lanes of this width also serve the box-constrained problem of this shape:
    /// <see cref="Supports"/>, n, m &lt;= <see cref="MaxBoxDim"/> and T &gt; 1.
    /// </summary>
    public static bool SupportsBox(MpcDimensions d, int width) =>
        Supports(d, width) && d.StateDim <= MaxBoxDim && d.ControlDim <= MaxBoxDim && d.Horizon > 1;

    /// <summary>The widest accelerated lane width: 8 (Vector512), else 4 (Vector256), else 0.</summary>
    public static int PreferredWidth =>
        Vector512.IsHardwareAccelerated ? 8 : Vector256.IsHardwareAccelerated ? 4 : 0;

    /// <summary>Number of lane groups for a batch of B with the given width.</summary>
    public static int GroupCount(int batch, int width) => (batch + width - 1) / width;

    /// <summary>A lane solver of the given width (8 or 4), which must be supported.</summary>
    public static ILaneLqr Create(MpcDimensions d, LqrWorkspace ws, int workers, int width) => width switch
    {
        8 => new LaneLqr<Vector512<double>>(d, ws, workers),
        4 => new LaneLqr<Vector256<double>>(d, ws, workers),
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "the lane width is 8 or 4"),
    };
}
