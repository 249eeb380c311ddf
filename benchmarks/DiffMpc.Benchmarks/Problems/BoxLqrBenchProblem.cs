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
internal sealed class BoxLqrBenchProblem : IterativeBenchProblem
{
    private readonly LqrSolver _solver;

    public BoxLqrBenchProblem(ProblemSpec spec, int seed = LqrProblemGenerator.DefaultSeed)
        : base(spec)
    {
        double box = spec.Box ?? throw new InvalidDataException($"problem '{spec.Name}' (kind box_lqr) has no 'box'.");
        LqrProblem p = LqrProblemGenerator.Build(spec, seed);
        Problem = new LqrProblem(p.Dimensions, p.XInit, p.CostQuadratic, p.CostLinear, p.Dynamics, p.DynamicsOffset,
            StageArray.Scalar(-box), StageArray.Scalar(box));
        MpcDimensions d = Problem.Dimensions;
        _solver = new LqrSolver(d, new MpcOptions { MaxIterations = spec.MaxIter ?? MpcOptions.Default.MaxIterations });
        UseDimensions(d);
    }

    /// <summary>The generated problem (with bounds).</summary>
    public LqrProblem Problem { get; }

    protected override MpcSolution Solve() => _solver.Solve(Problem);

    protected override void Backward() => _solver.Backward(LossX, LossU);
}
