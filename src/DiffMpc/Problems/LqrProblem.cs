// Notation: tau_t = [x_t; u_t] (length n+m); C_t, c_t the cost Hessian and linear term; F_t, f_t
// the dynamics x_{t+1} = F_t tau_t + f_t.
using DiffMpc.Internal;

namespace DiffMpc.Problems;

/// <summary>
/// A batch of B linear-quadratic control problems with horizon T:
/// minimise sum_{t=1..T} 1/2 tau_t' C_t tau_t + c_t' tau_t over tau_t = [x_t; u_t]
/// subject to x_{t+1} = F_t tau_t + f_t (t = 1..T-1), x_1 = x_init and, optionally,
/// u_lower &lt;= u_t &lt;= u_upper.
/// </summary>
/// <remarks>
/// All arrays are row-major and time-major (<c>[t][b][...]</c>), referenced rather than copied, and
/// never modified by the library. C is used through its symmetric part (C + C')/2, which is all
/// the quadratic form depends on; its gradient is therefore symmetric. Shapes are checked here;
/// values (finiteness) are checked at every solve, since the arrays remain the caller's.
/// </remarks>
public sealed class LqrProblem
{
    /// <summary>Creates and validates a batch of LQR problems.</summary>
    /// <param name="dimensions">T, B, n and m.</param>
    /// <param name="xInit">Initial states x_1, shape [B][n].</param>
    /// <param name="C">Cost Hessians of tau_t, shape [T][B][n+m][n+m] or a broadcast of it.</param>
    /// <param name="c">Cost linear terms, shape [T][B][n+m] or a broadcast of it.</param>
    /// <param name="F">Dynamics matrices, shape [T-1][B][n][n+m] or a broadcast of it (unused when T = 1; may then be
    /// null, which stands for the empty [0][B][n][n+m] array, so dL/dF is empty too).</param>
    /// <param name="f">Dynamics offsets, shape [T-1][B][n] or a broadcast of it; null means zero.</param>
    /// <param name="uLower">Lower control bounds, shape [T][B][m], a broadcast of it, or a
    /// <see cref="StageArray.Scalar"/>; -Infinity entries are unbounded; null means no lower bound.</param>
    /// <param name="uUpper">Upper control bounds, like <paramref name="uLower"/>; +Infinity entries are unbounded.</param>
    /// <exception cref="ArgumentException">A shape does not match the dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1708:Identifiers should differ by more than case",
        Justification = "C, c, F, f are the names of the differentiable-MPC paper and of the golden data format.")]
    public LqrProblem(MpcDimensions dimensions, double[] xInit, StageArray C, StageArray c, StageArray? F,
        StageArray? f = null, StageArray? uLower = null, StageArray? uUpper = null)
    {
        dimensions.Validate(nameof(dimensions));
        int T = dimensions.Horizon, B = dimensions.BatchSize, n = dimensions.StateDim, N = dimensions.TauDim;
        string nm = $"[{N}]";
        Guard.Length(xInit, B * n, nameof(xInit), $"[B={B}][n={n}]");
        Guard.CostShapes(C, c, dimensions);
        if (T > 1 || F is not null)
        {
            Guard.StageArrayShape(F, T - 1, "T-1", B, n * N, $"[{n}]" + nm, nameof(F));
        }
        if (f is not null)
        {
            Guard.StageArrayShape(f, T - 1, "T-1", B, n, $"[{n}]", nameof(f));
        }

        Guard.BoundShapes(uLower, uUpper, dimensions);

        Dimensions = dimensions;
        ControlLower = uLower;
        ControlUpper = uUpper;
        XInit = xInit;
        CostQuadratic = C;
        CostLinear = c;
        Dynamics = F ?? StageArray.PerStage([]);   // T = 1: no stage has dynamics, and the gradient is empty too
        DynamicsOffset = f;
    }

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>x_init, shape [B][n].</summary>
    public double[] XInit { get; }

    /// <summary>C, shape [T][B][n+m][n+m] or a broadcast of it.</summary>
    public StageArray CostQuadratic { get; }

    /// <summary>c, shape [T][B][n+m] or a broadcast of it.</summary>
    public StageArray CostLinear { get; }

    /// <summary>F, shape [T-1][B][n][n+m] or a broadcast of it (an empty per-stage array when T = 1 and F was null).</summary>
    public StageArray Dynamics { get; }

    /// <summary>f, shape [T-1][B][n] or a broadcast of it; null when the dynamics have no offset.</summary>
    public StageArray? DynamicsOffset { get; }

    /// <summary>u_lower, shape [T][B][m], a broadcast of it or a scalar; null when unbounded below.</summary>
    public StageArray? ControlLower { get; }

    /// <summary>u_upper, shape [T][B][m], a broadcast of it or a scalar; null when unbounded above.</summary>
    public StageArray? ControlUpper { get; }

    /// <summary>True when at least one control bound is given.</summary>
    public bool HasControlBounds => ControlLower is not null || ControlUpper is not null;

    /// <summary>
    /// Checks that every value is finite. Called by the solvers at every solve, because the arrays
    /// are the caller's and may have changed since construction.
    /// </summary>
    /// Bounds may be infinite but not NaN, and u_lower &lt;= u_upper everywhere.
    /// <exception cref="ArgumentException">A value is NaN or infinite, or a lower bound exceeds its upper bound.</exception>
    public void ValidateValues()
    {
        Guard.Finite(XInit, "xInit");
        Guard.Finite(CostQuadratic.Data, "C");
        Guard.Finite(CostLinear.Data, "c");
        Guard.Finite(Dynamics.Data, "F");
        if (DynamicsOffset is not null)
        {
            Guard.Finite(DynamicsOffset.Data, "f");
        }
        Guard.Bounds(ControlLower, ControlUpper, Dimensions);
    }
}
