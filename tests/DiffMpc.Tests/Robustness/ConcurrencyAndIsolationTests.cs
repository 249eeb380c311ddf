using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Tests.Support;
using Xunit;
using SupportRandomLqr = DiffMpc.Tests.Support.RandomLqr;

namespace DiffMpc.Tests.Robustness;

/// <summary>
/// Thread safety and failure isolation. The threading model: the static API (Mpc.Solve,
/// Mpc.Backward, Mpc.BackwardNonlinear) is safe to call from any number of threads at once; a
/// solver instance (LqrSolver, IlqrSolver) is NOT thread-safe - it owns a workspace and its
/// returned solution and gradients are overwritten by its next call - so use one solver per
/// thread. Dynamics models such as Pendulum are stateless and may be shared.
/// </summary>
public sealed class ConcurrencyAndIsolationTests
{
    /// <summary>48 problems: LQR, box LQR and iLQR, of varied sizes and layouts.</summary>
    private static List<(object Problem, double[] Wx, double[] Wu)> Problems()
    {
        var list = new List<(object, double[], double[])>();
        for (int k = 0; k < 16; k++)
        {
            LqrSpec lqr = new(1 + k % 9, 1 + k % 5, 1 + k % 6, 1 + k % 4, (Layout)(k % 4), (Layout)((k + 1) % 4), (Layout)((k + 2) % 4),
                k % 5 == 0 ? null : Layout.PerStage, null, BoundKind.Both, 100 + k);
            LqrSpec box = lqr with { Bounds = (BoundLayout)(k % 5), Kind = (BoundKind)(k % 4), Seed = 200 + k };
            PendulumSpec pend = new(1 + k % 6, 1 + k % 3, k % 2 == 0, 1 + k % 2, 300 + k);
            foreach (object p in new object[] { lqr.Build().Problem, box.Build().Problem, pend.Build().Problem })
            {
                MpcDimensions d = p is LqrProblem l ? l.Dimensions : ((NonlinearProblem)p).Dimensions;
                (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(k, d);
                list.Add((p, wx, wu));
            }
        }
        return list;
    }

    private static Dictionary<string, double[]> SolveStatic(object problem, double[] wx, double[] wu)
    {
        if (problem is LqrProblem l)
        {
            MpcSolution s = Mpc.Solve(l);
            var r = Batch.Copy(s);
            foreach ((string k, double[] v) in Batch.Copy(Mpc.Backward(s, wx, wu)))
            {
                r["d" + k] = v;
            }
            return r;
        }
        MpcSolution sn = Mpc.Solve((NonlinearProblem)problem);
        var rn = Batch.Copy(sn);
        foreach ((string k, double[] v) in Batch.Copy(Mpc.BackwardNonlinear(sn, wx, wu)))
        {
            rn["d" + k] = v;
        }
        return rn;
    }

    [Fact]
    public void StaticApi_CalledConcurrently_EqualsSequentialResultsBitwise()
    {
        var problems = Problems();
        var sequential = problems.Select(p => SolveStatic(p.Problem, p.Wx, p.Wu)).ToList();
        const int Rounds = 6;
        var parallel = new Dictionary<string, double[]>[problems.Count * Rounds];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var (p, wx, wu) = problems[(i * 7) % problems.Count];
            parallel[i] = SolveStatic(p, wx, wu);
        });
        for (int i = 0; i < parallel.Length; i++)
        {
            Batch.AssertBitwise(sequential[(i * 7) % problems.Count], parallel[i], $"call {i} (problem {(i * 7) % problems.Count})");
        }
    }

    /// <summary>
    /// Many backward passes of one static solution at once, with different loss gradients (they
    /// share the solver behind the solution): each equals its sequential result bitwise, and the
    /// gradients returned are the caller's own, never overwritten by a later call. (Without the
    /// serialisation the LQR case fails on a 2-core machine; the iLQR backward is too short for
    /// its races to show reliably.)
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StaticBackward_OnOneSolution_Concurrently_EqualsSequentialBitwise(bool nonlinear)
    {
        object problem = nonlinear
            ? new PendulumSpec(20, 64, true, 1, 401).Build().Problem
            : new LqrSpec(20, 128, 8, 4, Layout.PerStage, Layout.PerStage, Layout.PerStage, Layout.PerStage, BoundLayout.Scalar,
                BoundKind.Both, 402).Build().Problem;
        MpcDimensions d = problem is LqrProblem l ? l.Dimensions : ((NonlinearProblem)problem).Dimensions;
        MpcSolution sol = problem is LqrProblem lp ? Mpc.Solve(lp) : Mpc.Solve((NonlinearProblem)problem);
        Dictionary<string, double[]> Backward(int k)
        {
            (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(500 + k, d);
            return nonlinear ? Batch.Copy(Mpc.BackwardNonlinear(sol, wx, wu)) : Batch.Copy(Mpc.Backward(sol, wx, wu));
        }

        const int Losses = 8;
        var sequential = Enumerable.Range(0, Losses).Select(Backward).ToList();
        var parallel = new Dictionary<string, double[]>[Losses * 8];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = Backward(i % Losses));
        for (int i = 0; i < parallel.Length; i++)
        {
            Batch.AssertBitwise(sequential[i % Losses], parallel[i], $"call {i}");
        }

        (double[] x0, double[] u0) = SupportRandomLqr.LossWeights(500, d);
        (double[] x1, double[] u1) = SupportRandomLqr.LossWeights(501, d);
        if (nonlinear)
        {
            NonlinearGradients first = Mpc.BackwardNonlinear(sol, x0, u0);
            Assert.NotSame(first, Mpc.BackwardNonlinear(sol, x1, u1));
            Batch.AssertBitwise(sequential[0], Batch.Copy(first), "the first result after a second call");
        }
        else
        {
            MpcGradients first = Mpc.Backward(sol, x0, u0);
            Assert.NotSame(first, Mpc.Backward(sol, x1, u1));
            Batch.AssertBitwise(sequential[0], Batch.Copy(first), "the first result after a second call");
        }
    }

    [Fact]
    public void OneSolverPerThread_EqualsSequentialResultsBitwise()
    {
        // A solver instance is not thread-safe: each thread creates and reuses its own.
        var problems = Problems();
        var sequential = problems.Select(p => SolveStatic(p.Problem, p.Wx, p.Wu)).ToList();
        var results = new Dictionary<string, double[]>[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            var mine = new Dictionary<string, double[]>[problems.Count];
            var lqrSolvers = new Dictionary<MpcDimensions, LqrSolver>();
            var ilqrSolvers = new Dictionary<MpcDimensions, IlqrSolver>();
            for (int j = 0; j < problems.Count; j++)
            {
                int k = (j + thread * 5) % problems.Count;
                var (p, wx, wu) = problems[k];
                Dictionary<string, double[]> r;
                if (p is LqrProblem l)
                {
                    LqrSolver s = lqrSolvers.TryGetValue(l.Dimensions, out LqrSolver? found) ? found : lqrSolvers[l.Dimensions] = new LqrSolver(l.Dimensions);
                    r = Batch.Copy(s.Solve(l));
                    foreach ((string key, double[] v) in Batch.Copy(s.Backward(wx, wu)))
                    {
                        r["d" + key] = v;
                    }
                }
                else
                {
                    var nl = (NonlinearProblem)p;
                    IlqrSolver s = ilqrSolvers.TryGetValue(nl.Dimensions, out IlqrSolver? found) ? found : ilqrSolvers[nl.Dimensions] = new IlqrSolver(nl.Dimensions, nl.Dynamics);
                    r = Batch.Copy(s.Solve(nl));
                    foreach ((string key, double[] v) in Batch.Copy(s.Backward(wx, wu)))
                    {
                        r["d" + key] = v;
                    }
                }
                mine[k] = r;
            }
            results[thread] = mine;
        });
        for (int thread = 0; thread < 4; thread++)
        {
            for (int k = 0; k < problems.Count; k++)
            {
                Batch.AssertBitwise(sequential[k], results[thread][k], $"thread {thread}, problem {k}");
            }
        }
    }

    // ---- failure isolation ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BadElements_DoNotChangeTheOthers_Lqr(bool box)
    {
        var spec = new LqrSpec(5, 5, 3, 2, Layout.PerStage, Layout.PerStage, Layout.PerStage, Layout.PerStage,
            box ? BoundLayout.PerStage : null, BoundKind.Both, 77);
        LqrInstance k = spec.Build();
        k.Lqr.SetControlCost(t: 2, b: 1, diagonal: -1.0);          // not positive definite
        int n = 3, m = 2, B = 5, T = 5;
        for (int i = 0; i < n; i++)
        {
            k.Lqr.XInit[3 * n + i] = 1e300;                         // cost overflows to Infinity
        }
        (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(77, spec.Dims);
        MpcSolution sol = Mpc.Solve(k.Problem);
        var all = Batch.Copy(sol);
        var grads = Batch.Copy(Mpc.Backward(sol, wx, wu));
        Assert.Equal(SolveStatus.NotPositiveDefinite, sol.Status[1]);
        Assert.Equal(SolveStatus.NonFinite, sol.Status[3]);
        foreach (int b in new[] { 0, 2, 4 })
        {
            Assert.Equal(SolveStatus.Converged, sol.Status[b]);
            LqrCase single = k.Lqr.Single(b);
            StageArray? lo = Batch.Expand(k.Lower, T, B, m), hi = Batch.Expand(k.Upper, T, B, m);
            LqrInstance alone = LqrInstance.FromArrays(spec with { B = 1 }, single,
                lo is null ? null : StageArray.PerStage(Batch.Slice(lo.Data, T, B, m, b)),
                hi is null ? null : StageArray.PerStage(Batch.Slice(hi.Data, T, B, m, b)));
            LqrSolver solver = AloneSolver.For(spec.Dims);
            MpcSolution s1 = solver.Solve(alone.Problem);
            var g1 = Batch.Copy(solver.Backward(Batch.Slice(wx, T, B, n, b), Batch.Slice(wu, T, B, m, b)));
            AssertElement(all, grads, Batch.Copy(s1), g1, b, T, B, n, m);
        }
    }

    [Fact]
    public void BadElements_DoNotChangeTheOthers_Ilqr()
    {
        PendulumInstance k = new PendulumSpec(4, 4, PerStageCost: true, BoundMode: 2, Seed: 5).Build();
        NonlinearProblem p = k.Problem;
        int T = 4, B = 4, n = 3, m = 1, N = 4;
        p.XInit[1 * n + 2] = 1e300;                                  // angular speed overflows
        for (int t = 0; t < T; t++)
        {
            p.CostQuadratic.Data[(t * B + 2) * N * N + N * N - 1] = -5; // negative control weight
        }
        (double[] wx, double[] wu) = SupportRandomLqr.LossWeights(5, p.Dimensions);
        MpcSolution sol = Mpc.Solve(p);
        var all = Batch.Copy(sol);
        var grads = Batch.Copy(Mpc.BackwardNonlinear(sol, wx, wu));
        Assert.NotEqual(SolveStatus.Converged, sol.Status[1]);
        Assert.True(Enum.IsDefined(sol.Status[2]));
        var thetaSum = new double[3];
        foreach (int b in new[] { 0, 3 })
        {
            Assert.Equal(SolveStatus.Converged, sol.Status[b]);
            var d1 = new MpcDimensions(T, 1, n, m);
            var alone = new NonlinearProblem(d1, p.Dynamics, p.Parameters, p.XInit.AsSpan(b * n, n).ToArray(),
                StageArray.PerStage(Batch.Slice(p.CostQuadratic.Data, T, B, N * N, b)), StageArray.PerStage(Batch.Slice(p.CostLinear.Data, T, B, N, b)),
                StageArray.PerStage(Batch.Slice(p.ControlLower!.Data, T, B, m, b)), StageArray.PerStage(Batch.Slice(p.ControlUpper!.Data, T, B, m, b)));
            MpcSolution s1 = Mpc.Solve(alone);
            NonlinearGradients g1 = Mpc.BackwardNonlinear(s1, Batch.Slice(wx, T, B, n, b), Batch.Slice(wu, T, B, m, b));
            var g1c = Batch.Copy(g1);
            for (int i = 0; i < 3; i++)
            {
                thetaSum[i] += g1.Parameters[i];
            }
            g1c.Remove("parameters");
            var gb = new Dictionary<string, double[]>(grads);
            gb.Remove("parameters");
            AssertElement(all, gb, Batch.Copy(s1), g1c, b, T, B, n, m);
        }
        if (sol.Status[2] != SolveStatus.Converged)
        {
            Compare.Relative(thetaSum, grads["parameters"], 1e-12, "dL/dtheta = sum over the converged elements");
        }
    }

    /// <summary>Element b of a batch result equals the B = 1 result bitwise (per-stage layouts).</summary>
    private static void AssertElement(Dictionary<string, double[]> all, Dictionary<string, double[]> grads,
        Dictionary<string, double[]> alone, Dictionary<string, double[]> aloneGrads, int b, int T, int B, int n, int m)
    {
        int N = n + m;
        Bitwise.Equal(alone["X"], Batch.Slice(all["X"], T, B, n, b), $"X of element {b}");
        Bitwise.Equal(alone["U"], Batch.Slice(all["U"], T, B, m, b), $"U of element {b}");
        Bitwise.Equal(alone["Costates"], Batch.Slice(all["Costates"], T, B, n, b), $"costates of element {b}");
        foreach (string s in new[] { "Cost", "KktResidual", "StepNorm", "Status", "Iterations", "ActiveBounds" })
        {
            Bitwise.Equal(alone[s], [all[s][b]], $"{s} of element {b}");
        }
        foreach ((string name, double[] g) in aloneGrads)
        {
            int size = name switch { "C" => N * N, "c" => N, "F" => n * N, "f" => n, "xInit" => n, _ => m };
            int stages = name switch { "F" or "f" => T - 1, "xInit" => 1, _ => T };
            Bitwise.Equal(g, Batch.Slice(grads[name], stages, B, size, b), $"dL/d{name} of element {b}");
        }
    }
}
