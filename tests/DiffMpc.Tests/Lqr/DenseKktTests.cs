using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace DiffMpc.Tests.Lqr;

/// <summary>
/// Cross-checks the Riccati solution and the adjoint gradients against a dense solve of each
/// element's full KKT system (MathNet LU).
/// </summary>
/// <remarks>
/// Variables z = [tau_1; ...; tau_T], multipliers nu = [nu_1; ...; nu_T]. Constraints, written
/// so that nu_t is the costate lambda_t = dV_t/dx_t:
///   -x_1 = -x_init,   F_t tau_t - x_{t+1} = -f_t (t = 1..T-1).
/// KKT: [H E'; E 0] [z; nu] = [-c; e], H = blkdiag(sym C_t). Stationarity in x_t reads
/// (H z + c)_x - nu_t + F_{t,x}' nu_{t+1} = 0, i.e. nu_t = lambda_t.
/// Backward: K [dz; dnu] = -[dL/dz; 0] (K is symmetric), and with dL/dK = [dz; dnu][z; nu]':
///   dL/dC_t = 1/2 (dz_t z_t' + z_t dz_t'), dL/dc_t = dz_t,
///   dL/dF_t = dnu_{t+1} z_t' + nu_{t+1} dz_t', dL/df_t = dnu_{t+1}, dL/dx_init = dnu_1.
/// </remarks>
public sealed class DenseKktTests
{
    private const double Tol = 1e-9;

    /// <summary>seed, T, B, n, m.</summary>
    public static TheoryData<int, int, int, int, int> Sizes => new()
    {
        { 1, 1, 1, 1, 1 },
        { 2, 1, 3, 3, 2 },
        { 3, 3, 2, 1, 1 },
        { 4, 6, 3, 4, 2 },
        { 5, 10, 2, 12, 12 },
        { 6, 30, 2, 3, 2 },
        { 7, 8, 4, 2, 6 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SolutionAndGradients_MatchDenseKkt(int seed, int T, int B, int n, int m) =>
        CheckAgainstDense(RandomLqr.Create(seed, new MpcDimensions(T, B, n, m)), seed);

    [Fact]
    public void BroadcastLayouts_MatchDenseKkt() =>
        CheckAgainstDense(RandomLqr.Create(11, new MpcDimensions(7, 4, 3, 2), C: Layout.TimeInvariant,
            c: Layout.Shared, F: Layout.BatchShared, f: Layout.TimeInvariant), 11);

    [Fact]
    public void NoOffset_AsymmetricC_MatchDenseKkt() =>
        CheckAgainstDense(RandomLqr.Create(12, new MpcDimensions(5, 3, 4, 3), C: Layout.BatchShared, f: null,
            asymmetricC: true), 12);

    [Fact]
    public void Costates_AreGradientOfOptimalCostWrtInitialState()
    {
        // Sign convention check independent of the dense KKT: lambda_1 = dV*/dx_init.
        LqrCase lqr = RandomLqr.Create(13, new MpcDimensions(6, 2, 3, 2));
        MpcSolution sol = Mpc.Solve(lqr.Problem);
        double[] lambda1 = sol.Costates.AsSpan(0, lqr.B * lqr.N).ToArray();
        double[] cost0 = (double[])sol.Cost.Clone();
        var solver = new DiffMpc.Lqr.LqrSolver(lqr.Dims);
        for (int b = 0; b < lqr.B; b++)
        {
            for (int i = 0; i < lqr.N; i++)
            {
                int k = b * lqr.N + i;
                double v = lqr.XInit[k], h = 1e-5;
                lqr.XInit[k] = v + h;
                double plus = solver.Solve(lqr.Problem).Cost[b];
                lqr.XInit[k] = v - h;
                double minus = solver.Solve(lqr.Problem).Cost[b];
                lqr.XInit[k] = v;
                double fd = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(fd - lambda1[k]) <= 1e-6 * Math.Max(1, Math.Abs(fd)),
                    $"lambda_1[b={b}][{i}] = {lambda1[k]} but dV*/dx_init = {fd} (cost {cost0[b]})");
            }
        }
    }

    private static void CheckAgainstDense(LqrCase lqr, int seed)
    {
        MpcDimensions d = lqr.Dims;
        int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
        (double[] wx, double[] wu) = RandomLqr.LossWeights(seed, d);

        MpcSolution sol = Mpc.Solve(lqr.Problem);
        Assert.True(sol.AllConverged);
        MpcGradients grad = Mpc.Backward(sol, wx, wu);

        var x = new double[T * B * n];
        var u = new double[T * B * m];
        var lam = new double[T * B * n];
        var cost = new double[B];
        var dC = new double[lqr.C.Data.Length];
        var dc = new double[lqr.c.Data.Length];
        var dF = new double[lqr.F.Data.Length];
        var df = lqr.f is null ? null : new double[lqr.f.Data.Length];
        var dx0 = new double[B * n];

        for (int b = 0; b < B; b++)
        {
            DenseSolution ds = SolveDense(lqr, b, wx, wu);
            cost[b] = ds.Cost;
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    x[(t * B + b) * n + i] = ds.Z[t * N + i];
                    lam[(t * B + b) * n + i] = ds.Nu[t * n + i];
                }
                for (int i = 0; i < m; i++)
                {
                    u[(t * B + b) * m + i] = ds.Z[t * N + n + i];
                }

                int oC = Layouts.Offset(lqr.C, t, b, B, N * N), oc = Layouts.Offset(lqr.c, t, b, B, N);
                for (int i = 0; i < N; i++)
                {
                    dc[oc + i] += ds.Dz[t * N + i];
                    for (int j = 0; j < N; j++)
                    {
                        dC[oC + i * N + j] += 0.5 * (ds.Dz[t * N + i] * ds.Z[t * N + j] + ds.Z[t * N + i] * ds.Dz[t * N + j]);
                    }
                }
                if (t < T - 1)
                {
                    int oF = Layouts.Offset(lqr.F, t, b, B, n * N);
                    for (int i = 0; i < n; i++)
                    {
                        double dnu = ds.Dnu[(t + 1) * n + i], nu = ds.Nu[(t + 1) * n + i];
                        for (int j = 0; j < N; j++)
                        {
                            dF[oF + i * N + j] += dnu * ds.Z[t * N + j] + nu * ds.Dz[t * N + j];
                        }
                        if (df is not null)
                        {
                            df[Layouts.Offset(lqr.f!, t, b, B, n) + i] += dnu;
                        }
                    }
                }
            }
            for (int i = 0; i < n; i++)
            {
                dx0[b * n + i] = ds.Dnu[i];
            }
        }

