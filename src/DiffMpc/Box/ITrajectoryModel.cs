using DiffMpc.Lqr;

namespace DiffMpc.Box;

/// <summary>
/// The true dynamics that the control-limited iteration rolls out and linearises: x_{t+1} =
/// F_t tau_t + f_t for an LQR, x_{t+1} = g(x_t, u_t; theta) for nonlinear MPC. Implemented by
/// structs so the iteration is specialised per model without virtual calls.
/// </summary>
internal interface ITrajectoryModel
{
    /// <summary>True when Q_uu may be regularised (Levenberg-Marquardt) if not positive definite.</summary>
    bool Regularizes { get; }

    /// <summary>x_{t+1} from tau_t for element b.</summary>
    void Step(int t, int b, ReadOnlySpan<double> tau, Span<double> xNext);

    /// <summary>
    /// Writes the LQR approximation at the iterate of element b where the LQR data reads it: the
    /// dynamics Jacobians F_t and, for a general cost, the cost Hessian and linear term.
    /// </summary>
    void Linearize(int b);

    /// <summary>The true cost of element b's trajectory in <paramref name="tauAll"/> ([T][B][n+m]).</summary>
    double Cost(int b, double[] tauAll);

    /// <summary>
    /// For a model with curved dynamics: writes, after <see cref="Linearize"/> at the iterate of
    /// element b, the Hessian of the Lagrangian in tau (the cost Hessian plus
    /// sum_i lambda_{t+1,i} times the Hessian of g_i, with the iterate's costates) where
    /// <paramref name="curvatureData"/>'s C reads it, and returns true: a step on that data is
    /// Newton's (SQP) instead of Gauss-Newton's. Returns false, writing nothing, for linear
    /// dynamics, whose Gauss-Newton step is already Newton's.
    /// </summary>
    bool Curvature(int b, out LqrData curvatureData);
}
