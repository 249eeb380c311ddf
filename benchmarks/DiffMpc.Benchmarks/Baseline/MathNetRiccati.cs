// Notation as in the library: tau_t = [x_t; u_t]; Q_t = sym(C_t) + F_t' V_{t+1} F_t,
// q_t = c_t + F_t' (V_{t+1} f_t + v_{t+1}); K_t = -Q_uu^{-1} Q_ux, k_t = -Q_uu^{-1} q_u;
// V_t = Q_xx + Q_xu K_t, v_t = q_x + K_t' q_u; costates lambda_t = (sym(C_t) tau_t + c_t)_x + F_{t,x}' lambda_{t+1}.
// Backward: the adjoint LQR (linear term g_t = [dL/dx_t; dL/du_t], f = 0, x_1 = 0) gives dtau, dlambda and
//   dC_t = 1/2 (dtau tau' + tau dtau'), dc_t = dtau_t, dF_t = dlambda_{t+1} tau_t' + lambda_{t+1} dtau_t',
//   df_t = dlambda_{t+1}, dx_init = dlambda_1.
using DiffMpc.Problems;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DiffMpc.Benchmarks.Baseline;

/// <summary>
/// The naive baseline: the textbook Riccati recursion written the idiomatic MathNet.Numerics way,
/// one problem of the batch at a time on one thread, with a new <see cref="Matrix{T}"/> for every
/// intermediate and MathNet's <see cref="Cholesky{T}"/>. This is benchmark code, not library code:
/// it exists to show what the library's workspace-reusing batched kernels buy.
/// </summary>
internal static class MathNetRiccati
{
    private static readonly MatrixBuilder<double> Mat = Matrix<double>.Build;
    private static readonly VectorBuilder<double> Vec = Vector<double>.Build;

    /// <summary>Solves every problem of the batch. Throws when a Q_uu is not positive definite.</summary>
    public static BaselineResult Solve(LqrProblem problem) => Run(problem, null, null);

    /// <summary>Solves and differentiates L = sum(dLdx .* x) + sum(dLdu .* u) with respect to C, c, F, f and x_init.</summary>
    public static BaselineResult SolveAndBackward(LqrProblem problem, double[] dLdx, double[] dLdu) =>
        Run(problem, dLdx ?? throw new ArgumentNullException(nameof(dLdx)), dLdu ?? throw new ArgumentNullException(nameof(dLdu)));

    private static BaselineResult Run(LqrProblem p, double[]? dLdx, double[]? dLdu)
    {
        ArgumentNullException.ThrowIfNull(p);
        MpcDimensions d = p.Dimensions;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, N = d.TauDim;
        bool backward = dLdx is not null;
        var result = new BaselineResult(d, p, backward);
        for (int b = 0; b < B; b++)
        {
            var problem = new Element(p, b);
            Forward(problem, out Matrix<double>[] K, out Cholesky<double>[] chol, out Vector<double>[] tau,
                out Vector<double>[] lambda);
            for (int t = 0; t < T; t++)
            {
                result.Store(t, b, tau[t], lambda[t]);
            }
            result.Cost[b] = Cost(problem, tau);
            if (!backward)
            {
                continue;
            }

            var g = new Vector<double>[T];
            for (int t = 0; t < T; t++)
            {
                g[t] = Vec.Dense(N, i => i < n ? dLdx![(t * B + b) * n + i] : dLdu![(t * B + b) * d.ControlDim + i - n]);
            }
            Adjoint(problem, K, chol, g, out Vector<double>[] dtau, out Vector<double>[] dlambda);
            for (int t = 0; t < T; t++)
            {
                Matrix<double> dC = 0.5 * (dtau[t].OuterProduct(tau[t]) + tau[t].OuterProduct(dtau[t]));
                result.AddGradients(t, b, dC, dtau[t],
                    t < T - 1 ? dlambda[t + 1].OuterProduct(tau[t]) + lambda[t + 1].OuterProduct(dtau[t]) : null,
                    t < T - 1 ? dlambda[t + 1] : null);
            }
            result.SetXInitGradient(b, dlambda[0]);
        }
        return result;
    }

