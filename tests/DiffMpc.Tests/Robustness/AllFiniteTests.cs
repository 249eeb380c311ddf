using DiffMpc.Internal;
using Xunit;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// <see cref="Guard.AllFinite"/>, the vectorised finiteness check of every Solve's and Backward's
/// inputs: false for a NaN or an infinity at any position of any length (the four-accumulator
/// blocks, the single-vector steps and the scalar tail), true for every finite value including
/// the extremes.
/// </summary>
public sealed class AllFiniteTests
{
    [Fact]
    public void DetectsEveryNonFiniteValue_AtEveryPosition()
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            for (int length = 1; length <= 70; length++)
            {
                for (int at = 0; at < length; at++)
                {
                    double[] values = Finite(length);
                    values[at] = bad;
                    Assert.False(Guard.AllFinite(values), $"{bad} at {at} of {length}");
                }
            }
        }
    }

    [Fact]
    public void AcceptsFiniteValues_IncludingExtremes()
    {
        for (int length = 0; length <= 70; length++)
        {
            Assert.True(Guard.AllFinite(Finite(length)), $"length {length}");
        }
    }

    private static double[] Finite(int length)
    {
        double[] extremes = [double.MaxValue, -double.MaxValue, double.Epsilon, -0.0, 1e-310, 1.0, -3.5];
        return Enumerable.Range(0, length).Select(i => extremes[i % extremes.Length]).ToArray();
    }
}
