// Per-lane booleans for the lane solvers: a mask is a Vector512<double> whose lane j is all bits
// set (true) or all bits clear (false), as the comparison operators return. Blends with a mask
// update only the lanes whose flag is set, which is how a lane that has finished (converged,
// accepted its step, failed) is frozen while the other lanes of its group keep iterating.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using V = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>Helpers for lane masks and lane-wise selections.</summary>
internal static class LaneMask
{
    /// <summary>True when the flag of at least one lane is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(V mask) => Vector512.ExtractMostSignificantBits(mask) != 0;

    /// <summary>The lanes whose flag is set, as the bits of an integer (bit j = lane j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Bits(V mask) => (uint)Vector512.ExtractMostSignificantBits(mask);

    /// <summary>True when lane j's flag is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Lane(V mask, int j) => (Bits(mask) & (1u << j)) != 0;

    /// <summary>A mask with only lane j set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Single(int j) => Vector512.Equals(Vector512<long>.Indices, Vector512.Create((long)j)).AsDouble();

    /// <summary>
    /// min(max(x, lo), hi) lane-wise with the semantics of <see cref="Math.Clamp(double, double, double)"/>
    /// (x below lo gives lo, above hi gives hi, otherwise x itself, NaN and signed zeros included).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Clamp(V x, V lo, V hi)
    {
        x = Vector512.ConditionalSelect(Vector512.LessThan(x, lo), lo, x);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, hi), hi, x);
    }

    /// <summary>dst[i] = mask ? src[i] : dst[i] for every entry.</summary>
    public static void Select(V mask, ReadOnlySpan<V> src, Span<V> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Vector512.ConditionalSelect(mask, src[i], dst[i]);
        }
    }

    /// <summary>1.0 in the lanes whose flag is set, 0.0 elsewhere (for per-lane counters).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Count(V mask) => mask & V.One;
}
