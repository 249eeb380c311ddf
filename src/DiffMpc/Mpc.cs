using DiffMpc.Internal;
using DiffMpc.Lqr;
using DiffMpc.Nonlinear;
using DiffMpc.Options;
using DiffMpc.Problems;
using DiffMpc.Results;

namespace DiffMpc;

/// <summary>
/// One-call entry points: <see cref="Solve(LqrProblem, MpcOptions?, double[], CancellationToken)"/> solves a batch of
/// problems and <see cref="Backward(MpcSolution, double[], double[])"/> differentiates a loss on the solution. For repeated solves
/// of one shape (a training loop), create an <see cref="LqrSolver"/> once and reuse it: it
/// allocates nothing after its first call. All members are safe to call concurrently, also on
/// one solution: a backward pass runs on the solver that produced the solution, one call at a
/// time, and returns gradients of the caller's own (a copy), which no later call overwrites.
/// </summary>
public static class Mpc
{
    /// <summary>Solves a batch of LQR problems with a solver of its own.</summary>
    /// <param name="problem">The problems.</param>
    /// <param name="options">Settings; null means <see cref="MpcOptions.Default"/>.</param>
    /// <param name="uInit">Optional warm start for box-constrained problems, shape [T][B][m].</param>
    /// <param name="cancellationToken">Cancels a long solve (see <see cref="LqrSolver.Solve"/>).</param>
    /// <returns>The solution; it stays valid and can be passed to <see cref="Backward(MpcSolution, double[], double[])"/>.</returns>
    /// <exception cref="ArgumentException">The problem holds an invalid value, or uInit has the wrong shape.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static MpcSolution Solve(LqrProblem problem, MpcOptions? options = null, double[]? uInit = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(problem, nameof(problem));
        return new LqrSolver(problem.Dimensions, options).Solve(problem, uInit, cancellationToken);
    }

    /// <summary>Solves a batch of nonlinear MPC problems (box-constrained iLQR) with a solver of its own.</summary>
    /// <param name="problem">The problems.</param>
    /// <param name="options">Settings; null means <see cref="MpcOptions.Default"/>.</param>
    /// <param name="uInit">Optional warm start, shape [T][B][m]; null starts from u = 0.</param>
    /// <param name="cancellationToken">Cancels a long solve (see <see cref="IlqrSolver.Solve"/>).</param>
    /// <returns>The solution; pass it to <see cref="BackwardNonlinear"/> for gradients.</returns>
    /// <exception cref="ArgumentException">The problem holds an invalid value, or uInit has the wrong shape.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static MpcSolution Solve(NonlinearProblem problem, MpcOptions? options = null, double[]? uInit = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(problem, nameof(problem));
        return new IlqrSolver(problem.Dimensions, problem.Dynamics, options).Solve(problem, uInit, cancellationToken);
    }

    /// <summary>
    /// Gradients of a loss L with respect to the inputs (dynamics parameters, cost, x_init, bounds)
    /// of the nonlinear problem that produced <paramref name="solution"/>.
    /// </summary>
    /// <param name="solution">A solution from <see cref="Solve(NonlinearProblem, MpcOptions?, double[], CancellationToken)"/>.</param>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <returns>Gradients shaped like the problem's inputs: a copy of the caller's own.</returns>
    /// <exception cref="ArgumentException">The solution is not a nonlinear one, or a gradient array is invalid.</exception>
    /// <exception cref="InvalidOperationException">The solution came from a reusable solver whose last Solve threw, so it has nothing to differentiate.</exception>
    public static NonlinearGradients BackwardNonlinear(MpcSolution solution, double[]? dLdx, double[]? dLdu)
    {
        Guard.NotNull(solution, nameof(solution));
        if (solution.Owner is not IlqrSolver ilqr)
        {
            throw new ArgumentException("solution must come from a nonlinear solve; use Mpc.Backward for LQR solutions.", nameof(solution));
        }
        lock (ilqr.SyncRoot)
        {
            return ilqr.Backward(dLdx, dLdu).Copy();
        }
    }

    /// <summary>
    /// Gradients of a loss L with respect to every input of the problem that produced
    /// <paramref name="solution"/>, given dL/dx and dL/du at the solution.
    /// </summary>
    /// <param name="solution">A solution from <see cref="Solve(LqrProblem, MpcOptions?, double[], CancellationToken)"/> or from a solver's last solve.</param>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <returns>Gradients shaped like the problem's inputs: a copy of the caller's own.</returns>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape, or a non-finite value in the slots of an element with a differentiable solution (Converged, or see <see cref="Options.MpcOptions.DifferentiateUnconverged"/>; the slots of the other elements are not read).</exception>
    /// <exception cref="InvalidOperationException">The solution came from a reusable solver whose last Solve threw, so it has nothing to differentiate.</exception>
    public static MpcGradients Backward(MpcSolution solution, double[]? dLdx, double[]? dLdu) =>
        Backward(solution, dLdx, dLdu, GradientKinds.All);

    /// <summary>
    /// Gradients of a loss L with respect to the inputs named by <paramref name="kinds"/> of the
    /// problem that produced <paramref name="solution"/> (see
    /// <see cref="LqrSolver.Backward(double[], double[], GradientKinds)"/>); the arrays of the other
    /// kinds hold zeros.
    /// </summary>
    /// <param name="solution">A solution from <see cref="Solve(LqrProblem, MpcOptions?, double[], CancellationToken)"/> or from a solver's last solve.</param>
    /// <param name="dLdx">dL/dx, shape [T][B][n]; null means zero.</param>
    /// <param name="dLdu">dL/du, shape [T][B][m]; null means zero.</param>
    /// <param name="kinds">The gradients to compute.</param>
    /// <returns>Gradients shaped like the problem's inputs (a copy of the caller's own); <see cref="MpcGradients.Computed"/> is <paramref name="kinds"/>.</returns>
    /// <exception cref="ArgumentException">A gradient array has the wrong shape, or a non-finite value in the slots of an element with a differentiable solution (Converged, or see <see cref="Options.MpcOptions.DifferentiateUnconverged"/>; the slots of the other elements are not read), or <paramref name="kinds"/> has a bit that is no flag.</exception>
    /// <exception cref="InvalidOperationException">The solution came from a reusable solver whose last Solve threw, so it has nothing to differentiate.</exception>
    public static MpcGradients Backward(MpcSolution solution, double[]? dLdx, double[]? dLdu, GradientKinds kinds)
    {
        Guard.NotNull(solution, nameof(solution));
        LqrSolver lqr = solution.Owner switch
        {
            LqrSolver own => own,
            IlqrSolver => throw new ArgumentException("solution comes from a nonlinear solve; use Mpc.BackwardNonlinear.", nameof(solution)),
            _ => throw new ArgumentException("solution was not produced by a DiffMpc solver.", nameof(solution)),
        };
        lock (lqr.SyncRoot)
        {
            return lqr.Backward(dLdx, dLdu, kinds).Copy();
        }
    }
}
