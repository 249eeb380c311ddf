using DiffMpc.Benchmarks.Problems;
using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Baseline;

/// <summary>
/// Checks that the MathNet baseline computes what the library computes (solution, costates, cost
/// and every gradient), so the benchmark compares like with like.
/// </summary>
internal static class BaselineCheck
{
    /// <summary>Entries must agree to this, absolutely for |value| &lt;= 1 and relatively above.</summary>
    public const double Tolerance = 1e-8;

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first output that differs; returns the largest scaled difference.</summary>
    public static double Verify(LqrProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        MpcDimensions d = problem.Dimensions;
        (double[] dLdx, double[] dLdu) = LqrBenchProblem.LossGradients(d);
        var solver = new LqrSolver(d);
        MpcSolution s = solver.Solve(problem);
        if (!s.AllConverged)
        {
            throw new InvalidOperationException($"the library did not converge on every element ({s.ConvergedCount}/{d.BatchSize}).");
        }
        MpcGradients g = solver.Backward(dLdx, dLdu);
        BaselineResult r = MathNetRiccati.SolveAndBackward(problem, dLdx, dLdu);
        BaselineResult forwardOnly = MathNetRiccati.Solve(problem);

        double worst = 0;
        worst = Math.Max(worst, Compare("x", r.X, s.X));
        worst = Math.Max(worst, Compare("u", r.U, s.U));
        worst = Math.Max(worst, Compare("costates", r.Costates, s.Costates));
        worst = Math.Max(worst, Compare("cost", r.Cost, s.Cost));
        worst = Math.Max(worst, Compare("x (forward-only baseline)", forwardOnly.X, s.X));
        worst = Math.Max(worst, Compare("u (forward-only baseline)", forwardOnly.U, s.U));
        worst = Math.Max(worst, Compare("dL/dC", r.DC!, g.CostQuadratic));
        worst = Math.Max(worst, Compare("dL/dc", r.Dc!, g.CostLinear));
        worst = Math.Max(worst, Compare("dL/dF", r.DF!, g.Dynamics));
        if (g.DynamicsOffset is not null)
        {
            worst = Math.Max(worst, Compare("dL/df", r.Df!, g.DynamicsOffset));
        }
        worst = Math.Max(worst, Compare("dL/dx_init", r.DXInit!, g.XInit));
        return worst;
    }

    private static double Compare(string what, double[] baseline, double[] library)
    {
        if (baseline.Length != library.Length)
        {
            throw new InvalidOperationException($"{what}: baseline has {baseline.Length} values, library {library.Length}.");
        }
        double worst = 0;
        for (int i = 0; i < baseline.Length; i++)
        {
            double diff = Math.Abs(baseline[i] - library[i]) / Math.Max(1.0, Math.Abs(library[i]));
            if (!(diff <= Tolerance))
            {
                throw new InvalidOperationException(
                    $"MathNet baseline differs from the library in {what}[{i}]: {baseline[i]:R} vs {library[i]:R} (scaled difference {diff:E2} > {Tolerance:E0}).");
            }
            worst = Math.Max(worst, diff);
        }
        return worst;
    }
}
