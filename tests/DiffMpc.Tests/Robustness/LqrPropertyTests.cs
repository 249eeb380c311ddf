using System.Globalization;
using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Box;
using DiffMpc.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;
using SupportRandomLqr = DiffMpc.Tests.Support.RandomLqr;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// Property-based tests (CsCheck, fixed seeds, shrinking on failure) of unconstrained and
/// box-constrained LQR over random sizes n, m in 1..8, T in 1..15, B in 1..6, every broadcast
/// layout of C, c, F, f and of the bounds, and random data: KKT conditions recomputed
/// independently, gradients against central finite differences along random directions,
/// invariance under batch permutation, broadcast = expanded input, and bitwise determinism.
/// </summary>
public sealed class LqrPropertyTests(ITestOutputHelper output)
{
    private const int KktCases = 1000;
    private const int GradientCases = 500;
    private const int PermutationCases = 500;
    private const int BroadcastCases = 500;
    private const int DeterminismCases = 400;

    private static CsCheck.Gen<LqrSpec> Spec(bool box) => box ? LqrSpec.Box : LqrSpec.Lqr;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KktConditions_HoldAtTheSolution(bool box)
    {
        PropertyRunner.Run(Spec(box), spec =>
        {
            LqrInstance k = spec.Build();
            MpcSolution sol = Mpc.Solve(k.Problem);
            for (int b = 0; b < spec.B; b++)
            {
                Assert.True(sol.Status[b] == SolveStatus.Converged, $"element {b}: status {sol.Status[b]}");
                IndependentKkt.Result r = IndependentKkt.Check(k.Problem, sol, b);
                string at = string.Create(CultureInfo.InvariantCulture, $"element {b}: {r}, library residual {sol.KktResidual[b]:G3}");
                Assert.True(r.Feasible, $"infeasible controls, {at}");
                Assert.True(r.DynamicsError <= 1e-13, $"dynamics violated, {at}");
                Assert.True(r.RelativeResidual <= 1e-8, $"KKT residual (recomputed) too large, {at}");
                Assert.True(sol.KktResidual[b] <= 1e-8 * (1 + r.Scale), $"KKT residual (reported) too large, {at}");
                Assert.True(r.CostateError <= 1e-8, $"costates differ from the recomputed ones, {at}");
                Assert.True(r.CostError <= 1e-12, $"cost differs from the recomputed one, {at}");
                Assert.Equal(r.Active, sol.ActiveBounds[b]);
                if (!box)
                {
                    Assert.Equal(0, sol.ActiveBounds[b]);
                }
            }
        }, KktCases, box ? 11u : 10u, output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradients_MatchDirectionalFiniteDifferences(bool box)
    {
        int checkedCount = 0, skipped = 0;
        PropertyRunner.Run(Spec(box), spec =>
        {
            LqrInstance k = spec.Build();
            (int c, int s) = CheckDirectional(k, spec.Seed);
            Interlocked.Add(ref checkedCount, c);
            Interlocked.Add(ref skipped, s);
        }, GradientCases, box ? 21u : 20u, output);
        output.WriteLine($"{checkedCount} directional derivatives compared, {skipped} skipped (active set changed under the step)");
        Assert.True(skipped <= checkedCount / 10, $"{skipped} of {checkedCount + skipped} directions changed the active set");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PermutingTheBatch_PermutesTheResults(bool box)
    {
        PropertyRunner.Run(Spec(box), spec =>
        {
            LqrInstance k = spec.Build();
            MpcDimensions d = spec.Dims;
            int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
            int[] perm = Batch.Permutation(B, spec.Seed + 1);
            (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(spec.Seed, d);

            MpcSolution sol = Mpc.Solve(k.Problem);
            MpcGradients g = Mpc.Backward(sol, wx, wu);

            LqrCase q = k.Lqr;
            var pc = new LqrCase(d, Batch.Permute(q.XInit, 1, B, n, perm), Batch.Permute(q.C, T, B, N * N, perm)!,
                Batch.Permute(q.c, T, B, N, perm)!, Batch.Permute(q.F, T - 1, B, n * N, perm)!, Batch.Permute(q.f, T - 1, B, n, perm));
            LqrInstance pk = LqrInstance.FromArrays(spec, pc, Batch.Permute(k.Lower, T, B, m, perm), Batch.Permute(k.Upper, T, B, m, perm));
            MpcSolution ps = Mpc.Solve(pk.Problem);
            MpcGradients pg = Mpc.Backward(ps, Batch.Permute(wx, T, B, n, perm), Batch.Permute(wu, T, B, m, perm));

            Bitwise.Equal(Batch.Permute(sol.X, T, B, n, perm), ps.X, "X");
            Bitwise.Equal(Batch.Permute(sol.U, T, B, m, perm), ps.U, "U");
            Bitwise.Equal(Batch.Permute(sol.Costates, T, B, n, perm), ps.Costates, "costates");
            Bitwise.Equal(Batch.Permute(sol.Cost, 1, B, 1, perm), ps.Cost, "cost");
            Bitwise.Equal(Batch.Permute(sol.KktResidual, 1, B, 1, perm), ps.KktResidual, "KKT residual");
            Assert.Equal(perm.Select(j => sol.Status[j]), ps.Status);
            Assert.Equal(perm.Select(j => sol.Iterations[j]), ps.Iterations);
            Assert.Equal(perm.Select(j => sol.ActiveBounds[j]), ps.ActiveBounds);

            Bitwise.Equal(Batch.Permute(g.XInit, 1, B, n, perm), pg.XInit, "dL/dx_init");
            GradientPermuted("C", q.C, g.CostQuadratic, pg.CostQuadratic, T, B, N * N, perm);
            GradientPermuted("c", q.c, g.CostLinear, pg.CostLinear, T, B, N, perm);
            GradientPermuted("F", q.F, g.Dynamics, pg.Dynamics, T - 1, B, n * N, perm);
            if (q.f is not null)
            {
                GradientPermuted("f", q.f, g.DynamicsOffset!, pg.DynamicsOffset!, T - 1, B, n, perm);
            }
            if (k.Lower is not null)
            {
                GradientPermuted("uLower", k.Lower, g.ControlLower!, pg.ControlLower!, T, B, m, perm);
            }
            if (k.Upper is not null)
            {
                GradientPermuted("uUpper", k.Upper, g.ControlUpper!, pg.ControlUpper!, T, B, m, perm);
            }
        }, PermutationCases, box ? 31u : 30u, output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BroadcastInput_EqualsExpandedInput(bool box)
    {
        PropertyRunner.Run(Spec(box), spec =>
        {
            LqrInstance k = spec.Build();
            MpcDimensions d = spec.Dims;
            int T = d.Horizon, B = d.BatchSize, n = d.StateDim, m = d.ControlDim, N = d.TauDim;
            LqrCase q = k.Lqr;
            var ec = new LqrCase(d, q.XInit, Batch.Expand(q.C, T, B, N * N)!, Batch.Expand(q.c, T, B, N)!,
                Batch.Expand(q.F, T - 1, B, n * N)!, Batch.Expand(q.f, T - 1, B, n));
            LqrInstance ek = LqrInstance.FromArrays(spec, ec, Batch.Expand(k.Lower, T, B, m), Batch.Expand(k.Upper, T, B, m));
            (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(spec.Seed, d);

            MpcSolution sol = Mpc.Solve(k.Problem);
            MpcGradients g = Mpc.Backward(sol, wx, wu);
            MpcSolution es = Mpc.Solve(ek.Problem);
            MpcGradients eg = Mpc.Backward(es, wx, wu);

            Batch.AssertBitwise(Batch.Copy(es), Batch.Copy(sol), "solution, broadcast vs expanded");
            Compare.Relative(Batch.SumInto(q.C, eg.CostQuadratic, T, B, N * N), g.CostQuadratic, 1e-11, "dL/dC");
            Compare.Relative(Batch.SumInto(q.c, eg.CostLinear, T, B, N), g.CostLinear, 1e-11, "dL/dc");
            Compare.Relative(Batch.SumInto(q.F, eg.Dynamics, T - 1, B, n * N), g.Dynamics, 1e-11, "dL/dF");
            if (q.f is not null)
            {
                Compare.Relative(Batch.SumInto(q.f, eg.DynamicsOffset!, T - 1, B, n), g.DynamicsOffset!, 1e-11, "dL/df");
            }
            Bitwise.Equal(eg.XInit, g.XInit, "dL/dx_init");
            if (k.Lower is not null)
            {
                Compare.Relative(Batch.SumInto(k.Lower, eg.ControlLower!, T, B, m), g.ControlLower!, 1e-11, "dL/du_lower");
            }
            if (k.Upper is not null)
            {
                Compare.Relative(Batch.SumInto(k.Upper, eg.ControlUpper!, T, B, m), g.ControlUpper!, 1e-11, "dL/du_upper");
            }
        }, BroadcastCases, box ? 41u : 40u, output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SolvingTwice_IsBitwiseIdentical_StaticAndReusedSolver(bool box)
    {
        PropertyRunner.Run(Spec(box), spec =>
        {
            LqrInstance k = spec.Build();
            (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(spec.Seed, spec.Dims);

            MpcSolution s1 = Mpc.Solve(k.Problem);
            var sol1 = Batch.Copy(s1);
            var grad1 = Batch.Copy(Mpc.Backward(s1, wx, wu));
            MpcSolution s2 = Mpc.Solve(k.Problem);
            Batch.AssertBitwise(sol1, Batch.Copy(s2), "static solve, second call");
            Batch.AssertBitwise(grad1, Batch.Copy(Mpc.Backward(s2, wx, wu)), "static backward, second call");
            // Backward twice on the same solution.
            Batch.AssertBitwise(grad1, Batch.Copy(Mpc.Backward(s2, wx, wu)), "static backward, repeated");

            // A reused solver, with a different problem (other layouts, other data) in between.
            var solver = new LqrSolver(spec.Dims);
            Batch.AssertBitwise(sol1, Batch.Copy(solver.Solve(k.Problem)), "reused solver, first solve");
            Batch.AssertBitwise(grad1, Batch.Copy(solver.Backward(wx, wu)), "reused solver, first backward");
            LqrInstance other = (spec with { Seed = spec.Seed + 7, C = Layout.Shared, Cl = Layout.BatchShared, Fo = null }).Build();
            solver.Solve(other.Problem);
            solver.Backward(wx, null);
            Batch.AssertBitwise(sol1, Batch.Copy(solver.Solve(k.Problem)), "reused solver, after another problem");
            Batch.AssertBitwise(grad1, Batch.Copy(solver.Backward(wx, wu)), "reused solver backward, after another problem");
        }, DeterminismCases, box ? 51u : 50u, output);
    }

    // ---- helpers ----

    private static void GradientPermuted(string name, StageArray input, double[] g, double[] pg, int stages, int B, int size, int[] perm)
    {
        if (input.IsScalar || input.SharedOverBatch)
        {
            // A sum over the batch: the order of summation changes, so only to rounding.
            Compare.Relative(g, pg, 1e-12, $"dL/d{name} (shared over the batch)");
            return;
        }
        Bitwise.Equal(Batch.Permute(g, input.SharedOverTime ? 1 : stages, B, size, perm), pg, $"dL/d{name}");
    }

    /// <summary>
    /// One central difference along a random direction per input (C, c, F, f, x_init, bounds) of
    /// L = wx . X + wu . U; directions that change the active set are skipped and counted.
    /// </summary>
    internal static (int Checked, int Skipped) CheckDirectional(LqrInstance k, int seed)
    {
        MpcDimensions d = k.Dims;
        (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(seed, d);
        var solver = new LqrSolver(d);
        MpcSolution sol = solver.Solve(k.Problem);
        Assert.True(sol.AllConverged, $"statuses {string.Join(",", sol.Status)}");
        sbyte[] pattern = BoxTestProblems.ActivePattern(k.Problem, sol);
        Dictionary<string, double[]> grad = Batch.Copy(solver.Backward(wx, wu));
        var rng = new Random(seed + 99);
        int done = 0, skipped = 0;
        foreach ((string name, double[] data) in k.Inputs())
        {
            if (data.Length == 0)
            {
                continue;
            }
            double[] saved = (double[])data.Clone();
            double[] dir = SupportRandomLqr.Gaussian(rng, data.Length, 1.0);
            double maxAbs = 0;
            for (int i = 0; i < data.Length; i++)
            {
                if (double.IsFinite(saved[i]))
                {
                    maxAbs = Math.Max(maxAbs, Math.Abs(saved[i]));
                }
            }
            double h = 1e-6 * Math.Max(1, maxAbs);
            (double lp, double magP, bool sameP) = Perturbed(solver, k, wx, wu, data, saved, dir, h, pattern);
            (double lm, _, bool sameM) = Perturbed(solver, k, wx, wu, data, saved, dir, -h, pattern);
            saved.CopyTo(data, 0);
            if (!sameP || !sameM)
            {
                skipped++;
                continue;
            }
            double fd = (lp - lm) / (2 * h), analytic = 0, magnitude = 0;
            for (int i = 0; i < data.Length; i++)
            {
                analytic += grad[name][i] * dir[i];
                magnitude += Math.Abs(grad[name][i] * dir[i]);
            }
            double noise = 100 * 2.2e-16 * magP / h;
            double tol = 1e-5 * Math.Max(magnitude, Math.Abs(fd)) + noise;
            if (!(Math.Abs(fd - analytic) <= tol))
            {
                throw new XunitException(string.Create(CultureInfo.InvariantCulture,
                    $"dL/d{name} . direction: finite difference {fd:G10}, analytic {analytic:G10}, |diff| {Math.Abs(fd - analytic):G3} > tol {tol:G3} (h = {h:G3})"));
            }
            done++;
        }
        return (done, skipped);
    }

    private static (double Loss, double Magnitude, bool SamePattern) Perturbed(LqrSolver solver, LqrInstance k, double[] wx,
        double[] wu, double[] data, double[] saved, double[] dir, double h, sbyte[] pattern)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = double.IsFinite(saved[i]) ? saved[i] + h * dir[i] : saved[i];
        }
        MpcSolution s = solver.Solve(k.Problem);
        Assert.True(s.AllConverged, $"perturbed problem: statuses {string.Join(",", s.Status)}");
        double l = BoxTestProblems.Loss(s, wx, wu), mag = 0;
        for (int i = 0; i < wx.Length; i++)
        {
            mag += Math.Abs(wx[i] * s.X[i]);
        }
        for (int i = 0; i < wu.Length; i++)
        {
            mag += Math.Abs(wu[i] * s.U[i]);
        }
        return (l, mag, BoxTestProblems.ActivePattern(k.Problem, s).AsSpan().SequenceEqual(pattern));
    }
}
