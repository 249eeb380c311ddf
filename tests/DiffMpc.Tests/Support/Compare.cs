using System.Globalization;
using Xunit.Sdk;

namespace DiffMpc.Tests.Support;

/// <summary>Element-wise comparisons that report the worst entry.</summary>
internal static class Compare
{
    /// <summary>Asserts |actual - expected| &lt;= tol for every entry.</summary>
    public static void Absolute(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        CheckLengths(expected, actual, what);
        (double worst, int at) = Worst(expected, actual, relative: false);
        if (!(worst <= tol))
        {
            throw new XunitException(
                $"{what}: max abs error {Fmt(worst)} at entry {at} (expected {Fmt(expected[at])}, got {Fmt(actual[at])}) exceeds {Fmt(tol)}.");
        }
    }

    /// <summary>Asserts |actual - expected| / max(1, |expected|) &lt;= tol for every entry.</summary>
    public static void Relative(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        CheckLengths(expected, actual, what);
        (double worst, int at) = Worst(expected, actual, relative: true);
        if (!(worst <= tol))
        {
            throw new XunitException(
                $"{what}: max rel error {Fmt(worst)} at entry {at} (expected {Fmt(expected[at])}, got {Fmt(actual[at])}) exceeds {Fmt(tol)}.");
        }
    }

    /// <summary>The largest error and its index.</summary>
    public static (double Error, int Index) Worst(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, bool relative)
    {
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(actual[i] - expected[i]);
            if (relative)
            {
                e /= Math.Max(1, Math.Abs(expected[i]));
            }
            if (double.IsNaN(e) || e > worst)
            {
                worst = double.IsNaN(e) ? double.PositiveInfinity : e;
                at = i;
            }
        }
        return (worst, at);
    }

    private static void CheckLengths(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
    }

    private static string Fmt(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
