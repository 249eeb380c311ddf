using DiffMpc.Internal;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>
/// A reusable, differentiable batched LQR solver for one shape (T, B, n, m). It owns a workspace
/// allocated once in the constructor, so repeated <see cref="Solve"/> / <see cref="Backward"/>
/// calls (a training loop) reuse every buffer. One solver per thread: an instance is not safe
/// for concurrent use.
/// </summary>
/// <remarks>
/// <para>Forward: backward Riccati recursion with a Cholesky factorisation of Q_uu at every
/// stage, then a forward rollout. Backward: the adjoint LQR of the KKT system, solved with the
/// forward pass's Cholesky factors and gains (no second factorisation), then outer products of
/// the primal and adjoint trajectories.</para>
/// <para>The solution and gradients objects returned are owned by the solver and overwritten by
/// its next call. Between <see cref="Solve"/> and <see cref="Backward"/> the problem's arrays
/// must not be modified.</para>
/// </remarks>
public sealed class LqrSolver
{
    private readonly LqrWorkspace _ws;
    private readonly MpcSolution _solution;
    private readonly BatchRunner _runner;
    private readonly double _mu;
    private LqrProblem? _problem;
    private LqrData _data;
    private MpcGradients? _gradients;
    private LqrProblem? _gradientLayout;
    private SplitStageVector _lossGradient;

    /// <summary>Creates a solver and allocates its workspace.</summary>
    /// <param name="dimensions">T, B, n and m of every problem this solver will solve.</param>
    /// <param name="options">Settings; null means <see cref="MpcOptions.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or option is out of range.</exception>
    public LqrSolver(MpcDimensions dimensions, MpcOptions? options = null)
    {
        dimensions.Validate(nameof(dimensions));
        Options = options ?? MpcOptions.Default;
        Options.Validate();
        Dimensions = dimensions;
        _mu = Options.ControlRegularization;
        int workers = Math.Clamp(Options.ResolvedDegreeOfParallelism, 1, dimensions.BatchSize);
        _ws = new LqrWorkspace(dimensions, workers);
        _solution = new MpcSolution(dimensions, this);
        long flopsPerElement = (long)dimensions.Horizon * dimensions.TauDim * dimensions.TauDim * dimensions.TauDim;
        _runner = new BatchRunner(dimensions.BatchSize, workers, flopsPerElement, RunElement);
    }

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>The validated settings.</summary>
    public MpcOptions Options { get; }

    /// <summary>Solves every problem of the batch.</summary>
    /// <param name="problem">The problems; their dimensions must equal <see cref="Dimensions"/>.</param>
    /// <returns>The solver-owned solution (overwritten by the next call).</returns>
    /// <exception cref="ArgumentException">The problem's dimensions differ from the solver's, or a value is not finite.</exception>
    public MpcSolution Solve(LqrProblem problem)
    {
        Guard.NotNull(problem, nameof(problem));
        if (problem.Dimensions != Dimensions)
        {
            throw new ArgumentException(
                $"problem must have dimensions ({Dimensions}) to match this solver; got ({problem.Dimensions}).",
                nameof(problem));
        }
        problem.ValidateValues();
        _problem = problem;
        _data = LqrData.From(problem);
        _runner.Run((int)Phase.Forward);
        PublishSolution();
        return _solution;
    }

    /// <summary>
    /// Gradients of a loss L with respect to every input of the last solved problem, given
    /// dL/dx and dL/du at the solution.
    /// </summary>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <returns>The solver-owned gradients (overwritten by the next call).</returns>
    /// <exception cref="InvalidOperationException">No problem has been solved yet.</exception>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape or a non-finite value.</exception>
    public MpcGradients Backward(double[]? dLdx, double[]? dLdu)
    {
        if (_problem is null)
        {
            throw new InvalidOperationException("Backward needs a solution: call Solve first.");
        }
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim;
        if (dLdx is not null)
        {
            Guard.Length(dLdx, T * B * n, nameof(dLdx), $"[T={T}][B={B}][n={n}]");
            Guard.Finite(dLdx, nameof(dLdx));
        }
        if (dLdu is not null)
        {
            Guard.Length(dLdu, T * B * m, nameof(dLdu), $"[T={T}][B={B}][m={m}]");
            Guard.Finite(dLdu, nameof(dLdu));
        }
        _lossGradient = new SplitStageVector(dLdx, dLdu, Dimensions);
        _runner.Run((int)Phase.Backward);
        return AssembleGradients();
    }

    internal LqrWorkspace Workspace => _ws;

    private enum Phase
    {
        Forward,
        Backward,
    }

    private void RunElement(int phase, int b, int worker)
    {
        StageScratch s = _ws.Scratch[worker];
        if ((Phase)phase == Phase.Forward)
        {
            ForwardElement(b, s);
        }
        else if (_ws.Status[b] == SolveStatus.Converged)
        {
            AdjointSweep.Solve(_data, b, _lossGradient, _ws, s);
        }
    }

