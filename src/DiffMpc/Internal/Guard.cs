// Argument checks for the public boundary. Each failure names the argument, what was expected
// and what was given. Inner code uses Debug.Assert instead.
using System.Diagnostics.CodeAnalysis;
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

    /// <summary>
    /// Throws for a backward pass without a solution to differentiate: Solve was never called,
    /// or the last call threw (its input was rejected, or it was cancelled).
    /// </summary>
    [DoesNotReturn]
    public static void NoSolution(bool solveCalled) =>
        throw new InvalidOperationException(solveCalled
            ? "Backward needs a solution, and the last call to Solve threw (its input was rejected or it was cancelled): solve again first."
            : "Backward needs a solution: call Solve first.");

    /// <summary>A <see cref="Nonlinear.QuadraticCost"/> must be made for the problem's n and m (other costs carry no dimensions).</summary>
    public static void CostDimensions(Nonlinear.ICost cost, int stateDim, int controlDim, string paramName)
    {
        if (cost is Nonlinear.QuadraticCost q && (q.StateDim != stateDim || q.ControlDim != controlDim))
        {
            throw new ArgumentException(
                $"{paramName} is a QuadraticCost for n={q.StateDim}, m={q.ControlDim}; the problem has n={stateDim}, m={controlDim}.",
                paramName);
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

    /// <summary>
    /// Optional loss gradients dL/dx [T][B][n] and dL/du [T][B][m]: right shape, and finite for
    /// every element that will be differentiated (<paramref name="differentiated"/>, [B]). The
    /// entries of the other elements are not read by the backward pass (their gradients are
    /// zero), so a loss built from their NaN trajectories is accepted.
    /// </summary>
    public static void LossGradients(double[]? dLdx, double[]? dLdu, MpcDimensions d, ReadOnlySpan<bool> differentiated)
    {
        if (dLdx is not null)
        {
            Length(dLdx, d.Horizon * d.BatchSize * d.StateDim, nameof(dLdx), $"[T={d.Horizon}][B={d.BatchSize}][n={d.StateDim}]");
            FiniteWhereDifferentiated(dLdx, d.BatchSize, d.StateDim, differentiated, nameof(dLdx));
        }
        if (dLdu is not null)
        {
            Length(dLdu, d.Horizon * d.BatchSize * d.ControlDim, nameof(dLdu), $"[T={d.Horizon}][B={d.BatchSize}][m={d.ControlDim}]");
            FiniteWhereDifferentiated(dLdu, d.BatchSize, d.ControlDim, differentiated, nameof(dLdu));
        }
    }

    /// <summary>
    /// values, shape [T][B][size], holds only finite values in the slots of the elements b with
    /// differentiated[b]; the vectorised check of the whole array decides the common case.
    /// </summary>
    private static void FiniteWhereDifferentiated(ReadOnlySpan<double> values, int batch, int size,
        ReadOnlySpan<bool> differentiated, string paramName)
    {
        if (AllFinite(values))
        {
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            int b = i / size % batch;
            if (!double.IsFinite(values[i]) && differentiated[b])
            {
                throw new ArgumentException(
                    $"{paramName} must hold only finite values for the elements being differentiated; entry {i} " +
                    $"(t={i / size / batch}, b={b}, i={i % size}) is {values[i].ToString(CultureInfo.InvariantCulture)}. " +
                    "Entries of elements that were not solved (their gradients are zero) may hold anything.",
                    paramName);
            }
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
                $"{paramName} must have shape {array.DescribeShape(stages, stageName, batch, elementShape)} = {expected} values; got {array.Data.Length} values."
                + OtherLayoutHint(array, stages, stageName, batch, elementSize, elementShape, allowScalar),
                paramName);
        }
    }

    /// <summary>
    /// For a StageArray of the wrong length: the broadcast layouts whose length it has (a plain
    /// double[] converts to a per-stage input, so a time-invariant or shared array passed as
    /// one lands here), as " That is the length of StageArray.X [shape]: did you mean it?", or "".
    /// </summary>
    private static string OtherLayoutHint(StageArray array, int stages, string stageName, int batch, int elementSize,
        string elementShape, bool allowScalar)
    {
        StageArray[] layouts = [StageArray.PerStage([]), StageArray.TimeInvariant([]), StageArray.BatchShared([]), StageArray.Shared([])];
        string[] names = [nameof(StageArray.PerStage), nameof(StageArray.TimeInvariant), nameof(StageArray.BatchShared), nameof(StageArray.Shared)];
        var matches = new List<string>();
        for (int k = 0; k < layouts.Length; k++)
        {
            if (!layouts[k].SameLayout(array) && layouts[k].ExpectedLength(stages, batch, elementSize) == array.Data.Length)
            {
                matches.Add($"StageArray.{names[k]} {layouts[k].DescribeShape(stages, stageName, batch, elementShape)}");
            }
        }
        if (allowScalar && !array.IsScalar && array.Data.Length == 1)
        {
            matches.Add($"StageArray.{nameof(StageArray.Scalar)}");
        }
        return matches.Count == 0 ? "" : $" That is the length of {string.Join(" or of ", matches)}: did you mean it?";
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

    public static void InRange(int value, int min, int max, string paramName, string what)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be in [{min}, {max}]; got {value}.");
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
