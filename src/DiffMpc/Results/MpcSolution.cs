using DiffMpc.Problems;

namespace DiffMpc.Results;

/// <summary>
/// The solution of a batch of MPC problems. Arrays are time-major and row-major.
/// </summary>
/// <remarks>
/// A solution returned by a reusable solver (<see cref="Lqr.LqrSolver"/>) is owned by it and
/// overwritten by that solver's next solve; copy what you need to keep. A solution returned by
/// <see cref="Mpc.Solve(LqrProblem, Options.MpcOptions?, double[], CancellationToken)"/> has its own solver and stays valid.
/// What an element that did not converge holds is documented on each status value: NaN in
/// <see cref="X"/>, <see cref="U"/>, <see cref="Costates"/> and <see cref="Cost"/> for
/// <see cref="SolveStatus.NotPositiveDefinite"/> and <see cref="SolveStatus.NonFinite"/> (no
/// trajectory exists), the last iterate for <see cref="SolveStatus.MaxIterations"/>,
/// <see cref="SolveStatus.LineSearchFailed"/>, <see cref="SolveStatus.NotStrictLocalMinimum"/>
/// and <see cref="SolveStatus.Inaccurate"/>. A loss built from the whole solution may be passed to
/// Backward as it is: the loss gradients of elements that are not differentiated are not read.
/// </remarks>
public sealed class MpcSolution
{
    internal MpcSolution(MpcDimensions dims, object owner)
    {
        Dimensions = dims;
        Owner = owner;
        int T = dims.Horizon, B = dims.BatchSize;
        X = new double[T * B * dims.StateDim];
        U = new double[T * B * dims.ControlDim];
        Costates = new double[T * B * dims.StateDim];
        Cost = new double[B];
        Status = new SolveStatus[B];
        Iterations = new int[B];
        StepNorm = new double[B];
        KktResidual = new double[B];
        ActiveBounds = new int[B];
    }

    /// <summary>T, B, n and m.</summary>
    public MpcDimensions Dimensions { get; }

    /// <summary>Optimal states x_1..x_T, shape [T][B][n] (x_1 = x_init).</summary>
    public double[] X { get; }

    /// <summary>Optimal controls u_1..u_T, shape [T][B][m].</summary>
    public double[] U { get; }

    /// <summary>
    /// Costates lambda_1..lambda_T, shape [T][B][n]: the multipliers of the constraints
    /// x_1 = x_init and x_{t+1} = F_t tau_t + f_t, i.e. the gradient of the optimal cost-to-go.
    /// </summary>
    public double[] Costates { get; }

    /// <summary>Objective value sum_t 1/2 tau_t' C_t tau_t + c_t' tau_t per element, shape [B].</summary>
    public double[] Cost { get; }

    /// <summary>Outcome per batch element, shape [B].</summary>
    public SolveStatus[] Status { get; }

    /// <summary>Iterations used per batch element, shape [B] (1 for an unconstrained LQR).</summary>
    public int[] Iterations { get; }

    /// <summary>
    /// Largest control change of the last iteration per element, shape [B] (0 for an
    /// unconstrained LQR, which is solved exactly in one pass).
    /// </summary>
    public double[] StepNorm { get; }

    /// <summary>
    /// First-order optimality residual per element, shape [B]: the largest violation of the KKT
    /// conditions of the problem condensed onto the controls (|gradient| on free controls, the
    /// wrong-signed part at a bound). NaN for elements without a valid solution.
    /// </summary>
    public double[] KktResidual { get; }

    /// <summary>Number of controls (over all stages) held at a bound per element, shape [B].</summary>
    public int[] ActiveBounds { get; }

    /// <summary>The number of elements whose status is <see cref="SolveStatus.Converged"/>.</summary>
    public int ConvergedCount
    {
        get
        {
            int count = 0;
            foreach (SolveStatus s in Status)
            {
                count += s == SolveStatus.Converged ? 1 : 0;
            }
            return count;
        }
    }

    /// <summary>True when every element converged.</summary>
    public bool AllConverged => ConvergedCount == Status.Length;

    /// <summary>The solver that produced this solution and can differentiate it.</summary>
    internal object Owner { get; }

    /// <summary>x_t of element b as a span of length n (t is 0-based).</summary>
    /// <param name="t">Stage, 0..T-1.</param>
    /// <param name="b">Batch element, 0..B-1.</param>
    /// <returns>A view of <see cref="X"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> or <paramref name="b"/> is out of range.</exception>
    public ReadOnlySpan<double> StateAt(int t, int b) =>
        X.AsSpan(Offset(t, b) * Dimensions.StateDim, Dimensions.StateDim);

    /// <summary>u_t of element b as a span of length m (t is 0-based).</summary>
    /// <param name="t">Stage, 0..T-1.</param>
    /// <param name="b">Batch element, 0..B-1.</param>
    /// <returns>A view of <see cref="U"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> or <paramref name="b"/> is out of range.</exception>
    public ReadOnlySpan<double> ControlAt(int t, int b) =>
        U.AsSpan(Offset(t, b) * Dimensions.ControlDim, Dimensions.ControlDim);

    /// <summary>t B + b, the (stage, element) slot, after checking both.</summary>
    private int Offset(int t, int b)
    {
        Internal.Guard.InRange(t, 0, Dimensions.Horizon - 1, nameof(t), "t (the stage)");
        Internal.Guard.InRange(b, 0, Dimensions.BatchSize - 1, nameof(b), "b (the batch element)");
        return t * Dimensions.BatchSize + b;
    }
}
