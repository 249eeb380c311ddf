using DiffMpc.Lqr;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Problems;

namespace DiffMpc.Tests.Support;

/// <summary>
/// A solver for one element of a batch on the kernels the batch runs on. An element solved alone
/// by the per-problem kernels agrees with its result in a SIMD-lane batch only to rounding (the
/// documented contract); on the batch's own kernels (a lane group padded with copies of the
/// element) it gets the same bits. Which kernels a batch of 4 to 7 uses depends on the machine
/// (lanes of 4 with AVX2 only, per-problem with AVX-512), so bitwise "as if alone" checks must ask.
/// </summary>
internal static class AloneSolver
{
    /// <summary>An LQR solver for batch size 1 that takes the path a solver for <paramref name="batch"/> takes.</summary>
    public static LqrSolver For(MpcDimensions batch) =>
        new(batch with { BatchSize = 1 }, null, LaneLqr.ChosenWidth(batch));
}
