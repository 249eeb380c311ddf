using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

/// <summary>
/// The selection rules of the dual-number Max/Min family, decided on the values alone: each
/// returns true when the second argument (y) is the one returned, tangents included. Shared by
/// <see cref="Dual{T}"/> and <see cref="MultiDual{TTangents}"/> so both select identically.
/// </summary>
internal static class ValueSelection
{
    /// <summary>Max: NaN in x returns x, NaN in y returns y; ties return x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Max<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(x) && (T.IsNaN(y) || y > x);

    /// <summary>Min: NaN in x returns x, NaN in y returns y; ties return x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Min<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(x) && (T.IsNaN(y) || y < x);

    /// <summary>As <see cref="Max{T}"/>, but a NaN argument loses to a number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MaxNumber<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(y) && (T.IsNaN(x) || y > x);

    /// <summary>As <see cref="Min{T}"/>, but a NaN argument loses to a number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MinNumber<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(y) && (T.IsNaN(x) || y < x);

    /// <summary>Larger magnitude; equal magnitudes pick the non-negative one (x when both have the same sign); NaN in either argument wins.</summary>
    public static bool MaxMagnitude<T>(T x, T y)
        where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(x))
        {
            return false;
        }
        if (T.IsNaN(y))
        {
            return true;
        }
        T ax = T.Abs(x), ay = T.Abs(y);
        return ay > ax || (ay == ax && T.IsNegative(x) && !T.IsNegative(y));
    }

    /// <summary>Smaller magnitude; equal magnitudes pick the negative one (x when both have the same sign); NaN in either argument wins.</summary>
    public static bool MinMagnitude<T>(T x, T y)
        where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(x))
        {
            return false;
        }
        if (T.IsNaN(y))
        {
            return true;
        }
        T ax = T.Abs(x), ay = T.Abs(y);
        return ay < ax || (ay == ax && !T.IsNegative(x) && T.IsNegative(y));
    }

    /// <summary>As <see cref="MaxMagnitude{T}"/>, but a NaN argument loses to a number.</summary>
    public static bool MaxMagnitudeNumber<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(y) && (T.IsNaN(x) || MaxMagnitude(x, y));

    /// <summary>As <see cref="MinMagnitude{T}"/>, but a NaN argument loses to a number.</summary>
    public static bool MinMagnitudeNumber<T>(T x, T y)
        where T : IFloatingPointIeee754<T> => !T.IsNaN(y) && (T.IsNaN(x) || MinMagnitude(x, y));
}
