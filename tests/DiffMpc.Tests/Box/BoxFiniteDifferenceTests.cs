using System.Globalization;
using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace DiffMpc.Tests.Box;

/// <summary>
/// Central finite-difference checks of every gradient (C, c, F, f, x_init, u_lower, u_upper) of a
/// linear loss L = wx . X + wu . U on box-constrained problems with both active and free
/// controls, for every bound layout (per stage, Scalar, Shared, TimeInvariant, BatchShared),
/// one-sided bounds, infinite bounds mixed with finite ones, and broadcast costs/dynamics.
/// The step is small enough that the active set does not change; a perturbation that changes it
/// anyway is skipped (and counted: at most a few may be).
/// </summary>
public sealed class BoxFiniteDifferenceTests(ITestOutputHelper output)
{
    private const double Step = 1e-5;
    private const double RelTol = 1e-6;

    public static TheoryData<string> Cases() =>
        ["PerStage", "Scalar", "Shared", "TimeInvariant", "BatchShared", "LowerOnly", "UpperOnly", "MixedInfinite", "BroadcastData"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryGradient_MatchesCentralDifferences(string layout)
    {
        LqrProblem problem = Build(layout);
        MpcDimensions dims = problem.Dimensions;
        int T = dims.Horizon, B = dims.BatchSize, m = dims.ControlDim;
        var solver = new LqrSolver(dims);
        MpcSolution sol = solver.Solve(problem);
        for (int b = 0; b < B; b++)
        {
            Assert.Equal(SolveStatus.Converged, sol.Status[b]);
            Assert.True(sol.KktResidual[b] < 1e-9, $"{layout}: KKT residual {sol.KktResidual[b]}");
            Assert.True(sol.ActiveBounds[b] > 0 && sol.ActiveBounds[b] < T * m,
                $"{layout}: element {b} has {sol.ActiveBounds[b]} of {T * m} controls at a bound; the case needs both kinds");
        }
        sbyte[] pattern = BoxTestProblems.ActivePattern(problem, sol);
        if (problem.ControlLower is not null)
        {
            Assert.Contains(pattern, s => s < 0);
        }
        if (problem.ControlUpper is not null)
        {
            Assert.Contains(pattern, s => s > 0);
        }
        (double[] wx, double[] wu) = BoxTestProblems.LossWeights(dims, 99);
        MpcGradients g = solver.Backward(wx, wu);

        var inputs = new List<(string Name, double[] Data, double[] Grad)>
        {
            ("C", problem.CostQuadratic.Data, [.. g.CostQuadratic]),
            ("c", problem.CostLinear.Data, [.. g.CostLinear]),
            ("F", problem.Dynamics.Data, [.. g.Dynamics]),
            ("x_init", problem.XInit, [.. g.XInit]),
        };
        if (problem.DynamicsOffset is not null)
        {
            inputs.Add(("f", problem.DynamicsOffset.Data, [.. g.DynamicsOffset!]));
        }
        if (problem.ControlLower is not null)
        {
            inputs.Add(("u_lower", problem.ControlLower.Data, [.. g.ControlLower!]));
        }
        else
        {
            Assert.Null(g.ControlLower);
        }
        if (problem.ControlUpper is not null)
        {
            inputs.Add(("u_upper", problem.ControlUpper.Data, [.. g.ControlUpper!]));
        }
        else
        {
            Assert.Null(g.ControlUpper);
        }

        int checkedCount = 0, skipped = 0, nonZero = 0;
        foreach ((string name, double[] data, double[] grad) in inputs)
        {
            Assert.Equal(data.Length, grad.Length);
            bool boundGradientSeen = false;
            for (int k = 0; k < data.Length; k++)
            {
                double original = data[k];
                if (!double.IsFinite(original))
                {
                    Assert.True(grad[k] == 0, $"{layout}: d L/d {name}[{k}] = {grad[k]} at an infinite bound");
                    continue;
                }
                double lp = Perturbed(solver, problem, data, k, original + Step, pattern, wx, wu);
                double lm = Perturbed(solver, problem, data, k, original - Step, pattern, wx, wu);
                data[k] = original;
                if (double.IsNaN(lp) || double.IsNaN(lm))
                {
                    skipped++;
                    continue;
                }
                double fd = (lp - lm) / (2 * Step);
                checkedCount++;
                nonZero += Math.Abs(fd) > 1e-6 ? 1 : 0;
                boundGradientSeen |= Math.Abs(fd) > 1e-6;
                if (!(Math.Abs(fd - grad[k]) <= RelTol * Math.Max(1, Math.Abs(fd))))
                {
                    throw new XunitException(string.Create(CultureInfo.InvariantCulture,
                        $"{layout}: dL/d{name}[{k}] = {grad[k]:R} but central difference gives {fd:R} (|diff| {Math.Abs(fd - grad[k]):E3})."));
                }
            }
            if (name.StartsWith("u_", StringComparison.Ordinal))
            {
                Assert.True(boundGradientSeen, $"{layout}: every {name} gradient is zero; the case does not test it");
            }
        }
        output.WriteLine($"{layout}: {checkedCount} entries checked ({nonZero} non-zero), {skipped} skipped (active set changed), active per element [{string.Join(", ", sol.ActiveBounds)}] of {T * m}");
        Assert.True(skipped <= checkedCount / 50, $"{layout}: {skipped} perturbations changed the active set");
    }

    /// <summary>L at data[k] = value, or NaN when the solve did not converge to the same active set.</summary>
    private static double Perturbed(LqrSolver solver, LqrProblem problem, double[] data, int k, double value,
        sbyte[] pattern, double[] wx, double[] wu)
    {
        data[k] = value;
        MpcSolution s = solver.Solve(problem);
        if (!s.AllConverged || !BoxTestProblems.ActivePattern(problem, s).AsSpan().SequenceEqual(pattern))
        {
            return double.NaN;
        }
        return BoxTestProblems.Loss(s, wx, wu);
    }

    private static LqrProblem Build(string layout)
    {
        var dims = new MpcDimensions(Horizon: 4, BatchSize: 2, StateDim: 3, ControlDim: 2);
        int T = dims.Horizon, B = dims.BatchSize, m = dims.ControlDim;
        RandomLqr d = BoxTestProblems.Generate(dims, seed: 4242 + layout.Length, costScale: 2.0);
        var rng = new Random(17);
        double[] Lo(int count) => [.. Enumerable.Range(0, count).Select(_ => -0.2 - 0.6 * rng.NextDouble())];
        double[] Hi(int count) => [.. Enumerable.Range(0, count).Select(_ => 0.2 + 0.6 * rng.NextDouble())];
        switch (layout)
        {
            case "PerStage":
                return d.Build(StageArray.PerStage(Lo(T * B * m)), StageArray.PerStage(Hi(T * B * m)));
            case "Scalar":
                return d.Build(StageArray.Scalar(-0.8), StageArray.Scalar(0.7));
            case "Shared":
                return d.Build(StageArray.Shared(Lo(m)), StageArray.Shared(Hi(m)));
            case "TimeInvariant":
                return d.Build(StageArray.TimeInvariant(Lo(B * m)), StageArray.TimeInvariant(Hi(B * m)));
            case "BatchShared":
                return d.Build(StageArray.BatchShared(Lo(T * m)), StageArray.BatchShared(Hi(T * m)));
            case "LowerOnly":
                return d.Build(StageArray.PerStage(Lo(T * B * m)), null);
            case "UpperOnly":
                return d.Build(null, StageArray.TimeInvariant(Hi(B * m)));
            case "MixedInfinite":
                {
                    double[] lo = Lo(T * B * m), hi = Hi(T * B * m);
                    for (int k = 0; k < lo.Length; k += 3)
                    {
                        lo[k] = double.NegativeInfinity;
                    }
                    for (int k = 1; k < hi.Length; k += 4)
                    {
                        hi[k] = double.PositiveInfinity;
                    }
                    return d.Build(StageArray.PerStage(lo), StageArray.PerStage(hi));
                }
            case "BroadcastData":
                {
                    // C: [B][N][N] (time-invariant); c: [T][N] (batch-shared); F: [n][N] (shared);
                    // f: [B][n] (time-invariant); bounds: shared [m] lower, scalar upper.
                    int n = dims.StateDim, N = dims.TauDim;
                    double[] C = [.. d.C.AsSpan(0, B * N * N)];
                    double[] c = new double[T * N];
                    for (int t = 0; t < T; t++)
                    {
                        d.c.AsSpan(t * B * N, N).CopyTo(c.AsSpan(t * N));
                    }
                    double[] F = [.. d.F!.AsSpan(0, n * N)];
                    double[] f = [.. d.f!.AsSpan(0, B * n)];
                    return new LqrProblem(dims, d.XInit, StageArray.TimeInvariant(C), StageArray.BatchShared(c),
                        StageArray.Shared(F), StageArray.TimeInvariant(f), StageArray.Shared([-0.9, -0.7]), StageArray.Scalar(0.8));
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "unknown case");
        }
    }
}
