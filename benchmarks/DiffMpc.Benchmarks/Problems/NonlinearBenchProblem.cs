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
internal sealed class NonlinearBenchProblem : IterativeBenchProblem
{
    private readonly IlqrSolver _solver;

    public NonlinearBenchProblem(ProblemSpec spec, int seed = LqrProblemGenerator.DefaultSeed)
        : base(spec)
    {
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
        UseDimensions(d);
    }

    /// <summary>The generated problem.</summary>
    public NonlinearProblem Problem { get; }

    protected override MpcSolution Solve() => _solver.Solve(Problem);

    protected override void Backward() => _solver.Backward(LossX, LossU);
}
