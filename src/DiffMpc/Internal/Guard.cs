// Argument checks for the public boundary. Each failure names the argument, what was expected
// and what was given. Inner code uses Debug.Assert instead.
using System.Globalization;
using DiffMpc.Problems;

namespace DiffMpc.Internal;

internal static class Guard
{
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

    public static void AtLeast(int value, int min, string paramName, string what)
    {
        if (value < min)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be at least {min}; got {value}.");
        }
    }
}
