// Argument checks for the public boundary. Each failure names the argument, what was expected
// and what was given. Inner code uses Debug.Assert instead.
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.LinearAlgebra;
using DiffMpc.Problems;

namespace DiffMpc.Internal;

internal static class Guard
{
    /// <summary>A problem's dimensions must equal the solver's.</summary>
    public static void SameDimensions(MpcDimensions given, MpcDimensions solver, string paramName)
    {
        if (given != solver)
        {
            throw new ArgumentException(
                $"{paramName} must have dimensions ({solver}) to match this solver; got ({given}).", paramName);
        }
    }

    /// <summary>An optional warm start u_init: shape [T][B][m], finite.</summary>
    public static void WarmStart(double[]? uInit, MpcDimensions d)
    {
        if (uInit is not null)
        {
            Length(uInit, d.Horizon * d.BatchSize * d.ControlDim, nameof(uInit), $"[T={d.Horizon}][B={d.BatchSize}][m={d.ControlDim}]");
            Finite(uInit, nameof(uInit));
        }
    }

    /// <summary>Optional loss gradients dL/dx [T][B][n] and dL/du [T][B][m]: right shape, finite.</summary>
    public static void LossGradients(double[]? dLdx, double[]? dLdu, MpcDimensions d)
    {
        if (dLdx is not null)
        {
            Length(dLdx, d.Horizon * d.BatchSize * d.StateDim, nameof(dLdx), $"[T={d.Horizon}][B={d.BatchSize}][n={d.StateDim}]");
            Finite(dLdx, nameof(dLdx));
        }
        if (dLdu is not null)
        {
            Length(dLdu, d.Horizon * d.BatchSize * d.ControlDim, nameof(dLdu), $"[T={d.Horizon}][B={d.BatchSize}][m={d.ControlDim}]");
            Finite(dLdu, nameof(dLdu));
        }
    }

    /// <summary>Shapes of the quadratic cost C [T][B][N][N] and c [T][B][N] (or broadcasts).</summary>
    public static void CostShapes(StageArray? C, StageArray? c, MpcDimensions d)
    {
        int N = d.TauDim;
        string nm = $"[{N}]";
        StageArrayShape(C, d.Horizon, "T", d.BatchSize, N * N, nm + nm, nameof(C));
        StageArrayShape(c, d.Horizon, "T", d.BatchSize, N, nm, nameof(c));
    }

    /// <summary>Shapes of optional control bounds ([T][B][m], a broadcast or a scalar).</summary>
    public static void BoundShapes(StageArray? uLower, StageArray? uUpper, MpcDimensions d)
    {
        int m = d.ControlDim;
        if (uLower is not null)
        {
            StageArrayShape(uLower, d.Horizon, "T", d.BatchSize, m, $"[m={m}]", nameof(uLower), allowScalar: true);
        }
        if (uUpper is not null)
        {
            StageArrayShape(uUpper, d.Horizon, "T", d.BatchSize, m, $"[m={m}]", nameof(uUpper), allowScalar: true);
        }
    }

    public static void NotNull(object? value, string paramName)
    {
        if (value is null)
        {
            throw new ArgumentNullException(paramName, $"{paramName} must not be null.");
        }
    }

    public static void Length(double[]? array, int expected, string paramName, string shape)
    {
        NotNull(array, paramName);
        if (array!.Length != expected)
        {
            throw new ArgumentException(
                $"{paramName} must have shape {shape} = {expected} values; got {array.Length} values.", paramName);
        }
    }

    /// <summary>
    /// As <see cref="Length(double[], int, string, string)"/>, but the shape text (an interpolated
    /// string) is only formatted when the check fails: a passing check allocates nothing.
    /// </summary>
    public static void Length(double[]? array, int expected, string paramName,
        [InterpolatedStringHandlerArgument("array", "expected")] ref ShapeMessageHandler shape)
    {
        NotNull(array, paramName);
        if (array!.Length != expected)
        {
            Length(array, expected, paramName, shape.ToStringAndClear());
        }
    }

    public static void StageArrayShape(StageArray? array, int stages, string stageName, int batch,
        int elementSize, string elementShape, string paramName, bool allowScalar = false)
    {
        NotNull(array, paramName);
        if (array!.IsScalar && !allowScalar)
        {
            throw new ArgumentException($"{paramName} cannot be a scalar; give shape [{stageName}={stages}][B={batch}]{elementShape} or a broadcast of it.", paramName);
        }
        int expected = array.ExpectedLength(stages, batch, elementSize);
        if (array.Data.Length != expected)
        {
            throw new ArgumentException(
                $"{paramName} must have shape {array.DescribeShape(stages, stageName, batch, elementShape)} = {expected} values; got {array.Data.Length} values.",
                paramName);
        }
    }