    private static void Forward(Element e, out Matrix<double>[] K, out Cholesky<double>[] chol,
        out Vector<double>[] tau, out Vector<double>[] lambda)
    {
        int T = e.T, n = e.N, m = e.M;
        K = new Matrix<double>[T];
        var k = new Vector<double>[T];
        chol = new Cholesky<double>[T];
        Matrix<double> V = Mat.Dense(n, n);
        Vector<double> v = Vec.Dense(n);
        for (int t = T - 1; t >= 0; t--)
        {
            Matrix<double> Q = e.SymC(t);
            Vector<double> q = e.c(t);
            if (t < T - 1)
            {
                Matrix<double> F = e.F(t);
                Q += F.TransposeThisAndMultiply(V * F);
                q += F.TransposeThisAndMultiply(V * e.f(t) + v);
            }
            Matrix<double> Qxx = Q.SubMatrix(0, n, 0, n), Qxu = Q.SubMatrix(0, n, n, m);
            Matrix<double> Qux = Q.SubMatrix(n, m, 0, n), Quu = Q.SubMatrix(n, m, n, m);
            Vector<double> qx = q.SubVector(0, n), qu = q.SubVector(n, m);
            chol[t] = Quu.Cholesky();
            K[t] = -chol[t].Solve(Qux);
            k[t] = -chol[t].Solve(qu);
            V = Qxx + Qxu * K[t];
            V = 0.5 * (V + V.Transpose());
            v = qx + K[t].TransposeThisAndMultiply(qu);
        }

        tau = Rollout(e, K, k, e.XInit(), withOffset: true);
        lambda = Costates(e, tau, t => e.c(t));
    }

    private static void Adjoint(Element e, Matrix<double>[] K, Cholesky<double>[] chol, Vector<double>[] g,
        out Vector<double>[] dtau, out Vector<double>[] dlambda)
    {
        int T = e.T, n = e.N, m = e.M;
        var dk = new Vector<double>[T];
        Vector<double> v = Vec.Dense(n);
        for (int t = T - 1; t >= 0; t--)
        {
            Vector<double> q = t < T - 1 ? g[t] + e.F(t).TransposeThisAndMultiply(v) : g[t];
            Vector<double> qu = q.SubVector(n, m);
            dk[t] = -chol[t].Solve(qu);
            v = q.SubVector(0, n) + K[t].TransposeThisAndMultiply(qu);
        }
        dtau = Rollout(e, K, dk, Vec.Dense(n), withOffset: false);
        dlambda = Costates(e, dtau, t => g[t]);
    }

    private static Vector<double>[] Rollout(Element e, Matrix<double>[] K, Vector<double>[] k, Vector<double> x0, bool withOffset)
    {
        var tau = new Vector<double>[e.T];
        Vector<double> x = x0;
        for (int t = 0; t < e.T; t++)
        {
            Vector<double> u = K[t] * x + k[t];
            tau[t] = Vec.Dense(e.N + e.M);
            tau[t].SetSubVector(0, e.N, x);
            tau[t].SetSubVector(e.N, e.M, u);
            if (t < e.T - 1)
            {
                x = e.F(t) * tau[t];
                if (withOffset)
                {
                    x += e.f(t);
                }
            }
        }
        return tau;
    }

    private static Vector<double>[] Costates(Element e, Vector<double>[] tau, Func<int, Vector<double>> linear)
    {
        var lambda = new Vector<double>[e.T];
        for (int t = e.T - 1; t >= 0; t--)
        {
            Vector<double> r = (e.SymC(t) * tau[t] + linear(t)).SubVector(0, e.N);
            if (t < e.T - 1)
            {
                r += e.F(t).SubMatrix(0, e.N, 0, e.N).TransposeThisAndMultiply(lambda[t + 1]);
            }
            lambda[t] = r;
        }
        return lambda;
    }

    private static double Cost(Element e, Vector<double>[] tau)
    {
        double cost = 0;
        for (int t = 0; t < e.T; t++)
        {
            cost += 0.5 * tau[t].DotProduct(e.SymC(t) * tau[t]) + e.c(t).DotProduct(tau[t]);
        }
        return cost;
    }

    /// <summary>Batch element b of a problem, read as MathNet matrices (a new copy on every access, as naive code does).</summary>
    private sealed class Element(LqrProblem p, int b)
    {
        public int T { get; } = p.Dimensions.Horizon;

        public int N { get; } = p.Dimensions.StateDim;

        public int M { get; } = p.Dimensions.ControlDim;

        private int Tau => N + M;

        public Matrix<double> SymC(int t)
        {
            Matrix<double> C = Mat.DenseOfRowMajor(Tau, Tau, Layout.Slice(p.CostQuadratic, t, b, p.Dimensions.BatchSize, Tau * Tau).ToArray());
            return 0.5 * (C + C.Transpose());
        }

