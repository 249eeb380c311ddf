using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// Shared bookkeeping of the iteratively solved kinds (box LQR, pendulum, cartpole): the last
/// solution, the loss gradients of L = sum(x) + sum(u), and no flop model (the work depends on
/// the iterations and active sets).
/// </summary>
internal abstract class IterativeBenchProblem : IBenchProblem
{
    private MpcSolution? _last;

    protected IterativeBenchProblem(ProblemSpec spec) =>
        Name = (spec ?? throw new ArgumentNullException(nameof(spec))).Name;

    public string Name { get; }

    public double? Flops => null;

    public double CostMean => _last is null ? double.NaN : LqrBenchProblem.ConvergedCostMean(_last);

    public double ConvergedFraction => _last is null ? double.NaN : (double)_last.ConvergedCount / _last.Status.Length;

    /// <summary>dL/dx = 1, [T][B][n] (set by <see cref="UseDimensions"/>).</summary>
    protected double[] LossX { get; private set; } = [];

    /// <summary>dL/du = 1, [T][B][m] (set by <see cref="UseDimensions"/>).</summary>
    protected double[] LossU { get; private set; } = [];

    /// <summary>Sizes the loss gradients for the generated problem.</summary>
    protected void UseDimensions(MpcDimensions dimensions) =>
        (LossX, LossU) = LqrBenchProblem.LossGradients(dimensions);

    public void Forward() => _last = Solve();

    public void ForwardBackward()
    {
        _last = Solve();
        Backward();
    }

    /// <summary>Solves the batch on the reusable solver.</summary>
    protected abstract MpcSolution Solve();

    /// <summary>Differentiates L with the reusable solver.</summary>
    protected abstract void Backward();
}
