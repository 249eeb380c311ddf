// Moving batch elements into and out of SIMD lanes: lane j of group g holds batch element Wg + j,
// W = 8 for Vector512 and 4 for Vector256 (the last group is padded by repeating element B - 1).
// Packing transposes W elements' rows into vectors of one entry each; unpacking writes the valid
// lanes back to time-major [T][B][size] arrays.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DiffMpc.LinearAlgebra;
using DiffMpc.Problems;
using V = System.Runtime.Intrinsics.Vector512<double>;
using V4 = System.Runtime.Intrinsics.Vector256<double>;

namespace DiffMpc.Lqr.Lanes;

/// <summary>Gathers problem data into lane-packed buffers and scatters lane results back.</summary>
internal static class LanePacking
{
    private const int W = 8;   // the 8-wide (Vector512) routines; the 4-wide ones spell out their width
    private const byte Even = 0b10_00_10_00, Odd = 0b11_01_11_01;   // vshuff64x2 selectors of the 8 x 8 transpose

    /// <summary>lane[j] = the batch element of lane j of group g: Wg + j, or B - 1 for the padding of the last group.</summary>
    public static void SetLanes<TV>(int g, int B, Span<int> lane)
        where TV : struct
    {
        int w = Simd.Width<TV>();
        for (int j = 0; j < w; j++)
        {
            lane[j] = Math.Min(g * w + j, B - 1);
        }
    }

    /// <summary>
    /// Packs sym(C) [T][N][N], c [T][N], F [T-1][n][N], f [T-1][n] (when <paramref name="withOffset"/>)
    /// and x_init [n] of group g into lanes; <paramref name="lane"/> receives the group's elements.
    /// Returns false when a value read is not finite (the input check, done on data already in
    /// cache for packing instead of in a separate pass over the batch).
    /// </summary>
    public static bool Pack<TV>(in LqrData data, int g, bool withOffset, Span<TV> C, Span<TV> c, Span<TV> F, Span<TV> f, Span<TV> x0,
        Span<int> lane)
        where TV : struct
    {
        MpcDimensions d = data.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = n + m, S = Math.Max(T - 1, 0);
        SetLanes<TV>(g, B, lane);
        TV check = default;   // x * 0 summed: stays +-0 while every x is finite, NaN otherwise
        Gather(data.XInit, 0, n, n, lane, x0, ref check);
        // One input at a time (W read streams, not 4W), so the hardware prefetchers keep up.
        TV half = Simd.Create<TV>(0.5);
        for (int t = 0; t < T; t++)
        {
            Span<TV> Ct = C.Slice(t * N * N, N * N);
            Gather(data.C, t, lane, Ct, ref check, prefetchNext: t + 1 < T);
            ref TV c0 = ref MemoryMarshal.GetReference(Ct);
            for (int i = 1; i < N; i++)
            {
                ref TV row = ref Unsafe.Add(ref c0, i * N);   // C[i][j], j < i
                ref TV col = ref Unsafe.Add(ref c0, i);       // C[j][i] = col[j * N]
                for (int j = 0; j < i; j++)
                {
                    ref TV upper = ref Unsafe.Add(ref col, j * N);
                    TV sij = Simd.Mul(half, Simd.Add(Unsafe.Add(ref row, j), upper));   // sym(C) = (C + C')/2
                    Unsafe.Add(ref row, j) = sij;
                    upper = sij;
                }
            }
        }
        for (int t = 0; t < T; t++)
        {
            Gather(data.c, t, lane, c.Slice(t * N, N), ref check, prefetchNext: t + 1 < T);
        }
        GatherDynamics(data, F, lane, ref check);
        for (int t = 0; t < S && withOffset; t++)
        {
            Gather(data.f, t, lane, f.Slice(t * n, n), ref check, prefetchNext: t + 1 < S);
        }
        return Simd.EqualsAll(Simd.Sub(check, check), default(TV));
    }

    /// <summary>
    /// Packs F [T-1][n][N] of group g into lanes, all the adjoint pass reads of the problem data
    /// (already checked finite by <see cref="Pack"/>).
    /// </summary>
    public static void PackDynamics<TV>(in LqrData data, int g, Span<TV> F, Span<int> lane)
        where TV : struct
    {
        SetLanes<TV>(g, data.Dims.BatchSize, lane);
        TV check = default;
        GatherDynamics(data, F, lane, ref check);
    }

