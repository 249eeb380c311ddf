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
    /// <summary>
    /// The scale of the terms of the control gradient (see <see cref="Compute"/>); the costates
    /// in ws.Lambda must be current.
    /// </summary>
    public static double TermScale(in LqrData d, int b, LqrWorkspace ws)
    {
        int T = d.Dims.Horizon, B = d.Dims.BatchSize, n = d.Dims.StateDim, N = d.Dims.TauDim;
        double mu = d.ControlRegularization, scale = 0;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> tau = ws.TauAt(t, b), C = d.C.At(t, b), c = d.c.At(t, b);
            for (int i = n; i < N; i++)
            {
                double sum = Math.Abs(c[i]) + Math.Abs(mu * tau[i]);
                for (int j = 0; j < N; j++)
                {
                    sum += 0.5 * Math.Abs((C[i * N + j] + C[j * N + i]) * tau[j]);
                }
                if (t < T - 1)
                {
                    ReadOnlySpan<double> Ft = d.F.At(t, b), lamNext = ws.LambdaAt(t + 1, b);
                    for (int k = 0; k < n; k++)
                    {
                        sum += Math.Abs(Ft[k * N + i] * lamNext[k]);
                    }
                }
                scale = Math.Max(scale, sum);
            }
        }
        return scale;
    }

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

    /// <summary>Largest KKT residual, relative to the size of the terms it balances, accepted as accurate.</summary>
    public const double RelativeTolerance = 1e-6;

    /// <summary>
    /// The KKT residual of element b's solution in the workspace (costates must be current), the
    /// number of controls at a bound, and the scale of the balanced terms: the largest
    /// sum_j |(C_t + mu I_u)_ij tau_j| + |c_i| + sum_k |F_t,ki lambda_{t+1,k}| over controls i.
    /// </summary>
    public static double Compute(in LqrData d, in ControlBox box, int b, LqrWorkspace ws, StageScratch s, out int active,
        out double scale)
    {
        scale = TermScale(d, b, ws);
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
                double u = tau[n + i], lo = box.Lower(t, b, i), hi = box.Upper(t, b, i);
                double violation;
                if (lo == hi)
                {
                    violation = 0;   // a fixed control: its multiplier may have either sign
                    active++;
                }
                else if (u == lo)
                {
                    violation = Math.Max(0, -r[i]);
                    active++;
                }
                else if (u == hi)
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
