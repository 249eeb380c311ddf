using System.Runtime.Intrinsics;
using DiffMpc.Lqr.Lanes;
using Xunit;

namespace DiffMpc.Tests.LinearAlgebra;

/// <summary>
/// <see cref="LaneBlas.Spmv{T}"/> (y += A x for a symmetric A stored as its packed lower triangle)
/// against the product with the full matrix, lane by lane, for every order the lane solvers use.
/// </summary>
public sealed class LaneSpmvTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(16)]
    public void Spmv_EqualsTheFullSymmetricProduct_InEveryLane(int n)
    {
        var rng = new Random(n);
        int packed = n * (n + 1) / 2;
        var full = new double[8][];
        var ap = new Vector512<double>[packed];
        var x = new Vector512<double>[n];
        var y = new Vector512<double>[n];
        var x4 = new Vector256<double>[n];
        var y4 = new Vector256<double>[n];
        var ap4 = new Vector256<double>[packed];
        var xs = new double[8][];
        var y0 = new double[8][];
        for (int lane = 0; lane < 8; lane++)
        {
            full[lane] = new double[n * n];
            xs[lane] = new double[n];
            y0[lane] = new double[n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    full[lane][i * n + j] = full[lane][j * n + i] = rng.NextDouble() * 2 - 1;
                }
                xs[lane][i] = rng.NextDouble() * 2 - 1;
                y0[lane][i] = rng.NextDouble() * 2 - 1;
            }
        }
        for (int i = 0; i < n; i++)
        {
            x[i] = Vector512.Create(Lanes(xs, i));
            y[i] = Vector512.Create(Lanes(y0, i));
            x4[i] = Vector256.Create(Lanes(xs, i)[..4]);
            y4[i] = Vector256.Create(Lanes(y0, i)[..4]);
            for (int j = 0; j <= i; j++)
            {
                double[] a = new double[8];
                for (int lane = 0; lane < 8; lane++)
                {
                    a[lane] = full[lane][i * n + j];
                }
                ap[i * (i + 1) / 2 + j] = Vector512.Create(a);
                ap4[i * (i + 1) / 2 + j] = Vector256.Create(a[..4]);
            }
        }

        LaneBlas.Spmv<Vector512<double>>(n, ap, x, y);
        LaneBlas.Spmv<Vector256<double>>(n, ap4, x4, y4);

        for (int lane = 0; lane < 8; lane++)
        {
            for (int i = 0; i < n; i++)
            {
                double expected = y0[lane][i];
                for (int j = 0; j < n; j++)
                {
                    expected += full[lane][i * n + j] * xs[lane][j];
                }
                Assert.Equal(expected, y[i].GetElement(lane), 1e-13);
                if (lane < 4)
                {
                    Assert.Equal(expected, y4[i].GetElement(lane), 1e-13);
                }
            }
        }
    }

    private static double[] Lanes(double[][] perLane, int i)
    {
        var v = new double[8];
        for (int lane = 0; lane < 8; lane++)
        {
            v[lane] = perLane[lane][i];
        }
        return v;
    }
}
