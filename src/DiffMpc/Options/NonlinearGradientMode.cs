namespace DiffMpc.Options;

/// <summary>How the gradients of a nonlinear MPC solution are computed.</summary>
public enum NonlinearGradientMode
{
    /// <summary>
    /// The exact derivative of the converged fixed point: implicit differentiation of the
    /// nonlinear KKT conditions, with the Hessian of the Lagrangian (cost Hessian plus
    /// sum_i lambda_{t+1,i} times the Hessian of g_i) and the mixed parameter terms. Default.
    /// </summary>
    Exact = 0,

    /// <summary>
    /// The reference implementation's (mpc.pytorch) gradient: the final LQR approximation is
    /// differentiated with the dynamics Jacobians held fixed: the adjoint uses the cost Hessian
    /// only (no dynamics curvature) and dL/dtheta = sum_t (dg/dtheta)' dlambda_{t+1} (no mixed
    /// second-order term). Only for reproducing published results; it can differ from the exact gradient by
    /// 100% or more.
    /// </summary>
    FirstOrder = 1,
}
