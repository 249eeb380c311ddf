using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// Kind "box_lqr": the random batched LQR of kind "lqr" (same generator and seed) with the
/// control box |u| &lt;= box, solved by control-limited DDP with MaxIterations = max_iter on a
/// reusable <see cref="LqrSolver"/>, from u = 0.
/// </summary>
internal sealed class BoxLqrBenchProblem : IBenchProblem
{
    private readonly LqrSolver _solver;
    private readonly double[] _dLdx;
    private readonly double[] _dLdu;
    private MpcSolution? _last;

    public BoxLqrBenchProblem(ProblemSpec spec, int seed = LqrProblemGenerator.DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Name = spec.Name;
        double box = spec.Box ?? throw new InvalidDataException($"problem '{spec.Name}' (kind box_lqr) has no 'box'.");
        LqrProblem p = LqrProblemGenerator.Build(spec, seed);
        Problem = new LqrProblem(p.Dimensions, p.XInit, p.CostQuadratic, p.CostLinear, p.Dynamics, p.DynamicsOffset,
            StageArray.Scalar(-box), StageArray.Scalar(box));
        MpcDimensions d = Problem.Dimensions;
        _solver = new LqrSolver(d, new MpcOptions { MaxIterations = spec.MaxIter ?? MpcOptions.Default.MaxIterations });
        (_dLdx, _dLdu) = LqrBenchProblem.LossGradients(d);
    }

    public string Name { get; }

    /// <summary>The generated problem (with bounds).</summary>
    public LqrProblem Problem { get; }

    /// <summary>No flop model: the work depends on the iterations and active sets.</summary>
    public double? Flops => null;

    public double CostMean => _last is null ? double.NaN : LqrBenchProblem.ConvergedCostMean(_last);

    public double ConvergedFraction => _last is null ? double.NaN : (double)_last.ConvergedCount / _last.Status.Length;

    public void Forward() => _last = _solver.Solve(Problem);

    public void ForwardBackward()
    {
        _last = _solver.Solve(Problem);
        _solver.Backward(_dLdx, _dLdu);
    }
}
