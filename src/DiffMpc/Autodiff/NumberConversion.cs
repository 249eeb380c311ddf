using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffMpc.Autodiff;

/// <summary>How a conversion handles a value out of the target's range (the three INumberBase Create methods).</summary>
internal enum ConversionMode
{
    /// <summary>Throws <see cref="OverflowException"/>.</summary>
    Checked,

    /// <summary>Clamps to the target's range.</summary>
    Saturating,

    /// <summary>Truncates (wraps) as the target defines.</summary>
    Truncating,
}

/// <summary>
/// The conversions the dual-number types share: which numbers they convert from and to (the
/// built-in ones), and the one switch over <see cref="ConversionMode"/>.
/// </summary>
internal static class NumberConversion
{
    /// <summary>True for the built-in numeric types (double, float, Half, decimal, the integer types, char).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBuiltInNumber<TOther>() =>
        typeof(TOther) == typeof(double) || typeof(TOther) == typeof(float) || typeof(TOther) == typeof(int)
        || typeof(TOther) == typeof(long) || typeof(TOther) == typeof(Half) || typeof(TOther) == typeof(decimal)
        || typeof(TOther) == typeof(short) || typeof(TOther) == typeof(sbyte) || typeof(TOther) == typeof(byte)
        || typeof(TOther) == typeof(ushort) || typeof(TOther) == typeof(uint) || typeof(TOther) == typeof(ulong)
        || typeof(TOther) == typeof(nint) || typeof(TOther) == typeof(nuint) || typeof(TOther) == typeof(Int128)
        || typeof(TOther) == typeof(UInt128) || typeof(TOther) == typeof(char);

    /// <summary><paramref name="value"/> as a <typeparamref name="TTarget"/>, by the Create method <paramref name="mode"/> names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TTarget Create<TTarget, TSource>(TSource value, ConversionMode mode)
        where TTarget : INumberBase<TTarget>
        where TSource : INumberBase<TSource> => mode switch
        {
            ConversionMode.Checked => TTarget.CreateChecked(value),
            ConversionMode.Saturating => TTarget.CreateSaturating(value),
            _ => TTarget.CreateTruncating(value),
        };
}
