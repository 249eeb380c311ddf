namespace DiffMpc.Problems;

/// <summary>
/// Internal strided view of a <see cref="StageArray"/>: element (t, b) starts at
/// t * TimeStride + b * BatchStride. A stride of 0 broadcasts along that axis. A view with no
/// data reads as zeros (an omitted f).
/// </summary>
internal readonly struct StageView
{
    private readonly double[]? _data;

    public StageView(double[]? data, int timeStride, int batchStride, int elementSize, bool scalar)
    {
        _data = data;
        TimeStride = timeStride;
        BatchStride = batchStride;
        ElementSize = elementSize;
        IsScalar = scalar;
    }

    public int TimeStride { get; }

    public int BatchStride { get; }

    public int ElementSize { get; }

    /// <summary>True for a single value broadcast to every entry; use <see cref="ValueAt"/>.</summary>
    public bool IsScalar { get; }

    /// <summary>True when the view has no data (reads as zero).</summary>
    public bool IsZero => _data is null;

    /// <summary>
    /// Entries of elements b .. b+count-1 at stage t as one span when they are contiguous
    /// (BatchStride == ElementSize); otherwise only element b's.
    /// </summary>
    public ReadOnlySpan<double> Run(int t, int b, int count) => BatchStride == ElementSize
        ? new(_data, t * TimeStride + b * BatchStride, count * ElementSize)
        : At(t, b);

    /// <summary>The element of stage t and batch element b (not for scalar views).</summary>
    public ReadOnlySpan<double> At(int t, int b) =>
        new(_data, t * TimeStride + b * BatchStride, ElementSize);

    /// <summary>Entry i of the element of stage t and batch element b (works for scalar views).</summary>
    public double ValueAt(int t, int b, int i) => IsScalar ? _data![0] : _data![t * TimeStride + b * BatchStride + i];

    /// <summary>A full (unshared) view over a [S][B][E] workspace array.</summary>
    public static StageView Full(double[] data, int batch, int elementSize) =>
        new(data, batch * elementSize, elementSize, elementSize, scalar: false);
}
