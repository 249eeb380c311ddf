using System.Diagnostics;
using DiffMpc.Box;
using DiffMpc.Internal;
using DiffMpc.Lqr.Lanes;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc.Lqr;

/// <summary>
/// A reusable, differentiable batched LQR solver for one shape (T, B, n, m). It owns a workspace
/// allocated once in the constructor, so repeated <see cref="Solve"/> / <see cref="Backward(double[], double[])"/>
/// calls (a training loop) reuse every buffer. One solver per thread: an instance is not safe
/// for concurrent use.
/// </summary>
/// <remarks>
/// <para>Forward, unconstrained: backward Riccati recursion with a Cholesky factorisation of
/// Q_uu at every stage, then a forward rollout. Forward with control bounds: control-limited DDP
/// (a projected-Newton box QP per stage, clamped rollouts with a backtracking line search on the
/// true cost) to a step-norm tolerance, then the active set of the solution is held fixed,
/// Q_uu's free blocks are factorised once and a final Newton step polishes the free controls.
/// Backward: the adjoint LQR of the KKT system with the active set held fixed (strict
/// complementarity), solved with the forward pass's Cholesky factors and gains (no second
/// factorisation), then outer products of the primal and adjoint trajectories.</para>
/// <para>Degenerate points: a control exactly at a bound is treated as active (held at the bound)
/// even when its multiplier is zero; its gradients are then the one-sided derivatives for
/// perturbations that keep it at the bound.</para>
/// <para>The solution and gradients objects returned are owned by the solver and overwritten by
/// its next call. Between <see cref="Solve"/> and <see cref="Backward(double[], double[])"/> the problem's arrays
/// must not be modified.</para>
/// </remarks>
public sealed class LqrSolver
{
    private readonly LqrWorkspace _ws;
    private readonly MpcSolution _solution;
    private readonly BatchRunner _runner;
    private readonly ILaneLqr? _lanes;
    private readonly BatchRunner? _laneRunner;
    private readonly int _laneWorkers;
    private bool _solvedInLanes;
    private ILaneBoxLqr? _boxLanes;
    private bool _solvedInBoxLanes;
    private readonly bool[] _invalidGroup = [];
    private double[]? _dLdx;
    private double[]? _dLdu;
    private LqrProblem? _problem;
    private bool _solveCalled;   // Solve has been called at least once (for the message of a Backward without a solution)

    /// <summary>Serialises the static <see cref="Mpc"/> API's backward passes on this solver (never taken by the solver itself).</summary>
    internal object SyncRoot { get; } = new();
    private LqrData _data;
    private ControlBox _box;
    private double[]? _uInit;
    private readonly bool[] _differentiable;
    private readonly bool[] _included;
    private MpcGradients? _gradients;
    private LqrProblem? _gradientLayout;
    private bool _gradientsPerElement;
    private SplitStageVector _lossGradient;
    private GradientKinds _kinds = GradientKinds.All;   // what the current backward pass computes

    /// <summary>Creates a solver and allocates its workspace.</summary>
    /// <param name="dimensions">T, B, n and m of every problem this solver will solve.</param>
    /// <param name="options">Settings; null means <see cref="MpcOptions.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or option is out of range.</exception>
    public LqrSolver(MpcDimensions dimensions, MpcOptions? options = null)
        : this(dimensions, options, LaneLqr.ChosenWidth(dimensions))
    {
    }

