using DiffMpc.Internal;

namespace DiffMpc.Options;

/// <summary>
/// Immutable solver settings. Every property has a documented default; <see cref="Validate"/>
/// is called once when a solver is created.
/// </summary>
public sealed record MpcOptions
{
    /// <summary>The defaults.</summary>
    public static MpcOptions Default { get; } = new();

    /// <summary>
    /// mu &gt;= 0: adds 1/2 mu |u_t|^2 to every stage cost (mu I to every C_t's control block), for
    /// every solver. The solution, the reported cost, the KKT residual and the gradients are those
    /// of that regularised problem (dL/dC is the gradient with respect to the C you gave). Default 0
    /// (the problem as given). Use it when C_uu may be only positive semi-definite.
    /// </summary>
    public double ControlRegularization { get; init; }

    /// <summary>
    /// The most threads a solve may use across the batch; -1 (default) means
    /// <see cref="Environment.ProcessorCount"/>. Results are bitwise identical for every value.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// Convergence tolerance of the iterative (box-constrained, nonlinear) solvers: an element has
    /// converged when the largest change of any control in a full (unshortened) iteration is at
    /// most this. Positive and finite. Default 1e-10.
    /// </summary>
    public double Tolerance { get; init; } = 1e-10;

    /// <summary>Iteration limit of the iterative solvers per element. Default 100.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Factor by which the line search shrinks the step, in (0, 1). Default 0.5.</summary>
    public double LineSearchDecay { get; init; } = 0.5;

    /// <summary>Most step sizes the line search tries per iteration. Default 30.</summary>
    public int LineSearchMaxSteps { get; init; } = 30;

    /// <summary>
    /// Trust region on the feedforward step of each iteration of the iterative solvers
    /// (control-limited DDP, iLQR): the box QP of every stage keeps |k_t| &lt;= this per entry, so
    /// u_t changes by at most this plus the feedback term K_t (x_t - xbar_t) of the rollout. It must
    /// exceed <see cref="Tolerance"/>: a step held to at most the tolerance could not be told from
    /// convergence. The final exact Newton step of a box-constrained LQR on its active set is not
    /// limited. Default +Infinity (none).
    /// </summary>
    public double TrustRegion { get; init; } = double.PositiveInfinity;

    /// <summary>Iteration limit of the projected-Newton box QP solved at every stage. Default 100.</summary>
    public int BoxQpMaxIterations { get; init; } = 100;

    /// <summary>
    /// When false (default), elements that did not converge (iteration limit, line-search failure)
    /// contribute zero gradients (detached). When true, they are differentiated at the returned
    /// iterate as if it were a solution. Elements with no valid solution always get zero.
    /// </summary>
    public bool DifferentiateUnconverged { get; init; }

    /// <summary>Gradient of nonlinear MPC solutions; default <see cref="NonlinearGradientMode.Exact"/>.</summary>
    public NonlinearGradientMode GradientMode { get; init; } = NonlinearGradientMode.Exact;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Guard.InRange(ControlRegularization, 0, double.MaxValue, nameof(ControlRegularization), nameof(ControlRegularization));
        if (!(Tolerance > 0 && double.IsFinite(Tolerance)))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, $"{nameof(Tolerance)} must be positive and finite; got {Tolerance}.");
        }
        Guard.AtLeast(MaxIterations, 1, nameof(MaxIterations), nameof(MaxIterations));
        if (!(LineSearchDecay > 0 && LineSearchDecay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LineSearchDecay), LineSearchDecay, $"{nameof(LineSearchDecay)} must be in (0, 1); got {LineSearchDecay}.");
        }
        Guard.AtLeast(LineSearchMaxSteps, 1, nameof(LineSearchMaxSteps), nameof(LineSearchMaxSteps));
        if (!(TrustRegion > Tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(TrustRegion), TrustRegion,
                $"{nameof(TrustRegion)} must exceed {nameof(Tolerance)} ({Tolerance}), or be +Infinity; got {TrustRegion}. "
                + "A step held to the tolerance could not be told from convergence.");
        }
        if (!Enum.IsDefined(GradientMode))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientMode), GradientMode, $"{nameof(GradientMode)} must be Exact or FirstOrder; got {GradientMode}.");
        }
        Guard.AtLeast(BoxQpMaxIterations, 1, nameof(BoxQpMaxIterations), nameof(BoxQpMaxIterations));
        if (MaxDegreeOfParallelism != -1)
        {
            Guard.AtLeast(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism), $"{nameof(MaxDegreeOfParallelism)} (or -1 for all cores)");
        }
    }

    internal int ResolvedDegreeOfParallelism =>
        MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : MaxDegreeOfParallelism;
}
