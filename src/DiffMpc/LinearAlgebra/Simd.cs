// Kernels are written once for a vector type T that is Vector512<double> or Vector256<double>
// (the lane solvers: 8 or 4 problems per vector; the per-problem kernels: one body for the
// 8-wide loop and its 4-wide remainder).
// Each operation below tests typeof(T), which the JIT folds for these value types, so a kernel
// instantiated for one width compiles to exactly the instructions of that width.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using V256 = System.Runtime.Intrinsics.Vector256<double>;
using V512 = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.LinearAlgebra;

/// <summary>Width-generic arithmetic on vectors of doubles (T = Vector512&lt;double&gt; or Vector256&lt;double&gt;).</summary>
internal static class Simd
{
    /// <summary>Problems per vector: 8 for Vector512, 4 for Vector256.</summary>
    public static int Width<T>()
        where T : struct => Unsafe.SizeOf<T>() == 64 ? V512.Count : V256.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Zero<T>()
        where T : struct => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Create<T>(double x)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(Vector512.Create(x)) : From<T>(Vector256.Create(x));

    /// <summary>Every bit set in every lane (the "true" mask).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T AllBitsSet<T>()
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(V512.AllBitsSet) : From<T>(V256.AllBitsSet);

    /// <summary>a * b + c with one rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Fma<T>(T a, T b, T c)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.FusedMultiplyAdd(To512(a), To512(b), To512(c)))
        : From<T>(Vector256.FusedMultiplyAdd(To256(a), To256(b), To256(c)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) + To512(b)) : From<T>(To256(a) + To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sub<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) - To512(b)) : From<T>(To256(a) - To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Mul<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) * To512(b)) : From<T>(To256(a) * To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Div<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) / To512(b)) : From<T>(To256(a) / To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Neg<T>(T a)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(-To512(a)) : From<T>(-To256(a));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T And<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) & To512(b)) : From<T>(To256(a) & To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Or<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) | To512(b)) : From<T>(To256(a) | To256(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Not<T>(T a)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(~To512(a)) : From<T>(~To256(a));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sqrt<T>(T a)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(Vector512.Sqrt(To512(a))) : From<T>(Vector256.Sqrt(To256(a)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Abs<T>(T a)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(Vector512.Abs(To512(a))) : From<T>(Vector256.Abs(To256(a)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Max<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.Max(To512(a), To512(b)))
        : From<T>(Vector256.Max(To256(a), To256(b)));

    /// <summary>
    /// Per-lane maximum as the hardware computes it (vmaxpd: the second operand when either is
    /// NaN, no ordering of -0 and +0); for data already known to be finite and non-negative.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxNative<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.MaxNative(To512(a), To512(b)))
        : From<T>(Vector256.MaxNative(To256(a), To256(b)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Min<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.Min(To512(a), To512(b)))
        : From<T>(Vector256.Min(To256(a), To256(b)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Xor<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(a) ^ To512(b)) : From<T>(To256(a) ^ To256(b));

    /// <summary>All bits set in the lanes where a &lt; b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LessThan<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.LessThan(To512(a), To512(b)))
        : From<T>(Vector256.LessThan(To256(a), To256(b)));

    /// <summary>All bits set in the lanes where a &gt;= b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T GreaterThanOrEqual<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.GreaterThanOrEqual(To512(a), To512(b)))
        : From<T>(Vector256.GreaterThanOrEqual(To256(a), To256(b)));

    /// <summary>The sign bit of each lane as bit j of an integer (for masks: bit j set when lane j is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ExtractMostSignificantBits<T>(T a)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? (uint)Vector512.ExtractMostSignificantBits(To512(a))
        : Vector256.ExtractMostSignificantBits(To256(a));

    /// <summary>A mask with only lane j set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SingleLane<T>(int j)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.Equals(Vector512<long>.Indices, Vector512.Create((long)j)).AsDouble())
        : From<T>(Vector256.Equals(Vector256<long>.Indices, Vector256.Create((long)j)).AsDouble());

    /// <summary>All bits set in the lanes where a &gt; b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T GreaterThan<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.GreaterThan(To512(a), To512(b)))
        : From<T>(Vector256.GreaterThan(To256(a), To256(b)));

    /// <summary>All bits set in the lanes where a &lt;= b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LessThanOrEqual<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.LessThanOrEqual(To512(a), To512(b)))
        : From<T>(Vector256.LessThanOrEqual(To256(a), To256(b)));

    /// <summary>All bits set in the lanes where a == b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T EqualMask<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.Equals(To512(a), To512(b)))
        : From<T>(Vector256.Equals(To256(a), To256(b)));

    /// <summary>a where the mask's lanes are set, b elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Select<T>(T mask, T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? From<T>(Vector512.ConditionalSelect(To512(mask), To512(a), To512(b)))
        : From<T>(Vector256.ConditionalSelect(To256(mask), To256(a), To256(b)));

    /// <summary>True when every lane of a equals the lane of b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualsAll<T>(T a, T b)
        where T : struct => Unsafe.SizeOf<T>() == 64
        ? Vector512.EqualsAll(To512(a), To512(b))
        : Vector256.EqualsAll(To256(a), To256(b));

    /// <summary>All bits set in the lanes where x is not finite (NaN or infinite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T NonFinite<T>(T x)
        where T : struct => Not(EqualMask(Sub(x, x), Zero<T>()));

    /// <summary>Lane i as a double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Get<T>(T x, int i)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? To512(x).GetElement(i) : To256(x).GetElement(i);

    /// <summary>Lane i as raw bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong GetBits<T>(T x, int i)
        where T : struct => BitConverter.DoubleToUInt64Bits(Get(x, i));

    /// <summary>x with lane i replaced by v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T With<T>(T x, int i, double v)
        where T : struct => Unsafe.SizeOf<T>() == 64 ? From<T>(To512(x).WithElement(i, v)) : From<T>(To256(x).WithElement(i, v));

    /// <summary>The vector at <paramref name="source"/> + <paramref name="offset"/> doubles (unaligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Load<T>(ref double source, nuint offset)
        where T : struct => typeof(T) == typeof(V512)
        ? From<T>(Vector512.LoadUnsafe(ref source, offset))
        : From<T>(Vector256.LoadUnsafe(ref source, offset));

    /// <summary>Stores x at <paramref name="destination"/> + <paramref name="offset"/> doubles (unaligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(T x, ref double destination, nuint offset)
        where T : struct
    {
        if (typeof(T) == typeof(V512))
        {
            To512(x).StoreUnsafe(ref destination, offset);
        }
        else
        {
            To256(x).StoreUnsafe(ref destination, offset);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 To512<T>(T x)
        where T : struct
    {
        Debug.Assert(typeof(T) == typeof(V512));
        return Unsafe.As<T, V512>(ref x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 To256<T>(T x)
        where T : struct
    {
        Debug.Assert(typeof(T) == typeof(V256));
        return Unsafe.As<T, V256>(ref x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T From<T>(V512 x)
        where T : struct => Unsafe.As<V512, T>(ref x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T From<T>(V256 x)
        where T : struct => Unsafe.As<V256, T>(ref x);
}
