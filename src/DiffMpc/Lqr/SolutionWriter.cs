using DiffMpc.Box;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>Copies a workspace's per-element results into the public solution and gradient objects.</summary>
internal static class SolutionWriter
{
    /// <summary>True for outcomes that leave a valid (feasible) trajectory in the workspace.</summary>
    public static bool HasTrajectory(SolveStatus s) =>
        s is SolveStatus.Converged or SolveStatus.MaxIterations or SolveStatus.LineSearchFailed
            or SolveStatus.NotStrictLocalMinimum or SolveStatus.Inaccurate;

    /// <summary>
    /// The final status of a box-constrained LQR element: a stall (LineSearchFailed) at a point
    /// whose KKT residual is at the round-off level of its terms (at most
    /// <see cref="RoundOffResidual"/> times their scale) is Converged, since no step can improve on
    /// round-off; then <see cref="CheckAccuracy"/>. Without it, whether such a point is reported
    /// as converged or stalled would depend on the last bits of the arithmetic (the lane and the
    /// per-element kernels, AVX-512 or AVX2), and so would its gradients.
    /// </summary>
    public static SolveStatus BoxStatus(SolveStatus status, double residual, double scale, double tolerance) =>
        CheckAccuracy(status == SolveStatus.LineSearchFailed && residual <= RoundOffResidual * scale ? SolveStatus.Converged : status,
            residual, scale, tolerance);

    /// <summary>The KKT residual, relative to the scale of its terms, that counts as round-off (see <see cref="BoxStatus"/>).</summary>
    public const double RoundOffResidual = 1e-10;

    /// <summary>
    /// Converged, unless the KKT residual is large relative to the scale of its terms: above
    /// max(1e-6, 100 * tolerance), where tolerance is the iterative solver's requested step
    /// tolerance (0 for the direct LQR solve), so a deliberately loose tolerance is not mistaken for
    /// round-off.
    /// </summary>
    public static SolveStatus CheckAccuracy(SolveStatus status, double residual, double scale, double tolerance = 0) =>
        status == SolveStatus.Converged
            && !(residual <= Math.Max(KktResidual.RelativeTolerance, 100 * tolerance) * scale)
            ? SolveStatus.Inaccurate
            : status;

    /// <summary>
    /// True when element b's adjoint is finite and its outer products with the primal solution
    /// cannot overflow, so its gradient contributions are meaningful.
    /// </summary>
    public static bool AdjointUsable(LqrWorkspace ws, int b)
    {
        double tau = 0, lam = 0, dtau = 0, dlam = 0;
        for (int t = 0; t < ws.Dims.Horizon; t++)
        {
            tau = Math.Max(tau, MaxAbs(ws.TauAt(t, b)));
            lam = Math.Max(lam, MaxAbs(ws.LambdaAt(t, b)));
            dtau = Math.Max(dtau, MaxAbs(ws.DTauAt(t, b)));
            dlam = Math.Max(dlam, MaxAbs(ws.DLambdaAt(t, b)));
        }
        const double Limit = 1e300;
        return dtau * tau <= Limit && dlam * tau <= Limit && lam * dtau <= Limit && dlam <= Limit && dtau <= Limit;
    }

    /// <summary>max |x_i|, or +Infinity when x holds a non-finite value.</summary>
    public static double MaxAbs(ReadOnlySpan<double> x)
    {
        double m = 0;
        foreach (double v in x)
        {
            if (!double.IsFinite(v))
            {
                return double.PositiveInfinity;
            }
            m = Math.Max(m, Math.Abs(v));
        }
        return m;
    }

    /// <summary>Writes X, U, costates and the per-element figures; NaN where there is no trajectory.</summary>
    public static void Publish(LqrWorkspace ws, MpcSolution solution, bool trajectoriesWritten = false)
    {
        if (!trajectoriesWritten)
        {
            for (int b = 0; b < ws.Dims.BatchSize; b++)
            {
                PublishTrajectory(ws, solution, b);
            }
        }
        ws.Cost.CopyTo(solution.Cost);
        ws.Status.CopyTo(solution.Status);
        ws.Iterations.CopyTo(solution.Iterations);
        ws.StepNorm.CopyTo(solution.StepNorm);
        ws.KktResidual.CopyTo(solution.KktResidual);
        ws.ActiveCount.CopyTo(solution.ActiveBounds);
    }

    /// <summary>
    /// Writes element b's X, U and costates (NaN when it has no trajectory). Touches only b's
    /// slots, so different elements may be published from different threads.
    /// </summary>
    public static void PublishTrajectory(LqrWorkspace ws, MpcSolution solution, int b)
    {
        MpcDimensions d = ws.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim;
        bool has = HasTrajectory(ws.Status[b]);
        for (int t = 0; t < T; t++)
        {
            Span<double> x = solution.X.AsSpan((t * B + b) * n, n);
            Span<double> u = solution.U.AsSpan((t * B + b) * m, m);
            Span<double> lam = solution.Costates.AsSpan((t * B + b) * n, n);
            if (has)
            {
                ReadOnlySpan<double> tau = ws.TauAt(t, b);
                tau[..n].CopyTo(x);
                tau[n..].CopyTo(u);
                ws.LambdaAt(t, b).CopyTo(lam);
            }
            else
            {
                x.Fill(double.NaN);
                u.Fill(double.NaN);
                lam.Fill(double.NaN);
            }
        }
    }

    /// <summary>dL/dx_init = dlambda_1 for included elements, zero for the others.</summary>
    public static void WriteInitialStateGradient(LqrWorkspace ws, ReadOnlySpan<bool> include, double[] output)
    {
        int n = ws.Dims.StateDim;
        for (int b = 0; b < ws.Dims.BatchSize; b++)
        {
            Span<double> dx = output.AsSpan(b * n, n);
            if (include[b])
            {
                ws.DLambdaAt(0, b).CopyTo(dx);
            }
            else
            {
                dx.Clear();
            }
        }
    }

    /// <summary>
    /// dL/du_lower or dL/du_upper into <paramref name="output"/> (nothing when the bound is absent),
    /// from the control gradients the backward pass left in <see cref="LqrWorkspace.BoundGradient"/>.
    /// </summary>
    public static void WriteBoundGradient(in LqrData d, in ControlBox box, LqrWorkspace ws, StageArray? layout, double[]? output,
        bool lowerSide, ReadOnlySpan<bool> include)
    {
        if (layout is null || output is null)
        {
            return;
        }
        int elementSize = layout.IsScalar ? 1 : d.Dims.ControlDim;
        GradientAssembly.Accumulate(new GradientAssembly.BoundTerm(box, ws, lowerSide, sumEntries: layout.IsScalar),
            layout, output, d.Dims.Horizon, d.Dims.BatchSize, elementSize, include);
    }
}
