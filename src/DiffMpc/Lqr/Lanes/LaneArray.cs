using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DiffMpc.Lqr.Lanes;

/// <summary>
/// A fixed-length array of lane vectors (TV = Vector512&lt;double&gt; or Vector256&lt;double&gt;)
/// whose first vector starts on a 64-byte boundary, so no vector load or store straddles two
/// cache lines (a managed TV[] is only 8-byte aligned: every 64-byte vector of it would touch
/// two lines). The storage is a pinned double[] (the pinned object heap never moves it), sliced
/// at the aligned offset and reinterpreted as vectors; allocated once, like every workspace.
/// </summary>
internal sealed class LaneArray<TV>
    where TV : struct
{
    private const int Alignment = 64;
    private readonly double[] _storage;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed vectors.</summary>
    public LaneArray(int length)
    {
        int perVector = Unsafe.SizeOf<TV>() / sizeof(double);
        Length = length;
        _storage = GC.AllocateArray<double>(length * perVector + Alignment / sizeof(double), pinned: true);
        _offset = AlignedOffset(_storage);
    }

    /// <summary>Number of vectors.</summary>
    public int Length { get; }

    /// <summary>All vectors.</summary>
    public Span<TV> Span => MemoryMarshal.Cast<double, TV>(_storage.AsSpan(_offset, Length * (Unsafe.SizeOf<TV>() / sizeof(double))));

    /// <summary>Vector i.</summary>
    public ref TV this[int i] => ref Span[i];

    /// <summary>Vectors [start, start + length).</summary>
    public Span<TV> AsSpan(int start, int length) => Span.Slice(start, length);

    public static implicit operator Span<TV>(LaneArray<TV> array) => array.Span;

    public static implicit operator ReadOnlySpan<TV>(LaneArray<TV> array) => array.Span;

    /// <summary>Doubles to skip so that the data start on a 64-byte boundary (the array is pinned, so this never changes).</summary>
    private static unsafe int AlignedOffset(double[] pinned)
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
        return (int)((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(double);
    }
}
