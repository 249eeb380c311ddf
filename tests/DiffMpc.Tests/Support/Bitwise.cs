using Xunit.Sdk;

namespace DiffMpc.Tests.Support;

/// <summary>Bit-for-bit comparisons of double arrays (NaN payloads and signed zeros included).</summary>
internal static class Bitwise
{
    /// <summary>The raw bits of every value.</summary>
    public static long[] Bits(ReadOnlySpan<double> values)
    {
        var bits = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.DoubleToInt64Bits(values[i]);
        }
        return bits;
    }

    /// <summary>Asserts that <paramref name="actual"/> has exactly the bits of <paramref name="expected"/>.</summary>
    public static void Equal(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
            {
                throw new XunitException(
                    $"{what}: entry {i} differs bitwise (expected {expected[i]:R}, got {actual[i]:R}).");
            }
        }
    }

    /// <summary>Asserts that <paramref name="actual"/> still has the bits recorded in <paramref name="snapshot"/>.</summary>
    public static void Unchanged(long[] snapshot, ReadOnlySpan<double> actual, string what)
    {
        if (snapshot.Length != actual.Length)
        {
            throw new XunitException($"{what}: length changed from {snapshot.Length} to {actual.Length}.");
        }
        for (int i = 0; i < snapshot.Length; i++)
        {
            if (snapshot[i] != BitConverter.DoubleToInt64Bits(actual[i]))
            {
                throw new XunitException(
                    $"{what}: entry {i} was modified (was {BitConverter.Int64BitsToDouble(snapshot[i]):R}, now {actual[i]:R}).");
            }
        }
    }
}