        Compare.Relative(x, sol.X, Tol, "x");
        Compare.Relative(u, sol.U, Tol, "u");
        Compare.Relative(lam, sol.Costates, Tol, "costates");
        Compare.Relative(cost, sol.Cost, Tol, "cost");
        Compare.Relative(dC, grad.CostQuadratic, Tol, "dL/dC");
        Compare.Relative(dc, grad.CostLinear, Tol, "dL/dc");
        Compare.Relative(dF, grad.Dynamics, Tol, "dL/dF");
        Compare.Relative(dx0, grad.XInit, Tol, "dL/dx_init");
        if (df is null)
        {
            Assert.Null(grad.DynamicsOffset);
        }
        else
        {
            Compare.Relative(df, grad.DynamicsOffset, Tol, "dL/df");
        }
    }

    private sealed record DenseSolution(double[] Z, double[] Nu, double[] Dz, double[] Dnu, double Cost);

    private static DenseSolution SolveDense(LqrCase lqr, int b, double[] wx, double[] wu)
    {
        int T = lqr.T, B = lqr.B, n = lqr.N, m = lqr.M, N = n + m;
        int nz = T * N, size = nz + T * n;
        Matrix<double> K = Matrix<double>.Build.Dense(size, size);
        Vector<double> rhs = Vector<double>.Build.Dense(size);
        Vector<double> g = Vector<double>.Build.Dense(size);

        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> C = lqr.CAt(t, b), c = lqr.cAt(t, b);
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    K[t * N + i, t * N + j] = 0.5 * (C[i * N + j] + C[j * N + i]);
                }
                rhs[t * N + i] = -c[i];
            }
            for (int i = 0; i < n; i++)
            {
                g[t * N + i] = wx[(t * B + b) * n + i];
            }
            for (int i = 0; i < m; i++)
            {
                g[t * N + n + i] = wu[(t * B + b) * m + i];
            }

            // Constraint row block t: -x_{t+1} (+ F_{t-1} tau_{t-1}) = -f_{t-1} (or -x_init).
            int row = nz + t * n;
            for (int i = 0; i < n; i++)
            {
                K[row + i, t * N + i] = -1;
                K[t * N + i, row + i] = -1;
            }
            if (t == 0)
            {
                for (int i = 0; i < n; i++)
                {
                    rhs[row + i] = -lqr.XInit[b * n + i];
                }
            }
            else
            {
                ReadOnlySpan<double> F = lqr.FAt(t - 1, b), f = lqr.fAt(t - 1, b);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < N; j++)
                    {
                        K[row + i, (t - 1) * N + j] = F[i * N + j];
                        K[(t - 1) * N + j, row + i] = F[i * N + j];
                    }
                    rhs[row + i] = -f[i];
                }
            }
        }

        var lu = K.LU();
        Vector<double> sol = lu.Solve(rhs);
        Vector<double> adj = lu.Solve(-g);

        double[] z = sol.SubVector(0, nz).ToArray();
        double cost = 0;
        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<double> C = lqr.CAt(t, b), c = lqr.cAt(t, b);
            for (int i = 0; i < N; i++)
            {
                cost += c[i] * z[t * N + i];
                for (int j = 0; j < N; j++)
                {
                    cost += 0.5 * z[t * N + i] * C[i * N + j] * z[t * N + j];
                }
            }
        }
        return new DenseSolution(z, sol.SubVector(nz, T * n).ToArray(), adj.SubVector(0, nz).ToArray(),
            adj.SubVector(nz, T * n).ToArray(), cost);
    }
}
