using DiffMpc.LinearAlgebra;
using Xunit;

namespace DiffMpc.Tests.LinearAlgebra;

/// <summary>
/// <see cref="Blas.Gemm"/> against a plain triple loop, for every shape of the small products of
/// the per-element Riccati sweep and every kernel it dispatches to: register-blocked rows from 4
/// columns (Vector256 block and scalar tail below 8, Vector512 blocks from 8), row-wise Axpy
/// below 4 columns, dot products for op(B) = B'. Leading dimensions exceed the widths, and the
/// padding between rows must stay untouched.
/// </summary>
public sealed class GemmTests
{
    public static TheoryData<bool, bool, double, double> Cases => new()
    {
        { false, false, 1.0, 1.0 },
        { true, false, 1.0, 1.0 },
        { false, false, -0.5, 0.0 },
        { true, false, 2.0, 0.5 },
        { false, true, 1.0, 1.0 },
        { true, true, 0.75, 0.0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_MatchesTripleLoop_ForEveryShapeUpTo17(bool transA, bool transB, double alpha, double beta)
    {
        const double Padding = 12345.0;
        var rng = new Random(transA ? 3 : 5);
        for (int m = 1; m <= 9; m++)
        {
            for (int n = 1; n <= 17; n++)
            {
                foreach (int k in new[] { 1, 2, 5, 9 })
                {
                    int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 3, ldc = n + 1;
                    double[] a = Random(rng, (transA ? k : m) * lda);
                    double[] b = Random(rng, (transB ? n : k) * ldb);
                    double[] c = Random(rng, m * ldc);
                    for (int i = 0; i < m; i++)
                    {
                        c[i * ldc + n] = Padding;
                    }
                    double[] expected = (double[])c.Clone();
                    for (int i = 0; i < m; i++)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            double s = 0;
                            for (int p = 0; p < k; p++)
                            {
                                double aip = transA ? a[p * lda + i] : a[i * lda + p];
                                double bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                                s += aip * bpj;
                            }
                            expected[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
                        }
                    }

                    Blas.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

                    for (int i = 0; i < m; i++)
                    {
                        Assert.Equal(Padding, c[i * ldc + n]);
                        for (int j = 0; j < n; j++)
                        {
                            double e = expected[i * ldc + j], got = c[i * ldc + j];
                            Assert.True(Math.Abs(got - e) <= 1e-13 * (1 + Math.Abs(e)),
                                $"m {m} n {n} k {k} transA {transA} transB {transB}: C[{i},{j}] = {got}, expected {e}");
                        }
                    }
                }
            }
        }
    }

    private static double[] Random(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
}