    /// <summary>F [T-1][n][N] of the lanes' elements into lanes, one stage after another (the next one prefetched).</summary>
    private static void GatherDynamics<TV>(in LqrData data, Span<TV> F, ReadOnlySpan<int> lane, ref TV check)
        where TV : struct
    {
        MpcDimensions d = data.Dims;
        int S = Math.Max(d.Horizon - 1, 0), nN = d.StateDim * d.TauDim;
        for (int t = 0; t < S; t++)
        {
            Gather(data.F, t, lane, F.Slice(t * nN, nN), ref check, prefetchNext: t + 1 < S);
        }
    }

    /// <summary>
    /// dst[e] = (view(t, lane_0)[e], ..., view(t, lane_7)[e]) for every entry e; adds x * 0 of
    /// every value x read to <paramref name="check"/> (NaN once a value is not finite).
    /// </summary>
    public static void Gather<TV>(in StageView view, int t, ReadOnlySpan<int> lane, Span<TV> dst, ref TV check, bool prefetchNext = false)
        where TV : struct
    {
        if (typeof(TV) == typeof(V))
        {
            Gather8(view, t, lane, MemoryMarshal.Cast<TV, V>(dst), ref Unsafe.As<TV, V>(ref check), prefetchNext);
        }
        else
        {
            Gather4(view, t, lane, MemoryMarshal.Cast<TV, V4>(dst), ref Unsafe.As<TV, V4>(ref check), prefetchNext);
        }
    }

    private static void Gather8(in StageView view, int t, ReadOnlySpan<int> lane, Span<V> dst, ref V check, bool prefetchNext)
    {
        // The same rows one stage later are TimeStride doubles further: hint them into cache while
        // this stage is transposed (one stage of a group is a contiguous run of 8 rows when the
        // batch is unshared; the jump to the next stage is what the hardware cannot predict).
        nint next = prefetchNext ? (nint)view.TimeStride * sizeof(double) : 0;
        ref double r0 = ref MemoryMarshal.GetReference(view.At(t, lane[0]));
        ref double r1 = ref MemoryMarshal.GetReference(view.At(t, lane[1]));
        ref double r2 = ref MemoryMarshal.GetReference(view.At(t, lane[2]));
        ref double r3 = ref MemoryMarshal.GetReference(view.At(t, lane[3]));
        ref double r4 = ref MemoryMarshal.GetReference(view.At(t, lane[4]));
        ref double r5 = ref MemoryMarshal.GetReference(view.At(t, lane[5]));
        ref double r6 = ref MemoryMarshal.GetReference(view.At(t, lane[6]));
        ref double r7 = ref MemoryMarshal.GetReference(view.At(t, lane[7]));
        int e = 0, len = dst.Length;
        if (Avx512F.IsSupported && len >= W)
        {
            ref V d = ref MemoryMarshal.GetReference(dst);
            V acc = V.Zero;
            while (true)
            {
                if (next != 0)
                {
                    nint at = next + e * sizeof(double);
                    Prefetch.Line(ref r0, at);
                    Prefetch.Line(ref r1, at);
                    Prefetch.Line(ref r2, at);
                    Prefetch.Line(ref r3, at);
                    Prefetch.Line(ref r4, at);
                    Prefetch.Line(ref r5, at);
                    Prefetch.Line(ref r6, at);
                    Prefetch.Line(ref r7, at);
                }
                V x0 = Vector512.LoadUnsafe(ref r0, (nuint)e), x1 = Vector512.LoadUnsafe(ref r1, (nuint)e);
                V x2 = Vector512.LoadUnsafe(ref r2, (nuint)e), x3 = Vector512.LoadUnsafe(ref r3, (nuint)e);
                V x4 = Vector512.LoadUnsafe(ref r4, (nuint)e), x5 = Vector512.LoadUnsafe(ref r5, (nuint)e);
                V x6 = Vector512.LoadUnsafe(ref r6, (nuint)e), x7 = Vector512.LoadUnsafe(ref r7, (nuint)e);
                // A tree of x * 0 terms with one add into the running check (short dependency chain).
                acc += (Vector512.FusedMultiplyAdd(x0, V.Zero, x1 * V.Zero) + Vector512.FusedMultiplyAdd(x2, V.Zero, x3 * V.Zero))
                    + (Vector512.FusedMultiplyAdd(x4, V.Zero, x5 * V.Zero) + Vector512.FusedMultiplyAdd(x6, V.Zero, x7 * V.Zero));
                Transpose8x8(x0, x1, x2, x3, x4, x5, x6, x7, ref Unsafe.Add(ref d, e));
                if (e + W == len)
                {
                    break;
                }
                // A ragged end is done as the last full block, overlapping the previous one.
                e = Math.Min(e + W, len - W);
            }
            check += acc;
            return;
        }
        for (; e < len; e++)
        {
            V x = Vector512.Create(Unsafe.Add(ref r0, e), Unsafe.Add(ref r1, e), Unsafe.Add(ref r2, e), Unsafe.Add(ref r3, e),
                Unsafe.Add(ref r4, e), Unsafe.Add(ref r5, e), Unsafe.Add(ref r6, e), Unsafe.Add(ref r7, e));
            check = Vector512.FusedMultiplyAdd(x, V.Zero, check);
            dst[e] = x;
        }
    }

