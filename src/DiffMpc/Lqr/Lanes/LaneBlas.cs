// Batch-in-SIMD-lanes kernels: every "scalar" is a vector T (Vector512<double>, or Vector256<double>
// where AVX-512 is missing; see Simd) whose lane j holds the same matrix entry of batch element j,
// so each operation is one plain FMA on eight (four) problems at once,
// with no tails and no horizontal reductions. Matrices are arrays of such vectors, addressed with
// explicit row and column strides (element (i, j) of A is a[i * rs + j * cs]), which lets one
// kernel serve A, A' and sub-blocks. Lanes never mix: a NaN or a bad pivot in one lane leaves the
// other lanes' results bitwise unchanged.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using DiffMpc.LinearAlgebra;

namespace DiffMpc.Lqr.Lanes;

/// <summary>BLAS/LAPACK-named small kernels over lane-packed matrices (one problem per lane).</summary>
internal static class LaneBlas
{

    /// <summary>
    /// C = op(A) op(B) (or C += when <paramref name="accumulate"/>) for an M x Nc result with inner
    /// dimension K (BLAS dgemm with strides). With <paramref name="lowerOnly"/> only entries with
    /// j &lt;= i are needed (a symmetric result): rows stop at their diagonal block (a few entries
    /// just above the diagonal may be written too). Register-blocked: 4-row panels, then a 2-row
    /// and a 1-row panel; each panel in 4-, 2- and 1-column blocks, so every block keeps several
    /// independent FMA chains. With a non-empty <paramref name="init"/> (same layout as C) and
    /// <paramref name="accumulate"/>, C = init + op(A) op(B) without a separate copy of init.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own: its inlined blocks get a full inlining budget
    public static void Gemm<T>(int M, int Nc, int K, ReadOnlySpan<T> a, int ars, int acs, ReadOnlySpan<T> b, int brs, int bcs,
        Span<T> c, int ldc, bool accumulate, bool lowerOnly = false, ReadOnlySpan<T> init = default)
        where T : struct
    {
        ref T A = ref Unsafe.AsRef(in a[0]);
        ref T Bm = ref Unsafe.AsRef(in b[0]);
        ref T C = ref c[0];
        ref T I = ref init.IsEmpty ? ref C : ref Unsafe.AsRef(in init[0]);
        int i = 0;
        for (; i + 4 <= M; i += 4)
        {
            Panel<T, Four>(i, lowerOnly ? Math.Min(Nc, i + 4) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
        }
        if (i + 2 <= M)
        {
            Panel<T, Two>(i, lowerOnly ? Math.Min(Nc, i + 2) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
            i += 2;
        }
        if (i < M)
        {
            Panel<T, One>(i, lowerOnly ? Math.Min(Nc, i + 1) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
        }
    }

    /// <summary>Rows i .. i + TR - 1, columns 0 .. cols - 1 of <see cref="Gemm"/>: 4-, then 2-, then 1-column blocks.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own: its three inlined blocks get a full inlining budget
    private static void Panel<T, TR>(int i, int cols, int K, ref T A, int ars, int acs, ref T Bm, int brs, int bcs, ref T C, ref T I,
        int ldc, bool accumulate)
        where T : struct
        where TR : struct, IBlockSize
    {
        ref T Ai = ref Unsafe.Add(ref A, i * ars);
        int j = 0;
        for (; j + 4 <= cols; j += 4)
        {
            Block<T, TR, Four>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
        }
        if (j + 2 <= cols)
        {
            Block<T, TR, Two>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
            j += 2;
        }
        if (j < cols)
        {
            Block<T, TR, One>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
        }
    }

    /// <summary>A block size (1, 2 or 4) known to the JIT as a constant of the instantiation.</summary>
    private interface IBlockSize
    {
        static abstract int Size { get; }
    }

    private readonly struct One : IBlockSize
    {
        public static int Size => 1;
    }

    private readonly struct Two : IBlockSize
    {
        public static int Size => 2;
    }

    private readonly struct Four : IBlockSize
    {
        public static int Size => 4;
    }

    /// <summary>
    /// A TR x TC register block of <see cref="Gemm"/> (TR, TC in {1, 2, 4}): TR * TC independent
    /// accumulators, TR + TC loads per TR * TC FMAs. The sizes are constants of the generic
    /// instantiation, so the unused accumulators and branches vanish from the compiled code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<T, TR, TC>(int K, ref T A, int ars, int acs, ref T Bm, int brs, int bcs, ref T C, ref T I, int ldc,
        bool accumulate)
        where T : struct
        where TR : struct, IBlockSize
        where TC : struct, IBlockSize
    {
        int R = TR.Size, Nb = TC.Size;
        T s00 = Simd.Zero<T>(), s01 = Simd.Zero<T>(), s02 = Simd.Zero<T>(), s03 = Simd.Zero<T>(), s10 = Simd.Zero<T>(), s11 = Simd.Zero<T>(), s12 = Simd.Zero<T>(), s13 = Simd.Zero<T>();
        T s20 = Simd.Zero<T>(), s21 = Simd.Zero<T>(), s22 = Simd.Zero<T>(), s23 = Simd.Zero<T>(), s30 = Simd.Zero<T>(), s31 = Simd.Zero<T>(), s32 = Simd.Zero<T>(), s33 = Simd.Zero<T>();
        if (accumulate)
        {
            Load(ref I, Nb, ref s00, ref s01, ref s02, ref s03);
            if (R > 1)
            {
                Load(ref Unsafe.Add(ref I, ldc), Nb, ref s10, ref s11, ref s12, ref s13);
            }
            if (R > 2)
            {
                Load(ref Unsafe.Add(ref I, 2 * ldc), Nb, ref s20, ref s21, ref s22, ref s23);
                Load(ref Unsafe.Add(ref I, 3 * ldc), Nb, ref s30, ref s31, ref s32, ref s33);
            }
        }
        for (int k = 0; k < K; k++)
        {
            ref T ak = ref Unsafe.Add(ref A, k * acs);
            ref T bk = ref Unsafe.Add(ref Bm, k * brs);
            T b0 = bk;
            T b1 = Nb > 1 ? Unsafe.Add(ref bk, bcs) : default;
            T b2 = Nb > 2 ? Unsafe.Add(ref bk, 2 * bcs) : default;
            T b3 = Nb > 2 ? Unsafe.Add(ref bk, 3 * bcs) : default;
            Fma(ak, Nb, b0, b1, b2, b3, ref s00, ref s01, ref s02, ref s03);
            if (R > 1)
            {
                Fma(Unsafe.Add(ref ak, ars), Nb, b0, b1, b2, b3, ref s10, ref s11, ref s12, ref s13);
            }
            if (R > 2)
            {
                Fma(Unsafe.Add(ref ak, 2 * ars), Nb, b0, b1, b2, b3, ref s20, ref s21, ref s22, ref s23);
                Fma(Unsafe.Add(ref ak, 3 * ars), Nb, b0, b1, b2, b3, ref s30, ref s31, ref s32, ref s33);
            }
        }
        Store(ref C, Nb, s00, s01, s02, s03);
        if (R > 1)
        {
            Store(ref Unsafe.Add(ref C, ldc), Nb, s10, s11, s12, s13);
        }
        if (R > 2)
        {
            Store(ref Unsafe.Add(ref C, 2 * ldc), Nb, s20, s21, s22, s23);
            Store(ref Unsafe.Add(ref C, 3 * ldc), Nb, s30, s31, s32, s33);
        }
    }

    /// <summary>One row of a block: s_j += a b_j for the first <paramref name="nb"/> columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fma<T>(T a, int nb, T b0, T b1, T b2, T b3, ref T s0, ref T s1, ref T s2, ref T s3)
        where T : struct
    {
        s0 = Simd.Fma(a, b0, s0);
        if (nb > 1)
        {
            s1 = Simd.Fma(a, b1, s1);
        }
        if (nb > 2)
        {
            s2 = Simd.Fma(a, b2, s2);
            s3 = Simd.Fma(a, b3, s3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load<T>(ref T src, int nb, ref T s0, ref T s1, ref T s2, ref T s3)
        where T : struct
    {
        s0 = src;
        if (nb > 1)
        {
            s1 = Unsafe.Add(ref src, 1);
        }
        if (nb > 2)
        {
            s2 = Unsafe.Add(ref src, 2);
            s3 = Unsafe.Add(ref src, 3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(ref T dst, int nb, T s0, T s1, T s2, T s3)
        where T : struct
    {
        dst = s0;
        if (nb > 1)
        {
            Unsafe.Add(ref dst, 1) = s1;
        }
        if (nb > 2)
        {
            Unsafe.Add(ref dst, 2) = s2;
            Unsafe.Add(ref dst, 3) = s3;
        }
    }

    /// <summary>
    /// y = op(A) x (or y += when <paramref name="accumulate"/>) for an M x K op(A) (BLAS dgemv with
    /// strides). Rows are processed eight, then four, two and one at a time, so each x load feeds
    /// several independent FMA chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own: its inlined blocks get a full inlining budget
    public static void Gemv<T>(int M, int K, ReadOnlySpan<T> a, int ars, int acs, ReadOnlySpan<T> x, Span<T> y, bool accumulate)
        where T : struct
    {
        Debug.Assert(y.Length >= M && x.Length >= K);
        ref T A = ref Unsafe.AsRef(in a[0]);
        ref T X = ref Unsafe.AsRef(in x[0]);
        ref T Y = ref y[0];
        int i = 0;
        for (; i + 8 <= M; i += 8)
        {
            GemvRows<T, Four>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: true);
        }
        if (i + 4 <= M)
        {
            GemvRows<T, Four>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
            i += 4;
        }
        if (i + 2 <= M)
        {
            GemvRows<T, Two>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
            i += 2;
        }
        if (i < M)
        {
            GemvRows<T, One>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
        }
    }

    /// <summary>TR rows of <see cref="Gemv"/> (twice TR rows with <paramref name="twoPanels"/>), one accumulator per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemvRows<T, TR>(int K, ref T A, int ars, int acs, ref T X, ref T Y, bool accumulate, bool twoPanels)
        where T : struct
        where TR : struct, IBlockSize
    {
        int R = TR.Size;
        T s0 = Simd.Zero<T>(), s1 = Simd.Zero<T>(), s2 = Simd.Zero<T>(), s3 = Simd.Zero<T>(), s4 = Simd.Zero<T>(), s5 = Simd.Zero<T>(), s6 = Simd.Zero<T>(), s7 = Simd.Zero<T>();
        if (accumulate)
        {
            Load(ref Y, R, ref s0, ref s1, ref s2, ref s3);
            if (twoPanels)
            {
                Load(ref Unsafe.Add(ref Y, 4), R, ref s4, ref s5, ref s6, ref s7);
            }
        }
        ref T A4 = ref Unsafe.Add(ref A, 4 * ars);
        for (int k = 0; k < K; k++)
        {
            T xk = Unsafe.Add(ref X, k);
            ref T ak = ref Unsafe.Add(ref A, k * acs);
            s0 = Simd.Fma(ak, xk, s0);
            if (R > 1)
            {
                s1 = Simd.Fma(Unsafe.Add(ref ak, ars), xk, s1);
            }
            if (R > 2)
            {
                s2 = Simd.Fma(Unsafe.Add(ref ak, 2 * ars), xk, s2);
                s3 = Simd.Fma(Unsafe.Add(ref ak, 3 * ars), xk, s3);
            }
            if (twoPanels)
            {
                ref T bk = ref Unsafe.Add(ref A4, k * acs);
                s4 = Simd.Fma(bk, xk, s4);
                s5 = Simd.Fma(Unsafe.Add(ref bk, ars), xk, s5);
                s6 = Simd.Fma(Unsafe.Add(ref bk, 2 * ars), xk, s6);
                s7 = Simd.Fma(Unsafe.Add(ref bk, 3 * ars), xk, s7);
            }
        }
        Store(ref Y, R, s0, s1, s2, s3);
        if (twoPanels)
        {
            Store(ref Unsafe.Add(ref Y, 4), R, s4, s5, s6, s7);
        }
    }

    /// <summary>
    /// Lower Cholesky factor of the m x m lane matrix <paramref name="a"/> (lower triangle read,
    /// LAPACK dpotrf uplo = 'L') into <paramref name="l"/> (m x m, lower triangle written) and
    /// the reciprocal diagonal into <paramref name="dinv"/>. A lane whose pivot is not positive
    /// and finite is flagged in the returned mask (all bits set) and continues with pivot 1, so it
    /// never disturbs the other lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own: its inlined blocks get a full inlining budget
    public static T Potrf<T>(int m, ReadOnlySpan<T> a, int lda, Span<T> l, Span<T> dinv)
        where T : struct
    {
        LinearAlgebra.FactorizationCounter.Increment();
        Debug.Assert(l.Length >= m * m && dinv.Length >= m);
        T bad = Simd.Zero<T>();
        for (int j = 0; j < m; j++)
        {
            T d = a[j * lda + j];
            for (int p = 0; p < j; p++)
            {
                T ljp = l[j * m + p];
                d = Simd.Fma(Simd.Neg(ljp), ljp, d);
            }
            T ok = Simd.And(Simd.GreaterThan(d, Simd.Zero<T>()), Simd.Not(Simd.NonFinite(d)));
            bad = Simd.Or(bad, Simd.Not(ok));
            d = Simd.Select(ok, d, Simd.Create<T>(1.0));
            T ljj = Simd.Sqrt(d);
            T inv = Simd.Div(Simd.Create<T>(1.0), ljj);
            l[j * m + j] = ljj;
            dinv[j] = inv;
            for (int i = j + 1; i < m; i++)
            {
                T s = a[i * lda + j];
                for (int p = 0; p < j; p++)
                {
                    s = Simd.Fma(Simd.Neg(l[i * m + p]), l[j * m + p], s);
                }
                l[i * m + j] = Simd.Mul(s, inv);
            }
        }
        return bad;
    }

    /// <summary>
    /// Solves (L L') X = R in place for an m x nrhs lane right-hand side R with leading dimension
    /// ldr, given L and its reciprocal diagonal from <see cref="Potrf"/> (LAPACK dpotrs).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own: its inlined blocks get a full inlining budget
    public static void Potrs<T>(int m, int nrhs, ReadOnlySpan<T> l, ReadOnlySpan<T> dinv, Span<T> r, int ldr)
        where T : struct
    {
        Debug.Assert(l.Length >= m * m && dinv.Length >= m && r.Length >= (m - 1) * ldr + nrhs);
        ref T L = ref MemoryMarshal.GetReference(l);
        ref T D = ref MemoryMarshal.GetReference(dinv);
        ref T R = ref MemoryMarshal.GetReference(r);
        for (int i = 0; i < m; i++)
        {
            ref T ri = ref Unsafe.Add(ref R, i * ldr);
            for (int p = 0; p < i; p++)
            {
                Axpy(nrhs, Simd.Neg(Unsafe.Add(ref L, i * m + p)), ref Unsafe.Add(ref R, p * ldr), ref ri);
            }
            Scale(nrhs, Unsafe.Add(ref D, i), ref ri);
        }
        for (int i = m - 1; i >= 0; i--)
        {
            ref T ri = ref Unsafe.Add(ref R, i * ldr);
            for (int p = i + 1; p < m; p++)
            {
                Axpy(nrhs, Simd.Neg(Unsafe.Add(ref L, p * m + i)), ref Unsafe.Add(ref R, p * ldr), ref ri);
            }
            Scale(nrhs, Unsafe.Add(ref D, i), ref ri);
        }
    }

    /// <summary>y[0..count) += alpha x[0..count) (lane vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy<T>(int count, T alpha, ref T x, ref T y)
        where T : struct
    {
        for (int j = 0; j < count; j++)
        {
            Unsafe.Add(ref y, j) = Simd.Fma(alpha, Unsafe.Add(ref x, j), Unsafe.Add(ref y, j));
        }
    }

    /// <summary>x[0..count) *= alpha (lane vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale<T>(int count, T alpha, ref T x)
        where T : struct
    {
        for (int j = 0; j < count; j++)
        {
            Unsafe.Add(ref x, j) = Simd.Mul(Unsafe.Add(ref x, j), alpha);
        }
    }

    /// <summary>
    /// y += A x for a symmetric n x n lane matrix A given by its lower triangle packed by rows,
    /// <paramref name="ap"/>[i(i+1)/2 + j] = A_ij for j &lt;= i (n(n+1)/2 vectors): each stored
    /// entry is read once and used for A_ij and A_ji (LAPACK dspmv reads the same triangle, packed
    /// by columns).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // a root of its own, like Gemm and Potrs
    public static void Spmv<T>(int n, ReadOnlySpan<T> ap, ReadOnlySpan<T> x, Span<T> y)
        where T : struct
    {
        Debug.Assert(ap.Length >= n * (n + 1) / 2 && x.Length >= n && y.Length >= n);
        ref T A = ref MemoryMarshal.GetReference(ap);
        ref T X = ref MemoryMarshal.GetReference(x);
        ref T Y = ref MemoryMarshal.GetReference(y);
        for (int i = 0; i < n; i++)
        {
            ref T row = ref Unsafe.Add(ref A, i * (i + 1) / 2);
            T xi = Unsafe.Add(ref X, i);
            T s0 = Simd.Mul(Unsafe.Add(ref row, i), xi), s1 = Simd.Zero<T>();
            int j = 0;
            for (; j + 1 < i; j += 2)
            {
                T a0 = Unsafe.Add(ref row, j), a1 = Unsafe.Add(ref row, j + 1);
                s0 = Simd.Fma(a0, Unsafe.Add(ref X, j), s0);
                s1 = Simd.Fma(a1, Unsafe.Add(ref X, j + 1), s1);
                Unsafe.Add(ref Y, j) = Simd.Fma(a0, xi, Unsafe.Add(ref Y, j));
                Unsafe.Add(ref Y, j + 1) = Simd.Fma(a1, xi, Unsafe.Add(ref Y, j + 1));
            }
            if (j < i)
            {
                T a0 = Unsafe.Add(ref row, j);
                s0 = Simd.Fma(a0, Unsafe.Add(ref X, j), s0);
                Unsafe.Add(ref Y, j) = Simd.Fma(a0, xi, Unsafe.Add(ref Y, j));
            }
            Unsafe.Add(ref Y, i) = Simd.Add(Unsafe.Add(ref Y, i), Simd.Add(s0, s1));
        }
    }

    /// <summary>
    /// check += sum of x_i * 0: the lanes of <paramref name="check"/> stay +-0 while every x_i is
    /// finite and become NaN otherwise (a finiteness test at one FMA per vector; four partial
    /// sums keep the dependency chain short).
    /// </summary>
    public static void AddZeroProducts<T>(ReadOnlySpan<T> x, ref T check)
        where T : struct
    {
        T a0 = Simd.Zero<T>(), a1 = Simd.Zero<T>(), a2 = Simd.Zero<T>(), a3 = Simd.Zero<T>();
        int i = 0;
        for (; i + 3 < x.Length; i += 4)
        {
            a0 = Simd.Fma(x[i], Simd.Zero<T>(), a0);
            a1 = Simd.Fma(x[i + 1], Simd.Zero<T>(), a1);
            a2 = Simd.Fma(x[i + 2], Simd.Zero<T>(), a2);
            a3 = Simd.Fma(x[i + 3], Simd.Zero<T>(), a3);
        }
        for (; i < x.Length; i++)
        {
            a0 = Simd.Fma(x[i], Simd.Zero<T>(), a0);
        }
        check = Simd.Add(check, Simd.Add(Simd.Add(a0, a1), Simd.Add(a2, a3)));
    }

    /// <summary>dst = src for lane vectors (a plain loop: the spans are a few vectors long, below the size where a block copy pays).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<T>(ReadOnlySpan<T> src, Span<T> dst)
        where T : struct
    {
        Debug.Assert(dst.Length >= src.Length);
        ref T s = ref MemoryMarshal.GetReference(src);
        ref T d = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < src.Length; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);
        }
    }
}
