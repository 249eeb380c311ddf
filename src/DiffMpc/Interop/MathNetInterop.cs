using DiffMpc.Internal;
using DiffMpc.Results;
using MathNet.Numerics.LinearAlgebra;

namespace DiffMpc.Interop;

/// <summary>
/// Conversions between MathNet.Numerics matrices and vectors and DiffMpc's contiguous
/// row-major arrays, for building problems and reading results at the API boundary.
/// </summary>
public static class MathNetInterop
{
    /// <summary>
    /// Stacks equally sized matrices into one row-major array of shape [count][rows][cols], e.g.
    /// C_t for every stage (then every element) in time-major order.
    /// </summary>
    /// <param name="matrices">The matrices in storage order.</param>
    /// <returns>A new array.</returns>
    /// <exception cref="ArgumentException">The matrices differ in size, or none are given.</exception>
    public static double[] Stack(IReadOnlyList<Matrix<double>> matrices)
    {
        Guard.NotNull(matrices, nameof(matrices));
        if (matrices.Count == 0)
        {
            throw new ArgumentException("matrices must hold at least one matrix; got none.", nameof(matrices));
        }
        int rows = matrices[0].RowCount, cols = matrices[0].ColumnCount;
        var result = new double[matrices.Count * rows * cols];
        for (int i = 0; i < matrices.Count; i++)
        {
            Matrix<double> a = matrices[i];
            if (a.RowCount != rows || a.ColumnCount != cols)
            {
                throw new ArgumentException(
                    $"matrices must all be {rows}x{cols}; matrix {i} is {a.RowCount}x{a.ColumnCount}.", nameof(matrices));
            }
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    result[(i * rows + r) * cols + c] = a[r, c];
                }
            }
        }
        return result;
    }

    /// <summary>Stacks equally long vectors into one array of shape [count][length].</summary>
    /// <param name="vectors">The vectors in storage order.</param>
    /// <returns>A new array.</returns>
    /// <exception cref="ArgumentException">The vectors differ in length, or none are given.</exception>
    public static double[] Stack(IReadOnlyList<Vector<double>> vectors)
    {
        Guard.NotNull(vectors, nameof(vectors));
        if (vectors.Count == 0)
        {
            throw new ArgumentException("vectors must hold at least one vector; got none.", nameof(vectors));
        }
        int len = vectors[0].Count;
        var result = new double[vectors.Count * len];
        for (int i = 0; i < vectors.Count; i++)
        {
            if (vectors[i].Count != len)
            {
                throw new ArgumentException($"vectors must all have length {len}; vector {i} has {vectors[i].Count}.", nameof(vectors));
            }
            for (int j = 0; j < len; j++)
            {
                result[i * len + j] = vectors[i][j];
            }
        }
        return result;
    }

    /// <summary>Copies entry <paramref name="index"/> of a [count][rows][cols] array into a new matrix.</summary>
    /// <param name="data">A row-major array of stacked matrices.</param>
    /// <param name="index">Which matrix (for [T][B][...] data: t * B + b).</param>
    /// <param name="rows">Rows per matrix.</param>
    /// <param name="cols">Columns per matrix.</param>
    /// <returns>A new dense matrix.</returns>
    public static Matrix<double> MatrixAt(double[] data, int index, int rows, int cols)
    {
        Guard.NotNull(data, nameof(data));
        if (index < 0 || (long)(index + 1) * rows * cols > data.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"index must select a whole {rows}x{cols} matrix of data (length {data.Length}).");
        }
        return Matrix<double>.Build.Dense(rows, cols, (r, c) => data[(index * rows + r) * cols + c]);
    }

    /// <summary>Copies entry <paramref name="index"/> of a [count][length] array into a new vector.</summary>
    /// <param name="data">A row-major array of stacked vectors.</param>
    /// <param name="index">Which vector (for [T][B][...] data: t * B + b).</param>
    /// <param name="length">Entries per vector.</param>
    /// <returns>A new dense vector.</returns>
    public static Vector<double> VectorAt(double[] data, int index, int length)
    {
        Guard.NotNull(data, nameof(data));
        if (index < 0 || (long)(index + 1) * length > data.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"index must select a whole vector of length {length} of data (length {data.Length}).");
        }
        return Vector<double>.Build.Dense(data.AsSpan(index * length, length).ToArray());
    }

    /// <summary>x_t of element b of a solution as a new vector of length n (t is 0-based).</summary>
    /// <param name="solution">The solution.</param>
    /// <param name="t">Stage, 0..T-1.</param>
    /// <param name="b">Batch element, 0..B-1.</param>
    /// <returns>A new dense vector.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> or <paramref name="b"/> is out of range.</exception>
    public static Vector<double> StateVector(this MpcSolution solution, int t, int b)
    {
        Guard.NotNull(solution, nameof(solution));
        return Vector<double>.Build.Dense(solution.StateAt(t, b).ToArray());
    }

    /// <summary>u_t of element b of a solution as a new vector of length m (t is 0-based).</summary>
    /// <param name="solution">The solution.</param>
    /// <param name="t">Stage, 0..T-1.</param>
    /// <param name="b">Batch element, 0..B-1.</param>
    /// <returns>A new dense vector.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> or <paramref name="b"/> is out of range.</exception>
    public static Vector<double> ControlVector(this MpcSolution solution, int t, int b)
    {
        Guard.NotNull(solution, nameof(solution));
        return Vector<double>.Build.Dense(solution.ControlAt(t, b).ToArray());
    }
}
