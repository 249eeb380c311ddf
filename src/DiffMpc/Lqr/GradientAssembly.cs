// Notation: tau, lambda the primal solution and costates; dtau, dlambda the adjoint solution.
// Implicit differentiation of the KKT conditions gives, per stage t and element b:
//   dL/dC_t = 1/2 (dtau_t tau_t' + tau_t dtau_t')     dL/dc_t = dtau_t
//   dL/dF_t = dlambda_{t+1} tau_t' + lambda_{t+1} dtau_t'   dL/df_t = dlambda_{t+1}
//   dL/dx_init = dlambda_1
//   dL/du_bound,i = r_i of the adjoint, (sym(C_t) dtau_t + g_t)_u + F_{t,u}' dlambda_{t+1}, for a control
//   held at that bound (it follows the bound: du_i/dbound_i = 1); zero elsewhere.
// Broadcast inputs receive the sum over the stages / elements that share them.
using DiffMpc.Problems;
using DiffMpc.Box;

namespace DiffMpc.Lqr;

/// <summary>One input's per-(t, b) gradient contribution.</summary>
internal interface IStageContribution
{
    /// <summary>dst += the contribution of stage t, element b.</summary>
    void AddTo(int t, int b, Span<double> dst);

    /// <summary>
    /// dst = the contribution of stage t, element b, bitwise equal to clearing dst and calling
    /// <see cref="AddTo"/> (0 + v, which turns -0 into +0), in one pass over dst.
    /// </summary>
    void SetTo(int t, int b, Span<double> dst);
}

/// <summary>
/// Where the per-stage gradients (dL/dC, dc, dF, df) go: each is handed over as its term, the
/// input's layout, the output array and its stage count and element size.
/// </summary>
internal interface IStageGradientSink
{
    /// <summary>Writes the gradient of one input: <paramref name="output"/> laid out like <paramref name="layout"/>.</summary>
    void Write<TTerm>(in TTerm term, StageArray layout, double[] output, int stages, int elementSize)
        where TTerm : struct, IStageContribution;
}

