// Notation: tau_t = [x_t; u_t]; the condensed gradient with respect to u_t is
//   r_t = (sym(C_t) tau_t + c_t)_u + F_{t,u}' lambda_{t+1},
// with lambda_T = (sym(C_T) tau_T + c_T)_x and lambda_t = (sym(C_t) tau_t + c_t)_x + F_{t,x}' lambda_{t+1}.
// KKT: r_i = 0 on free controls, r_i >= 0 at a lower bound, r_i <= 0 at an upper bound.
using DiffMpc.Autodiff;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Box;
using DiffMpc.Tests.Support;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// Recomputes, from X, U and the problem data only (not the solver's costates or gradients),
/// the first-order optimality conditions of one batch element: dynamics feasibility, bound
/// feasibility, costates, the KKT residual and the objective. Every error is also given
/// relative to the sum of the absolute values of the terms it is made of, so the checks mean the
/// same for data of any magnitude.
/// </summary>
internal static class IndependentKkt
{
    public sealed record Result(
        double Residual,          // largest KKT violation (absolute)
        double RelativeResidual,  // largest violation / sum |terms| of that entry
        double Scale,             // largest sum |terms| of any entry of r
        double DynamicsError,     // largest |x_{t+1} - g(tau_t)| / (sum |terms| + 1e-300), and x_1 vs x_init
        bool Feasible,            // lower <= u <= upper everywhere
        double CostateError,      // largest |lambda_lib - lambda| / (sum |terms| + 1e-300)
        double CostError,         // |cost_lib - cost| / (sum |terms| + 1e-300)
        int Active);              // controls exactly at a bound

    /// <summary>Dynamics of a problem: the predicted next state, its terms' magnitude and F_t.</summary>
    internal interface IModel
    {
        MpcDimensions Dims { get; }

