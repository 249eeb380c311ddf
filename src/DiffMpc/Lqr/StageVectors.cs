using DiffMpc.LinearAlgebra;
using DiffMpc.Problems;

namespace DiffMpc.Lqr;

/// <summary>
/// A per-stage vector g_t of length n+m (the linear term of an LQR): the cost term c_t of the
/// primal problem, or the loss gradient [dL/dx_t; dL/du_t] of the adjoint problem. Implemented by
/// structs so the sweeps are specialised by the JIT without allocation or virtual calls.
/// </summary>
internal interface IStageVector
{
    /// <summary>dst += g_t[offset .. offset + dst.Length) for batch element b.</summary>
    void AddTo(int t, int b, Span<double> dst, int offset);
}

/// <summary>g_t read from a (possibly broadcast) stage view, e.g. c.</summary>
internal readonly struct ViewStageVector(StageView view) : IStageVector
{
    public void AddTo(int t, int b, Span<double> dst, int offset) =>
        Blas.Axpy(1, view.At(t, b).Slice(offset, dst.Length), dst);
}

/// <summary>g_t = [gx_t; gu_t] from [T][B][n] and [T][B][m] arrays; a null array reads as zero.</summary>
internal readonly struct SplitStageVector(double[]? gx, double[]? gu, MpcDimensions dims) : IStageVector
{
    public void AddTo(int t, int b, Span<double> dst, int offset)
    {
        int B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim;
        for (int i = 0; i < dst.Length; i++)
        {
            int j = offset + i;
            if (j < n)
            {
                if (gx is not null)
                {
                    dst[i] += gx[(t * B + b) * n + j];
                }
            }
            else if (gu is not null)
            {
                dst[i] += gu[(t * B + b) * m + j - n];
            }
        }
    }
}
