namespace DiffMpc.Results;

/// <summary>
/// The gradients a backward pass computes (<see cref="Lqr.LqrSolver.Backward(double[], double[], GradientKinds)"/>).
/// Every kind costs the writes of its arrays; the adjoint solve they all share is done once
/// whatever is asked for. Leaving out dL/dC (the largest, (n+m)^2 per stage and element) when the
/// cost is fixed, for example while learning only the dynamics, takes about 30% off a backward
/// pass at n = 10, m = 4.
/// </summary>
[Flags]
public enum GradientKinds
{
    /// <summary>No gradient arrays (only <see cref="MpcGradients.Differentiated"/>).</summary>
    None = 0,

    /// <summary>dL/dC (<see cref="MpcGradients.CostQuadratic"/>).</summary>
    CostQuadratic = 1,

    /// <summary>dL/dc (<see cref="MpcGradients.CostLinear"/>).</summary>
    CostLinear = 2,

    /// <summary>dL/dF (<see cref="MpcGradients.Dynamics"/>).</summary>
    Dynamics = 4,

    /// <summary>dL/df (<see cref="MpcGradients.DynamicsOffset"/>, when the problem has f).</summary>
    DynamicsOffset = 8,

    /// <summary>dL/dx_init (<see cref="MpcGradients.XInit"/>).</summary>
    XInit = 16,

    /// <summary>dL/du_lower and dL/du_upper (<see cref="MpcGradients.ControlLower"/>, <see cref="MpcGradients.ControlUpper"/>, when the problem has them).</summary>
    ControlBounds = 32,

    /// <summary>The cost's gradients: <see cref="CostQuadratic"/> and <see cref="CostLinear"/>.</summary>
    Cost = CostQuadratic | CostLinear,

    /// <summary>The dynamics' gradients: <see cref="Dynamics"/> and <see cref="DynamicsOffset"/>.</summary>
    AllDynamics = Dynamics | DynamicsOffset,

    /// <summary>Every gradient (the default).</summary>
    All = Cost | AllDynamics | XInit | ControlBounds,
}
