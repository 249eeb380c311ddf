namespace DiffMpc.Results;

/// <summary>
/// Gradients of a scalar loss L with respect to the inputs of a nonlinear MPC problem, each with
/// the shape (and broadcast layout) of its input; shared inputs hold the summed contributions.
/// Elements without a differentiable solution contribute zero.
/// </summary>
/// <remarks>
/// A gradients object returned by a reusable solver is overwritten by its next backward pass;
/// one returned by <see cref="Mpc.BackwardNonlinear"/> is the caller's own.
/// </remarks>
public sealed class NonlinearGradients
{
    internal NonlinearGradients(double[] parameters, double[]? costQuadratic, double[]? costLinear, double[]? costParameters,
        double[] xInit, double[]? controlLower, double[]? controlUpper, bool[] differentiated)
    {
        Differentiated = differentiated;
        CostParameters = costParameters;
        Parameters = parameters;
        CostQuadratic = costQuadratic;
        CostLinear = costLinear;
        XInit = xInit;
        ControlLower = controlLower;
        ControlUpper = controlUpper;
    }

    /// <summary>A deep copy (the static <see cref="Mpc"/> API returns one, so its results are never overwritten).</summary>
    internal NonlinearGradients Copy() =>
        new((double[])Parameters.Clone(), (double[]?)CostQuadratic?.Clone(), (double[]?)CostLinear?.Clone(),
            (double[]?)CostParameters?.Clone(), (double[])XInit.Clone(), (double[]?)ControlLower?.Clone(),
            (double[]?)ControlUpper?.Clone(), (bool[])Differentiated.Clone());

    /// <summary>dL/dtheta, shape [p], summed over the batch.</summary>
    public double[] Parameters { get; }

    /// <summary>dL/dC, shape of C; symmetric per stage. Null for a general (<see cref="Nonlinear.ICost"/>) cost.</summary>
    public double[]? CostQuadratic { get; }

    /// <summary>dL/dc, shape of c. Null for a general cost.</summary>
    public double[]? CostLinear { get; }

    /// <summary>dL/dphi, shape [q], summed over stages and batch, for a general cost; null for a quadratic one.</summary>
    public double[]? CostParameters { get; }

    /// <summary>dL/dx_init, shape [B][n].</summary>
    public double[] XInit { get; }

    /// <summary>dL/du_lower, shape of u_lower (non-zero only where active); null without a lower bound.</summary>
    public double[]? ControlLower { get; }

    /// <summary>dL/du_upper, like <see cref="ControlLower"/>.</summary>
    public double[]? ControlUpper { get; }

    /// <summary>
    /// Per batch element, shape [B]: true where the element contributed to these gradients; false
    /// for elements without a differentiable solution (see their status) or whose adjoint is not
    /// finite or would overflow (contributions left out, never NaN).
    /// </summary>
    public bool[] Differentiated { get; }
}