    /// <summary>The 4-wide (Vector256) <see cref="Gather8"/>: 4 x 4 transposes.</summary>
    private static void Gather4(in StageView view, int t, ReadOnlySpan<int> lane, Span<V4> dst, ref V4 check, bool prefetchNext)
    {
        nint next = prefetchNext ? (nint)view.TimeStride * sizeof(double) : 0;
        ref double r0 = ref MemoryMarshal.GetReference(view.At(t, lane[0]));
        ref double r1 = ref MemoryMarshal.GetReference(view.At(t, lane[1]));
        ref double r2 = ref MemoryMarshal.GetReference(view.At(t, lane[2]));
        ref double r3 = ref MemoryMarshal.GetReference(view.At(t, lane[3]));
        int e = 0, len = dst.Length;
        if (Avx.IsSupported && len >= 4)
        {
            ref V4 d = ref MemoryMarshal.GetReference(dst);
            V4 acc = V4.Zero;
            while (true)
            {
                if (next != 0 && (e & 7) == 0)
                {
                    nint at = next + e * sizeof(double);
                    Prefetch.Line(ref r0, at);
                    Prefetch.Line(ref r1, at);
                    Prefetch.Line(ref r2, at);
                    Prefetch.Line(ref r3, at);
                }
                V4 x0 = Vector256.LoadUnsafe(ref r0, (nuint)e), x1 = Vector256.LoadUnsafe(ref r1, (nuint)e);
                V4 x2 = Vector256.LoadUnsafe(ref r2, (nuint)e), x3 = Vector256.LoadUnsafe(ref r3, (nuint)e);
                acc += Vector256.FusedMultiplyAdd(x0, V4.Zero, x1 * V4.Zero) + Vector256.FusedMultiplyAdd(x2, V4.Zero, x3 * V4.Zero);
                Transpose4x4(x0, x1, x2, x3, ref Unsafe.Add(ref d, e));
                if (e + 4 == len)
                {
                    break;
                }
                e = Math.Min(e + 4, len - 4);   // a ragged end overlaps the previous block
            }
            check += acc;
            return;
        }
        for (; e < len; e++)
        {
            V4 x = Vector256.Create(Unsafe.Add(ref r0, e), Unsafe.Add(ref r1, e), Unsafe.Add(ref r2, e), Unsafe.Add(ref r3, e));
            check = Vector256.FusedMultiplyAdd(x, V4.Zero, check);
            dst[e] = x;
        }
    }

    /// <summary>4 x 4 transpose: row j (entries e..e+3 of lane j) becomes lane j of d[0..4) (unpack pairs, then 128-bit permutes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(V4 r0, V4 r1, V4 r2, V4 r3, ref V4 d)
    {
        V4 t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        V4 t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        d = Avx.Permute2x128(t0, t2, 0x20);
        Unsafe.Add(ref d, 1) = Avx.Permute2x128(t1, t3, 0x20);
        Unsafe.Add(ref d, 2) = Avx.Permute2x128(t0, t2, 0x31);
        Unsafe.Add(ref d, 3) = Avx.Permute2x128(t1, t3, 0x31);
    }

