// Cholesky factorisation and solves for the small symmetric positive definite blocks of one
// stage (Q_uu). Row-major; only the lower triangle of the factor is read or written.
using System.Diagnostics;

namespace DiffMpc.LinearAlgebra;

/// <summary>LAPACK-style dense factorisations on row-major spans.</summary>
internal static class Lapack
{
    /// <summary>
    /// In-place lower Cholesky factorisation A = L L' of an n x n symmetric matrix (LAPACK dpotrf,
    /// uplo = 'L'). Reads the lower triangle of A, writes L there; the strict upper triangle is
    /// left untouched. Returns false, without throwing, when A is not (numerically) positive
    /// definite or holds a non-finite value.
    /// </summary>
    public static bool Potrf(int n, Span<double> a, int lda)
    {
        FactorizationCounter.Increment();
        for (int j = 0; j < n; j++)
        {
            Span<double> rowJ = a.Slice(j * lda, j + 1);
            double d = rowJ[j] - Blas.Dot(rowJ[..j], rowJ[..j]);
            if (!(d > 0) || !double.IsFinite(d))
            {
                return false;
            }
            double ljj = Math.Sqrt(d);
            rowJ[j] = ljj;
            double inv = 1.0 / ljj;
            for (int i = j + 1; i < n; i++)
            {
                Span<double> rowI = a.Slice(i * lda, j + 1);
                rowI[j] = (rowI[j] - Blas.Dot(rowI[..j], rowJ[..j])) * inv;
            }
        }
        return true;
    }

    /// <summary>
    /// Solves (L L') X = B in place for an n x n lower Cholesky factor L (from <see cref="Potrf"/>)
    /// and an n x nrhs row-major right-hand side B with leading dimension ldb (LAPACK dpotrs).
    /// </summary>
    public static void Potrs(int n, int nrhs, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        // Forward substitution L Y = B, one row of B (all right-hand sides) at a time.
        for (int i = 0; i < n; i++)
        {
            Span<double> bi = b.Slice(i * ldb, nrhs);
            for (int p = 0; p < i; p++)
            {
                Blas.Axpy(-l[i * ldl + p], b.Slice(p * ldb, nrhs), bi);
            }
            Blas.Scal(1.0 / l[i * ldl + i], bi);
        }
        // Back substitution L' X = Y.
        for (int i = n - 1; i >= 0; i--)
        {
            Span<double> bi = b.Slice(i * ldb, nrhs);
            for (int p = i + 1; p < n; p++)
            {
                Blas.Axpy(-l[p * ldl + i], b.Slice(p * ldb, nrhs), bi);
            }
            Blas.Scal(1.0 / l[i * ldl + i], bi);
        }
    }

    /// <summary>Solves (L L') x = b in place for a single right-hand side (dpotrs, nrhs = 1).</summary>
    public static void Potrs(int n, ReadOnlySpan<double> l, int ldl, Span<double> b)
    {
        Debug.Assert(b.Length >= n);
        for (int i = 0; i < n; i++)
        {
            b[i] = (b[i] - Blas.Dot(l.Slice(i * ldl, i), b[..i])) / l[i * ldl + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int p = i + 1; p < n; p++)
            {
                s -= l[p * ldl + i] * b[p];
            }
            b[i] = s / l[i * ldl + i];
        }
    }
}
