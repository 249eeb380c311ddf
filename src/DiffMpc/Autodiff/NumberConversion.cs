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

/// <summary>A dual number whose value is a double: what <see cref="NumberConversion"/> needs to convert it.</summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal interface IDoubleValued<TSelf>
    where TSelf : struct, IDoubleValued<TSelf>
{
    /// <summary>The value (the number without its derivatives).</summary>
    double Value { get; }

    /// <summary>The constant <paramref name="value"/>: every derivative zero.</summary>
    static abstract TSelf Constant(double value);
}

/// <summary>
/// The conversions the dual-number types share: which numbers they convert from and to (the
/// built-in ones), the one switch over <see cref="ConversionMode"/>, and the INumberBase
/// TryConvert pair of the double-valued types.
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

    /// <summary>
    /// <paramref name="value"/> as a TSelf: itself when TOther is TSelf, a constant when it is a
    /// built-in number; false for any other type.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryConvertFrom<TSelf, TOther>(TOther value, ConversionMode mode, out TSelf result)
        where TSelf : struct, IDoubleValued<TSelf>
        where TOther : INumberBase<TOther>
    {
        if (typeof(TOther) == typeof(TSelf))
        {
            result = Unsafe.As<TOther, TSelf>(ref value);
            return true;
        }
        if (IsBuiltInNumber<TOther>())
        {
            result = TSelf.Constant(Create<double, TOther>(value, mode));
            return true;
        }
        result = default;
        return false;
    }

    /// <summary>
    /// <paramref name="value"/> as a TOther: itself when TOther is TSelf, its value (derivatives
    /// dropped) when TOther is a built-in number; false for any other type.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryConvertTo<TSelf, TOther>(TSelf value, ConversionMode mode, out TOther result)
        where TSelf : struct, IDoubleValued<TSelf>
        where TOther : INumberBase<TOther>
    {
        if (typeof(TOther) == typeof(TSelf))
        {
            result = Unsafe.As<TSelf, TOther>(ref value);
            return true;
        }
        if (IsBuiltInNumber<TOther>())
        {
            result = Create<TOther, double>(value.Value, mode);
            return true;
        }
        result = default!;
        return false;
    }
}
