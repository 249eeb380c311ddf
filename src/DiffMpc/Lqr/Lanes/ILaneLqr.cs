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

    /// <summary>
    /// Solves the adjoint LQR of group g into the workspace: dtau and dlambda of every stage with
    /// <paramref name="fullAdjoint"/>, else only dlambda_1 (all that the x_init gradient needs
    /// when <see cref="WriteGradients"/> writes the rest from the lanes).
    /// </summary>
    void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker, bool fullAdjoint);

    /// <summary>Per lane of group g after Backward: whether its adjoint can be used.</summary>
    void AdjointUsable(int g, int worker, Span<bool> usable);

    /// <summary>Writes the per-stage gradients of full group g from the lanes.</summary>
    void WriteGradients(int g, int worker, ReadOnlySpan<bool> included, double[] dCOut, double[] dcOut, double[] dFOut, double[]? dfOut);
}

/// <summary>Choice of the lane width and the shapes the lane path serves.</summary>
internal static class LaneLqr
{
    /// <summary>
    /// True when this build should use the lane path for an unconstrained problem of this shape:
    /// 512- or 256-bit vectors are hardware-accelerated and n, m are small enough for the lane
    /// kernels to win (measured: n &lt;= 16; larger n keeps the per-problem path with vectorised
    /// kernels). The choice does not depend on B, so an element's result is the same in any batch.
    /// </summary>
    public static bool Supports(MpcDimensions d) => Supports(d, PreferredWidth);

    /// <summary>As <see cref="Supports(MpcDimensions)"/> for a given width (8 or 4 lanes).</summary>
    public static bool Supports(MpcDimensions d, int width) =>
        d.StateDim <= 16 && d.ControlDim <= 16
        && (width == 8 ? Vector512.IsHardwareAccelerated : width == 4 && Vector256.IsHardwareAccelerated);

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