/// <summary>Builds the gradients of every input from the primal and adjoint solutions.</summary>
internal static class GradientAssembly
{
    /// <summary>
    /// Sums the contributions of every stage and included element into <paramref name="output"/>,
    /// laid out like <paramref name="layout"/>. Summation order is fixed (t, then b), so results
    /// do not depend on threading. Elements not included (no valid solution) contribute nothing.
    /// </summary>
    public static void Accumulate<TTerm>(in TTerm term, StageArray layout, double[] output, int stages, int batch,
        int elementSize, ReadOnlySpan<bool> include)
        where TTerm : struct, IStageContribution
    {
        Array.Clear(output);
        StageView view = layout.View(batch, elementSize);
        for (int t = 0; t < stages; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                if (include[b])
                {
                    term.AddTo(t, b, output.AsSpan(t * view.TimeStride + b * view.BatchStride, elementSize));
                }
            }
        }
    }

    /// <summary>
    /// Writes the own slots of elements [first, first + count) in a per-stage (not broadcast)
    /// gradient: for every stage, the contribution of (t, b), or zeros when b is not
    /// <paramref name="include"/>d. Each slot receives exactly one contribution, so this gives
    /// bitwise the same values as <see cref="Accumulate"/> and may run for different elements on
    /// different threads. Stage by stage, so the elements' slots of a stage (one contiguous run)
    /// are written in order.
    /// </summary>
    public static void WriteElements<TTerm>(in TTerm term, double[] output, int stages, int batch, int elementSize, int first,
        int count, ReadOnlySpan<bool> include)
        where TTerm : struct, IStageContribution
    {
        for (int t = 0; t < stages; t++)
        {
            for (int b = first; b < first + count; b++)
            {
                Span<double> dst = output.AsSpan((t * batch + b) * elementSize, elementSize);
                if (include[b])
                {
                    term.SetTo(t, b, dst);
                }
                else
                {
                    dst.Clear();
                }
            }
        }
    }

    /// <summary>Every stage and included element summed into each output (<see cref="Accumulate"/>): any layout, serial.</summary>
    internal readonly struct Accumulated(int batch, bool[] include) : IStageGradientSink
    {
        public void Write<TTerm>(in TTerm term, StageArray layout, double[] output, int stages, int elementSize)
            where TTerm : struct, IStageContribution =>
            Accumulate(term, layout, output, stages, batch, elementSize, include);
    }

    /// <summary>The own slots of elements [first, first + count) (<see cref="WriteElements"/>): per-stage layouts, on a worker.</summary>
    internal readonly struct ElementRange(int batch, int first, int count, bool[] include) : IStageGradientSink
    {
        public void Write<TTerm>(in TTerm term, StageArray layout, double[] output, int stages, int elementSize)
            where TTerm : struct, IStageContribution =>
            WriteElements(term, output, stages, batch, elementSize, first, count, include);
    }

    /// <summary>dL/dC_t = 1/2 (dtau tau' + tau dtau').</summary>
    internal readonly struct CostQuadraticTerm(LqrWorkspace ws) : IStageContribution
    {
        public void AddTo(int t, int b, Span<double> dst) => Write(t, b, dst, overwrite: false);

        public void SetTo(int t, int b, Span<double> dst) => Write(t, b, dst, overwrite: true);

        private void Write(int t, int b, Span<double> dst, bool overwrite)
        {
            int N = ws.Dims.TauDim;
            ReadOnlySpan<double> tau = ws.TauAt(t, b), dtau = ws.DTauAt(t, b);
            if (overwrite)
            {
                LinearAlgebra.Blas.Ger2(N, N, 0.5, dtau, tau, tau, dtau, dst);
                return;
            }
            for (int i = 0; i < N; i++)
            {
                LinearAlgebra.Blas.Axpy2(0.5 * dtau[i], tau, 0.5 * tau[i], dtau, dst.Slice(i * N, N));
            }
        }
    }

    /// <summary>dL/dc_t = dtau_t.</summary>
    internal readonly struct CostLinearTerm(LqrWorkspace ws) : IStageContribution
    {
        public void AddTo(int t, int b, Span<double> dst) => LinearAlgebra.Blas.Axpy(1, ws.DTauAt(t, b), dst);

        public void SetTo(int t, int b, Span<double> dst) => SetToSum(ws.DTauAt(t, b), dst);
    }

    /// <summary>dL/dF_t = dlambda_{t+1} tau_t' + lambda_{t+1} dtau_t'.</summary>
    internal readonly struct DynamicsTerm(LqrWorkspace ws) : IStageContribution
    {
        public void AddTo(int t, int b, Span<double> dst) => Write(t, b, dst, overwrite: false);

        public void SetTo(int t, int b, Span<double> dst) => Write(t, b, dst, overwrite: true);

        private void Write(int t, int b, Span<double> dst, bool overwrite)
        {
            int n = ws.Dims.StateDim, N = ws.Dims.TauDim;
            ReadOnlySpan<double> tau = ws.TauAt(t, b), dtau = ws.DTauAt(t, b);
            ReadOnlySpan<double> lam = ws.LambdaAt(t + 1, b), dlam = ws.DLambdaAt(t + 1, b);
            if (overwrite)
            {
                LinearAlgebra.Blas.Ger2(n, N, 1, dlam, tau, lam, dtau, dst);
                return;
            }
            for (int i = 0; i < n; i++)
            {
                LinearAlgebra.Blas.Axpy2(dlam[i], tau, lam[i], dtau, dst.Slice(i * N, N));
            }
        }
    }

    /// <summary>dL/df_t = dlambda_{t+1}.</summary>
    internal readonly struct OffsetTerm(LqrWorkspace ws) : IStageContribution
    {
        public void AddTo(int t, int b, Span<double> dst) => LinearAlgebra.Blas.Axpy(1, ws.DLambdaAt(t + 1, b), dst);

        public void SetTo(int t, int b, Span<double> dst) => SetToSum(ws.DLambdaAt(t + 1, b), dst);
    }

    /// <summary>dst = 0 + x: bitwise what clearing dst and adding 1 x (<see cref="LinearAlgebra.Blas.Axpy"/>) gives (-0 becomes +0).</summary>
    private static void SetToSum(ReadOnlySpan<double> x, Span<double> dst) => LinearAlgebra.Blas.CopyPlusZero(x, dst);

    /// <summary>
    /// dL/du_lower or dL/du_upper: the adjoint control gradient of every control held at that
    /// bound. With <paramref name="sumEntries"/> (a scalar bound) all entries add into dst[0].
    /// A control whose lower and upper bounds coincide is attributed to the lower bound.
    /// </summary>
    internal readonly struct BoundTerm(ControlBox box, LqrWorkspace ws, bool lowerSide, bool sumEntries) : IStageContribution
    {
        public void SetTo(int t, int b, Span<double> dst)
        {
            dst.Clear();
            AddTo(t, b, dst);
        }

        public void AddTo(int t, int b, Span<double> dst)
        {
            int n = ws.Dims.StateDim, m = ws.Dims.ControlDim;
            ReadOnlySpan<bool> free = ws.FreeAt(t, b);
            ReadOnlySpan<double> u = ws.TauAt(t, b).Slice(n, m), r = ws.BoundGradientAt(t, b);
            for (int i = 0; i < m; i++)
            {
                if (!free[i] && (u[i] == box.Lower(t, b, i)) == lowerSide)
                {
                    dst[sumEntries ? 0 : i] += r[i];
                }
            }
        }
    }

    /// <summary>
    /// The adjoint control gradients r_t of element b into <see cref="LqrWorkspace.BoundGradient"/>
    /// for every stage where some control is held at a bound (what <see cref="BoundTerm"/> reads):
    /// per element, so it runs on the workers with the rest of the element's backward pass.
    /// </summary>
    public static void WriteBoundGradients(in LqrData d, LqrWorkspace ws, in SplitStageVector g, int b)
    {
        for (int t = 0; t < d.Dims.Horizon; t++)
        {
            if (ws.FreeAt(t, b).Contains(false))
            {
                KktResidual.ControlGradient(d, t, b, ws.DTauAt(t, b), g, ws.DLambda, ws.BoundGradientAt(t, b));
            }
        }
    }
}
