// Notation: x_{t+1} = g(x_t, u_t; theta) the dynamics with parameters theta (p values, shared by
// the batch); the stage cost is quadratic, 1/2 tau_t' C_t tau_t + c_t' tau_t, tau_t = [x_t; u_t].
using DiffMpc.Internal;
using DiffMpc.Nonlinear;

namespace DiffMpc.Problems;

/// <summary>
/// A batch of B nonlinear control problems with horizon T:
/// minimise sum_t l_t(tau_t) subject to x_{t+1} = g(x_t, u_t; theta), x_1 = x_init and,
/// optionally, u_lower &lt;= u_t &lt;= u_upper, where the stage cost l_t is either quadratic,
/// 1/2 tau_t' C_t tau_t + c_t' tau_t (C, c with broadcasting), or a general twice-differentiable
/// <see cref="ICost"/> with parameters phi shared by the batch.
/// </summary>
/// <remarks>
/// Arrays are referenced, not copied, and never modified. Shapes are checked here; values at
/// every solve.
/// </remarks>
public sealed class NonlinearProblem
{
    /// <summary>Creates and validates a batch of nonlinear problems.</summary>
    /// <param name="dimensions">T, B, n and m; n and m must match the dynamics.</param>
    /// <param name="dynamics">The model g.</param>
    /// <param name="parameters">theta, shape [p] with p = dynamics.ParameterCount, shared by the batch.</param>
    /// <param name="xInit">Initial states, shape [B][n].</param>
    /// <param name="C">Cost Hessians, shape [T][B][n+m][n+m] or a broadcast of it.</param>
    /// <param name="c">Cost linear terms, shape [T][B][n+m] or a broadcast of it.</param>
    /// <param name="uLower">Lower control bounds ([T][B][m], a broadcast or a scalar); null for none.</param>
    /// <param name="uUpper">Upper control bounds, like <paramref name="uLower"/>.</param>
    /// <exception cref="ArgumentException">A shape does not match.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1708:Identifiers should differ by more than case",
        Justification = "C and c are the names of the differentiable-MPC paper and of the golden data format.")]
    public NonlinearProblem(MpcDimensions dimensions, IDynamics dynamics, double[] parameters, double[] xInit,
        StageArray C, StageArray c, StageArray? uLower = null, StageArray? uUpper = null)
    {
        dimensions.Validate(nameof(dimensions));
        Guard.NotNull(dynamics, nameof(dynamics));
        int T = dimensions.Horizon, B = dimensions.BatchSize, n = dimensions.StateDim, m = dimensions.ControlDim, N = n + m;
        if (dynamics.StateDim != n || dynamics.ControlDim != m)
        {
            throw new ArgumentException(
                $"dynamics must have n={n} states and m={m} controls to match the dimensions; got n={dynamics.StateDim}, m={dynamics.ControlDim}.",
                nameof(dynamics));
        }
        Guard.Length(parameters, dynamics.ParameterCount, nameof(parameters), $"[p={dynamics.ParameterCount}]");
        Guard.Length(xInit, B * n, nameof(xInit), $"[B={B}][n={n}]");
        Guard.CostShapes(C, c, dimensions);
        Guard.BoundShapes(uLower, uUpper, dimensions);
        Dimensions = dimensions;
        Dynamics = dynamics;
        Parameters = parameters;
        XInit = xInit;
        CostQuadratic = C;
        CostLinear = c;
        ControlLower = uLower;
        ControlUpper = uUpper;
    }

    /// <summary>Creates and validates a batch of nonlinear problems with a general stage cost.</summary>
    /// <param name="dimensions">T, B, n and m; n and m must match the dynamics.</param>
    /// <param name="dynamics">The model g.</param>
    /// <param name="parameters">theta, shape [p], shared by the batch.</param>
    /// <param name="xInit">Initial states, shape [B][n].</param>
    /// <param name="cost">The stage cost l_t(x, u; phi), written once with generic math.</param>
    /// <param name="costParameters">phi, shape [q] with q = cost.ParameterCount, shared by the batch.</param>
    /// <param name="uLower">Lower control bounds ([T][B][m], a broadcast or a scalar); null for none.</param>
    /// <param name="uUpper">Upper control bounds, like <paramref name="uLower"/>.</param>
    /// <exception cref="ArgumentException">A shape does not match, or <paramref name="cost"/> is a <see cref="QuadraticCost"/> of other dimensions.</exception>
    public NonlinearProblem(MpcDimensions dimensions, IDynamics dynamics, double[] parameters, double[] xInit,
        ICost cost, double[] costParameters, StageArray? uLower = null, StageArray? uUpper = null)
        : this(dimensions, dynamics, parameters, xInit, ZeroCost(dimensions), ZeroLinear(dimensions), uLower, uUpper)
    {
        Guard.NotNull(cost, nameof(cost));
        Guard.CostDimensions(cost, dimensions.StateDim, dimensions.ControlDim, nameof(cost));
        Guard.Length(costParameters, cost.ParameterCount, nameof(costParameters), $"[q={cost.ParameterCount}]");
        Cost = cost;
        CostParameters = costParameters;
    }

    /// <summary>The general stage cost, or null when the cost is quadratic (C, c).</summary>
    public ICost? Cost { get; }

    /// <summary>phi, shape [q], for a general cost; null for a quadratic one.</summary>
    public double[]? CostParameters { get; }

    private static StageArray ZeroCost(MpcDimensions d) => StageArray.Shared(new double[Math.Max(d.TauDim, 0) * Math.Max(d.TauDim, 0)]);

    private static StageArray ZeroLinear(MpcDimensions d) => StageArray.Shared(new double[Math.Max(d.TauDim, 0)]);

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>The dynamics model g.</summary>
    public IDynamics Dynamics { get; }

    /// <summary>theta, shape [p].</summary>
    public double[] Parameters { get; }

    /// <summary>x_init, shape [B][n].</summary>
    public double[] XInit { get; }

    /// <summary>C, shape [T][B][n+m][n+m] or a broadcast of it (zero when <see cref="Cost"/> is set).</summary>
    public StageArray CostQuadratic { get; }

    /// <summary>c, shape [T][B][n+m] or a broadcast of it (zero when <see cref="Cost"/> is set).</summary>
    public StageArray CostLinear { get; }

    /// <summary>u_lower, or null.</summary>
    public StageArray? ControlLower { get; }

    /// <summary>u_upper, or null.</summary>
    public StageArray? ControlUpper { get; }

    /// <summary>
    /// Checks that every value is finite (bounds: not NaN, lower not +Infinity, upper not
    /// -Infinity) and that u_lower &lt;= u_upper. Called at every solve.
    /// </summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void ValidateValues()
    {
        Guard.Finite(Parameters, "parameters");
        Guard.Finite(XInit, "xInit");
        Guard.Finite(CostQuadratic.Data, "C");
        Guard.Finite(CostLinear.Data, "c");
        if (CostParameters is not null)
        {
            Guard.Finite(CostParameters, "costParameters");
        }
        Guard.Bounds(ControlLower, ControlUpper, Dimensions);
    }
}