    public static void Finite(ReadOnlySpan<double> values, string paramName)
    {
        if (AllFinite(values))
        {
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException(
                    $"{paramName} must hold only finite values; entry {i} is {values[i].ToString(CultureInfo.InvariantCulture)}.",
                    paramName);
            }
        }
    }

    /// <summary>
    /// True when every value is finite. Vectorised (<see cref="ChunksFinite"/>): the full check
    /// runs on every Solve over all of C, c, F, f, and on every Backward over dL/dx and dL/du (the
    /// 18,000 loss gradients of a Backward at n = 10, B = 64: 1.4-1.6 us with four accumulators,
    /// 2.0-2.4 us with one chain).
    /// </summary>
    public static bool AllFinite(ReadOnlySpan<double> values)
    {
        int i = 0;
        ref double r = ref MemoryMarshal.GetReference(values);
        if (Vector512.IsHardwareAccelerated && values.Length >= Vector512<double>.Count)
        {
            if (!ChunksFinite<Vector512<double>>(ref r, values.Length, ref i))
            {
                return false;
            }
        }
        else if (Vector256.IsHardwareAccelerated && values.Length >= Vector256<double>.Count)
        {
            if (!ChunksFinite<Vector256<double>>(ref r, values.Length, ref i))
            {
                return false;
            }
        }
        for (; i < values.Length; i++)
        {
            if (!double.IsFinite(Unsafe.Add(ref r, i)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The whole chunks of TV from index i on (i advanced past them): true when every value in
    /// them is finite. x - x is 0 exactly for a finite x and NaN otherwise; four accumulators, so
    /// that the sums are not one chain of dependent adds.
    /// </summary>
    private static bool ChunksFinite<TV>(ref double r, int length, ref int i)
        where TV : struct
    {
        int w = Simd.Width<TV>();
        TV acc0 = Simd.Zero<TV>(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (; i <= length - 4 * w; i += 4 * w)
        {
            TV x0 = Simd.Load<TV>(ref r, (nuint)i), x1 = Simd.Load<TV>(ref r, (nuint)(i + w));
            TV x2 = Simd.Load<TV>(ref r, (nuint)(i + 2 * w)), x3 = Simd.Load<TV>(ref r, (nuint)(i + 3 * w));
            acc0 = Simd.Add(acc0, Simd.Sub(x0, x0));
            acc1 = Simd.Add(acc1, Simd.Sub(x1, x1));
            acc2 = Simd.Add(acc2, Simd.Sub(x2, x2));
            acc3 = Simd.Add(acc3, Simd.Sub(x3, x3));
        }
        for (; i <= length - w; i += w)
        {
            TV x = Simd.Load<TV>(ref r, (nuint)i);
            acc0 = Simd.Add(acc0, Simd.Sub(x, x));
        }
        return Simd.EqualsAll(Simd.Add(Simd.Add(acc0, acc1), Simd.Add(acc2, acc3)), Simd.Zero<TV>());
    }

    public static void NotNaN(ReadOnlySpan<double> values, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
            {
                throw new ArgumentException($"{paramName} must not hold NaN; entry {i} is NaN.", paramName);
            }
        }
    }

    public static void NotValue(ReadOnlySpan<double> values, double forbidden, string paramName)
    {
        int i = values.IndexOf(forbidden);
        if (i >= 0)
        {
            throw new ArgumentException(
                $"{paramName} must not hold {forbidden.ToString(CultureInfo.InvariantCulture)}; entry {i} does.", paramName);
        }
    }

    public static void InRange(double value, double min, double max, string paramName, string what)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{what} must be in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]; got {value.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>A <see cref="Results.GradientKinds"/> value made of its flags only (no allocation on the valid path).</summary>
    public static void Kinds(Results.GradientKinds value, string paramName)
    {
        if ((value & ~Results.GradientKinds.All) != 0)
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{paramName} must combine GradientKinds flags (within All = 0x{(int)Results.GradientKinds.All:X}); got 0x{(int)value:X}.");
        }
    }

    public static void AtLeast(int value, int min, string paramName, string what)
    {
        if (value < min)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be at least {min}; got {value}.");
        }
    }

    /// <summary>
    /// Control bounds: no NaN, no +Infinity lower or -Infinity upper, and lower &lt;= upper at every
    /// t, b, i. Either side may be null (unbounded).
    /// </summary>
    public static void Bounds(StageArray? lower, StageArray? upper, MpcDimensions d, string uLower = "uLower", string uUpper = "uUpper")
    {
        if (lower is not null)
        {
            NotNaN(lower.Data, uLower);
            NotValue(lower.Data, double.PositiveInfinity, uLower);
        }
        if (upper is not null)
        {
            NotNaN(upper.Data, uUpper);
            NotValue(upper.Data, double.NegativeInfinity, uUpper);
        }
        if (lower is null || upper is null)
        {
            return;
        }
        StageView lo = lower.View(d.BatchSize, d.ControlDim), hi = upper.View(d.BatchSize, d.ControlDim);
        for (int t = 0; t < d.Horizon; t++)
        {
            for (int b = 0; b < d.BatchSize; b++)
            {
                for (int i = 0; i < d.ControlDim; i++)
                {
                    if (lo.ValueAt(t, b, i) > hi.ValueAt(t, b, i))
                    {
                        throw new ArgumentException(
                            $"{uLower} must not exceed {uUpper}; at t={t}, b={b}, i={i} uLower = {lo.ValueAt(t, b, i).ToString(CultureInfo.InvariantCulture)} > uUpper = {hi.ValueAt(t, b, i).ToString(CultureInfo.InvariantCulture)}.",
                            uLower);
                    }
                }
            }
        }
    }
}

/// <summary>
/// Interpolated-string handler for a shape description that is only needed when a length check
/// fails (the idea of Debug.Assert's message handler): it formats nothing when the array has the
/// expected length.
/// </summary>
[InterpolatedStringHandler]
internal ref struct ShapeMessageHandler
{
    private DefaultInterpolatedStringHandler _inner;
    private readonly bool _enabled;

    public ShapeMessageHandler(int literalLength, int formattedCount, double[]? array, int expected, out bool shouldAppend)
    {
        _enabled = array is not null && array.Length != expected;
        shouldAppend = _enabled;
        _inner = _enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

    public string ToStringAndClear() => _enabled ? _inner.ToStringAndClear() : "";
}
