// Per-lane booleans for the lane solvers: a mask is a lane vector (Vector512<double> or
// Vector256<double>) whose lane j is all bits set (true) or all bits clear (false), as the
// comparisons return. Blends with a mask update only the lanes whose flag is set, which is how a
// lane that has finished (converged, accepted its step, failed) is frozen while the other lanes
// of its group keep iterating.
using System.Runtime.CompilerServices;
using DiffMpc.LinearAlgebra;

namespace DiffMpc.Lqr.Lanes;

/// <summary>Helpers for lane masks and lane-wise selections.</summary>
internal static class LaneMask
{
    /// <summary>True when the flag of at least one lane is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any<T>(T mask)
        where T : struct => Simd.ExtractMostSignificantBits(mask) != 0;

    /// <summary>The lanes whose flag is set, as the bits of an integer (bit j = lane j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Bits<T>(T mask)
        where T : struct => Simd.ExtractMostSignificantBits(mask);

    /// <summary>True when lane j's flag is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Lane<T>(T mask, int j)
        where T : struct => (Bits(mask) & (1u << j)) != 0;

    /// <summary>True when every lane's flag is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All<T>(T mask)
        where T : struct => Bits(mask) == (1u << Simd.Width<T>()) - 1;

    /// <summary>A mask with only lane j set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Single<T>(int j)
        where T : struct => Simd.SingleLane<T>(j);

    /// <summary>
    /// min(max(x, lo), hi) lane-wise with the semantics of <see cref="Math.Clamp(double, double, double)"/>
    /// (x below lo gives lo, above hi gives hi, otherwise x itself, NaN and signed zeros included).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Clamp<T>(T x, T lo, T hi)
        where T : struct
    {
        x = Simd.Select(Simd.LessThan(x, lo), lo, x);
        return Simd.Select(Simd.GreaterThan(x, hi), hi, x);
    }

    /// <summary>dst[i] = mask ? src[i] : dst[i] for every entry.</summary>
    public static void Select<T>(T mask, ReadOnlySpan<T> src, Span<T> dst)
        where T : struct
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Simd.Select(mask, src[i], dst[i]);
        }
    }

    /// <summary>1.0 in the lanes whose flag is set, 0.0 elsewhere (for per-lane counters).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Count<T>(T mask)
        where T : struct => Simd.And(mask, Simd.Create<T>(1.0));
}
