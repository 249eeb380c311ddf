using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace DiffMpc.Tests.Box;

/// <summary>
/// Compares the library with an independent dense reference: every element's QP is condensed
/// onto its controls (x = Px x_init + S u + offset) and solved exactly by a primal active-set
/// method; its KKT conditions are verified, then the library's controls, cost and gradients
/// (dL/dx_init, dL/dc, dL/du_lower, dL/du_upper of a linear loss, derived densely with the
/// active set fixed) must agree.
/// </summary>
public sealed class BoxDenseActiveSetTests
{
    private const double ControlTol = 1e-8;
    private const double GradientTol = 1e-7;

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 16)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomSmallProblem_MatchesDenseActiveSetSolution(int seed)
    {
        var rng = new Random(1000 + seed);
        var dims = new MpcDimensions(Horizon: rng.Next(1, 9), BatchSize: rng.Next(1, 4), StateDim: rng.Next(1, 6),
            ControlDim: rng.Next(1, 6));
        RandomLqr data = BoxTestProblems.Generate(dims, seed, costScale: 3.0, withOffset: seed % 3 != 0);
        int T = dims.Horizon, B = dims.BatchSize, n = dims.StateDim, m = dims.ControlDim, N = dims.TauDim;
        // Per-entry random bounds; every fifth seed leaves some entries unbounded on one side.
        double[] lo = [.. Enumerable.Range(0, T * B * m).Select(k => seed % 5 == 0 && k % 3 == 0 ? double.NegativeInfinity : -0.2 - 1.3 * rng.NextDouble())];
        double[] hi = [.. Enumerable.Range(0, T * B * m).Select(k => seed % 5 == 0 && k % 4 == 1 ? double.PositiveInfinity : 0.2 + 1.3 * rng.NextDouble())];
        LqrProblem problem = data.Build(lo, hi);

        MpcSolution sol = Mpc.Solve(problem);
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 7 * seed);
        MpcGradients grad = Mpc.Backward(sol, wx, wu);

        var refU = new double[T * B * m];
        var refCost = new double[B];
        var refXInit = new double[B * n];
        var refc = new double[T * B * N];
        var refLower = new double[T * B * m];
        var refUpper = new double[T * B * m];
        for (int b = 0; b < B; b++)
        {
            Assert.Equal(SolveStatus.Converged, sol.Status[b]);
            CondensedQp q = BoxTestProblems.Condense(data, b);
            (double[] elo, double[] ehi) = BoxTestProblems.ElementBounds(problem, b);
            Matrix<double> H = q.H;
            Vector<double> h = q.Hvec;
            (Vector<double> u, sbyte[] state) = BoxTestProblems.SolveBoxQp(H, h, elo, ehi);
            VerifyKkt(H, h, u, state, elo, ehi, $"seed {seed} ({dims}) b={b}");
            refCost[b] = q.Cost(u);
            Assert.Equal(state.Count(s => s != 0), sol.ActiveBounds[b]);

            // Loss weights on z = (tau_1..tau_T) and on u, gu = dL/du with x following u.
            var wz = Vector<double>.Build.Dense(T * N);
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    wz[t * N + i] = wx[(t * B + b) * n + i];
                }
                for (int i = 0; i < m; i++)
                {
                    wz[t * N + n + i] = wu[(t * B + b) * m + i];
                    refU[(t * B + b) * m + i] = u[t * m + i];
                }
            }
            Vector<double> gu = q.S.TransposeThisAndMultiply(wz);

            // Active set fixed: u_F = -H_FF^{-1} (h_F + H_FA u_A). With v = H_FF^{-1} gu_F:
            // dL/dh_F = -v, dL/du_A = gu_A - H_AF v, and h = S' (Cbig s0 + cvec), s0 = Px x_init + ...
            int[] free = [.. Enumerable.Range(0, T * m).Where(k => state[k] == 0)];
            int[] active = [.. Enumerable.Range(0, T * m).Where(k => state[k] != 0)];
            Vector<double> v = free.Length == 0
                ? Vector<double>.Build.Dense(0)
                : BoxTestProblems.Sub(H, free, free).Cholesky().Solve(Vector<double>.Build.DenseOfEnumerable(free.Select(k => gu[k])));
            Matrix<double> Sf = BoxTestProblems.Sub(q.S, [.. Enumerable.Range(0, T * N)], free);
            Vector<double> dLdz = -(Sf * v); // dL/dcvec
            // dL/dx_init = Px' wz - Px' Cbig S_F v = Px' (wz + Cbig dL/dcvec).
            Vector<double> dxInit = q.Px.TransposeThisAndMultiply(wz + q.Cbig * dLdz);
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < N; i++)
                {
                    refc[(t * B + b) * N + i] = dLdz[t * N + i];
                }
            }
            for (int i = 0; i < n; i++)
            {
                refXInit[b * n + i] = dxInit[i];
            }
            Vector<double> gA = active.Length == 0 || free.Length == 0
                ? Vector<double>.Build.DenseOfEnumerable(active.Select(k => gu[k]))
                : Vector<double>.Build.DenseOfEnumerable(active.Select(k => gu[k])) - BoxTestProblems.Sub(H, active, free) * v;
            for (int a = 0; a < active.Length; a++)
            {
                int k = active[a], t = k / m, i = k % m;
                (state[k] < 0 ? refLower : refUpper)[(t * B + b) * m + i] = gA[a];
            }
        }

        string label = $"seed {seed} ({dims})";
        Compare.Absolute(refU, sol.U, ControlTol, $"{label} U");
        Compare.Relative(refCost, sol.Cost, ControlTol, $"{label} cost");
        Compare.Relative(refXInit, grad.XInit, GradientTol, $"{label} dL/dx_init");
        Compare.Relative(refc, grad.CostLinear, GradientTol, $"{label} dL/dc");
        Compare.Relative(refLower, grad.ControlLower!, GradientTol, $"{label} dL/du_lower");
        Compare.Relative(refUpper, grad.ControlUpper!, GradientTol, $"{label} dL/du_upper");
    }

    [Fact]
    public void RandomSmallProblems_ExerciseBothActiveAndFreeControls()
    {
        int withActive = 0, withFree = 0;
        foreach (int seed in Enumerable.Range(1, 16))
        {
            var rng = new Random(1000 + seed);
            var dims = new MpcDimensions(rng.Next(1, 9), rng.Next(1, 4), rng.Next(1, 6), rng.Next(1, 6));
            RandomLqr data = BoxTestProblems.Generate(dims, seed, costScale: 3.0, withOffset: seed % 3 != 0);
            int count = dims.Horizon * dims.BatchSize * dims.ControlDim;
            double[] lo = [.. Enumerable.Range(0, count).Select(k => seed % 5 == 0 && k % 3 == 0 ? double.NegativeInfinity : -0.2 - 1.3 * rng.NextDouble())];
            double[] hi = [.. Enumerable.Range(0, count).Select(k => seed % 5 == 0 && k % 4 == 1 ? double.PositiveInfinity : 0.2 + 1.3 * rng.NextDouble())];
            MpcSolution sol = Mpc.Solve(data.Build(lo, hi));
            int active = sol.ActiveBounds.Sum();
            withActive += active > 0 ? 1 : 0;
            withFree += active < count ? 1 : 0;
        }
        Assert.True(withActive >= 12, $"only {withActive} of 16 cases have an active bound");
        Assert.True(withFree >= 12, $"only {withFree} of 16 cases have a free control");
    }

    /// <summary>Free gradient zero, multipliers of the right sign, bounds respected.</summary>
    private static void VerifyKkt(Matrix<double> H, Vector<double> h, Vector<double> u, sbyte[] state, double[] lo,
        double[] hi, string label)
    {
        Vector<double> g = H * u + h;
        double scale = 1 + h.AbsoluteMaximum() + (H * u).AbsoluteMaximum();
        for (int k = 0; k < u.Count; k++)
        {
            Assert.True(u[k] >= lo[k] && u[k] <= hi[k], $"{label}: reference u[{k}] = {u[k]} outside [{lo[k]}, {hi[k]}]");
            switch (state[k])
            {
                case 0:
                    Assert.True(Math.Abs(g[k]) <= 1e-10 * scale, $"{label}: reference free gradient {g[k]} at {k}");
                    Assert.True(u[k] > lo[k] && u[k] < hi[k], $"{label}: reference free u[{k}] at a bound");
                    break;
                case -1:
                    Assert.True(u[k] == lo[k] && g[k] >= -1e-10 * scale, $"{label}: reference lower multiplier {g[k]} at {k}");
                    break;
                default:
                    Assert.True(u[k] == hi[k] && g[k] <= 1e-10 * scale, $"{label}: reference upper multiplier {-g[k]} at {k}");
                    break;
            }
        }
    }
}
