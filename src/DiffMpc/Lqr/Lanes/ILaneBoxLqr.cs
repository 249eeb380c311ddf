using System.Runtime.Intrinsics;
using DiffMpc.Box;
using DiffMpc.Options;
using DiffMpc.Problems;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// The box-constrained LQR solved with batch elements in SIMD lanes, whatever the vector width
/// (<see cref="LaneBoxLqr{TV}"/> for Vector512 or Vector256); the solver drives it group by group.
/// </summary>
internal interface ILaneBoxLqr
{
    /// <summary>
    /// Batch elements (padding lanes excluded) of the last solve whose DDP result was handed to
    /// the per-element active-set method.
    /// </summary>
    int FallbackCount { get; }

    /// <summary>Per-call settings shared by every group; call before running the groups of a solve.</summary>
    void Prepare(in LqrData data, in ControlBox box, double[]? uInit, MpcOptions options);

    /// <summary>Solves group g into the workspace; false (nothing written) when its data are not all finite.</summary>
    bool Forward(in LqrData data, int g, int worker, Span<bool> differentiable);

    /// <summary>Solves the adjoint LQR of group g into the workspace.</summary>
    void Backward(in LqrData data, double[]? dLdx, double[]? dLdu, int g, int worker);

    /// <summary>
    /// Per lane of group g after <see cref="Backward"/> on the same worker: true when the adjoint
    /// is finite and its outer products with the solution cannot overflow
    /// (<see cref="LaneAdjoint{TV}.Usable"/>), into <paramref name="usable"/> (length: the lane width).
    /// </summary>
    void AdjointUsable(int g, int worker, Span<bool> usable);
}

/// <summary>Creation of the box-constrained lane solver.</summary>
internal static class LaneBoxLqr
{
    /// <summary>A box lane solver of the given width (8 or 4), as <see cref="LaneLqr.Create"/>.</summary>
    public static ILaneBoxLqr Create(MpcDimensions d, LqrWorkspace ws, int workers, int width) => width switch
    {
        8 => new LaneBoxLqr<Vector512<double>>(d, ws, workers),
        4 => new LaneBoxLqr<Vector256<double>>(d, ws, workers),
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "the lane width is 8 or 4"),
    };
}
