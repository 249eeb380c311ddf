namespace DiffMpc.Results;

/// <summary>The outcome of one batch element's solve.</summary>
public enum SolveStatus
{
    /// <summary>Solved to the requested accuracy; trajectories and gradients are valid.</summary>
    Converged = 0,

    /// <summary>
    /// Q_uu was not positive definite at some stage: the problem is not strictly convex in the
    /// controls, or Q_uu = C_uu + F_u' V F_u overflowed (entries of F so large, 1e200 say, that
    /// the product is no longer finite). Trajectories and cost are NaN; gradients are zero.
    /// </summary>
    NotPositiveDefinite = 1,

    /// <summary>A NaN or infinity arose during the solve. Trajectories and cost are NaN; gradients are zero.</summary>
    NonFinite = 2,

    /// <summary>
    /// The iteration limit was reached before convergence. Trajectories hold the last (feasible)
    /// iterate; gradients are zero unless <see cref="Options.MpcOptions.DifferentiateUnconverged"/>.
    /// </summary>
    MaxIterations = 3,

    /// <summary>
    /// No step size decreased the cost. Trajectories hold the last (feasible) iterate; gradients
    /// are zero unless <see cref="Options.MpcOptions.DifferentiateUnconverged"/>.
    /// </summary>
    LineSearchFailed = 4,

    /// <summary>
    /// Nonlinear MPC converged to a stationary point whose reduced Hessian (of the Lagrangian,
    /// on the free controls) is not positive definite: not a strict local minimum, so the solution
    /// is not differentiable. Trajectories hold the point; gradients are zero. A typical case is a
    /// symmetric start such as a pendulum hanging at rest with u = 0 (stationary, but a saddle):
    /// start from a perturbed warm start u_init instead.
    /// </summary>
    NotStrictLocalMinimum = 5,

    /// <summary>
    /// The solve finished, but its KKT residual, relative to the size of the terms it balances,
    /// exceeds max(1e-6, 100 x <see cref="Options.MpcOptions.Tolerance"/>) (1e-6 for an unconstrained
    /// LQR): round-off overwhelmed the data (for example values spanning 1e-300 to 1e300).
    /// Trajectories hold the result; gradients are zero.
    /// </summary>
    Inaccurate = 6,
}
