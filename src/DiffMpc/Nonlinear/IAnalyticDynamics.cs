// Notation: z = (x, u, theta), N = n + m + p; jacobian[i][j] = d g_i / d z_j.
namespace DiffMpc.Nonlinear;

/// <summary>
/// Optional companion of <see cref="IDynamics"/>: a model that also implements this interface
/// supplies its own first derivatives, which <c>DiffMpc.Autodiff.DynamicsDerivatives</c> then uses
/// instead of forward-mode autodiff. Second derivatives still come from autodiff of
/// <see cref="IDynamics.Step{T}"/>. Check a hand-written Jacobian with
/// <c>DynamicsDerivatives.CheckJacobian</c>.
/// </summary>
public interface IAnalyticDynamics : IDynamics
{
    /// <summary>The Jacobian of g with respect to z = (x, u, theta).</summary>
    /// <param name="x">The state, shape [n].</param>
    /// <param name="u">The control, shape [m].</param>
    /// <param name="theta">The parameters, shape [p].</param>
    /// <param name="jacobian">Receives d g / d z, shape [n][n+m+p] row-major, columns ordered x, u, theta.
    /// Every entry must be written.</param>
    void Jacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> u, ReadOnlySpan<double> theta, Span<double> jacobian);
}
