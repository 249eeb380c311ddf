using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace DiffMpc.LinearAlgebra;

/// <summary>
/// Software prefetch hints for streams the hardware prefetchers cannot foresee (the next stage's
/// rows of eight batch elements while one stage is being transposed into SIMD lanes). A hint
/// never faults and never changes a result; without SSE it does nothing.
/// </summary>
internal static class Prefetch
{
    /// <summary>
    /// Asks for the cache line holding <paramref name="byteOffset"/> bytes past
    /// <paramref name="origin"/> to be brought into all cache levels. The address is formed as an
    /// untracked pointer, so it may lie past the end of the array.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line(ref double origin, nint byteOffset)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0((byte*)Unsafe.AsPointer(ref origin) + byteOffset);
        }
    }
}
