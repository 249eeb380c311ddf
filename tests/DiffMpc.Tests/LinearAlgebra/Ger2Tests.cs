using DiffMpc.LinearAlgebra;
using DiffMpc.Tests.Support;
using Xunit;

namespace DiffMpc.Tests.LinearAlgebra;

/// <summary>
/// <see cref="Blas.Ger2"/> writes the rank-2 outer products of the gradients (dL/dC, dL/dF) in
/// overlapping vector chunks; every entry must be bitwise what <see cref="Blas.Axpy2"/> gives row
/// by row (the per-element gradient writer's values), for every row length. The same for
/// <see cref="Blas.CopyPlusZero"/>, which writes dL/dc and dL/df.
/// </summary>
public sealed class Ger2Tests
{
    public static TheoryData<int, int, double> Shapes()
    {
        var data = new TheoryData<int, int, double>();
        foreach (int cols in Enumerable.Range(1, 33))
        {
            data.Add(1, cols, 1.0);
            data.Add(cols % 11 + 2, cols, 0.5);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Ger2_EqualsAxpy2RowByRow_Bitwise(int rows, int cols, double scale)
    {
        var rng = new Random(rows * 100 + cols);
        double[] p = Values(rng, rows), q = Values(rng, rows), x = Values(rng, cols), z = Values(rng, cols);
        var expected = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            Blas.Axpy2(scale * p[i], x, scale * q[i], z, expected.AsSpan(i * cols, cols), overwrite: true);
        }
        double[] actual = Enumerable.Repeat(double.NaN, rows * cols + 3).ToArray();

        Blas.Ger2(rows, cols, scale, p, x, q, z, actual.AsSpan(0, rows * cols));

        Bitwise.Equal(expected, actual.AsSpan(0, rows * cols), "A");
        Assert.All(actual[(rows * cols)..], v => Assert.True(double.IsNaN(v)));   // nothing written past A
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void CopyPlusZero_EqualsClearThenAxpy_Bitwise(int length)
    {
        double[] x = Values(new Random(length), length);
        x[^1] = double.NegativeInfinity;   // non-finite values pass through unchanged
        var expected = new double[length];
        Blas.Axpy(1, x, expected);
        double[] actual = Enumerable.Repeat(double.NaN, length + 3).ToArray();

        Blas.CopyPlusZero(x, actual.AsSpan(0, length));

        Bitwise.Equal(expected, actual.AsSpan(0, length), "y");
        Assert.All(actual[length..], v => Assert.True(double.IsNaN(v)));   // nothing written past y
    }

    public static TheoryData<int> Lengths() => [.. Enumerable.Range(1, 33)];

    /// <summary>Random values with zeros and negative zeros among them (0 + (-0) must become +0 in both).</summary>
    private static double[] Values(Random rng, int length)
    {
        var a = new double[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (i % 5) switch
            {
                0 => -0.0,
                1 => 0.0,
                _ => rng.NextDouble() * 4 - 2,
            };
        }
        return a;
    }
}