        public Vector<double> c(int t) =>
            Vec.DenseOfArray(Layout.Slice(p.CostLinear, t, b, p.Dimensions.BatchSize, Tau).ToArray());

        public Matrix<double> F(int t) =>
            Mat.DenseOfRowMajor(N, Tau, Layout.Slice(p.Dynamics, t, b, p.Dimensions.BatchSize, N * Tau).ToArray());

        public Vector<double> f(int t) => p.DynamicsOffset is null
            ? Vec.Dense(N)
            : Vec.DenseOfArray(Layout.Slice(p.DynamicsOffset, t, b, p.Dimensions.BatchSize, N).ToArray());

        public Vector<double> XInit() => Vec.DenseOfArray(p.XInit.AsSpan(b * N, N).ToArray());
    }
}

/// <summary>Where element (t, b) of a possibly broadcast <see cref="StageArray"/> lives, from its public flags.</summary>
internal static class Layout
{
    public static int Offset(StageArray a, int t, int b, int batch, int elementSize) =>
        (a.SharedOverTime ? 0 : t * (a.SharedOverBatch ? 1 : batch) * elementSize) + (a.SharedOverBatch ? 0 : b * elementSize);

    public static Span<double> Slice(StageArray a, int t, int b, int batch, int elementSize) =>
        a.Data.AsSpan(Offset(a, t, b, batch, elementSize), elementSize);
}

/// <summary>The baseline's solution and (optionally) gradients, in the library's array layouts.</summary>
internal sealed class BaselineResult
{
    private readonly MpcDimensions _d;
    private readonly LqrProblem _p;

    public BaselineResult(MpcDimensions d, LqrProblem p, bool withGradients)
    {
        _d = d;
        _p = p;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim;
        X = new double[T * B * n];
        U = new double[T * B * m];
        Costates = new double[T * B * n];
        Cost = new double[B];
        if (withGradients)
        {
            DC = new double[p.CostQuadratic.Data.Length];
            Dc = new double[p.CostLinear.Data.Length];
            DF = new double[p.Dynamics.Data.Length];
            Df = p.DynamicsOffset is null ? null : new double[p.DynamicsOffset.Data.Length];
            DXInit = new double[B * n];
        }
    }

    public double[] X { get; }

    public double[] U { get; }

    public double[] Costates { get; }

    public double[] Cost { get; }

    public double[]? DC { get; }

    public double[]? Dc { get; }

    public double[]? DF { get; }

    public double[]? Df { get; }

    public double[]? DXInit { get; }

    internal void Store(int t, int b, Vector<double> tau, Vector<double> lambda)
    {
        int B = _d.BatchSize, n = _d.StateDim, m = _d.ControlDim;
        for (int i = 0; i < n; i++)
        {
            X[(t * B + b) * n + i] = tau[i];
            Costates[(t * B + b) * n + i] = lambda[i];
        }
        for (int i = 0; i < m; i++)
        {
            U[(t * B + b) * m + i] = tau[n + i];
        }
    }

    internal void AddGradients(int t, int b, Matrix<double> dC, Vector<double> dc, Matrix<double>? dF, Vector<double>? df)
    {
        int B = _d.BatchSize, n = _d.StateDim, N = _d.TauDim;
        AddRowMajor(Layout.Offset(_p.CostQuadratic, t, b, B, N * N), DC!, dC);
        Add(Layout.Offset(_p.CostLinear, t, b, B, N), Dc!, dc);
        if (dF is not null)
        {
            AddRowMajor(Layout.Offset(_p.Dynamics, t, b, B, n * N), DF!, dF);
        }
        if (df is not null && _p.DynamicsOffset is not null)
        {
            Add(Layout.Offset(_p.DynamicsOffset, t, b, B, n), Df!, df);
        }
    }

    internal void SetXInitGradient(int b, Vector<double> dlambda1)
    {
        for (int i = 0; i < _d.StateDim; i++)
        {
            DXInit![b * _d.StateDim + i] = dlambda1[i];
        }
    }

    private static void AddRowMajor(int offset, double[] dst, Matrix<double> a)
    {
        for (int r = 0; r < a.RowCount; r++)
        {
            for (int c = 0; c < a.ColumnCount; c++)
            {
                dst[offset + r * a.ColumnCount + c] += a[r, c];
            }
        }
    }

    private static void Add(int offset, double[] dst, Vector<double> v)
    {
        for (int i = 0; i < v.Count; i++)
        {
            dst[offset + i] += v[i];
        }
    }
}
