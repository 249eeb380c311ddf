// Notation: the condensed problem is the cost as a function of the controls alone (states
// eliminated through the dynamics). Its gradient with respect to u_t is
//   r_t = (sym(C_t) tau_t + g_t)_u + F_{t,u}' lambda_{t+1}
// with lambda the costates. First-order optimality (KKT): r_i = 0 for free controls, r_i >= 0 at a
// lower bound, r_i <= 0 at an upper bound. The residual is the largest violation.
using DiffMpc.LinearAlgebra;
using DiffMpc.Lqr;

namespace DiffMpc.Box;

/// <summary>Gradients of the condensed problem with respect to the controls, and the KKT residual.</summary>
internal static class KktResidual
{
    /// <summary>r_t (length m) for element b from a trajectory, its linear term g and costates.</summary>
    public static void ControlGradient<TLinear>(in LqrData d, int t, int b, ReadOnlySpan<double> tau, in TLinear g,
        ReadOnlySpan<double> lambdaAll, Span<double> r)
        where TLinear : struct, IStageVector
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, N = d.Dims.TauDim;
        RiccatiSweep.HessianRows(d, t, b, n, tau, r);
        g.AddTo(t, b, r, n);
        if (t < T - 1)
        {
            ReadOnlySpan<double> Ft = d.F.At(t, b);
            ReadOnlySpan<double> lamNext = lambdaAll.Slice(((t + 1) * B + b) * n, n);
            for (int j = 0; j < n; j++)
            {
                Blas.Axpy(lamNext[j], Ft.Slice(j * N + n, r.Length), r);
            }
        }
    }

    /// <summary>
    /// The KKT residual of element b's solution in the workspace (costates must be current) and
    /// the number of controls at a bound.
    /// </summary>
    public static double Compute(in LqrData d, in ControlBox box, int b, LqrWorkspace ws, StageScratch s, out int active)
    {
        int T = d.Dims.Horizon, n = d.Dims.StateDim, m = d.Dims.ControlDim;
        Span<double> r = s.Rhs.AsSpan(0, m);
        var c = new ViewStageVector(d.c);
        double residual = 0;
        active = 0;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> tau = ws.TauAt(t, b);
            ControlGradient(d, t, b, tau, c, ws.Lambda, r);
            for (int i = 0; i < m; i++)
            {
                double u = tau[n + i];
                double violation;
                if (u == box.Lower(t, b, i))
                {
                    violation = Math.Max(0, -r[i]);
                    active++;
                }
                else if (u == box.Upper(t, b, i))
                {
                    violation = Math.Max(0, r[i]);
                    active++;
                }
                else
                {
                    violation = Math.Abs(r[i]);
                }
                residual = Math.Max(residual, violation);
            }
        }
        return residual;
    }
}
