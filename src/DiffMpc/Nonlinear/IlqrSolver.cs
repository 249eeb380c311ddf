// Notation: g the dynamics, theta its parameters (p); tau_t = [x_t; u_t]; F_t = dg/dtau and
// G_t = dg/dtheta at the solution; lambda the costates; H_t = sum_i lambda_{t+1,i} d^2 g_i / dz^2
// over z = (tau, theta) (the dynamics part of the Hessian of the Lagrangian).
// Exact backward: the adjoint LQR uses Ctilde_t = sym(C_t) + H_t,tautau and the same F_t, with the
// active set fixed; then dL/dtheta = sum_t G_t' dlambda_{t+1} + H_t,tautheta' dtau_t.
using DiffMpc.Autodiff;
using DiffMpc.Box;
using DiffMpc.Internal;
using DiffMpc.Lqr;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Nonlinear;

/// <summary>
/// A reusable, differentiable nonlinear MPC solver (box-constrained iLQR) for one shape and one
/// dynamics model. It owns its workspace and one derivative evaluator per worker, allocated once.
/// One solver per thread.
/// </summary>
/// <remarks>
/// <para>Forward: control-limited iLQR from u = clamp(uInit or 0): linearise the dynamics at the
/// iterate (automatic differentiation), solve the box-constrained LQR subproblem (a box QP per
/// stage), roll the true dynamics out with a backtracking line search on the true cost, with
/// Levenberg-Marquardt regularisation of Q_uu when it is not positive definite; converged when
/// a full (undamped, unregularised) step changes no control by more than
/// <see cref="MpcOptions.Tolerance"/>, or when no step decreases the cost any more at a point whose
/// KKT residual is at most 1e-9 (round-off). The steps are Gauss-Newton's (the dynamics'
/// curvature left out) until several consecutive full steps shrink only slowly, a linear tail;
/// from then on the subproblem's cost Hessian is the Hessian of the Lagrangian at the iterate and
/// its costates (Newton, i.e. SQP, steps), which converge quadratically near the solution.</para>
/// <para>At the returned point the Riccati recursion is run once more with the active set fixed
/// and, in <see cref="NonlinearGradientMode.Exact"/> mode, the Hessian of the Lagrangian: this
/// checks the second-order condition (<see cref="SolveStatus.NotStrictLocalMinimum"/> when it
/// fails) and provides the factors the backward pass reuses.</para>
/// </remarks>
public sealed class IlqrSolver
{
    /// <summary>A line-search failure at a point whose KKT residual is at most this counts as converged.</summary>
    private const double RoundOffKktResidual = 1e-9;

    private readonly LqrWorkspace _ws;
    private readonly MpcSolution _solution;
    private readonly BatchRunner _runner;
    private readonly IDynamics _dynamics;
    private readonly DynamicsDerivatives[] _evaluators;
    private readonly double[][] _jacobianBuffer;   // per worker [n][n+m+p]
    private readonly double[][] _hessianBuffer;    // per worker [n+m+p][n+m+p]
    private readonly double[][] _xNextBuffer;      // per worker [n]
    private readonly double[] _jacobian;           // F_t, [T-1][B][n][n+m]
    private readonly double[] _parameterJacobian;  // G_t, [T-1][B][n][p]
    private readonly double[] _lagrangianHessian;  // Ctilde_t, [T][B][n+m][n+m]
    private readonly double[] _mixedHessian;       // H_t,tautheta, [T-1][B][n+m][p]
    private readonly bool[] _differentiable;
    private readonly bool[] _included;
    private readonly int _workers;
    private ICost? _cost;                            // general cost of the current problem, or null (quadratic)
    private CostDerivatives[] _costEvaluators = [];  // per worker, for _cost
    private double[] _costHessian = [];              // general cost: Hessian at the iterate, [T][B][n+m][n+m]
    private double[] _costLinear = [];               // general cost: gradient - Hessian tau, [T][B][n+m]
    private double[][] _costGradientBuffer = [];     // per worker [n+m]
    private double[] _costMixed = [];                // [n+m][q]
    private NonlinearProblem? _problem;
    private bool _solveCalled;   // Solve has been called at least once (for the message of a Backward without a solution)

