namespace DiffMpc.Problems;

/// <summary>
/// A per-stage input such as C, c, F or f, stored as one contiguous row-major <c>double[]</c>,
/// that may be shared over time and/or over the batch without the caller copying it
/// (broadcasting). The array is referenced, not copied, and never modified by the library.
/// </summary>
/// <remarks>
/// For an input whose per-stage, per-example element has shape E (for example [n+m][n+m] for C)
/// and which exists for S stages (T for costs, T-1 for dynamics):
/// <list type="bullet">
/// <item><see cref="PerStage"/>: shape [S][B][E], the full layout.</item>
/// <item><see cref="TimeInvariant"/>: shape [B][E], the same for every stage.</item>
/// <item><see cref="BatchShared"/>: shape [S][E], the same for every batch element.</item>
/// <item><see cref="Shared"/>: shape [E], the same for every stage and batch element.</item>
/// <item><see cref="Scalar"/>: one value for every entry (control bounds only).</item>
/// </list>
/// Gradients with respect to a broadcast input have the input's own shape: the contributions of
/// the stages and batch elements that share an entry are summed.
/// </remarks>
public sealed class StageArray
{
    private StageArray(double[] data, bool sharedOverTime, bool sharedOverBatch, bool isScalar)
    {
        ArgumentNullException.ThrowIfNull(data);
        Data = data;
        SharedOverTime = sharedOverTime;
        SharedOverBatch = sharedOverBatch;
        IsScalar = isScalar;
    }

    /// <summary>The caller's values, row-major, in the shape given by the sharing flags.</summary>
    public double[] Data { get; }

    /// <summary>True when one value set serves every stage (no time axis in <see cref="Data"/>).</summary>
    public bool SharedOverTime { get; }

    /// <summary>True when one value set serves every batch element (no batch axis in <see cref="Data"/>).</summary>
    public bool SharedOverBatch { get; }

    /// <summary>True when <see cref="Data"/> holds a single value used for every entry.</summary>
    public bool IsScalar { get; }

    /// <summary>A full input of shape [S][B][E].</summary>
    /// <param name="data">Values, time-major: stage, then batch element, then the element's entries.</param>
    public static StageArray PerStage(double[] data) => new(data, false, false, false);

    /// <summary>An input that is the same for every stage, of shape [B][E].</summary>
    /// <param name="data">Values: batch element, then the element's entries.</param>
    public static StageArray TimeInvariant(double[] data) => new(data, true, false, false);

    /// <summary>An input that is the same for every batch element, of shape [S][E].</summary>
    /// <param name="data">Values: stage, then the element's entries.</param>
    public static StageArray BatchShared(double[] data) => new(data, false, true, false);

    /// <summary>An input that is the same for every stage and batch element, of shape [E].</summary>
    /// <param name="data">The element's entries.</param>
    public static StageArray Shared(double[] data) => new(data, true, true, false);

    /// <summary>One value for every stage, batch element and entry (for control bounds).</summary>
    /// <param name="value">The value.</param>
    public static StageArray Scalar(double value) => new([value], true, true, true);

    /// <summary>Treats a plain array as a full [S][B][E] input; null stays null (so the callee names the argument).</summary>
    /// <param name="data">Values of shape [S][B][E].</param>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(data))]
    public static implicit operator StageArray?(double[]? data) => data is null ? null : PerStage(data);

    /// <summary>Same as the implicit conversion: a full [S][B][E] input.</summary>
    /// <param name="data">Values of shape [S][B][E].</param>
    public static StageArray FromDoubleArray(double[] data) => PerStage(data);

    /// <summary>The number of values <see cref="Data"/> must hold.</summary>
    internal int ExpectedLength(int stages, int batch, int elementSize) =>
        IsScalar ? 1 : (SharedOverTime ? 1 : stages) * (SharedOverBatch ? 1 : batch) * elementSize;

    /// <summary>The shape <see cref="Data"/> must have, for messages, e.g. "[T=5][B=2][7][7]".</summary>
    internal string DescribeShape(int stages, string stageName, int batch, string elementShape) =>
        IsScalar ? "a single value"
        : (SharedOverTime ? "" : $"[{stageName}={stages}]") + (SharedOverBatch ? "" : $"[B={batch}]") + elementShape;

    /// <summary>A strided view of the values for the solver's inner loops.</summary>
    internal StageView View(int batch, int elementSize) => IsScalar
        ? new StageView(Data, 0, 0, elementSize, scalar: true)
        : new StageView(Data, SharedOverTime ? 0 : (SharedOverBatch ? 1 : batch) * elementSize,
            SharedOverBatch ? 0 : elementSize, elementSize, scalar: false);

    /// <summary>A new zeroed array with the same layout, for the gradient of this input.</summary>
    internal StageArray NewGradient(int stages, int batch, int elementSize) =>
        new(new double[ExpectedLength(stages, batch, elementSize)], SharedOverTime, SharedOverBatch, IsScalar);

    /// <summary>True when <paramref name="other"/> has the same sharing pattern.</summary>
    internal bool SameLayout(StageArray? other) =>
        other is not null && other.SharedOverTime == SharedOverTime && other.SharedOverBatch == SharedOverBatch
        && other.IsScalar == IsScalar;
}