    /// <summary>
    /// Creates a solver whose unconstrained path uses SIMD lanes of the given width (8: Vector512,
    /// 4: Vector256, 0: none, i.e. the per-problem kernels) when the hardware and shape allow it;
    /// tests use it to run every path on one machine.
    /// </summary>
    internal LqrSolver(MpcDimensions dimensions, MpcOptions? options, int laneWidth)
    {
        dimensions.Validate(nameof(dimensions));
        Options = options ?? MpcOptions.Default;
        Options.Validate();
        Dimensions = dimensions;
        int workers = Math.Clamp(Options.ResolvedDegreeOfParallelism, 1, dimensions.BatchSize);
        _ws = new LqrWorkspace(dimensions, workers);
        _solution = new MpcSolution(dimensions, this);
        _differentiable = new bool[dimensions.BatchSize];
        _included = new bool[dimensions.BatchSize];
        long flopsPerElement = (long)dimensions.Horizon * dimensions.TauDim * dimensions.TauDim * dimensions.TauDim;
        int writeBlock = WritesGradientsPerWorker ? int.MaxValue : 1;
        _runner = new BatchRunner(dimensions.BatchSize, workers, flopsPerElement, RunElement, AfterElements, writeBlock);
        if (laneWidth != 0 && LaneLqr.Supports(dimensions, laneWidth))
        {
            int groups = LaneLqr.GroupCount(dimensions.BatchSize, laneWidth);
            int laneWorkers = Math.Min(workers, groups);
            _laneWorkers = laneWorkers;
            _lanes = LaneLqr.Create(dimensions, _ws, laneWorkers, laneWidth);
            _laneRunner = new BatchRunner(groups, laneWorkers, flopsPerElement * laneWidth / 4, RunGroup, AfterGroups, writeBlock);
            _invalidGroup = new bool[groups];
        }
    }

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>The validated settings.</summary>
    public MpcOptions Options { get; }

    /// <summary>
    /// Test hook: solve box-constrained problems element by element even where the SIMD-lane path
    /// applies (the reference the lane path is checked against).
    /// </summary>
    internal bool ForceScalarBox { get; set; }

    /// <summary>
    /// Elements of the last box-constrained solve in lanes whose DDP result was handed to the
    /// per-element active-set method (0 when the last solve did not use the box lane path).
    /// </summary>
    internal int BoxLaneFallbacks => _solvedInBoxLanes ? _boxLanes!.FallbackCount : 0;

    /// <summary>True when the last solve was box-constrained and ran on the SIMD-lane path.</summary>
    internal bool SolvedInBoxLanes => _solvedInBoxLanes;

    /// <summary>Test and benchmark hook: true when the last solve ran the unconstrained SIMD-lane kernels.</summary>
    internal bool SolvedInLanes => _solvedInLanes;

    /// <summary>
    /// True when box-constrained problems of this solver's shape run in SIMD lanes: the lane path
    /// (either width) and T &gt; 1, never depending on B.
    /// </summary>
    private bool BoxLanesApply => _lanes is not null && LaneLqr.SupportsBox(Dimensions, _lanes.Width) && !ForceScalarBox;

