using DiffMpc.Lqr;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>Kind "lqr": a random batched LQR (see <see cref="LqrProblemGenerator"/>) on a reusable <see cref="LqrSolver"/>.</summary>
internal sealed class LqrBenchProblem : IBenchProblem
{
    private readonly LqrSolver _solver;
    private readonly double[] _dLdx;
    private readonly double[] _dLdu;
    private MpcSolution? _last;

    public LqrBenchProblem(ProblemSpec spec, int seed = LqrProblemGenerator.DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Name = spec.Name;
        Problem = LqrProblemGenerator.Build(spec, seed);
        MpcDimensions d = Problem.Dimensions;
        _solver = new LqrSolver(d);
        (_dLdx, _dLdu) = LossGradients(d);
    }

    public string Name { get; }

    /// <summary>The generated problem.</summary>
    public LqrProblem Problem { get; }

    /// <summary>
    /// Flops of one forward + backward as the kernels of the last solve executed them
    /// (<see cref="FlopModel.ForwardBackwardExecuted"/>: lower triangles on the lane path); null
    /// before the first solve.
    /// </summary>
    public double? Flops => _last is null ? null
        : FlopModel.ForwardBackwardExecuted(Problem.Dimensions.StateDim, Problem.Dimensions.ControlDim,
            Problem.Dimensions.Horizon, Problem.Dimensions.BatchSize, _solver.SolvedInLanes);

    public double CostMean => _last is null ? double.NaN : ConvergedCostMean(_last);

    public double ConvergedFraction => _last is null ? double.NaN : (double)_last.ConvergedCount / _last.Status.Length;

    public void Forward() => _last = _solver.Solve(Problem);

    public void ForwardBackward()
    {
        _last = _solver.Solve(Problem);
        _solver.Backward(_dLdx, _dLdu);
    }

    /// <summary>dL/dx = 1 ([T][B][n]) and dL/du = 1 ([T][B][m]): the gradients of L = sum(x) + sum(u).</summary>
    public static (double[] DLdx, double[] DLdu) LossGradients(MpcDimensions d)
    {
        var dx = new double[d.Horizon * d.BatchSize * d.StateDim];
        var du = new double[d.Horizon * d.BatchSize * d.ControlDim];
        Array.Fill(dx, 1.0);
        Array.Fill(du, 1.0);
        return (dx, du);
    }

    /// <summary>Mean of the cost over converged elements; NaN when none converged.</summary>
    public static double ConvergedCostMean(MpcSolution s)
    {
        ArgumentNullException.ThrowIfNull(s);
        double sum = 0;
        int count = 0;
        for (int b = 0; b < s.Status.Length; b++)
        {
            if (s.Status[b] == SolveStatus.Converged)
            {
                sum += s.Cost[b];
                count++;
            }
        }
        return count == 0 ? double.NaN : sum / count;
    }
}