    private void ForwardElement(int b, StageScratch s)
    {
        int n = Dimensions.StateDim;
        var gains = default(UnconstrainedGains);
        SolveStatus status = RiccatiSweep.Factor(_data, b, _mu, new ViewStageVector(_data.c), withOffset: true, ref gains, _ws, s);
        double cost = double.NaN;
        if (status == SolveStatus.Converged)
        {
            RiccatiSweep.Rollout(_data, b, _ws, _data.XInit.AsSpan(b * n, n), withOffset: true, _ws.k, _ws.Tau);
            RiccatiSweep.Costates(_data, b, new ViewStageVector(_data.c), _ws.Tau, _ws.Lambda, s);
            cost = RiccatiSweep.Cost(_data, b, _ws.Tau);
            if (!double.IsFinite(cost) || !ElementFinite(b))
            {
                status = SolveStatus.NonFinite;
            }
        }
        _ws.Status[b] = status;
        _ws.Cost[b] = status == SolveStatus.Converged ? cost : double.NaN;
    }

    private bool ElementFinite(int b)
    {
        for (int t = 0; t < Dimensions.Horizon; t++)
        {
            if (!AllFinite(_ws.TauAt(t, b)) || !AllFinite(_ws.LambdaAt(t, b)))
            {
                return false;
            }
        }
        return true;
    }

    private static bool AllFinite(ReadOnlySpan<double> x)
    {
        foreach (double v in x)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    private void PublishSolution()
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim;
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                Span<double> x = _solution.X.AsSpan((t * B + b) * n, n);
                Span<double> u = _solution.U.AsSpan((t * B + b) * m, m);
                Span<double> lam = _solution.Costates.AsSpan((t * B + b) * n, n);
                if (_ws.Status[b] == SolveStatus.Converged)
                {
                    ReadOnlySpan<double> tau = _ws.TauAt(t, b);
                    tau[..n].CopyTo(x);
                    tau[n..].CopyTo(u);
                    _ws.LambdaAt(t, b).CopyTo(lam);
                }
                else
                {
                    x.Fill(double.NaN);
                    u.Fill(double.NaN);
                    lam.Fill(double.NaN);
                }
            }
        }
        _ws.Cost.CopyTo(_solution.Cost);
        _ws.Status.CopyTo(_solution.Status);
        _solution.Iterations.AsSpan().Fill(1);
        _solution.Version++;
    }

    private MpcGradients AssembleGradients()
    {
        LqrProblem p = _problem!;
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, N = Dimensions.TauDim;
        if (_gradients is null || !SameLayout(_gradientLayout!, p))
        {
            _gradients = new MpcGradients(
                p.CostQuadratic.NewGradient(T, B, N * N).Data,
                p.CostLinear.NewGradient(T, B, N).Data,
                p.Dynamics.NewGradient(T - 1, B, n * N).Data,
                p.DynamicsOffset?.NewGradient(T - 1, B, n).Data,
                new double[B * n]);
            _gradientLayout = p;
        }
        ReadOnlySpan<SolveStatus> status = _ws.Status;
        GradientAssembly.Accumulate(new GradientAssembly.CostQuadraticTerm(_ws), p.CostQuadratic,
            _gradients.CostQuadratic, T, B, N * N, status);
        GradientAssembly.Accumulate(new GradientAssembly.CostLinearTerm(_ws), p.CostLinear,
            _gradients.CostLinear, T, B, N, status);
        GradientAssembly.Accumulate(new GradientAssembly.DynamicsTerm(_ws), p.Dynamics,
            _gradients.Dynamics, T - 1, B, n * N, status);
        if (p.DynamicsOffset is not null)
        {
            GradientAssembly.Accumulate(new GradientAssembly.OffsetTerm(_ws), p.DynamicsOffset,
                _gradients.DynamicsOffset!, T - 1, B, n, status);
        }
        for (int b = 0; b < B; b++)
        {
            Span<double> dx = _gradients.XInit.AsSpan(b * n, n);
            if (status[b] == SolveStatus.Converged)
            {
                _ws.DLambdaAt(0, b).CopyTo(dx);
            }
            else
            {
                dx.Clear();
            }
        }
        return _gradients;
    }

    private static bool SameLayout(LqrProblem a, LqrProblem b) =>
        a.CostQuadratic.SameLayout(b.CostQuadratic) && a.CostLinear.SameLayout(b.CostLinear)
        && a.Dynamics.SameLayout(b.Dynamics)
        && (a.DynamicsOffset is null) == (b.DynamicsOffset is null)
        && (a.DynamicsOffset is null || a.DynamicsOffset.SameLayout(b.DynamicsOffset));
}
