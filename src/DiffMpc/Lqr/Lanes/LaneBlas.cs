// Batch-in-SIMD-lanes kernels: every "scalar" is a Vector512<double> whose lane j holds the same
// matrix entry of batch element j, so each operation is one plain FMA on eight problems at once,
// with no tails and no horizontal reductions. Matrices are arrays of such vectors, addressed with
// explicit row and column strides (element (i, j) of A is a[i * rs + j * cs]), which lets one
// kernel serve A, A' and sub-blocks. Lanes never mix: a NaN or a bad pivot in one lane leaves the
// other lanes' results bitwise unchanged.
using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    /// just above the diagonal may be written too). Register-blocked 4 x 4, then 2 x 4, 1 x 4 and
    /// single columns. With a non-empty <paramref name="init"/> (same layout as C) and
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
        for (; i + 3 < M; i += 4)
        {
            int cols = lowerOnly ? Math.Min(Nc, i + 4) : Nc;
            int j = 0;
            for (; j + 3 < cols; j += 4)
            {
                Block4x4(K, ref Unsafe.Add(ref A, i * ars), ars, acs, ref Unsafe.Add(ref Bm, j * bcs), brs, bcs,
                    ref Unsafe.Add(ref C, i * ldc + j), ref Unsafe.Add(ref I, i * ldc + j), ldc, accumulate);
            }
            for (; j < cols; j++)
            {
                for (int r = i; r < i + 4; r++)
                {
                    Dot(K, ref Unsafe.Add(ref A, r * ars), acs, ref Unsafe.Add(ref Bm, j * bcs), brs, ref Unsafe.Add(ref C, r * ldc + j),
                        Unsafe.Add(ref I, r * ldc + j), accumulate);
                }
            }
        }
        for (; i < M; i++)
        {
            int cols = lowerOnly ? Math.Min(Nc, i + 1) : Nc;
            int j = 0;
            for (; j + 3 < cols; j += 4)
            {
                ref V c0 = ref Unsafe.Add(ref C, i * ldc + j);
                ref V i0 = ref Unsafe.Add(ref I, i * ldc + j);
                V s0, s1, s2, s3;
                if (accumulate)
                {
                    s0 = i0; s1 = Unsafe.Add(ref i0, 1); s2 = Unsafe.Add(ref i0, 2); s3 = Unsafe.Add(ref i0, 3);
                }
                else
                {
                    s0 = s1 = s2 = s3 = V.Zero;
                }
                for (int k = 0; k < K; k++)
                {
                    V a0 = Unsafe.Add(ref A, i * ars + k * acs);
                    ref V bk = ref Unsafe.Add(ref Bm, k * brs + j * bcs);
                    s0 = Vector512.FusedMultiplyAdd(a0, bk, s0);
                    s1 = Vector512.FusedMultiplyAdd(a0, Unsafe.Add(ref bk, bcs), s1);
                    s2 = Vector512.FusedMultiplyAdd(a0, Unsafe.Add(ref bk, 2 * bcs), s2);
                    s3 = Vector512.FusedMultiplyAdd(a0, Unsafe.Add(ref bk, 3 * bcs), s3);
                }
                c0 = s0; Unsafe.Add(ref c0, 1) = s1; Unsafe.Add(ref c0, 2) = s2; Unsafe.Add(ref c0, 3) = s3;
            }
            for (; j < cols; j++)
            {
                Dot(K, ref Unsafe.Add(ref A, i * ars), acs, ref Unsafe.Add(ref Bm, j * bcs), brs, ref Unsafe.Add(ref C, i * ldc + j),
                    Unsafe.Add(ref I, i * ldc + j), accumulate);
            }
        }
    }

    /// <summary>The 4 x 4 register block of <see cref="Gemm"/>: 16 accumulators, 8 loads per 16 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x4(int K, ref V A, int ars, int acs, ref V Bm, int brs, int bcs, ref V C, ref V I, int ldc,
        bool accumulate)
    {
        ref V c0 = ref C;
        ref V c1 = ref Unsafe.Add(ref C, ldc);
        ref V c2 = ref Unsafe.Add(ref C, 2 * ldc);
        ref V c3 = ref Unsafe.Add(ref C, 3 * ldc);
        V s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33;
        if (accumulate)
        {
            ref V i0 = ref I;
            ref V i1 = ref Unsafe.Add(ref I, ldc);
            ref V i2 = ref Unsafe.Add(ref I, 2 * ldc);
            ref V i3 = ref Unsafe.Add(ref I, 3 * ldc);
            s00 = i0; s01 = Unsafe.Add(ref i0, 1); s02 = Unsafe.Add(ref i0, 2); s03 = Unsafe.Add(ref i0, 3);
            s10 = i1; s11 = Unsafe.Add(ref i1, 1); s12 = Unsafe.Add(ref i1, 2); s13 = Unsafe.Add(ref i1, 3);
            s20 = i2; s21 = Unsafe.Add(ref i2, 1); s22 = Unsafe.Add(ref i2, 2); s23 = Unsafe.Add(ref i2, 3);
            s30 = i3; s31 = Unsafe.Add(ref i3, 1); s32 = Unsafe.Add(ref i3, 2); s33 = Unsafe.Add(ref i3, 3);
        }
        else
        {
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = V.Zero;
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = V.Zero;
        }
        for (int k = 0; k < K; k++)
        {
            ref V ak = ref Unsafe.Add(ref A, k * acs);
            ref V bk = ref Unsafe.Add(ref Bm, k * brs);
            V b0 = bk, b1 = Unsafe.Add(ref bk, bcs), b2 = Unsafe.Add(ref bk, 2 * bcs), b3 = Unsafe.Add(ref bk, 3 * bcs);
            V a0 = ak;
            s00 = Vector512.FusedMultiplyAdd(a0, b0, s00);
            s01 = Vector512.FusedMultiplyAdd(a0, b1, s01);
            s02 = Vector512.FusedMultiplyAdd(a0, b2, s02);
            s03 = Vector512.FusedMultiplyAdd(a0, b3, s03);
            V a1 = Unsafe.Add(ref ak, ars);
            s10 = Vector512.FusedMultiplyAdd(a1, b0, s10);
            s11 = Vector512.FusedMultiplyAdd(a1, b1, s11);
            s12 = Vector512.FusedMultiplyAdd(a1, b2, s12);
            s13 = Vector512.FusedMultiplyAdd(a1, b3, s13);
            V a2 = Unsafe.Add(ref ak, 2 * ars);
            s20 = Vector512.FusedMultiplyAdd(a2, b0, s20);
            s21 = Vector512.FusedMultiplyAdd(a2, b1, s21);
            s22 = Vector512.FusedMultiplyAdd(a2, b2, s22);
            s23 = Vector512.FusedMultiplyAdd(a2, b3, s23);
            V a3 = Unsafe.Add(ref ak, 3 * ars);
            s30 = Vector512.FusedMultiplyAdd(a3, b0, s30);
            s31 = Vector512.FusedMultiplyAdd(a3, b1, s31);
            s32 = Vector512.FusedMultiplyAdd(a3, b2, s32);
            s33 = Vector512.FusedMultiplyAdd(a3, b3, s33);
        }
        c0 = s00; Unsafe.Add(ref c0, 1) = s01; Unsafe.Add(ref c0, 2) = s02; Unsafe.Add(ref c0, 3) = s03;
        c1 = s10; Unsafe.Add(ref c1, 1) = s11; Unsafe.Add(ref c1, 2) = s12; Unsafe.Add(ref c1, 3) = s13;
        c2 = s20; Unsafe.Add(ref c2, 1) = s21; Unsafe.Add(ref c2, 2) = s22; Unsafe.Add(ref c2, 3) = s23;
        c3 = s30; Unsafe.Add(ref c3, 1) = s31; Unsafe.Add(ref c3, 2) = s32; Unsafe.Add(ref c3, 3) = s33;
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
    /// strides). Rows are processed four at a time so each x load feeds four FMAs.
    /// </summary>
    public static void Gemv(int M, int K, ReadOnlySpan<V> a, int ars, int acs, ReadOnlySpan<V> x, Span<V> y, bool accumulate)
    {
        ref V A = ref Unsafe.AsRef(in a[0]);
        ref V X = ref Unsafe.AsRef(in x[0]);
        int i = 0;
        for (; i + 3 < M; i += 4)
        {
            V s0 = accumulate ? y[i] : V.Zero, s1 = accumulate ? y[i + 1] : V.Zero;
            V s2 = accumulate ? y[i + 2] : V.Zero, s3 = accumulate ? y[i + 3] : V.Zero;
            for (int k = 0; k < K; k++)
            {
                V xk = Unsafe.Add(ref X, k);
                ref V ak = ref Unsafe.Add(ref A, i * ars + k * acs);
                s0 = Vector512.FusedMultiplyAdd(ak, xk, s0);
                s1 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, ars), xk, s1);
                s2 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, 2 * ars), xk, s2);
                s3 = Vector512.FusedMultiplyAdd(Unsafe.Add(ref ak, 3 * ars), xk, s3);
            }
            y[i] = s0;
            y[i + 1] = s1;
            y[i + 2] = s2;
            y[i + 3] = s3;
        }
        for (; i < M; i++)
        {
            V s = accumulate ? y[i] : V.Zero;
            for (int k = 0; k < K; k++)
            {
                s = Vector512.FusedMultiplyAdd(Unsafe.Add(ref A, i * ars + k * acs), Unsafe.Add(ref X, k), s);
            }
            y[i] = s;
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
        for (int i = 0; i < m; i++)
        {
            Span<V> ri = r.Slice(i * ldr, nrhs);
            for (int p = 0; p < i; p++)
            {
                V lip = l[i * m + p];
                ReadOnlySpan<V> rp = r.Slice(p * ldr, nrhs);
                for (int j = 0; j < ri.Length; j++)
                {
                    ri[j] = Vector512.FusedMultiplyAdd(-lip, rp[j], ri[j]);
                }
            }
            V inv = dinv[i];
            for (int j = 0; j < ri.Length; j++)
            {
                ri[j] *= inv;
            }
        }
        for (int i = m - 1; i >= 0; i--)
        {
            Span<V> ri = r.Slice(i * ldr, nrhs);
            for (int p = i + 1; p < m; p++)
            {
                V lpi = l[p * m + i];
                ReadOnlySpan<V> rp = r.Slice(p * ldr, nrhs);
                for (int j = 0; j < ri.Length; j++)
                {
                    ri[j] = Vector512.FusedMultiplyAdd(-lpi, rp[j], ri[j]);
                }
            }
            V inv = dinv[i];
            for (int j = 0; j < ri.Length; j++)
            {
                ri[j] *= inv;
            }
        }
    }

    /// <summary>All-bits-set in the lanes where x is not finite (NaN or infinite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V NonFinite(V x) => ~Vector512.Equals(x - x, V.Zero);
}