        /// <summary>Writes g(tau), the magnitude sum |terms| per entry and F = dg/dtau ([n][n+m]).</summary>
        void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> next, Span<double> magnitude, Span<double> F);
    }

    /// <param name="mu">MpcOptions.ControlRegularization: mu I is added to every C_t's control block.</param>
    public static Result Check(LqrProblem p, MpcSolution sol, int b, double mu = 0) =>
        Check(new LinearModel(p), p.XInit, p.CostQuadratic, p.CostLinear, p.ControlLower, p.ControlUpper, sol, b, mu);

    public static Result Check(NonlinearProblem p, MpcSolution sol, int b, double mu = 0) =>
        Check(new NonlinearModel(p), p.XInit, p.CostQuadratic, p.CostLinear, p.ControlLower, p.ControlUpper, sol, b, mu);

    private static Result Check(IModel model, double[] xInit, StageArray C, StageArray c, StageArray? lo, StageArray? hi,
        MpcSolution sol, int b, double mu)
    {
        MpcDimensions d = model.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
        double[][] tau = new double[T][];
        for (int t = 0; t < T; t++)
        {
            tau[t] = [.. sol.StateAt(t, b), .. sol.ControlAt(t, b)];
        }

        // Dynamics and bounds.
        double dyn = 0;
        for (int i = 0; i < n; i++)
        {
            dyn = Math.Max(dyn, Math.Abs(tau[0][i] - xInit[b * n + i]) / (Math.Abs(xInit[b * n + i]) + 1e-300));
        }
        var F = new double[T][];
        double[] next = new double[n], mag = new double[n];
        for (int t = 0; t < T - 1; t++)
        {
            F[t] = new double[n * N];
            model.Step(t, b, tau[t], next, mag, F[t]);
            for (int i = 0; i < n; i++)
            {
                double err = Math.Abs(tau[t + 1][i] - next[i]);
                dyn = Math.Max(dyn, err == 0 ? 0 : err / (mag[i] + 1e-300));
            }
        }
        bool feasible = true;
        int active = 0;
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < m; i++)
            {
                double u = tau[t][n + i], l = BoxTestProblems.BoundAt(lo, d, t, b, i, true), h = BoxTestProblems.BoundAt(hi, d, t, b, i, false);
                feasible &= u >= l && u <= h;
                active += u == l || u == h ? 1 : 0;
            }
        }

        // Gradient of the stage cost, g_t = sym(C_t) tau_t + c_t, with magnitudes.
        double[][] g = new double[T][], gm = new double[T][];
        double cost = 0, costMag = 0;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> Ct = Element(C, t, b, B, N * N), ct = Element(c, t, b, B, N);
            g[t] = new double[N];
            gm[t] = new double[N];
            for (int i = 0; i < N; i++)
            {
                double s = ct[i], a = Math.Abs(ct[i]);
                for (int j = 0; j < N; j++)
                {
                    double cij = 0.5 * (Ct[i * N + j] + Ct[j * N + i]) + (i == j && i >= n ? mu : 0);
                    s += cij * tau[t][j];
                    a += Math.Abs(cij * tau[t][j]);
                    double q = 0.5 * tau[t][i] * Ct[i * N + j] * tau[t][j];
                    cost += q;
                    costMag += Math.Abs(q);
                }
                g[t][i] = s;
                gm[t][i] = a;
                cost += ct[i] * tau[t][i];
                costMag += Math.Abs(ct[i] * tau[t][i]);
            }
        }

        // Costates and condensed control gradient.
        double[] lamNext = new double[n], lamNextMag = new double[n];
        double residual = 0, relResidual = 0, scale = 0, costateErr = 0;
        for (int t = T - 1; t >= 0; t--)
        {
            double[] lam = new double[n], lamMag = new double[n];
            for (int i = 0; i < N; i++)
            {
                double s = g[t][i], a = gm[t][i];
                if (t < T - 1)
                {
                    for (int k = 0; k < n; k++)
                    {
                        s += F[t][k * N + i] * lamNext[k];
                        a += Math.Abs(F[t][k * N + i]) * lamNextMag[k];
                    }
                }
                if (i < n)
                {
                    (lam[i], lamMag[i]) = (s, a);
                    continue;
                }
                int ui = i - n;
                double u = tau[t][i], l = BoxTestProblems.BoundAt(lo, d, t, b, ui, true), h = BoxTestProblems.BoundAt(hi, d, t, b, ui, false);
                // A control fixed by equal bounds satisfies KKT whatever the sign of r.
                double violation = u == l && u == h ? 0
                    : u == l ? Math.Max(0, -s)
                    : u == h ? Math.Max(0, s)
                    : Math.Abs(s);
                residual = Math.Max(residual, violation);
                relResidual = Math.Max(relResidual, violation == 0 ? 0 : violation / (a + 1e-250));   // terms below 1e-250 are at the underflow limit
                scale = Math.Max(scale, a);
            }
            ReadOnlySpan<double> lib = sol.Costates.AsSpan((t * B + b) * n, n);
            for (int k = 0; k < n; k++)
            {
                double err = Math.Abs(lib[k] - lam[k]);
                costateErr = Math.Max(costateErr, err == 0 ? 0 : err / (lamMag[k] + 1e-300));
            }
            (lamNext, lamNextMag) = (lam, lamMag);
        }
        double costErr = Math.Abs(sol.Cost[b] - cost);
        return new Result(residual, relResidual, scale, dyn, feasible, costateErr == 0 ? 0 : costateErr,
            costErr == 0 ? 0 : costErr / (costMag + 1e-300), active);
    }

    private static ReadOnlySpan<double> Element(StageArray a, int t, int b, int B, int size) =>
        Layouts.Element(a, t, b, B, size);

    private sealed class LinearModel(LqrProblem p) : IModel
    {
        public MpcDimensions Dims => p.Dimensions;

        public void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> next, Span<double> magnitude, Span<double> F)
        {
            int B = Dims.BatchSize, n = Dims.StateDim, N = Dims.TauDim;
            ReadOnlySpan<double> Ft = Layouts.Element(p.Dynamics, t, b, B, n * N);
            Ft.CopyTo(F);
            for (int i = 0; i < n; i++)
            {
                double f = p.DynamicsOffset is null ? 0 : Layouts.Element(p.DynamicsOffset, t, b, B, n)[i];
                double s = f, a = Math.Abs(f);
                for (int j = 0; j < N; j++)
                {
                    s += Ft[i * N + j] * tau[j];
                    a += Math.Abs(Ft[i * N + j] * tau[j]);
                }
                next[i] = s;
                magnitude[i] = a;
            }
        }
    }

    private sealed class NonlinearModel(NonlinearProblem p) : IModel
    {
        private readonly DynamicsDerivatives _d = new(p.Dynamics);

        public MpcDimensions Dims => p.Dimensions;

        public void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> next, Span<double> magnitude, Span<double> F)
        {
            int n = Dims.StateDim, N = Dims.TauDim, nz = N + p.Dynamics.ParameterCount;
            double[] jac = new double[n * nz];
            _d.Jacobian(tau[..n], tau[n..], p.Parameters, next, jac);
            for (int i = 0; i < n; i++)
            {
                jac.AsSpan(i * nz, N).CopyTo(F.Slice(i * N, N));
                magnitude[i] = 1 + Math.Abs(next[i]);
            }
        }
    }
}
