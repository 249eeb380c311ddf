// Small dense kernels named after their BLAS counterparts. All matrices are row-major with an
// explicit leading dimension (the distance between consecutive rows). They are written for the
// tiny matrices of one stage (n, m <= ~64): no allocation, no bounds beyond the spans given.
// The level-1 kernels (Dot, Axpy, Scal) use Vector512 when the hardware accelerates it, then
// Vector256, then a scalar tail; the level-2/3 kernels are built on them (row-major rows are
// contiguous). Dot sums in a different order than a plain loop: results agree to round-off.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffMpc.LinearAlgebra;

/// <summary>Level-1/2/3 BLAS-style kernels on row-major spans.</summary>
internal static class Blas
{
    /// <summary>dot = x' y (BLAS ddot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Debug.Assert(x.Length == y.Length);
        int len = x.Length, i = 0;
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        double s = 0;
        if (Vector512.IsHardwareAccelerated && len >= Vector512<double>.Count)
        {
            Vector512<double> acc = Vector512<double>.Zero;
            for (; i <= len - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i), acc);
            }
            s = Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && len - i >= Vector256<double>.Count)
        {
            Vector256<double> acc = Vector256<double>.Zero;
            for (; i <= len - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i), acc);
            }
            s += Vector256.Sum(acc);
        }
        for (; i < len; i++)
        {
            s += Unsafe.Add(ref xr, i) * Unsafe.Add(ref yr, i);
        }
        return s;
    }

    /// <summary>y += alpha x (BLAS daxpy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        Debug.Assert(x.Length == y.Length);
        int len = Math.Min(x.Length, y.Length), i = 0;
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && len >= Vector512<double>.Count)
        {
            var a = Vector512.Create(alpha);
            for (; i <= len - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                Vector512.FusedMultiplyAdd(a, Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && len - i >= Vector256<double>.Count)
        {
            var a = Vector256.Create(alpha);
            for (; i <= len - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256.FusedMultiplyAdd(a, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < len; i++)
        {
            Unsafe.Add(ref yr, i) += alpha * Unsafe.Add(ref xr, i);
        }
    }

    /// <summary>
    /// y += (alpha x + beta z), the sum of two rank-1 row updates. The two products are rounded
    /// separately and added before y (no fused multiply-add between them), so the term
    /// alpha x_j + beta z_j is exactly symmetric under swapping (alpha, x) with (beta, z): outer
    /// products a b' + b a' built row by row with it are exactly symmetric. With
    /// <paramref name="overwrite"/>, y's old values are not read: y = 0 + (alpha x + beta z),
    /// bitwise what clearing y first would give.
    /// </summary>
    public static void Axpy2(double alpha, ReadOnlySpan<double> x, double beta, ReadOnlySpan<double> z, Span<double> y,
        bool overwrite = false)
    {
        Debug.Assert(x.Length == y.Length && z.Length == y.Length);
        int len = y.Length, i = 0;
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double zr = ref MemoryMarshal.GetReference(z);
        ref double yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && len >= Vector512<double>.Count)
        {
            Vector512<double> a = Vector512.Create(alpha), b = Vector512.Create(beta);
            for (; i <= len - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                Vector512<double> t = a * Vector512.LoadUnsafe(ref xr, (nuint)i) + b * Vector512.LoadUnsafe(ref zr, (nuint)i);
                ((overwrite ? Vector512<double>.Zero : Vector512.LoadUnsafe(ref yr, (nuint)i)) + t).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && len - i >= Vector256<double>.Count)
        {
            Vector256<double> a = Vector256.Create(alpha), b = Vector256.Create(beta);
            for (; i <= len - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256<double> t = a * Vector256.LoadUnsafe(ref xr, (nuint)i) + b * Vector256.LoadUnsafe(ref zr, (nuint)i);
                ((overwrite ? Vector256<double>.Zero : Vector256.LoadUnsafe(ref yr, (nuint)i)) + t).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < len; i++)
        {
            double t = alpha * Unsafe.Add(ref xr, i) + beta * Unsafe.Add(ref zr, i);
            Unsafe.Add(ref yr, i) = (overwrite ? 0.0 : Unsafe.Add(ref yr, i)) + t;
        }
    }

    /// <summary>x *= alpha (BLAS dscal).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scal(double alpha, Span<double> x)
    {
        int len = x.Length, i = 0;
        ref double xr = ref MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated && len >= Vector512<double>.Count)
        {
            var a = Vector512.Create(alpha);
            for (; i <= len - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                (a * Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref xr, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && len - i >= Vector256<double>.Count)
        {
            var a = Vector256.Create(alpha);
            for (; i <= len - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                (a * Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref xr, (nuint)i);
            }
        }
        for (; i < len; i++)
        {
            Unsafe.Add(ref xr, i) *= alpha;
        }
    }

    /// <summary>
    /// y = alpha op(A) x + beta y (BLAS dgemv) where A is rows x cols with leading dimension lda
    /// and op(A) = A or A'. With beta = 0, y is overwritten (NaN in y does not propagate).
    /// </summary>
    public static void Gemv(bool transA, int rows, int cols, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> x, double beta, Span<double> y)
    {
        if (!transA)
        {
            Debug.Assert(x.Length >= cols && y.Length >= rows);
            for (int i = 0; i < rows; i++)
            {
                double s = Dot(a.Slice(i * lda, cols), x[..cols]);
                y[i] = beta == 0 ? alpha * s : alpha * s + beta * y[i];
            }
        }
        else
        {
            Debug.Assert(x.Length >= rows && y.Length >= cols);
            Span<double> yy = y[..cols];
            if (beta == 0)
            {
                yy.Clear();
            }
            else if (beta != 1)
            {
                Scal(beta, yy);
            }
            for (int i = 0; i < rows; i++)
            {
                Axpy(alpha * x[i], a.Slice(i * lda, cols), yy);
            }
        }
    }

    /// <summary>
    /// C = alpha op(A) op(B) + beta C (BLAS dgemm) for row-major A, B, C where op(A) is m x k,
    /// op(B) is k x n and C is m x n. With beta = 0, C is overwritten.
    /// </summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb,
        double beta, Span<double> c, int ldc)
    {
        if (beta == 0 && ldc == n)
        {
            c[..(m * n)].Clear();
        }
        else if (beta != 1)
        {
            for (int i = 0; i < m; i++)
            {
                Span<double> ci = c.Slice(i * ldc, n);
                if (beta == 0)
                {
                    ci.Clear();
                }
                else
                {
                    Scal(beta, ci);
                }
            }
        }
        if (k == 0 || alpha == 0)
        {
            return;
        }

        // Register-blocked rows from 4 columns: with fewer than 8 only the Vector256 block and
        // the scalar tail of GemmRowsVector512 run, so it needs no Vector512 hardware there.
        // Row-wise Axpy is left for the narrowest products and machines without SIMD (the
        // per-element Riccati of n + m = 4..7 solves 1-5% faster, bitwise the same).
        if (!transB && ((Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
            || (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count && n < Vector512<double>.Count)))
        {
            GemmRowsVector512(transA, m, n, k, alpha, a, lda, b, ldb, c, ldc);
        }
        else if (!transB)
        {
            // Row i of C accumulates alpha * op(A)[i, p] * B[p, :]: contiguous inner loops.
            for (int i = 0; i < m; i++)
            {
                Span<double> ci = c.Slice(i * ldc, n);
                for (int p = 0; p < k; p++)
                {
                    double aip = transA ? a[p * lda + i] : a[i * lda + p];
                    if (aip != 0)
                    {
                        Axpy(alpha * aip, b.Slice(p * ldb, n), ci);
                    }
                }
            }
        }
        else
        {
            // C[i, j] += alpha * op(A)[i, :] . B[j, :]
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    if (transA)
                    {
                        for (int p = 0; p < k; p++)
                        {
                            s += a[p * lda + i] * b[j * ldb + p];
                        }
                    }
                    else
                    {
                        s = Dot(a.Slice(i * lda, k), b.Slice(j * ldb, k));
                    }
                    c[i * ldc + j] += alpha * s;
                }
            }
        }
    }

    /// <summary>
    /// C += alpha op(A) B for row-major B (the !transB case of <see cref="Gemm"/>), keeping each
    /// row block of C in registers across the whole inner dimension: 16 columns (two Vector512
    /// accumulators) at a time, then 8, then a Vector256 of 4, then single columns. Per inner
    /// step: one broadcast of alpha op(A)[i, p], the loads of B[p, block] and the FMAs; C is
    /// loaded and stored once per block instead of once per step as row-wise Axpy does.
    /// </summary>
    private static void GemmRowsVector512(bool transA, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc)
    {
        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double br = ref MemoryMarshal.GetReference(b);
        ref double cr = ref MemoryMarshal.GetReference(c);
        int rs = transA ? 1 : lda, ks = transA ? lda : 1;   // op(A)[i, p] = a[i * rs + p * ks]
        const int W8 = 8;
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            GemmFourRows(i, n, k, alpha, ref ar, rs, ks, ref br, ldb, ref cr, ldc);
        }
        for (; i < m; i++)
        {
            ref double ai = ref Unsafe.Add(ref ar, i * rs);
            ref double ci = ref Unsafe.Add(ref cr, i * ldc);
            int j = 0;
            for (; j + 2 * W8 <= n; j += 2 * W8)
            {
                Vector512<double> s0 = Vector512.LoadUnsafe(ref ci, (nuint)j), s1 = Vector512.LoadUnsafe(ref ci, (nuint)(j + W8));
                for (int p = 0; p < k; p++)
                {
                    var aip = Vector512.Create(alpha * Unsafe.Add(ref ai, p * ks));
                    ref double bp = ref Unsafe.Add(ref br, p * ldb + j);
                    s0 = Vector512.FusedMultiplyAdd(aip, Vector512.LoadUnsafe(ref bp), s0);
                    s1 = Vector512.FusedMultiplyAdd(aip, Vector512.LoadUnsafe(ref bp, W8), s1);
                }
                s0.StoreUnsafe(ref ci, (nuint)j);
                s1.StoreUnsafe(ref ci, (nuint)(j + W8));
            }
            j = OneRowColumns<Vector512<double>>(j, n, k, alpha, ref ai, ks, ref br, ldb, ref ci);
            j = OneRowColumns<Vector256<double>>(j, n, k, alpha, ref ai, ks, ref br, ldb, ref ci);   // at most one 4-wide block
            for (; j < n; j++)
            {
                double s0 = Unsafe.Add(ref ci, j);
                for (int p = 0; p < k; p++)
                {
                    s0 += alpha * Unsafe.Add(ref ai, p * ks) * Unsafe.Add(ref br, p * ldb + j);
                }
                Unsafe.Add(ref ci, j) = s0;
            }
        }
    }

    /// <summary>
    /// Rows row .. row+3 of <see cref="GemmRowsVector512"/>: four rows of C share each load of B, so
    /// four independent FMA chains hide the FMA latency on these tiny products. Every entry of C
    /// still accumulates its k terms in the same order with the same operations as the one-row
    /// code (bitwise identical results).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemmFourRows(int row, int n, int k, double alpha, ref double ar, int rs, int ks, ref double br, int ldb,
        ref double cr, int ldc)
    {
        int i = row;
        ref double a0 = ref Unsafe.Add(ref ar, i * rs);
        ref double a1 = ref Unsafe.Add(ref ar, (i + 1) * rs);
        ref double a2 = ref Unsafe.Add(ref ar, (i + 2) * rs);
        ref double a3 = ref Unsafe.Add(ref ar, (i + 3) * rs);
        ref double c0 = ref Unsafe.Add(ref cr, i * ldc);
        ref double c1 = ref Unsafe.Add(ref cr, (i + 1) * ldc);
        ref double c2 = ref Unsafe.Add(ref cr, (i + 2) * ldc);
        ref double c3 = ref Unsafe.Add(ref cr, (i + 3) * ldc);
        int j = FourRowColumns<Vector512<double>>(0, n, k, alpha, ref a0, ref a1, ref a2, ref a3, ks, ref br, ldb,
            ref c0, ref c1, ref c2, ref c3);
        j = FourRowColumns<Vector256<double>>(j, n, k, alpha, ref a0, ref a1, ref a2, ref a3, ks, ref br, ldb,
            ref c0, ref c1, ref c2, ref c3);   // at most one 4-wide block
        for (; j < n; j++)
        {
            double s0 = Unsafe.Add(ref c0, j), s1 = Unsafe.Add(ref c1, j), s2 = Unsafe.Add(ref c2, j), s3 = Unsafe.Add(ref c3, j);
            for (int p = 0; p < k; p++)
            {
                double bpj = Unsafe.Add(ref br, p * ldb + j);
                int pk = p * ks;
                s0 += alpha * Unsafe.Add(ref a0, pk) * bpj;
                s1 += alpha * Unsafe.Add(ref a1, pk) * bpj;
                s2 += alpha * Unsafe.Add(ref a2, pk) * bpj;
                s3 += alpha * Unsafe.Add(ref a3, pk) * bpj;
            }
            Unsafe.Add(ref c0, j) = s0;
            Unsafe.Add(ref c1, j) = s1;
            Unsafe.Add(ref c2, j) = s2;
            Unsafe.Add(ref c3, j) = s3;
        }
    }

    /// <summary>
    /// Columns j.. of <see cref="GemmFourRows"/> that whole vectors of type T (Vector512 or
    /// Vector256) cover: C[r, j..j+w) += sum_p alpha a_r[p] B[p, j..j+w) for the four rows r, each
    /// with its own FMA chain; returns the first column left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FourRowColumns<T>(int j, int n, int k, double alpha, ref double a0, ref double a1, ref double a2,
        ref double a3, int ks, ref double br, int ldb, ref double c0, ref double c1, ref double c2, ref double c3)
        where T : struct
    {
        int w = Simd.Width<T>();
        for (; j + w <= n; j += w)
        {
            T s0 = Simd.Load<T>(ref c0, (nuint)j), s1 = Simd.Load<T>(ref c1, (nuint)j);
            T s2 = Simd.Load<T>(ref c2, (nuint)j), s3 = Simd.Load<T>(ref c3, (nuint)j);
            for (int p = 0; p < k; p++)
            {
                T bp = Simd.Load<T>(ref br, (nuint)(p * ldb + j));
                int pk = p * ks;
                s0 = Simd.Fma(Simd.Create<T>(alpha * Unsafe.Add(ref a0, pk)), bp, s0);
                s1 = Simd.Fma(Simd.Create<T>(alpha * Unsafe.Add(ref a1, pk)), bp, s1);
                s2 = Simd.Fma(Simd.Create<T>(alpha * Unsafe.Add(ref a2, pk)), bp, s2);
                s3 = Simd.Fma(Simd.Create<T>(alpha * Unsafe.Add(ref a3, pk)), bp, s3);
            }
            Simd.Store(s0, ref c0, (nuint)j);
            Simd.Store(s1, ref c1, (nuint)j);
            Simd.Store(s2, ref c2, (nuint)j);
            Simd.Store(s3, ref c3, (nuint)j);
        }
        return j;
    }

    /// <summary>As <see cref="FourRowColumns{T}"/> for one row of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OneRowColumns<T>(int j, int n, int k, double alpha, ref double ai, int ks, ref double br, int ldb,
        ref double ci)
        where T : struct
    {
        int w = Simd.Width<T>();
        for (; j + w <= n; j += w)
        {
            T s0 = Simd.Load<T>(ref ci, (nuint)j);
            for (int p = 0; p < k; p++)
            {
                s0 = Simd.Fma(Simd.Create<T>(alpha * Unsafe.Add(ref ai, p * ks)), Simd.Load<T>(ref br, (nuint)(p * ldb + j)), s0);
            }
            Simd.Store(s0, ref ci, (nuint)j);
        }
        return j;
    }

    /// <summary>
    /// A += alpha x y' (BLAS dger) for a rows x cols row-major A with leading dimension lda.
    /// </summary>
    public static void Ger(int rows, int cols, double alpha, ReadOnlySpan<double> x, ReadOnlySpan<double> y,
        Span<double> a, int lda)
    {
        for (int i = 0; i < rows; i++)
        {
            double s = alpha * x[i];
            if (s != 0)
            {
                Axpy(s, y[..cols], a.Slice(i * lda, cols));
            }
        }
    }

    /// <summary>
    /// A = 0 + ((scale p_i) x_j + (scale q_i) z_j) for the rows x cols row-major A (leading
    /// dimension cols): a rank-2 outer product written over A, each entry bitwise what
    /// <see cref="Axpy2"/> with <c>overwrite</c> gives for row i. A row is written in vector
    /// chunks (Vector512 from 8 columns, Vector256 from 4), the last chunk ending at the row's end
    /// and overlapping its neighbour (entries written twice get the same value), so no scalar
    /// tail is left; x and z stay in registers when a row is at most two chunks.
    /// </summary>
    public static void Ger2(int rows, int cols, double scale, ReadOnlySpan<double> p, ReadOnlySpan<double> x,
        ReadOnlySpan<double> q, ReadOnlySpan<double> z, Span<double> a)
    {
        Debug.Assert(p.Length >= rows && q.Length >= rows && x.Length >= cols && z.Length >= cols && a.Length >= rows * cols);
        if (Vector512.IsHardwareAccelerated && cols >= Vector512<double>.Count)
        {
            Ger2Chunks<Vector512<double>>(rows, cols, scale, p, x, q, z, a);
        }
        else if (Vector256.IsHardwareAccelerated && cols >= Vector256<double>.Count)
        {
            Ger2Chunks<Vector256<double>>(rows, cols, scale, p, x, q, z, a);
        }
        else
        {
            for (int i = 0; i < rows; i++)
            {
                Axpy2(scale * p[i], x[..cols], scale * q[i], z[..cols], a.Slice(i * cols, cols), overwrite: true);
            }
        }
    }

    /// <summary>
    /// y = 0 + x elementwise: a copy, except that -0 becomes +0, bitwise what clearing y and adding
    /// x gives (<see cref="Axpy"/> with alpha 1). In overlapping vector chunks when x holds at least one.
    /// </summary>
    public static void CopyPlusZero(ReadOnlySpan<double> x, Span<double> y)
    {
        Debug.Assert(x.Length == y.Length);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<double>.Count)
        {
            CopyPlusZeroChunks<Vector512<double>>(x, y);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<double>.Count)
        {
            CopyPlusZeroChunks<Vector256<double>>(x, y);
        }
        else
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = 0.0 + x[i];
            }
        }
    }

    /// <summary><see cref="CopyPlusZero"/> in chunks of TV, the last one overlapping (x at least one chunk).</summary>
    private static void CopyPlusZeroChunks<TV>(ReadOnlySpan<double> x, Span<double> y)
        where TV : struct
    {
        nuint w = (nuint)Simd.Width<TV>(), last = (nuint)x.Length - w;
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        for (nuint i = 0; i < last; i += w)
        {
            Simd.Store(Simd.Add(Simd.Zero<TV>(), Simd.Load<TV>(ref xr, i)), ref yr, i);
        }
        Simd.Store(Simd.Add(Simd.Zero<TV>(), Simd.Load<TV>(ref xr, last)), ref yr, last);
    }

    /// <summary><see cref="Ger2"/> in chunks of TV (cols at least one chunk).</summary>
    private static void Ger2Chunks<TV>(int rows, int cols, double scale, ReadOnlySpan<double> p, ReadOnlySpan<double> x,
        ReadOnlySpan<double> q, ReadOnlySpan<double> z, Span<double> a)
        where TV : struct
    {
        int w = Simd.Width<TV>();
        nuint last = (nuint)(cols - w);
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double zr = ref MemoryMarshal.GetReference(z);
        ref double ar = ref MemoryMarshal.GetReference(a);
        TV x0 = Simd.Load<TV>(ref xr, 0), z0 = Simd.Load<TV>(ref zr, 0);
        TV x1 = Simd.Load<TV>(ref xr, last), z1 = Simd.Load<TV>(ref zr, last);
        for (int i = 0; i < rows; i++)
        {
            TV al = Simd.Create<TV>(scale * p[i]), be = Simd.Create<TV>(scale * q[i]);
            ref double row = ref Unsafe.Add(ref ar, i * cols);
            Simd.Store(Simd.Add(Simd.Zero<TV>(), Simd.Add(Simd.Mul(al, x0), Simd.Mul(be, z0))), ref row, 0);
            for (nuint j = (nuint)w; j < last; j += (nuint)w)
            {
                TV v = Simd.Add(Simd.Mul(al, Simd.Load<TV>(ref xr, j)), Simd.Mul(be, Simd.Load<TV>(ref zr, j)));
                Simd.Store(Simd.Add(Simd.Zero<TV>(), v), ref row, j);
            }
            Simd.Store(Simd.Add(Simd.Zero<TV>(), Simd.Add(Simd.Mul(al, x1), Simd.Mul(be, z1))), ref row, last);
        }
    }
}
