namespace DiffMpc.Results;

/// <summary>
/// Gradients of a scalar loss L with respect to every input of an LQR problem, each with the
/// shape (and broadcast layout) of the input it belongs to. Broadcast inputs hold the sum of the
/// contributions of the stages and elements that share them. Elements that did not converge
/// contribute zero.
/// </summary>
/// <remarks>
/// A gradients object returned by a reusable solver is overwritten by its next backward pass;
/// one returned by the static <see cref="Mpc"/> API is the caller's own. A backward pass asked for only some <see cref="GradientKinds"/> leaves the arrays of the
/// others all zero (see <see cref="Computed"/>).
/// </remarks>
public sealed class MpcGradients
{
    internal MpcGradients(double[] costQuadratic, double[] costLinear, double[] dynamics, double[]? dynamicsOffset,
        double[] xInit, double[]? controlLower, double[]? controlUpper, bool[] differentiated)
    {
        Differentiated = differentiated;
        ControlLower = controlLower;
        ControlUpper = controlUpper;
        CostQuadratic = costQuadratic;
        CostLinear = costLinear;
        Dynamics = dynamics;
        DynamicsOffset = dynamicsOffset;
        XInit = xInit;
    }

    /// <summary>
    /// The kinds of gradient the backward pass that filled this object computed; the arrays of
    /// the other kinds hold zeros (not gradients). <see cref="GradientKinds.All"/> unless the
    /// pass was asked for fewer.
    /// </summary>
    public GradientKinds Computed { get; private set; } = GradientKinds.All;

    /// <summary>dL/dC, shape of C ([T][B][n+m][n+m] or its broadcast); symmetric per stage.</summary>
    public double[] CostQuadratic { get; }

    /// <summary>dL/dc, shape of c ([T][B][n+m] or its broadcast).</summary>
    public double[] CostLinear { get; }

    /// <summary>dL/dF, shape of F ([T-1][B][n][n+m] or its broadcast).</summary>
    public double[] Dynamics { get; }

    /// <summary>dL/df, shape of f ([T-1][B][n] or its broadcast); null when the problem had no f.</summary>
    public double[]? DynamicsOffset { get; }

    /// <summary>dL/dx_init, shape [B][n].</summary>
    public double[] XInit { get; }

    /// <summary>
    /// dL/du_lower, shape of u_lower (or its broadcast); non-zero only where the bound is active.
    /// Null when the problem had no lower bound.
    /// </summary>
    public double[]? ControlLower { get; }

    /// <summary>dL/du_upper, like <see cref="ControlLower"/>.</summary>
    public double[]? ControlUpper { get; }

    /// <summary>
    /// Per batch element, shape [B]: true where the element contributed to these gradients; false
    /// for elements without a differentiable solution (see their status) or whose adjoint is not
    /// finite or would overflow (contributions left out, never NaN).
    /// </summary>
    public bool[] Differentiated { get; }

    /// <summary>A deep copy (the static <see cref="Mpc"/> API returns one, so its results are never overwritten).</summary>
    internal MpcGradients Copy() =>
        new((double[])CostQuadratic.Clone(), (double[])CostLinear.Clone(), (double[])Dynamics.Clone(),
            (double[]?)DynamicsOffset?.Clone(), (double[])XInit.Clone(), (double[]?)ControlLower?.Clone(),
            (double[]?)ControlUpper?.Clone(), (bool[])Differentiated.Clone())
        {
            Computed = Computed,
        };

    /// <summary>
    /// Records that a backward pass computed <paramref name="kinds"/>, after zeroing the arrays
    /// of the kinds the previous pass computed and this one did not, so an array outside
    /// <see cref="Computed"/> always holds zeros (a new object starts with zeros and
    /// <see cref="GradientKinds.All"/>, so only a kind that is dropped is cleared, once).
    /// </summary>
    internal void MarkComputed(GradientKinds kinds)
    {
        GradientKinds dropped = Computed & ~kinds;
        Clear(dropped, GradientKinds.CostQuadratic, CostQuadratic);
        Clear(dropped, GradientKinds.CostLinear, CostLinear);
        Clear(dropped, GradientKinds.Dynamics, Dynamics);
        Clear(dropped, GradientKinds.DynamicsOffset, DynamicsOffset);
        Clear(dropped, GradientKinds.XInit, XInit);
        Clear(dropped, GradientKinds.ControlBounds, ControlLower);
        Clear(dropped, GradientKinds.ControlBounds, ControlUpper);
        Computed = kinds;
    }

    private static void Clear(GradientKinds dropped, GradientKinds kind, double[]? array)
    {
        if ((dropped & kind) != 0 && array is not null)
        {
            Array.Clear(array);
        }
    }
}
