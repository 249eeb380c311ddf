using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;
using DiffMpc.Systems;

namespace DiffMpc.Benchmarks.Problems;

/// <summary>
/// Kinds "pendulum" and "cartpole": B copies of the system of ../golden/dynamics.md with the
/// textbook parameters, the task cost (C = diag(q), c = p, shared over time and batch) and its
/// control box, from starts drawn as dynamics.md says (pendulum: th in [-pi/2, pi/2], thdot in
/// [-1, 1]; cartpole: th in [-pi, pi], pos, vel, thdot in [-0.5, 0.5], the library's
/// <see cref="Cartpole.SampleInitialState(Random, Span{double}, double)"/> default), solved by
/// box-constrained iLQR from u = 0 with Tolerance = eps and MaxIterations = max_iter.
/// forward_backward adds the gradient of L = sum(x) + sum(u) with respect to the dynamics
/// parameters, C, c and x_init.
/// </summary>
internal sealed class NonlinearBenchProblem : IBenchProblem
{
    private readonly IlqrSolver _solver;
    private readonly double[] _dLdx;
    private readonly double[] _dLdu;
    private MpcSolution? _last;

    public NonlinearBenchProblem(ProblemSpec spec, int seed = LqrProblemGenerator.DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Name = spec.Name;
        bool pendulum = spec.Kind == "pendulum";
        IDynamics model = pendulum ? new Pendulum() : new Cartpole();
        int T = spec.Horizon, B = spec.Batch, n = model.StateDim, m = model.ControlDim, N = n + m;
        var d = new MpcDimensions(T, B, n, m);
        var rng = new Random(seed);
        var x = new double[B * n];
        for (int b = 0; b < B; b++)
        {
            if (pendulum)
            {
                Pendulum.SampleInitialState(rng, x.AsSpan(b * n, n));
            }
            else
            {
                Cartpole.SampleInitialState(rng, x.AsSpan(b * n, n));
            }
        }
        double[] q = pendulum ? Pendulum.CostDiagQ : Cartpole.CostDiagQ;
        var C = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            C[i * N + i] = q[i];
        }
        double[] p = pendulum ? Pendulum.CostP : Cartpole.CostP;
        double lo = pendulum ? Pendulum.ControlLower : Cartpole.ControlLower;
        double hi = pendulum ? Pendulum.ControlUpper : Cartpole.ControlUpper;
        double[] theta = pendulum ? Pendulum.TextbookParameters : Cartpole.TextbookParameters;
        Problem = new NonlinearProblem(d, model, theta, x, StageArray.Shared(C), StageArray.Shared(p),
            StageArray.Scalar(lo), StageArray.Scalar(hi));
        var options = new MpcOptions
        {
            Tolerance = spec.Eps ?? MpcOptions.Default.Tolerance,
            MaxIterations = spec.MaxIter ?? MpcOptions.Default.MaxIterations,
        };
        _solver = new IlqrSolver(d, model, options);
        (_dLdx, _dLdu) = LqrBenchProblem.LossGradients(d);
    }

    public string Name { get; }

    /// <summary>The generated problem.</summary>
    public NonlinearProblem Problem { get; }

    /// <summary>No flop model for the nonlinear solver.</summary>
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
