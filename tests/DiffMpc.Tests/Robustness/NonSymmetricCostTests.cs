using System.Globalization;
using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Box;
using DiffMpc.Tests.Support;
using Xunit;
using SupportRandomLqr = DiffMpc.Tests.Support.RandomLqr;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// C is documented to be used through its symmetric part, with a symmetric gradient. For box LQR
/// and iLQR (the unconstrained LQR case is in Lqr/LqrFiniteDifferenceTests.cs): a non-symmetric
/// C gives the solution of sym(C); dL/dC is symmetric; and perturbing C_ij alone (i != j) changes
/// L by dL/dC_ij, which is what a symmetric-part gradient predicts (1/2 (G_ij + G_ji) = G_ij).
/// </summary>
public sealed class NonSymmetricCostTests
{
    [Fact]
    public void BoxLqr_NonSymmetricC_GradientMatchesSymmetricPartUse()
    {
        LqrInstance k = new LqrSpec(4, 2, 3, 2, Layout.PerStage, Layout.PerStage, Layout.PerStage, Layout.PerStage,
            BoundLayout.PerStage, BoundKind.Both, 17).Build();
        double[] C = k.Problem.CostQuadratic.Data;
        double[] symC = (double[])C.Clone();
        AddAntisymmetric(C, 5, new Random(1));
        (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(17, k.Dims);
        var solver = new LqrSolver(k.Dims);
        Func<MpcSolution> solve = () => solver.Solve(k.Problem);
        MpcSolution sol = solve();
        Assert.True(sol.AllConverged);
        Assert.True(sol.ActiveBounds.Sum() > 0, "the case needs active bounds");
        var asym = Batch.Copy(sol);
        double[] G = (double[])solver.Backward(wx, wu).CostQuadratic.Clone();

        var symProblem = new LqrProblem(k.Dims, k.Problem.XInit, StageArray.PerStage(symC), k.Problem.CostLinear,
            k.Problem.Dynamics, k.Problem.DynamicsOffset, k.Lower, k.Upper);
        MpcSolution s2 = Mpc.Solve(symProblem);
        Compare.Absolute(s2.X, asym["X"], 1e-12, "x(C) vs x(sym C)");
        Compare.Absolute(s2.U, asym["U"], 1e-12, "u(C) vs u(sym C)");
        Compare.Relative(Mpc.Backward(s2, wx, wu).CostQuadratic, G, 1e-10, "dL/dC(C) vs dL/dC(sym C)");
        CheckEntries(C, G, 5, () => solve(), s => BoxTestProblems.ActivePattern(k.Problem, s), wx, wu);
    }

    [Fact]
    public void Ilqr_NonSymmetricC_GradientMatchesSymmetricPartUse()
    {
        PendulumInstance k = new PendulumSpec(4, 2, PerStageCost: true, BoundMode: 2, Seed: 23).Build();
        NonlinearProblem p = k.Problem;
        double[] C = p.CostQuadratic.Data;
        double[] symC = (double[])C.Clone();
        AddAntisymmetric(C, 4, new Random(2));
        (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(23, p.Dimensions);
        var solver = new IlqrSolver(p.Dimensions, p.Dynamics);
        MpcSolution sol = solver.Solve(p);
        Assert.True(sol.AllConverged);
        var asym = Batch.Copy(sol);
        double[] G = (double[])solver.Backward(wx, wu).CostQuadratic!.Clone();

        var symProblem = new NonlinearProblem(p.Dimensions, p.Dynamics, p.Parameters, p.XInit, StageArray.PerStage(symC),
            p.CostLinear, p.ControlLower, p.ControlUpper);
        MpcSolution s2 = Mpc.Solve(symProblem);
        Compare.Absolute(s2.X, asym["X"], 1e-10, "x(C) vs x(sym C)");
        Compare.Absolute(s2.U, asym["U"], 1e-10, "u(C) vs u(sym C)");
        Compare.Relative(Mpc.BackwardNonlinear(s2, wx, wu).CostQuadratic, G, 1e-8, "dL/dC(C) vs dL/dC(sym C)");
        CheckEntries(C, G, 4, () => solver.Solve(p), s => IlqrPropertyTests.Pattern(p, s), wx, wu);
    }

    private static void AddAntisymmetric(double[] C, int N, Random rng)
    {
        for (int e = 0; e < C.Length / (N * N); e++)
        {
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    double r = 2 * rng.NextDouble() - 1;
                    C[e * N * N + i * N + j] += r;
                    C[e * N * N + j * N + i] -= r;
                }
            }
        }
    }

    /// <summary>G symmetric per block, and the central difference of C_ij alone equals G_ij for off-diagonal pairs.</summary>
    private static void CheckEntries(double[] C, double[] G, int N, Func<MpcSolution> solve, Func<MpcSolution, sbyte[]> pattern,
        double[] wx, double[] wu)
    {
        for (int e = 0; e < G.Length / (N * N); e++)
        {
            for (int i = 0; i < N; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    Assert.Equal(G[e * N * N + i * N + j], G[e * N * N + j * N + i]);
                }
            }
        }
        sbyte[] basePattern = pattern(solve());
        int checkedCount = 0;
        foreach (int e in new[] { 0, 1, G.Length / (N * N) - 1 })
        {
            foreach ((int i, int j) in new[] { (0, N - 1), (N - 1, 0), (1, 2), (2, 1), (N - 1, N - 2), (N - 2, N - 1) })
            {
                int idx = e * N * N + i * N + j;
                double v = C[idx], h = 1e-6 * Math.Max(1, Math.Abs(v));
                C[idx] = v + h;
                MpcSolution sp = solve();
                double lp = BoxTestProblems.Loss(sp, wx, wu);
                bool same = sp.AllConverged && pattern(sp).AsSpan().SequenceEqual(basePattern);
                C[idx] = v - h;
                MpcSolution sm = solve();
                double lm = BoxTestProblems.Loss(sm, wx, wu);
                same &= sm.AllConverged && pattern(sm).AsSpan().SequenceEqual(basePattern);
                C[idx] = v;
                if (!same)
                {
                    continue;
                }
                double fd = (lp - lm) / (2 * h);
                double tol = 1e-5 * Math.Max(1e-3, Math.Abs(fd)) + 1e-8;
                Assert.True(Math.Abs(fd - G[idx]) <= tol, string.Create(CultureInfo.InvariantCulture,
                    $"dL/dC[{idx}] (block {e}, entry {i},{j}): finite difference {fd:G10}, returned {G[idx]:G10}"));
                checkedCount++;
            }
        }
        Assert.True(checkedCount >= 12, $"only {checkedCount} entries checked (active set changed under the others)");
    }
}
