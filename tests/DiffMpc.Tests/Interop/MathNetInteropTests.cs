using DiffMpc.Interop;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace DiffMpc.Tests.Interop;

/// <summary>
/// The MathNet.Numerics boundary: stacking matrices and vectors into the time-major arrays,
/// reading them back, reading a solution's states and controls, and the argument checks.
/// </summary>
public sealed class MathNetInteropTests
{
    [Fact]
    public void StackedMatrices_AreRowMajor_AndReadBackExactly()
    {
        var rng = new Random(1);
        Matrix<double>[] ms = [.. Enumerable.Range(0, 3).Select(_ => Matrix<double>.Build.Dense(2, 4, (_, _) => rng.NextDouble()))];
        double[] stacked = MathNetInterop.Stack(ms);
        Assert.Equal(3 * 2 * 4, stacked.Length);
        Assert.Equal(ms[1][1, 3], stacked[(1 * 2 + 1) * 4 + 3]);
        for (int i = 0; i < ms.Length; i++)
        {
            Assert.Equal(ms[i], MathNetInterop.MatrixAt(stacked, i, 2, 4));
        }
    }

    [Fact]
    public void StackedVectors_ReadBackExactly()
    {
        Vector<double>[] vs = [Vector<double>.Build.Dense([1.0, 2, 3]), Vector<double>.Build.Dense([4.0, 5, 6])];
        double[] stacked = MathNetInterop.Stack(vs);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], stacked);
        Assert.Equal(vs[1], MathNetInterop.VectorAt(stacked, 1, 3));
    }

    /// <summary>A problem built from MathNet matrices solves bitwise like the same data as arrays; the solution reads back as vectors.</summary>
    [Fact]
    public void ProblemFromMatrices_SolvesLikeArrays_AndSolutionReadsAsVectors()
    {
        var dims = new MpcDimensions(4, 3, 2, 1);
        LqrCase k = RandomLqr.Create(5, dims, C: Layout.Shared, c: Layout.Shared, F: Layout.Shared);
        int n = dims.StateDim, N = dims.TauDim;
        Matrix<double> C = MathNetInterop.MatrixAt(k.C.Data, 0, N, N), F = MathNetInterop.MatrixAt(k.F.Data, 0, n, N);
        Vector<double> c = MathNetInterop.VectorAt(k.c.Data, 0, N);
        var fromMatrices = new LqrProblem(dims, k.XInit, StageArray.Shared(MathNetInterop.Stack([C])),
            StageArray.Shared(MathNetInterop.Stack([c])), StageArray.Shared(MathNetInterop.Stack([F])), k.f);

        MpcSolution expected = Mpc.Solve(k.Problem), actual = Mpc.Solve(fromMatrices);
        Bitwise.Equal(expected.X, actual.X, "x");
        Bitwise.Equal(expected.U, actual.U, "u");
        for (int t = 0; t < dims.Horizon; t++)
        {
            for (int b = 0; b < dims.BatchSize; b++)
            {
                Assert.Equal(actual.StateAt(t, b).ToArray(), actual.StateVector(t, b).ToArray());
                Assert.Equal(actual.ControlAt(t, b).ToArray(), actual.ControlVector(t, b).ToArray());
                Assert.Equal(MathNetInterop.VectorAt(actual.X, t * dims.BatchSize + b, n), actual.StateVector(t, b));
            }
        }
    }

    [Fact]
    public void BadArguments_NameTheArgument()
    {
        Matrix<double> a = Matrix<double>.Build.Dense(2, 2), b = Matrix<double>.Build.Dense(2, 3);
        Assert.Equal("matrices", Assert.Throws<ArgumentException>(() => MathNetInterop.Stack([a, b])).ParamName);
        Assert.Equal("matrices", Assert.Throws<ArgumentException>(() => MathNetInterop.Stack(Array.Empty<Matrix<double>>())).ParamName);
        Assert.Equal("vectors", Assert.Throws<ArgumentException>(() =>
            MathNetInterop.Stack([Vector<double>.Build.Dense(2), Vector<double>.Build.Dense(3)])).ParamName);
        Assert.Equal("matrices", Assert.Throws<ArgumentNullException>(() => MathNetInterop.Stack((IReadOnlyList<Matrix<double>>)null!)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => MathNetInterop.MatrixAt(new double[8], 2, 2, 2)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => MathNetInterop.VectorAt(new double[6], -1, 3)).ParamName);

        var dims = new MpcDimensions(3, 2, 2, 1);
        MpcSolution sol = Mpc.Solve(RandomLqr.Create(6, dims).Problem);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => sol.StateVector(3, 0)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentOutOfRangeException>(() => sol.ControlVector(0, 2)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentOutOfRangeException>(() => sol.StateAt(0, -1).ToArray()).ParamName);
        Assert.Equal("solution", Assert.Throws<ArgumentNullException>(() => MathNetInterop.StateVector(null!, 0, 0)).ParamName);
    }
}