    /// <summary>Serialises the static <see cref="Mpc"/> API's backward passes on this solver (never taken by the solver itself).</summary>
    internal object SyncRoot { get; } = new();
    private LqrData _iterData;
    private LqrData _finalData;
    private ControlBox _box;
    private double[]? _uInit;
    private SplitStageVector _lossGradient;
    private NonlinearGradients? _gradients;
    private NonlinearProblem? _gradientLayout;

    /// <summary>Creates a solver and allocates its workspace.</summary>
    /// <param name="dimensions">T, B, n and m; n and m must match the model.</param>
    /// <param name="dynamics">The dynamics model.</param>
    /// <param name="options">Settings; null means <see cref="MpcOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">The model's dimensions differ from <paramref name="dimensions"/>.</exception>
    public IlqrSolver(MpcDimensions dimensions, IDynamics dynamics, MpcOptions? options = null)
    {
        dimensions.Validate(nameof(dimensions));
        Guard.NotNull(dynamics, nameof(dynamics));
        if (dynamics.StateDim != dimensions.StateDim || dynamics.ControlDim != dimensions.ControlDim)
        {
            throw new ArgumentException(
                $"dynamics must have n={dimensions.StateDim}, m={dimensions.ControlDim}; got n={dynamics.StateDim}, m={dynamics.ControlDim}.",
                nameof(dynamics));
        }
        Options = options ?? MpcOptions.Default;
        Options.Validate();
        Dimensions = dimensions;
        _dynamics = dynamics;
        int T = dimensions.Horizon, B = dimensions.BatchSize, n = dimensions.StateDim, N = dimensions.TauDim;
        int p = dynamics.ParameterCount, nz = N + p;
        Guard.AtLeast(p, 0, nameof(dynamics), "ParameterCount (p)");
        dimensions.CheckSize((Int128)T * B * N * p, "T B (n+m) p, the mixed second derivatives of the dynamics", nameof(dimensions));
        int workers = Math.Clamp(Options.ResolvedDegreeOfParallelism, 1, B);
        _workers = workers;
        _ws = new LqrWorkspace(dimensions, workers);
        _solution = new MpcSolution(dimensions, this);
        _differentiable = new bool[B];
        _included = new bool[B];
        _evaluators = new DynamicsDerivatives[workers];
        _jacobianBuffer = new double[workers][];
        _hessianBuffer = new double[workers][];
        _xNextBuffer = new double[workers][];
        for (int w = 0; w < workers; w++)
        {
            _evaluators[w] = new DynamicsDerivatives(dynamics);
            _jacobianBuffer[w] = new double[n * nz];
            _hessianBuffer[w] = new double[nz * nz];
            _xNextBuffer[w] = new double[n];
        }
        int stages = Math.Max(T - 1, 0);
        _jacobian = new double[stages * B * n * N];
        _parameterJacobian = new double[stages * B * n * p];
        _lagrangianHessian = new double[T * B * N * N];
        _mixedHessian = new double[stages * B * N * p];
        long work = (long)T * (N * N * N + nz * nz * 4);
        _runner = new BatchRunner(B, workers, work * Options.MaxIterations / 4, RunElement);
    }

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>The validated settings.</summary>
    public MpcOptions Options { get; }

