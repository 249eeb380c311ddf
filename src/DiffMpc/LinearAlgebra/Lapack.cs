// Cholesky factorisation and solves for the small symmetric positive definite blocks of one
// stage (Q_uu). Row-major; only the lower triangle of the factor is read or written.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;

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
        if (Vector512.IsHardwareAccelerated && n <= MaxRegisterRows)
        {
            PotrsColumns(n, nrhs, l, ldl, b, ldb);
            return;
        }
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

    /// <summary>Largest n that <see cref="PotrsColumns"/> keeps in registers (a stage's m).</summary>
    private const int MaxRegisterRows = 16;

    /// <summary>
    /// <see cref="Potrs(int, int, ReadOnlySpan{double}, int, Span{double}, int)"/> one block of
    /// right-hand-side columns at a time (8 with Vector512, then 4 with Vector256, then single
    /// columns), each block's n rows held in registers through both substitutions instead of
    /// going through memory once per update. Each entry sees the same operations in the same
    /// order as the row-wise Axpy/Scal code (FMA in vector lanes, multiply then add in the
    /// scalar columns): bitwise identical results.
    /// </summary>
    private static void PotrsColumns(int n, int nrhs, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        Debug.Assert(n <= MaxRegisterRows && l.Length >= (n - 1) * ldl + n && b.Length >= (n - 1) * ldb + nrhs);
        ref double lr = ref MemoryMarshal.GetReference(l);
        ref double br = ref MemoryMarshal.GetReference(b);
        Span<Vector512<double>> y = stackalloc Vector512<double>[n];
        int j = 0;
        for (; j + 8 <= nrhs; j += 8)
        {
            PotrsBlock(n, j, ref lr, ldl, ref br, ldb, y);
        }
        if (j + 4 <= nrhs)
        {
            PotrsBlock(n, j, ref lr, ldl, ref br, ldb, MemoryMarshal.Cast<Vector512<double>, Vector256<double>>(y));
            j += 4;
        }
        for (; j < nrhs; j++)
        {
            for (int i = 0; i < n; i++)
            {
                double v = Unsafe.Add(ref br, i * ldb + j);
                for (int p = 0; p < i; p++)
                {
                    v += -Unsafe.Add(ref lr, i * ldl + p) * Unsafe.Add(ref br, p * ldb + j);
                }
                Unsafe.Add(ref br, i * ldb + j) = v * (1.0 / Unsafe.Add(ref lr, i * ldl + i));
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double v = Unsafe.Add(ref br, i * ldb + j);
                for (int p = i + 1; p < n; p++)
                {
                    v += -Unsafe.Add(ref lr, p * ldl + i) * Unsafe.Add(ref br, p * ldb + j);
                }
                Unsafe.Add(ref br, i * ldb + j) = v * (1.0 / Unsafe.Add(ref lr, i * ldl + i));
            }
        }
    }

    /// <summary>
    /// One block of right-hand-side columns j .. j+w-1 of <see cref="PotrsColumns"/>, w the width
    /// of T (Vector512 or Vector256): forward then back substitution with the block's n rows held
    /// in <paramref name="y"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PotrsBlock<T>(int n, int j, ref double lr, int ldl, ref double br, int ldb, Span<T> y)
        where T : struct
    {
        for (int i = 0; i < n; i++)
        {
            T v = Simd.Load<T>(ref br, (nuint)(i * ldb + j));
            for (int p = 0; p < i; p++)
            {
                v = Simd.Fma(Simd.Create<T>(-Unsafe.Add(ref lr, i * ldl + p)), y[p], v);
            }
            y[i] = Simd.Mul(Simd.Create<T>(1.0 / Unsafe.Add(ref lr, i * ldl + i)), v);
        }
        for (int i = n - 1; i >= 0; i--)
        {
            T v = y[i];
            for (int p = i + 1; p < n; p++)
            {
                v = Simd.Fma(Simd.Create<T>(-Unsafe.Add(ref lr, p * ldl + i)), y[p], v);
            }
            v = Simd.Mul(Simd.Create<T>(1.0 / Unsafe.Add(ref lr, i * ldl + i)), v);
            y[i] = v;
            Simd.Store(v, ref br, (nuint)(i * ldb + j));
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
