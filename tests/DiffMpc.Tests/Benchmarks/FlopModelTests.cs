using System.Runtime.Intrinsics;
using DiffMpc.Benchmarks.Problems;
using DiffMpc.Lqr.Lanes;
using Xunit;

namespace DiffMpc.Tests.Benchmarks;

/// <summary>
/// The benchmark's flop model counts what the kernels execute: the entries a lower-triangle lane
/// Gemm writes are the model's <see cref="FlopModel.LowerPanelEntries"/>, and the executed Riccati
/// count relates to the textbook one as derived (the ratios the benchmark README quotes).
/// </summary>
public sealed class FlopModelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(14)]
    [InlineData(23)]
    [InlineData(40)]
    public void LowerPanelEntries_AreTheEntriesTheLaneGemmWrites(int M)
    {
        // C starts as NaN; a Gemm of 1 x 1 inner dimension over A = B = 1 writes 1 where it computes.
        var a = new Vector256<double>[M];
        var b = new Vector256<double>[M];
        Array.Fill(a, Vector256<double>.One);
        Array.Fill(b, Vector256<double>.One);
        var c = new Vector256<double>[M * M];
        Array.Fill(c, Vector256.Create(double.NaN));
        LaneBlas.Gemm<Vector256<double>>(M, M, 1, a, 1, 1, b, M, 1, c, M, accumulate: false, lowerOnly: true);
        int written = c.Count(v => !double.IsNaN(v.GetElement(0)));
        Assert.Equal(written, FlopModel.LowerPanelEntries(M));
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                Assert.False(double.IsNaN(c[i * M + j].GetElement(0)), $"lower entry ({i}, {j}) not computed");
            }
        }
    }

    [Fact]
    public void ExecutedRiccati_IsTheTextbookCountLessTheSkippedWork()
    {
        // Whole products and every stage with dynamics: the textbook count exactly.
        Assert.Equal(20 * FlopModel.RiccatiPerStage(10, 4), FlopModel.RiccatiExecuted(10, 4, 20, lowerTriangles: false)
            + 2.0 * 10 * 10 * 14 + 2.0 * 10 * 14 * 14 + 2.0 * 10 * 10 + 2.0 * 10 * 14, 6);
        // The ratios the benchmark README quotes (T = 20).
        Assert.Equal(1.27, 20 * FlopModel.RiccatiPerStage(8, 4) / FlopModel.RiccatiExecuted(8, 4, 20, true), 2);
        Assert.Equal(1.31, 20 * FlopModel.RiccatiPerStage(10, 4) / FlopModel.RiccatiExecuted(10, 4, 20, true), 2);
        Assert.Equal(1.40, 20 * FlopModel.RiccatiPerStage(32, 8) / FlopModel.RiccatiExecuted(32, 8, 20, true), 2);
        double total = FlopModel.ForwardBackward(10, 4, 20, 64), executed = FlopModel.ForwardBackwardExecuted(10, 4, 20, 64, true);
        Assert.Equal(64 * (20 * FlopModel.RiccatiPerStage(10, 4) - FlopModel.RiccatiExecuted(10, 4, 20, true)), total - executed, 3);
    }
}