    /// <summary>Solves every problem of the batch.</summary>
    /// <param name="problem">The problems; same dimensions and model as this solver.</param>
    /// <param name="uInit">Optional warm start, shape [T][B][m]; null starts from u = 0 (clamped into the bounds).</param>
    /// <returns>The solver-owned solution (overwritten by the next call).</returns>
    /// <exception cref="ArgumentException">The problem does not match the solver, or holds an invalid value.
    /// Every solve that throws leaves the solver without a solution (Backward then throws
    /// <see cref="InvalidOperationException"/>) until the next successful solve.</exception>
    /// <param name="cancellationToken">Cancels a long solve: polled between batch elements and
    /// iterations. A cancelled solve throws <see cref="OperationCanceledException"/> and leaves the
    /// solver without a solution (Backward then throws <see cref="InvalidOperationException"/>).</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <remarks>An exception thrown by the model's <see cref="IDynamics.Step"/> or the cost's
    /// <see cref="ICost.Evaluate"/> (on any worker thread) is rethrown here, and also leaves the solver
    /// without a solution.</remarks>
    public MpcSolution Solve(NonlinearProblem problem, double[]? uInit = null, CancellationToken cancellationToken = default)
    {
        _problem = null;   // until this solve succeeds: a solve that throws keeps no solution
        _solveCalled = true;
        cancellationToken.ThrowIfCancellationRequested();
        Guard.NotNull(problem, nameof(problem));
        Guard.SameDimensions(problem.Dimensions, Dimensions, nameof(problem));
        if (!ReferenceEquals(problem.Dynamics, _dynamics))
        {
            throw new ArgumentException(
                $"problem must use the dynamics instance this solver was created with ({_dynamics.GetType().Name}); got another instance ({problem.Dynamics.GetType().Name}).",
                nameof(problem));
        }
        problem.ValidateValues();
        Guard.WarmStart(uInit, Dimensions);
        try
        {
            SolveValidated(problem, uInit, cancellationToken);
        }
        catch
        {
            _problem = null;   // a user model or cost that threw, or a cancelled solve: no solution to differentiate
            _ws.Cancellation = default;
            throw;
        }
        SolutionWriter.Publish(_ws, _solution);
        return _solution;
    }