    /// <summary>Solves every problem of the batch.</summary>
    /// <param name="problem">The problems; their dimensions must equal <see cref="Dimensions"/>.</param>
    /// <param name="uInit">Optional warm start for the controls of a box-constrained problem,
    /// shape [T][B][m] (clamped into the bounds); null starts from u = 0 clamped into the bounds.
    /// Ignored without bounds (the solution is then computed exactly in one pass).</param>
    /// <param name="cancellationToken">Cancels a long solve: polled between batch elements and
    /// iterations. A cancelled solve throws <see cref="OperationCanceledException"/> and leaves the
    /// solver without a solution (Backward then throws <see cref="InvalidOperationException"/>).</param>
    /// <returns>The solver-owned solution (overwritten by the next call).</returns>
    /// <exception cref="ArgumentException">The problem's dimensions differ from the solver's, a
    /// value is not finite, or <paramref name="uInit"/> has the wrong shape. A rejected solve, like
    /// every solve that throws, leaves the solver without a solution (Backward then throws
    /// <see cref="InvalidOperationException"/>), whichever kernels run, and may have overwritten
    /// part of its solution object, until the next successful solve.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public MpcSolution Solve(LqrProblem problem, double[]? uInit = null, CancellationToken cancellationToken = default)
    {
        _problem = null;   // until this solve succeeds: a rejected solve keeps no solution on any path
        _solveCalled = true;
        cancellationToken.ThrowIfCancellationRequested();
        Guard.NotNull(problem, nameof(problem));
        Guard.SameDimensions(problem.Dimensions, Dimensions, nameof(problem));
        // The lane paths check C, c, F, f and x_init for finiteness while they pack each group (the
        // data are then in cache); the bounds, and every input of the other paths, are checked
        // here. With T = 1 there are no dynamics stages to pack, yet F and f given must still be
        // finite: the check here covers it.
        bool checkWhilePacking = _lanes is not null && Dimensions.Horizon > 1
            && (!problem.HasControlBounds || BoxLanesApply);
        if (!checkWhilePacking)
        {
            problem.ValidateValues();
        }
        else if (problem.HasControlBounds)
        {
            try
            {
                Guard.Bounds(problem.ControlLower, problem.ControlUpper, Dimensions);
            }
            catch (ArgumentException)
            {
                problem.ValidateValues();   // a bad value in the data is reported first, as ValidateValues orders its checks
                throw;
            }
        }
        Guard.WarmStart(uInit, Dimensions);
        _problem = problem;
        _uInit = uInit;
        _data = LqrData.From(problem, Options.ControlRegularization);
        _box = new ControlBox(problem.ControlLower?.View(Dimensions.BatchSize, Dimensions.ControlDim) ?? default,
            problem.ControlUpper?.View(Dimensions.BatchSize, Dimensions.ControlDim) ?? default);
        if (_box.IsBounded)
        {
            _ws.EnsureSymmetricCostBuffers();
        }
        _solvedInLanes = _lanes is not null && !_box.IsBounded;
        _solvedInBoxLanes = _box.IsBounded && BoxLanesApply;
        _ws.Cancellation = cancellationToken;
        if (_solvedInLanes || _solvedInBoxLanes)
        {
            if (_solvedInLanes)
            {
                _lanes!.Prepare(_data);
            }
            else
            {
                _boxLanes ??= LaneBoxLqr.Create(Dimensions, _ws, _laneWorkers, _lanes!.Width);
                _boxLanes.Prepare(_data, _box, uInit, Options);
            }
            Array.Clear(_invalidGroup);
            _laneRunner!.Run((int)(_solvedInLanes ? Phase.Forward : Phase.BoxForward));
            if (Array.IndexOf(_invalidGroup, true) >= 0)
            {
                // Some groups were solved before the bad value was found: no solution is kept.
                _problem = null;
                _ws.Cancellation = default;
                problem.ValidateValues();   // throws, naming the input and entry
                Debug.Fail("the lane packing check and ValidateValues disagree");
            }
        }
        else
        {
            _runner.Run((int)Phase.Forward);
        }
        ThrowIfCancelled(cancellationToken);
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
    /// <exception cref="InvalidOperationException">No problem has been solved yet, or the last Solve threw (rejected input, a model or cost that threw, cancellation).</exception>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape, or a non-finite value in the slots of an element with a differentiable solution (Converged, or see <see cref="Options.MpcOptions.DifferentiateUnconverged"/>; the slots of the other elements are not read).</exception>
    public MpcGradients Backward(double[]? dLdx, double[]? dLdu) => Backward(dLdx, dLdu, GradientKinds.All);

    /// <summary>
    /// Gradients of a loss L with respect to the inputs named by <paramref name="kinds"/> of the
    /// last solved problem, given dL/dx and dL/du at the solution. The adjoint solve is the same
    /// as for every gradient; the arrays of kinds not asked for are not computed and hold zeros
    /// (<see cref="MpcGradients.Computed"/> says which are gradients).
    /// </summary>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <param name="kinds">The gradients to compute; a combination of <see cref="GradientKinds"/> flags.</param>
    /// <returns>The solver-owned gradients (overwritten by the next call).</returns>
    /// <exception cref="InvalidOperationException">No problem has been solved yet, or the last Solve threw (rejected input, a model or cost that threw, cancellation).</exception>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape, or a non-finite value in the slots of an element with a differentiable solution (Converged, or see <see cref="Options.MpcOptions.DifferentiateUnconverged"/>; the slots of the other elements are not read).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kinds"/> has a bit that is no <see cref="GradientKinds"/> flag.</exception>
    public MpcGradients Backward(double[]? dLdx, double[]? dLdu, GradientKinds kinds)
    {
        if (_problem is null)
        {
            Guard.NoSolution(_solveCalled);
        }
        Guard.LossGradients(dLdx, dLdu, Dimensions, _differentiable);
        Guard.Kinds(kinds, nameof(kinds));
        _lossGradient = new SplitStageVector(dLdx, dLdu, Dimensions);
        EnsureGradients(_problem);
        _kinds = kinds;
        _gradientsPerElement = IsPerElement(_problem.CostQuadratic) && IsPerElement(_problem.CostLinear)
            && IsPerElement(_problem.Dynamics) && (_problem.DynamicsOffset is null || IsPerElement(_problem.DynamicsOffset));
        if (_solvedInLanes || _solvedInBoxLanes)
        {
            (_dLdx, _dLdu) = (dLdx, dLdu);
            _laneRunner!.Run((int)(_solvedInLanes ? Phase.Backward : Phase.BoxBackward));
            (_dLdx, _dLdu) = (null, null);
        }
        else
        {
            _runner.Run((int)Phase.Backward);
        }
        return AssembleGradients();
    }

    internal LqrWorkspace Workspace => _ws;

    /// <summary>Test hook: true when each worker writes the gradients of its whole run of elements at once (<see cref="BlockWritesAbove"/>).</summary>
    internal bool WritesGradientsPerWorker => GradientBytes(Dimensions) > BlockWritesAbove;

    /// <summary>Test hook: true when the path of the last solve splits its calls over worker threads.</summary>
    internal bool RunsInParallel => _solvedInLanes || _solvedInBoxLanes ? _laneRunner!.IsParallel : _runner.IsParallel;

    private enum Phase
    {
        Forward,
        Backward,
        BoxForward,
        BoxBackward,
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
        StageScratch s = _ws.Scratch[worker];
        if ((Phase)phase == Phase.Forward)
        {
            if (!_ws.Cancellation.IsCancellationRequested)
            {
                ForwardElement(b, s);
            }
        }
        else
        {
            if (_differentiable[b])
            {
                AdjointSweep.Solve(_data, b, _lossGradient, _ws, s);
            }
            DecideInclusion(b);
        }
    }

    /// <summary>
    /// Per-element gradients larger than this in all are written by each worker once per run of
    /// consecutive elements it has solved (its own chunk, and any run it took over from another
    /// worker), stage by stage: each stage's slots then form one long contiguous write stream.
    /// Smaller ones, which stay in cache, are written unit by unit, interleaved with the adjoint
    /// solves. Measured (Backward, two workers) at n = 10, T = 20:
    /// unit by unit 20% faster at B = 64 (3.7 MB), even at B = 96 (5.5 MB); once per worker 25%
    /// faster at B = 128 (7.4 MB), 19% at B = 256 and 12% at B = 1024; once per worker also 11%
    /// faster at n = 16, B = 64 (10 MB) and 9% at n = 32, T = 50, B = 128.
    /// </summary>
    private const long BlockWritesAbove = 6L << 20;

    /// <summary>Bytes of the per-element gradients dL/dC, dc, dF, df of the whole batch.</summary>
    private static long GradientBytes(MpcDimensions d)
    {
        long n = d.StateDim, N = d.TauDim, T = d.Horizon;
        return d.BatchSize * (T * (N * N + N) + Math.Max(T - 1, 0) * (n * N + n)) * sizeof(double);
    }

    /// <summary>After a block of elements [first, end) in the backward phase: their gradients (<see cref="WriteElementGradients"/>).</summary>
    private void AfterElements(int phase, int first, int end, int worker)
    {
        if ((Phase)phase == Phase.Backward)
        {
            WriteElementGradients(first, end - first);
        }
    }

    /// <summary>
    /// Element b contributes to the gradients when it has a differentiable solution and its
    /// adjoint is finite with outer products that cannot overflow; an included element of a
    /// box-constrained problem also gets its control gradients at the held bounds here, on the
    /// worker (the serial assembly then only adds them up).
    /// </summary>
    private void DecideInclusion(int b) => DecideInclusion(b, SolutionWriter.AdjointUsable(_ws, b));

    /// <summary>As <see cref="DecideInclusion(int)"/> with the adjoint test already made (by the lanes).</summary>
    private void DecideInclusion(int b, bool adjointUsable)
    {
        _included[b] = _differentiable[b] && adjointUsable;
        if (_included[b] && _box.IsBounded && Wants(GradientKinds.ControlBounds))
        {
            GradientAssembly.WriteBoundGradients(_data, _ws, _lossGradient, b);
        }
    }

    /// <summary>
    /// With per-stage layouts of C, c, F and f, each element owns its gradient slots: the
    /// backward phase writes those of elements [first, first + count) (a block of elements or
    /// lane groups, see <see cref="BlockWritesAbove"/>) right after their adjoint solves, on the
    /// worker thread.
    /// </summary>
    private void WriteElementGradients(int first, int count)
    {
        if (!_gradientsPerElement)
        {
            return;
        }
        StageGradients(new GradientAssembly.ElementRange(Dimensions.BatchSize, first, count, _included));
    }

    /// <summary>
    /// Hands each per-stage gradient asked for (dL/dC, dc, dF, and df when the problem has f) to
    /// <paramref name="sink"/>: its term, the input's layout, the output and its shape.
    /// </summary>
    private void StageGradients<TSink>(TSink sink)
        where TSink : struct, IStageGradientSink
    {
        LqrProblem p = _problem!;
        MpcGradients gr = _gradients!;
        int T = Dimensions.Horizon, n = Dimensions.StateDim, N = Dimensions.TauDim;
        if (Wants(GradientKinds.CostQuadratic))
        {
            sink.Write(new GradientAssembly.CostQuadraticTerm(_ws), p.CostQuadratic, gr.CostQuadratic, T, N * N);
        }
        if (Wants(GradientKinds.CostLinear))
        {
            sink.Write(new GradientAssembly.CostLinearTerm(_ws), p.CostLinear, gr.CostLinear, T, N);
        }
        if (Wants(GradientKinds.Dynamics))
        {
            sink.Write(new GradientAssembly.DynamicsTerm(_ws), p.Dynamics, gr.Dynamics, T - 1, n * N);
        }
        if (p.DynamicsOffset is not null && Wants(GradientKinds.DynamicsOffset))
        {
            sink.Write(new GradientAssembly.OffsetTerm(_ws), p.DynamicsOffset, gr.DynamicsOffset!, T - 1, n);
        }
    }

    private bool Wants(GradientKinds kind) => (_kinds & kind) != 0;

    private static bool IsPerElement(StageArray a) => !a.IsScalar && !a.SharedOverTime && !a.SharedOverBatch;

    private void RunGroup(int phase, int g, int worker)
    {
        if ((Phase)phase is Phase.Forward or Phase.BoxForward)
        {
            if (_ws.Cancellation.IsCancellationRequested)
            {
                return;
            }
            bool finite = (Phase)phase == Phase.Forward
                ? _lanes!.Forward(_data, g, worker, _differentiable)
                : _boxLanes!.Forward(_data, g, worker, _differentiable);
            if (!finite)
            {
                _invalidGroup[g] = true;
                return;
            }
            int w = _lanes!.Width, end = Math.Min(Dimensions.BatchSize, (g + 1) * w);
            for (int b = g * w; b < end; b++)
            {
                SolutionWriter.PublishTrajectory(_ws, _solution, b);
            }
        }
        else
        {
            int w = _lanes!.Width, first = g * w, end = Math.Min(Dimensions.BatchSize, first + w);
            Span<bool> usable = stackalloc bool[8];
            if ((Phase)phase == Phase.BoxBackward)
            {
                _boxLanes!.Backward(_data, _dLdx, _dLdu, g, worker);
                _boxLanes.AdjointUsable(g, worker, usable);
            }
            else
            {
                _lanes.Backward(_data, _dLdx, _dLdu, g, worker);
                _lanes.AdjointUsable(g, worker, usable);
            }
            for (int b = first; b < end; b++)
            {
                DecideInclusion(b, usable[b - first]);
            }
        }
    }

    /// <summary>After a block of lane groups [firstGroup, endGroup) in a backward phase: the gradients of their elements.</summary>
    private void AfterGroups(int phase, int firstGroup, int endGroup, int worker)
    {
        if ((Phase)phase is Phase.Backward or Phase.BoxBackward)
        {
            int w = _lanes!.Width, first = firstGroup * w, end = Math.Min(Dimensions.BatchSize, endGroup * w);
            WriteElementGradients(first, end - first);
        }
    }

    private void ForwardElement(int b, StageScratch s)
    {
        int n = Dimensions.StateDim;
        SolveStatus status;
        if (_box.IsBounded)
        {
            status = ControlLimitedLqr.SolveElement(_data, _box, b, _uInit, Options, _ws, s);
        }
        else
        {
            var gains = default(UnconstrainedGains);
            status = RiccatiSweep.Factor(_data, b, 0, new ViewStageVector(_data.c), withOffset: true, ref gains, _ws, s);
            if (status == SolveStatus.Converged)
            {
                RiccatiSweep.Rollout(_data, b, _ws, _data.XInit.AsSpan(b * n, n), withOffset: true, _ws.k, _ws.Tau);
            }
            _ws.Iterations[b] = 1;
            _ws.StepNorm[b] = 0;
        }

        double cost = double.NaN, residual = double.NaN;
        int active = 0;
        bool hasSolution = SolutionWriter.HasTrajectory(status);
        if (hasSolution)
        {
            RiccatiSweep.Costates(_data, b, new ViewStageVector(_data.c), _ws.Tau, _ws.Lambda, s);
            cost = RiccatiSweep.Cost(_data, b, _ws.Tau);
            residual = KktResidual.Compute(_data, _box, b, _ws, s, out active, out double scale);
            status = _box.IsBounded
                ? SolutionWriter.BoxStatus(status, residual, scale, Options.Tolerance)
                : SolutionWriter.CheckAccuracy(status, residual, scale);
            if (!double.IsFinite(cost) || !ElementFinite(b))
            {
                status = SolveStatus.NonFinite;
                hasSolution = false;
            }
        }
        _ws.Status[b] = status;
        _ws.Cost[b] = hasSolution ? cost : double.NaN;
        _ws.KktResidual[b] = hasSolution ? residual : double.NaN;
        _ws.ActiveCount[b] = hasSolution ? active : 0;
        _differentiable[b] = status == SolveStatus.Converged
            || (Options.DifferentiateUnconverged && status is SolveStatus.MaxIterations or SolveStatus.LineSearchFailed);
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

    private void PublishSolution() => SolutionWriter.Publish(_ws, _solution, trajectoriesWritten: _solvedInLanes || _solvedInBoxLanes);

    private void EnsureGradients(LqrProblem p)
    {
        int T = Dimensions.Horizon, B = Dimensions.BatchSize, n = Dimensions.StateDim, m = Dimensions.ControlDim, N = Dimensions.TauDim;
        if (_gradients is null || !SameLayout(_gradientLayout!, p))
        {
            _gradients = new MpcGradients(
                p.CostQuadratic.NewGradient(T, B, N * N).Data,
                p.CostLinear.NewGradient(T, B, N).Data,
                p.Dynamics.NewGradient(T - 1, B, n * N).Data,
                p.DynamicsOffset?.NewGradient(T - 1, B, n).Data,
                new double[B * n],
                p.ControlLower?.NewGradient(T, B, m).Data,
                p.ControlUpper?.NewGradient(T, B, m).Data,
                new bool[B]);
            _gradientLayout = p;
        }
    }

    private MpcGradients AssembleGradients()
    {
        LqrProblem p = _problem!;
        MpcGradients gradients = _gradients!;
        ReadOnlySpan<bool> status = _included;
        status.CopyTo(gradients.Differentiated);
        if (!_gradientsPerElement)
        {
            StageGradients(new GradientAssembly.Accumulated(Dimensions.BatchSize, _included));
        }
        if (Wants(GradientKinds.ControlBounds))
        {
            SolutionWriter.WriteBoundGradient(_data, _box, _ws, p.ControlLower, gradients.ControlLower, lowerSide: true, status);
            SolutionWriter.WriteBoundGradient(_data, _box, _ws, p.ControlUpper, gradients.ControlUpper, lowerSide: false, status);
        }
        if (Wants(GradientKinds.XInit))
        {
            SolutionWriter.WriteInitialStateGradient(_ws, status, gradients.XInit);
        }
        gradients.MarkComputed(_kinds);
        return gradients;
    }

    private static bool SameLayout(LqrProblem a, LqrProblem b) =>
        a.CostQuadratic.SameLayout(b.CostQuadratic) && a.CostLinear.SameLayout(b.CostLinear)
        && a.Dynamics.SameLayout(b.Dynamics)
        && (a.DynamicsOffset is null) == (b.DynamicsOffset is null)
        && (a.DynamicsOffset is null || a.DynamicsOffset.SameLayout(b.DynamicsOffset))
        && SameOptionalLayout(a.ControlLower, b.ControlLower) && SameOptionalLayout(a.ControlUpper, b.ControlUpper);

    private static bool SameOptionalLayout(StageArray? a, StageArray? b) =>
        a is null ? b is null : a.SameLayout(b);
}