    /// <summary>
    /// The inverse of a gather for a full group: element (lane) j's row dst[offset_j .. offset_j +
    /// src.Length) = lane j of src[0..src.Length), with offset_j = <paramref name="first"/> +
    /// j * <paramref name="stride"/>; entries of lanes not set in <paramref name="keep"/> are
    /// written as zeros.
    /// </summary>
    public static void Scatter<TV>(ReadOnlySpan<TV> src, TV keep, double[] dst, int first, int stride)
        where TV : struct
    {
        if (typeof(TV) == typeof(V))
        {
            Scatter8(MemoryMarshal.Cast<TV, V>(src), Unsafe.As<TV, V>(ref keep), dst, first, stride);
        }
        else
        {
            Scatter4(MemoryMarshal.Cast<TV, V4>(src), Unsafe.As<TV, V4>(ref keep), dst, first, stride);
        }
    }

    /// <summary>The 4-wide (Vector256) <see cref="Scatter8"/>.</summary>
    private static void Scatter4(ReadOnlySpan<V4> src, V4 keep, double[] dst, int first, int stride)
    {
        int len = src.Length;
        ref double d0 = ref dst[first];
        ref double d1 = ref Unsafe.Add(ref d0, stride);
        ref double d2 = ref Unsafe.Add(ref d0, 2 * stride);
        ref double d3 = ref Unsafe.Add(ref d0, 3 * stride);
        _ = dst[first + 3 * stride + len - 1];   // bounds of the last row
        ref V4 s = ref MemoryMarshal.GetReference(src);
        int e = 0;
        if (Avx.IsSupported && len >= 4)
        {
            while (true)
            {
                V4 r0 = keep & Unsafe.Add(ref s, e), r1 = keep & Unsafe.Add(ref s, e + 1);
                V4 r2 = keep & Unsafe.Add(ref s, e + 2), r3 = keep & Unsafe.Add(ref s, e + 3);
                V4 t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
                V4 t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
                Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref d0, (nuint)e);
                Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref d1, (nuint)e);
                Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref d2, (nuint)e);
                Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref d3, (nuint)e);
                if (e + 4 == len)
                {
                    return;
                }
                e = Math.Min(e + 4, len - 4);
            }
        }
        for (; e < len; e++)
        {
            V4 x = keep & Unsafe.Add(ref s, e);
            Unsafe.Add(ref d0, e) = x.GetElement(0);
            Unsafe.Add(ref d1, e) = x.GetElement(1);
            Unsafe.Add(ref d2, e) = x.GetElement(2);
            Unsafe.Add(ref d3, e) = x.GetElement(3);
        }
    }

    private static void Scatter8(ReadOnlySpan<V> src, V keep, double[] dst, int first, int stride)
    {
        int len = src.Length;
        ref double d0 = ref dst[first];
        ref double d1 = ref Unsafe.Add(ref d0, stride);
        ref double d2 = ref Unsafe.Add(ref d0, 2 * stride);
        ref double d3 = ref Unsafe.Add(ref d0, 3 * stride);
        ref double d4 = ref Unsafe.Add(ref d0, 4 * stride);
        ref double d5 = ref Unsafe.Add(ref d0, 5 * stride);
        ref double d6 = ref Unsafe.Add(ref d0, 6 * stride);
        ref double d7 = ref Unsafe.Add(ref d0, 7 * stride);
        _ = dst[first + 7 * stride + len - 1];   // bounds of the last row
        ref V s = ref MemoryMarshal.GetReference(src);
        int e = 0;
        if (Avx512F.IsSupported && len >= W)
        {
            while (true)
            {
                // Transpose8x8 with the rows stored straight from registers.
                V r0 = keep & Unsafe.Add(ref s, e), r1 = keep & Unsafe.Add(ref s, e + 1);
                V r2 = keep & Unsafe.Add(ref s, e + 2), r3 = keep & Unsafe.Add(ref s, e + 3);
                V r4 = keep & Unsafe.Add(ref s, e + 4), r5 = keep & Unsafe.Add(ref s, e + 5);
                V r6 = keep & Unsafe.Add(ref s, e + 6), r7 = keep & Unsafe.Add(ref s, e + 7);
                V t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
                V t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
                V t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
                V t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
                V u0 = Avx512F.Shuffle4x128(t0, t2, Even), u1 = Avx512F.Shuffle4x128(t0, t2, Odd);
                V u2 = Avx512F.Shuffle4x128(t4, t6, Even), u3 = Avx512F.Shuffle4x128(t4, t6, Odd);
                V w0 = Avx512F.Shuffle4x128(t1, t3, Even), w1 = Avx512F.Shuffle4x128(t1, t3, Odd);
                V w2 = Avx512F.Shuffle4x128(t5, t7, Even), w3 = Avx512F.Shuffle4x128(t5, t7, Odd);
                Avx512F.Shuffle4x128(u0, u2, Even).StoreUnsafe(ref d0, (nuint)e);
                Avx512F.Shuffle4x128(u0, u2, Odd).StoreUnsafe(ref d4, (nuint)e);
                Avx512F.Shuffle4x128(u1, u3, Even).StoreUnsafe(ref d2, (nuint)e);
                Avx512F.Shuffle4x128(u1, u3, Odd).StoreUnsafe(ref d6, (nuint)e);
                Avx512F.Shuffle4x128(w0, w2, Even).StoreUnsafe(ref d1, (nuint)e);
                Avx512F.Shuffle4x128(w0, w2, Odd).StoreUnsafe(ref d5, (nuint)e);
                Avx512F.Shuffle4x128(w1, w3, Even).StoreUnsafe(ref d3, (nuint)e);
                Avx512F.Shuffle4x128(w1, w3, Odd).StoreUnsafe(ref d7, (nuint)e);
                if (e + W == len)
                {
                    return;
                }
                e = Math.Min(e + W, len - W);   // a ragged end overlaps the previous block
            }
        }
        for (; e < len; e++)
        {
            V x = keep & Unsafe.Add(ref s, e);
            Unsafe.Add(ref d0, e) = x.GetElement(0);
            Unsafe.Add(ref d1, e) = x.GetElement(1);
            Unsafe.Add(ref d2, e) = x.GetElement(2);
            Unsafe.Add(ref d3, e) = x.GetElement(3);
            Unsafe.Add(ref d4, e) = x.GetElement(4);
            Unsafe.Add(ref d5, e) = x.GetElement(5);
            Unsafe.Add(ref d6, e) = x.GetElement(6);
            Unsafe.Add(ref d7, e) = x.GetElement(7);
        }
    }

    /// <summary>
    /// 8 x 8 transpose: row j (entries e..e+7 of lane j's data) becomes lane j of the outputs
    /// d[0..8). Unpack pairs, then two rounds of 128-bit lane shuffles (vshuff64x2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(V r0, V r1, V r2, V r3, V r4, V r5, V r6, V r7, ref V d)
    {
        V t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        V t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        V t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        V t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        V u0 = Avx512F.Shuffle4x128(t0, t2, Even), u1 = Avx512F.Shuffle4x128(t0, t2, Odd);
        V u2 = Avx512F.Shuffle4x128(t4, t6, Even), u3 = Avx512F.Shuffle4x128(t4, t6, Odd);
        V w0 = Avx512F.Shuffle4x128(t1, t3, Even), w1 = Avx512F.Shuffle4x128(t1, t3, Odd);
        V w2 = Avx512F.Shuffle4x128(t5, t7, Even), w3 = Avx512F.Shuffle4x128(t5, t7, Odd);
        d = Avx512F.Shuffle4x128(u0, u2, Even);
        Unsafe.Add(ref d, 4) = Avx512F.Shuffle4x128(u0, u2, Odd);
        Unsafe.Add(ref d, 2) = Avx512F.Shuffle4x128(u1, u3, Even);
        Unsafe.Add(ref d, 6) = Avx512F.Shuffle4x128(u1, u3, Odd);
        Unsafe.Add(ref d, 1) = Avx512F.Shuffle4x128(w0, w2, Even);
        Unsafe.Add(ref d, 5) = Avx512F.Shuffle4x128(w0, w2, Odd);
        Unsafe.Add(ref d, 3) = Avx512F.Shuffle4x128(w1, w3, Even);
        Unsafe.Add(ref d, 7) = Avx512F.Shuffle4x128(w1, w3, Odd);
    }

    /// <summary>As <see cref="Gather{TV}(in StageView, int, ReadOnlySpan{int}, Span{TV}, ref TV, bool)"/> for a plain [B][size] array (offset + b * size).</summary>
    public static void Gather<TV>(double[] a, int offset, int size, int count, ReadOnlySpan<int> lane, Span<TV> dst)
        where TV : struct
    {
        TV check = default;
        Gather(a, offset, size, count, lane, dst, ref check);
    }

    /// <summary>As <see cref="Gather{TV}(double[], int, int, int, ReadOnlySpan{int}, Span{TV})"/>, adding x * 0 of every value to <paramref name="check"/>.</summary>
    public static void Gather<TV>(double[] a, int offset, int size, int count, ReadOnlySpan<int> lane, Span<TV> dst, ref TV check)
        where TV : struct
    {
        // Rows of the lanes' elements; each vector is built from one entry of every row.
        ReadOnlySpan<double> r0 = a.AsSpan(offset + lane[0] * size, count), r1 = a.AsSpan(offset + lane[1] * size, count);
        ReadOnlySpan<double> r2 = a.AsSpan(offset + lane[2] * size, count), r3 = a.AsSpan(offset + lane[3] * size, count);
        if (typeof(TV) == typeof(V))
        {
            ReadOnlySpan<double> r4 = a.AsSpan(offset + lane[4] * size, count), r5 = a.AsSpan(offset + lane[5] * size, count);
            ReadOnlySpan<double> r6 = a.AsSpan(offset + lane[6] * size, count), r7 = a.AsSpan(offset + lane[7] * size, count);
            for (int e = 0; e < count; e++)
            {
                TV x = Simd.From<TV>(Vector512.Create(r0[e], r1[e], r2[e], r3[e], r4[e], r5[e], r6[e], r7[e]));
                check = Simd.Fma(x, default, check);
                dst[e] = x;
            }
            return;
        }
        for (int e = 0; e < count; e++)
        {
            TV x = Simd.From<TV>(Vector256.Create(r0[e], r1[e], r2[e], r3[e]));
            check = Simd.Fma(x, default, check);
            dst[e] = x;
        }
    }

    /// <summary>
    /// g_t = [dL/dx_t; dL/du_t] of the lanes' elements for every stage, into <paramref name="g"/>
    /// ([T][n+m]); a null array means zero.
    /// </summary>
    public static void GatherLossGradients<TV>(double[]? dLdx, double[]? dLdu, MpcDimensions d, ReadOnlySpan<int> lane, Span<TV> g)
        where TV : struct
    {
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = n + m;
        for (int t = 0; t < T; t++)
        {
            Span<TV> gt = g.Slice(t * N, N);
            if (dLdx is null)
            {
                gt[..n].Clear();
            }
            else
            {
                Gather(dLdx, t * B * n, n, n, lane, gt[..n]);
            }
            if (dLdu is null)
            {
                gt.Slice(n, m).Clear();
            }
            else
            {
                Gather(dLdu, t * B * m, m, m, lane, gt.Slice(n, m));
            }
        }
    }

    /// <summary>dst[t][b][0..size) = lane of b in src[t][0..size), for the valid lanes of group g.</summary>
    public static void Unpack<TV>(ReadOnlySpan<TV> src, int g, int T, int size, double[] dst, int B)
        where TV : struct
    {
        int w = Simd.Width<TV>(), first = g * w;
        if (first + w <= B)
        {
            // A full group: each stage's W rows are one transposed block store per W entries.
            TV all = Simd.AllBitsSet<TV>();
            for (int t = 0; t < T; t++)
            {
                Scatter(src.Slice(t * size, size), all, dst, (t * B + first) * size, size);
            }
            return;
        }
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<TV> st = src.Slice(t * size, size);
            for (int j = 0; first + j < B; j++)
            {
                Span<double> d = dst.AsSpan((t * B + first + j) * size, size);
                for (int e = 0; e < size; e++)
                {
                    d[e] = Simd.Get(st[e], j);
                }
            }
        }
    }
}