    /// <summary>The solve itself, after the checks of <see cref="Solve"/>.</summary>
    private void SolveValidated(NonlinearProblem problem, double[]? uInit, CancellationToken cancellationToken)
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim, N = Dimensions.TauDim;
        _problem = problem;
        _uInit = uInit;
        EnsureCost(problem.Cost);
        StageView C = problem.CostQuadratic.View(B, N * N), c = problem.CostLinear.View(B, N);
        if (_cost is not null)
        {
            C = StageView.Full(_costHessian, B, N * N);
            c = StageView.Full(_costLinear, B, N);
        }
        StageView F = StageView.Full(_jacobian, B, n * N);
        double mu = Options.ControlRegularization;
        _iterData = new LqrData(Dimensions, problem.XInit, C, c, F, default, mu);
        _finalData = new LqrData(Dimensions, problem.XInit, StageView.Full(_lagrangianHessian, B, N * N), c, F, default, mu);
        _box = new ControlBox(problem.ControlLower?.View(B, m) ?? default, problem.ControlUpper?.View(B, m) ?? default);
        _ws.Cancellation = cancellationToken;
        _runner.Run(0);
        ThrowIfCancelled(cancellationToken);
    }

    /// <summary>Test hook: true when calls are split over worker threads (else all runs on the caller).</summary>
    internal bool RunsInParallel => _runner.IsParallel;

    /// <summary>Gradients of a loss L with respect to every input of the last solved problem.</summary>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <returns>The solver-owned gradients (overwritten by the next call).</returns>
    /// <exception cref="InvalidOperationException">No problem has been solved yet, or the last Solve threw (rejected input, a model or cost that threw, cancellation).</exception>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape, or a non-finite value in the slots of an element with a differentiable solution (Converged, or see <see cref="Options.MpcOptions.DifferentiateUnconverged"/>; the slots of the other elements are not read).</exception>
    public NonlinearGradients Backward(double[]? dLdx, double[]? dLdu)
    {
        if (_problem is null)
        {
            Guard.NoSolution(_solveCalled);
        }
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim, N = Dimensions.TauDim;
        Guard.LossGradients(dLdx, dLdu, Dimensions, _differentiable);
        _lossGradient = new SplitStageVector(dLdx, dLdu, Dimensions);
        _runner.Run(1);
        for (int b = 0; b < B; b++)
        {
            _included[b] = _differentiable[b] && SolutionWriter.AdjointUsable(_ws, b) && ParameterTermsUsable(b);
            if (_included[b] && _box.IsBounded)
            {
                GradientAssembly.WriteBoundGradients(_finalData, _ws, _lossGradient, b);
            }
        }

        NonlinearProblem pr = _problem;
        bool general = pr.Cost is not null;
        if (_gradients is null || !SameLayout(_gradientLayout!, pr))
        {
            _gradients = new NonlinearGradients(new double[_dynamics.ParameterCount],
                general ? null : pr.CostQuadratic.NewGradient(T, B, N * N).Data,
                general ? null : pr.CostLinear.NewGradient(T, B, N).Data,
                general ? new double[pr.Cost!.ParameterCount] : null,
                new double[B * n], pr.ControlLower?.NewGradient(T, B, m).Data, pr.ControlUpper?.NewGradient(T, B, m).Data,
                new bool[B]);
            _gradientLayout = pr;
        }
        ReadOnlySpan<bool> include = _included;
        include.CopyTo(_gradients.Differentiated);
        if (general)
        {
            CostParameterGradient(_gradients.CostParameters!, include);
        }
        else
        {
            GradientAssembly.Accumulate(new GradientAssembly.CostQuadraticTerm(_ws), pr.CostQuadratic,
                _gradients.CostQuadratic!, T, B, N * N, include);
            GradientAssembly.Accumulate(new GradientAssembly.CostLinearTerm(_ws), pr.CostLinear,
                _gradients.CostLinear!, T, B, N, include);
        }
        SolutionWriter.WriteBoundGradient(_finalData, _box, _ws, pr.ControlLower, _gradients.ControlLower, lowerSide: true, include);
        SolutionWriter.WriteBoundGradient(_finalData, _box, _ws, pr.ControlUpper, _gradients.ControlUpper, lowerSide: false, include);
        SolutionWriter.WriteInitialStateGradient(_ws, include, _gradients.XInit);
        ParameterGradient(_gradients.Parameters, include);
        return _gradients;
    }

    /// <summary>True when element b's dL/dtheta terms (G' dlambda, H_tautheta' dtau) cannot overflow.</summary>
    private bool ParameterTermsUsable(int b)
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, N = Dimensions.TauDim;
        int p = _dynamics.ParameterCount;
        double g = 0, h = 0, dlam = 0, dtau = 0;
        for (int t = 0; t < T - 1; t++)
        {
            int stage = t * B + b;
            g = Math.Max(g, SolutionWriter.MaxAbs(_parameterJacobian.AsSpan(stage * n * p, n * p)));
            h = Math.Max(h, SolutionWriter.MaxAbs(_mixedHessian.AsSpan(stage * N * p, N * p)));
            dlam = Math.Max(dlam, SolutionWriter.MaxAbs(_ws.DLambdaAt(t + 1, b)));
            dtau = Math.Max(dtau, SolutionWriter.MaxAbs(_ws.DTauAt(t, b)));
        }
        return g * dlam <= 1e300 && h * dtau <= 1e300;
    }

    /// <summary>dL/dtheta = sum_t sum_b G_t' dlambda_{t+1} + H_t,tautheta' dtau_t (fixed order).</summary>
    private void ParameterGradient(double[] output, ReadOnlySpan<bool> include)
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, N = Dimensions.TauDim;
        int p = _dynamics.ParameterCount;
        Array.Clear(output);
        for (int t = 0; t < T - 1; t++)
        {
            for (int b = 0; b < B; b++)
            {
                if (!include[b])
                {
                    continue;
                }
                int stage = t * B + b;
                ReadOnlySpan<double> G = _parameterJacobian.AsSpan(stage * n * p, n * p);
                ReadOnlySpan<double> mixed = _mixedHessian.AsSpan(stage * N * p, N * p);
                LinearAlgebra.Blas.Gemv(true, n, p, 1, G, p, _ws.DLambdaAt(t + 1, b), 1, output);
                if (Options.GradientMode == NonlinearGradientMode.Exact)
                {
                    LinearAlgebra.Blas.Gemv(true, N, p, 1, mixed, p, _ws.DTauAt(t, b), 1, output);
                }
            }
        }
    }

    /// <summary>dL/dphi = sum_t sum_b (d^2 l_t / dtau dphi)' dtau_t (fixed order).</summary>
    private void CostParameterGradient(double[] output, ReadOnlySpan<bool> include)
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, N = Dimensions.TauDim;
        int q = output.Length;
        Array.Clear(output);
        double[] phi = _problem!.CostParameters!;
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                if (!include[b])
                {
                    continue;
                }
                ReadOnlySpan<double> tau = _ws.TauAt(t, b);
                _costEvaluators[0].MixedDerivative(t, tau[..n], tau[n..], phi, _costMixed);
                LinearAlgebra.Blas.Gemv(true, N, q, 1, _costMixed, q, _ws.DTauAt(t, b), 1, output);
            }
        }
    }

    /// <summary>Sets up the per-worker cost evaluators and buffers the first time a general cost is seen.</summary>
    private void EnsureCost(ICost? cost)
    {
        if (ReferenceEquals(cost, _cost))
        {
            return;
        }
        if (cost is null)
        {
            _cost = null;
            return;
        }
        // The evaluators first, _cost last: a cost they reject leaves the solver as it was.
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim, N = n + m;
        var evaluators = new CostDerivatives[_workers];
        var gradientBuffers = new double[_workers][];
        for (int w = 0; w < _workers; w++)
        {
            evaluators[w] = new CostDerivatives(cost, n, m);
            gradientBuffers[w] = new double[N];
        }
        (_costEvaluators, _costGradientBuffer) = (evaluators, gradientBuffers);
        _costHessian = new double[T * B * N * N];
        _costLinear = new double[T * B * N];
        _costMixed = new double[N * cost.ParameterCount];
        _cost = cost;
    }

    private void ThrowIfCancelled(CancellationToken cancellationToken)
    {
        _ws.Cancellation = default;
        if (cancellationToken.IsCancellationRequested)
        {
            _problem = null;
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private void RunElement(int phase, int b, int worker)
    {
        if (phase == 0 && _ws.Cancellation.IsCancellationRequested)
        {
            return;
        }
        StageScratch s = _ws.Scratch[worker];
        if (phase == 0)
        {
            ForwardElement(b, worker, s);
        }
        else if (_differentiable[b])
        {
            AdjointSweep.Solve(_finalData, b, _lossGradient, _ws, s);
        }
    }

    private void ForwardElement(int b, int worker, StageScratch s)
    {
        var model = new Model(this, worker);
        SolveStatus status = ControlLimitedLqr.Iterate(_iterData, _box, b, _uInit, Options, ref model, _ws, s);
        bool hasSolution = SolutionWriter.HasTrajectory(status);
        bool factored = false;
        double cost = double.NaN, residual = double.NaN;
        int active = 0;
        if (hasSolution)
        {
            // FinalizeActiveSet: linearise at the returned point, costates, Hessian of the
            // Lagrangian, then the fixed-active-set factorisation the backward pass reuses.
            model.Linearize(b, withParameters: true);
            bool exact = Options.GradientMode == NonlinearGradientMode.Exact;
            CostatesAndLagrangianHessians(b, worker, tauTau: exact, mixed: exact);
            ControlLimitedLqr.CostGradient(_iterData, b, _ws);
            var gains = new FixedActiveSetGains(_box);
            var gradient = new ViewStageVector(StageView.Full(_ws.CostGradient, Dimensions.BatchSize, Dimensions.TauDim));
            factored = RiccatiSweep.Factor(_finalData, b, 0, gradient, withOffset: false,
                ref gains, _ws, s) == SolveStatus.Converged;
            if (!factored && status == SolveStatus.Converged)
            {
                status = SolveStatus.NotStrictLocalMinimum;
            }
            cost = model.Cost(b, _ws.Tau);
            residual = KktResidual.Compute(_iterData, _box, b, _ws, s, out active, out double scale);
            if (status == SolveStatus.LineSearchFailed && factored && residual <= RoundOffKktResidual)
            {
                status = SolveStatus.Converged;   // no step decreases the cost any more: round-off level
            }
            status = SolutionWriter.CheckAccuracy(status, residual, scale, Options.Tolerance);
            if (!double.IsFinite(cost))
            {
                status = SolveStatus.NonFinite;
                hasSolution = false;
            }
        }
        _ws.Status[b] = status;
        _ws.Cost[b] = hasSolution ? cost : double.NaN;
        _ws.KktResidual[b] = hasSolution ? residual : double.NaN;
        _ws.ActiveCount[b] = hasSolution ? active : 0;
        _differentiable[b] = factored && (status == SolveStatus.Converged
            || (Options.DifferentiateUnconverged && status is SolveStatus.MaxIterations or SolveStatus.LineSearchFailed));
    }

    /// <summary>
    /// After a linearisation at element b's iterate in the workspace: its costates lambda into
    /// the workspace, then Ctilde_t = sym(C_t), with the tau-tau block of the Hessian of the
    /// Lagrangian (sum_i lambda_{t+1,i} times the Hessian of g_i) added when
    /// <paramref name="tauTau"/>, and H_t,tautheta when <paramref name="mixed"/>, for every stage. At the solution the exact gradient mode needs both blocks; the
    /// first-order mode neither (its adjoint runs on sym(C), its dL/dtheta has no mixed term, so
    /// H_t,tautheta stays zero); a Newton step of the iteration (<see cref="Model.Curvature"/>)
    /// the tau-tau block alone.
    /// </summary>
    private void CostatesAndLagrangianHessians(int b, int worker, bool tauTau, bool mixed)
    {
        RiccatiSweep.Costates(_iterData, b, new ViewStageVector(_iterData.c), _ws.Tau, _ws.Lambda, _ws.Scratch[worker]);
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim, N = n + m;
        int p = _dynamics.ParameterCount, nz = N + p;
        double[] h = _hessianBuffer[worker];
        ReadOnlySpan<double> theta = _problem!.Parameters;
        for (int t = 0; t < T; t++)
        {
            int stage = t * B + b;
            Span<double> ct = _lagrangianHessian.AsSpan(stage * N * N, N * N);
            RiccatiSweep.SymmetricPart(_iterData.C.At(t, b), N, ct);
            if (t == T - 1 || !(tauTau || mixed))
            {
                continue;
            }
            ReadOnlySpan<double> tau = _ws.TauAt(t, b);
            // Rows tau only (theta-theta is never used); columns theta only for the mixed block.
            _evaluators[worker].LagrangianHessianRows(tau[..n], tau[n..], theta, _ws.LambdaAt(t + 1, b), h, N, mixed ? nz : N);
            Span<double> mixedBlock = _mixedHessian.AsSpan(stage * N * p, N * p);
            for (int i = 0; i < N; i++)
            {
                if (tauTau)
                {
                    LinearAlgebra.Blas.Axpy(1, h.AsSpan(i * nz, N), ct.Slice(i * N, N));
                }
                if (mixed)
                {
                    h.AsSpan(i * nz + N, p).CopyTo(mixedBlock.Slice(i * p, p));
                }
            }
        }
    }

    private static bool SameLayout(NonlinearProblem a, NonlinearProblem b) =>
        ReferenceEquals(a.Cost, b.Cost) && a.CostQuadratic.SameLayout(b.CostQuadratic) && a.CostLinear.SameLayout(b.CostLinear)
        && (a.ControlLower is null ? b.ControlLower is null : a.ControlLower.SameLayout(b.ControlLower))
        && (a.ControlUpper is null ? b.ControlUpper is null : a.ControlUpper.SameLayout(b.ControlUpper));

    /// <summary>
    /// The true dynamics g(x, u; theta) and cost, and their LQR approximation (Jacobians; for a
    /// general cost also its Hessian H_t and c_t = grad l_t - H_t tau_t), for one worker.
    /// </summary>
    private readonly struct Model(IlqrSolver solver, int worker) : ITrajectoryModel
    {
        public bool Regularizes => true;

        public double Cost(int b, double[] tauAll)
        {
            if (solver._cost is null)
            {
                return RiccatiSweep.Cost(solver._iterData, b, tauAll);
            }
            MpcDimensions d = solver.Dimensions;
            int B = d.BatchSize, n = d.StateDim, N = d.TauDim;
            double total = 0;
            for (int t = 0; t < d.Horizon; t++)
            {
                ReadOnlySpan<double> tau = tauAll.AsSpan((t * B + b) * N, N);
                total += solver._costEvaluators[worker].Evaluate(t, tau[..n], tau[n..], solver._problem!.CostParameters)
                    + RiccatiSweep.ControlPenalty(solver._iterData, tau);
            }
            return total;
        }

        private void QuadratizeCost(int b)
        {
            MpcDimensions d = solver.Dimensions;
            int B = d.BatchSize, n = d.StateDim, N = d.TauDim;
            double[] grad = solver._costGradientBuffer[worker];
            for (int t = 0; t < d.Horizon; t++)
            {
                int stage = t * B + b;
                ReadOnlySpan<double> tau = solver._ws.TauAt(t, b);
                Span<double> H = solver._costHessian.AsSpan(stage * N * N, N * N);
                Span<double> c = solver._costLinear.AsSpan(stage * N, N);
                solver._costEvaluators[worker].Hessian(t, tau[..n], tau[n..], solver._problem!.CostParameters, grad, H);
                grad.CopyTo(c);
                LinearAlgebra.Blas.Gemv(false, N, N, -1, H, N, tau, 1, c);
            }
        }

        public void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> xNext)
        {
            int n = solver.Dimensions.StateDim;
            solver._evaluators[worker].Evaluate(tau[..n], tau[n..], solver._problem!.Parameters, xNext);
        }

        /// <summary>
        /// The Newton (SQP) step's data after <see cref="Linearize(int)"/>: costates of the iterate,
        /// then Ctilde_t = sym(C_t) + sum_i lambda_{t+1,i} times the Hessian of g_i
        /// (<see cref="CostatesAndLagrangianHessians"/>) into the buffer that the solver's final
        /// data reads (rewritten at the solution).
        /// </summary>
        public bool Curvature(int b, out LqrData curvatureData)
        {
            solver.CostatesAndLagrangianHessians(b, worker, tauTau: true, mixed: false);
            curvatureData = solver._finalData;
            return true;
        }

        /// <summary>The iterations' linearisation: dg/dtau only (dg/dtheta is needed at the solution alone).</summary>
        public void Linearize(int b) => Linearize(b, withParameters: false);

        public void Linearize(int b, bool withParameters)
        {
            if (solver._cost is not null)
            {
                QuadratizeCost(b);
            }
            MpcDimensions d = solver.Dimensions;
            int T = d.Horizon, B = d.BatchSize, n = d.StateDim, N = d.TauDim, p = solver._dynamics.ParameterCount;
            int nz = N + p;
            double[] jac = solver._jacobianBuffer[worker];
            ReadOnlySpan<double> theta = solver._problem!.Parameters;
            for (int t = 0; t < T - 1; t++)
            {
                ReadOnlySpan<double> tau = solver._ws.TauAt(t, b);
                solver._evaluators[worker].JacobianColumns(tau[..n], tau[n..], theta, solver._xNextBuffer[worker], jac,
                    withParameters ? nz : N);
                int stage = t * B + b;
                Span<double> F = solver._jacobian.AsSpan(stage * n * N, n * N);
                Span<double> G = solver._parameterJacobian.AsSpan(stage * n * p, n * p);
                for (int i = 0; i < n; i++)
                {
                    jac.AsSpan(i * nz, N).CopyTo(F.Slice(i * N, N));
                    if (withParameters)
                    {
                        jac.AsSpan(i * nz + N, p).CopyTo(G.Slice(i * p, p));
                    }
                }
            }
        }
    }
}
