// Batch-in-SIMD-lanes kernels: every "scalar" is a Vector512<double> whose lane j holds the same
// matrix entry of batch element j, so each operation is one plain FMA on eight problems at once,
// with no tails and no horizontal reductions. Matrices are arrays of such vectors, addressed with
// explicit row and column strides (element (i, j) of A is a[i * rs + j * cs]), which lets one
// kernel serve A, A' and sub-blocks. Lanes never mix: a NaN or a bad pivot in one lane leaves the
// other lanes' results bitwise unchanged.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using V = System.Runtime.Intrinsics.Vector512<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>BLAS/LAPACK-named small kernels over lane-packed matrices (8 problems per vector).</summary>
internal static class LaneBlas
{
    /// <summary>Problems per vector.</summary>
    public const int Width = 8;

    /// <summary>
    /// C = op(A) op(B) (or C += when <paramref name="accumulate"/>) for an M x Nc result with inner
    /// dimension K (BLAS dgemm with strides). With <paramref name="lowerOnly"/> only entries with
    /// j &lt;= i are needed (a symmetric result): rows stop at their diagonal block (a few entries
    /// just above the diagonal may be written too). Register-blocked: 4-row panels, then a 2-row
    /// and a 1-row panel; each panel in 4-, 2- and 1-column blocks, so every block keeps several
    /// independent FMA chains. With a non-empty <paramref name="init"/> (same layout as C) and
    /// <paramref name="accumulate"/>, C = init + op(A) op(B) without a separate copy of init.
    /// </summary>
    public static void Gemm(int M, int Nc, int K, ReadOnlySpan<V> a, int ars, int acs, ReadOnlySpan<V> b, int brs, int bcs,
        Span<V> c, int ldc, bool accumulate, bool lowerOnly = false, ReadOnlySpan<V> init = default)
    {
        ref V A = ref Unsafe.AsRef(in a[0]);
        ref V Bm = ref Unsafe.AsRef(in b[0]);
        ref V C = ref c[0];
        ref V I = ref init.IsEmpty ? ref C : ref Unsafe.AsRef(in init[0]);
        int i = 0;
        for (; i + 4 <= M; i += 4)
        {
            Panel<Four>(i, lowerOnly ? Math.Min(Nc, i + 4) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
        }
        if (i + 2 <= M)
        {
            Panel<Two>(i, lowerOnly ? Math.Min(Nc, i + 2) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
            i += 2;
        }
        if (i < M)
        {
            Panel<One>(i, lowerOnly ? Math.Min(Nc, i + 1) : Nc, K, ref A, ars, acs, ref Bm, brs, bcs, ref C, ref I, ldc, accumulate);
        }
    }

    /// <summary>Rows i .. i + TR - 1, columns 0 .. cols - 1 of <see cref="Gemm"/>: 4-, then 2-, then 1-column blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Panel<TR>(int i, int cols, int K, ref V A, int ars, int acs, ref V Bm, int brs, int bcs, ref V C, ref V I,
        int ldc, bool accumulate)
        where TR : struct, IBlockSize
    {
        ref V Ai = ref Unsafe.Add(ref A, i * ars);
        int j = 0;
        for (; j + 4 <= cols; j += 4)
        {
            Block<TR, Four>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
        }
        if (j + 2 <= cols)
        {
            Block<TR, Two>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
            j += 2;
        }
        if (j < cols)
        {
            Block<TR, One>(K, ref Ai, ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
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
    private static void Block<TR, TC>(int K, ref V A, int ars, int acs, ref V Bm, int brs, int bcs, ref V C, ref V I, int ldc,
        bool accumulate)
        where TR : struct, IBlockSize
        where TC : struct, IBlockSize
    {
        int R = TR.Size, Nb = TC.Size;
        V s00 = V.Zero, s01 = V.Zero, s02 = V.Zero, s03 = V.Zero, s10 = V.Zero, s11 = V.Zero, s12 = V.Zero, s13 = V.Zero;
        V s20 = V.Zero, s21 = V.Zero, s22 = V.Zero, s23 = V.Zero, s30 = V.Zero, s31 = V.Zero, s32 = V.Zero, s33 = V.Zero;
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
            ref V ak = ref Unsafe.Add(ref A, k * acs);
            ref V bk = ref Unsafe.Add(ref Bm, k * brs);
            V b0 = bk;
            V b1 = Nb > 1 ? Unsafe.Add(ref bk, bcs) : default;
            V b2 = Nb > 2 ? Unsafe.Add(ref bk, 2 * bcs) : default;
            V b3 = Nb > 2 ? Unsafe.Add(ref bk, 3 * bcs) : default;
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
    private static void Fma(V a, int nb, V b0, V b1, V b2, V b3, ref V s0, ref V s1, ref V s2, ref V s3)
    {
        s0 = Vector512.FusedMultiplyAdd(a, b0, s0);
        if (nb > 1)
        {
            s1 = Vector512.FusedMultiplyAdd(a, b1, s1);
        }
        if (nb > 2)
        {
            s2 = Vector512.FusedMultiplyAdd(a, b2, s2);
            s3 = Vector512.FusedMultiplyAdd(a, b3, s3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load(ref V src, int nb, ref V s0, ref V s1, ref V s2, ref V s3)
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
    private static void Store(ref V dst, int nb, V s0, V s1, V s2, V s3)
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

    /// <summary>c = (init or 0) + sum_k a[k * acs] b[k * brs].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot(int K, ref V a, int acs, ref V b, int brs, ref V c, V init, bool accumulate)
    {
        V s = accumulate ? init : V.Zero;
        for (int k = 0; k < K; k++)
        {
            s = Vector512.FusedMultiplyAdd(Unsafe.Add(ref a, k * acs), Unsafe.Add(ref b, k * brs), s);
        }
        c = s;
    }

    /// <summary>
    /// y = op(A) x (or y += when <paramref name="accumulate"/>) for an M x K op(A) (BLAS dgemv with
    /// strides). Rows are processed eight, then four, two and one at a time, so each x load feeds
    /// several independent FMA chains.
    /// </summary>
    public static void Gemv(int M, int K, ReadOnlySpan<V> a, int ars, int acs, ReadOnlySpan<V> x, Span<V> y, bool accumulate)
    {
        Debug.Assert(y.Length >= M && x.Length >= K);
        ref V A = ref Unsafe.AsRef(in a[0]);
        ref V X = ref Unsafe.AsRef(in x[0]);
        ref V Y = ref y[0];
        int i = 0;
        for (; i + 8 <= M; i += 8)
        {
            GemvRows<Four>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: true);
        }
        if (i + 4 <= M)
        {
            GemvRows<Four>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
            i += 4;
        }
        if (i + 2 <= M)
        {
            GemvRows<Two>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
            i += 2;
        }
        if (i < M)
        {
            GemvRows<One>(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref X, ref Unsafe.Add(ref Y, i), accumulate, twoPanels: false);
        }
    }

    /// <summary>TR rows of <see cref="Gemv"/> (twice TR rows with <paramref name="twoPanels"/>), one accumulator per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemvRows<TR>(int K, ref V A, int ars, int acs, ref V X, ref V Y, bool accumulate, bool twoPanels)
        where TR : struct, IBlockSize
    {
        int R = TR.Size;
        V s0 = V.Zero, s1 = V.Zero, s2 = V.Zero, s3 = V.Zero, s4 = V.Zero, s5 = V.Zero, s6 = V.Zero, s7 = V.Zero;
        if (accumulate)
        {
            Load(ref Y, R, ref s0, ref s1, ref s2, ref s3);
            if (twoPanels)
            {
                Load(ref Unsafe.Add(ref Y, 4), R, ref s4, ref s5, ref s6, ref s7);
            }
        }
        ref V A4 = ref Unsafe.Add(ref A, 4 * ars);
        for (int k = 0; k < K; k++)
        {
            V xk = Unsafe.Add(ref X, k);
            ref V ak = ref Unsafe.Add(ref A, k * acs);
            s0 = Vector512.FusedMultiplyAdd(ak, xk, s0);
            if (R > 1)
            {
                s1 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, ars), xk, s1);
            }
            if (R > 2)
            {
                s2 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, 2 * ars), xk, s2);
                s3 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, 3 * ars), xk, s3);
            }
            if (twoPanels)
            {
                ref V bk = ref Unsafe.Add(ref A4, k * acs);
                s4 = Vector512.FusedMultiplyAdd(bk, xk, s4);
                s5 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref bk, ars), xk, s5);
                s6 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref bk, 2 * ars), xk, s6);
                s7 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref bk, 3 * ars), xk, s7);
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
    public static V Potrf(int m, ReadOnlySpan<V> a, int lda, Span<V> l, Span<V> dinv)
    {
        LinearAlgebra.FactorizationCounter.Increment();
        Debug.Assert(l.Length >= m * m && dinv.Length >= m);
        V bad = V.Zero;
        for (int j = 0; j < m; j++)
        {
            V d = a[j * lda + j];
            for (int p = 0; p < j; p++)
            {
                V ljp = l[j * m + p];
                d = Vector512.FusedMultiplyAdd(-ljp, ljp, d);
            }
            V ok = Vector512.GreaterThan(d, V.Zero) & Vector512.Equals(d - d, V.Zero);
            bad |= ~ok;
            d = Vector512.ConditionalSelect(ok, d, V.One);
            V ljj = Vector512.Sqrt(d);
            V inv = V.One / ljj;
            l[j * m + j] = ljj;
            dinv[j] = inv;
            for (int i = j + 1; i < m; i++)
            {
                V s = a[i * lda + j];
                for (int p = 0; p < j; p++)
                {
                    s = Vector512.FusedMultiplyAdd(-l[i * m + p], l[j * m + p], s);
                }
                l[i * m + j] = s * inv;
            }
        }
        return bad;
    }

    /// <summary>
    /// Solves (L L') X = R in place for an m x nrhs lane right-hand side R with leading dimension
    /// ldr, given L and its reciprocal diagonal from <see cref="Potrf"/> (LAPACK dpotrs).
    /// </summary>
    public static void Potrs(int m, int nrhs, ReadOnlySpan<V> l, ReadOnlySpan<V> dinv, Span<V> r, int ldr)
    {
        Debug.Assert(l.Length >= m * m && dinv.Length >= m && r.Length >= (m - 1) * ldr + nrhs);
        ref V L = ref MemoryMarshal.GetReference(l);
        ref V D = ref MemoryMarshal.GetReference(dinv);
        ref V R = ref MemoryMarshal.GetReference(r);
        for (int i = 0; i < m; i++)
        {
            ref V ri = ref Unsafe.Add(ref R, i * ldr);
            for (int p = 0; p < i; p++)
            {
                Axpy(nrhs, -Unsafe.Add(ref L, i * m + p), ref Unsafe.Add(ref R, p * ldr), ref ri);
            }
            Scale(nrhs, Unsafe.Add(ref D, i), ref ri);
        }
        for (int i = m - 1; i >= 0; i--)
        {
            ref V ri = ref Unsafe.Add(ref R, i * ldr);
            for (int p = i + 1; p < m; p++)
            {
                Axpy(nrhs, -Unsafe.Add(ref L, p * m + i), ref Unsafe.Add(ref R, p * ldr), ref ri);
            }
            Scale(nrhs, Unsafe.Add(ref D, i), ref ri);
        }
    }

    /// <summary>y[0..count) += alpha x[0..count) (lane vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(int count, V alpha, ref V x, ref V y)
    {
        for (int j = 0; j < count; j++)
        {
            Unsafe.Add(ref y, j) = Vector512.FusedMultiplyAdd(alpha, Unsafe.Add(ref x, j), Unsafe.Add(ref y, j));
        }
    }

    /// <summary>x[0..count) *= alpha (lane vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale(int count, V alpha, ref V x)
    {
        for (int j = 0; j < count; j++)
        {
            Unsafe.Add(ref x, j) *= alpha;
        }
    }

    /// <summary>All-bits-set in the lanes where x is not finite (NaN or infinite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V NonFinite(V x) => ~Vector512.Equals(x - x, V.Zero);

    /// <summary>
    /// check += sum of x_i * 0: the lanes of <paramref name="check"/> stay +-0 while every x_i is
    /// finite and become NaN otherwise (a finiteness test at one FMA per vector; four partial
    /// sums keep the dependency chain short).
    /// </summary>
    public static void AddZeroProducts(ReadOnlySpan<V> x, ref V check)
    {
        V a0 = V.Zero, a1 = V.Zero, a2 = V.Zero, a3 = V.Zero;
        int i = 0;
        for (; i + 3 < x.Length; i += 4)
        {
            a0 = Vector512.FusedMultiplyAdd(x[i], V.Zero, a0);
            a1 = Vector512.FusedMultiplyAdd(x[i + 1], V.Zero, a1);
            a2 = Vector512.FusedMultiplyAdd(x[i + 2], V.Zero, a2);
            a3 = Vector512.FusedMultiplyAdd(x[i + 3], V.Zero, a3);
        }
        for (; i < x.Length; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(x[i], V.Zero, a0);
        }
        check += (a0 + a1) + (a2 + a3);
    }

    /// <summary>dst = src for lane vectors (a plain loop: the spans are a few vectors long, below the size where a block copy pays).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<V> src, Span<V> dst)
    {
        Debug.Assert(dst.Length >= src.Length);
        ref V s = ref MemoryMarshal.GetReference(src);
        ref V d = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < src.Length; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);
        }
    }
}
